"""The WSGI application: SSO, authentication, versioning, fault injection, routing, and the
translation of `ApiError` into the engine's answers."""

from __future__ import annotations

import json
import time
import uuid
from typing import TYPE_CHECKING, Any

from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from . import (api_devices, api_disks, api_events, api_infra, api_providers, api_templates, api_vms, ovn_api,
               permissions)
from . import render_statistics
from .call import Call
from .control import handle_control
from .entities import User
from .errors import ApiError
from .render_common import fault_xml
from .store import NOBODY, Acting

if TYPE_CHECKING:
    from .server import Simulator

ENGINE = "/ovirt-engine"
API_PREFIXES = ("/ovirt-engine/api/v4", "/ovirt-engine/api")
CONTROL_PREFIX = "/__simulator__"
UNAUTHORIZED_PAGE = ("<html><head><title>Error</title></head><body>Unauthorized</body></html>")
DOWN_PAGE = ("<!DOCTYPE HTML PUBLIC \"-//IETF//DTD HTML 2.0//EN\">\n<html><head>\n<title>503 Service Unavailable"
             "</title>\n</head><body>\n<h1>Service Unavailable</h1>\n<p>The server is temporarily unable to service"
             " your request due to maintenance downtime or capacity problems. Please try again later.</p>\n"
             "</body></html>\n")


# Handlers that need no query: the power actions run their command directly (and the root is static), so
# they still work for a non-admin who turned the user-level filter off.
QUERY_FREE = (api_vms.vm_action, api_infra.api_root)


def _url_map() -> Map:
    rules = []
    for path, methods, handler in (api_infra.ROUTES + api_templates.ROUTES + api_vms.ROUTES + api_devices.ROUTES
                                  + api_disks.ROUTES + api_events.ROUTES + api_providers.ROUTES
                                  + render_statistics.ROUTES):
        rules.append(Rule(path, methods=list(methods), endpoint=handler, strict_slashes=False))
    return Map(rules)


class EngineApp:
    """The simulated engine as a WSGI callable."""

    def __init__(self, sim: "Simulator") -> None:
        self.sim = sim
        self.urls = _url_map()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        response = self.dispatch(request, environ)
        return response(environ, start_response)

    # -- entry --------------------------------------------------------------------------------------

    def dispatch(self, request: Request, environ: dict[str, Any]) -> Response:
        path = request.path
        if path.startswith(CONTROL_PREFIX + "/") and self.sim.control_api:
            return handle_control(self.sim, request)
        if path.startswith(ovn_api.PREFIX + "/"):
            return ovn_api.handle(self.sim, request)
        if not path.startswith(ENGINE):
            return Response("Not Found", status=404, content_type="text/plain")
        faults = self.sim.faults
        if faults.latency:
            time.sleep(faults.latency)
        if faults.engine_down:
            return Response(DOWN_PAGE, status=503, content_type="text/html; charset=iso-8859-1")
        rule = faults.match(request.method, path)
        if rule is not None:
            if rule.status is None:
                self._drop(environ)
            if rule.body is not None:
                return Response(rule.body, status=rule.status, content_type=rule.content_type)
            body = fault_xml("Operation Failed", rule.detail or f"[Injected fault: HTTP {rule.status}]")
            return Response(body, status=rule.status, content_type="application/xml;charset=UTF-8")
        response = self.engine_answer(request, path)
        held = faults.match_hold(request.method, path)
        if held is not None:
            time.sleep(held.hold)  # the engine has acted; only its answer is late
        return response

    def engine_answer(self, request: Request, path: str) -> Response:
        if path == f"{ENGINE}/sso/oauth/token":
            self.sim.stats.count(request.method, path)
            return self.sso_token(request)
        if path in (f"{ENGINE}/services/sso-logout", f"{ENGINE}/sso/oauth/revoke"):
            return self.sso_logout(request)
        for prefix in API_PREFIXES:
            if path == prefix or path.startswith(prefix + "/"):
                return self.api(request, path[len(prefix):] or "/")
        if path.startswith(f"{ENGINE}/api/v"):
            return Response(status=400)      # an API version this engine does not serve
        return Response("Not Found", status=404, content_type="text/plain")

    @staticmethod
    def _drop(environ: dict[str, Any]) -> None:
        """Close the client's connection without an answer (werkzeug's server exposes the socket)."""
        sock = environ.get("werkzeug.socket")
        if sock is not None:
            import socket
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()
        raise ConnectionAbortedError("connection dropped by fault injection")

    # -- SSO ----------------------------------------------------------------------------------------

    @staticmethod
    def _json(data: dict[str, Any], status: int = 200) -> Response:
        return Response(json.dumps(data), status=status, content_type="application/json")

    def sso_token(self, request: Request) -> Response:
        if request.method != "POST" and not request.args:
            return self._json({"error_code": "invalid_request", "error": "Method not allowed"}, 400)
        form = request.form if request.method == "POST" else request.args
        for name in ("grant_type", "username", "password", "scope"):
            if not form.get(name) and not (name == "scope"):
                return self._json({"error_code": "invalid_request", "error": f"Missing parameter: '{name}'"}, 400)
        if form.get("grant_type") != "password":
            return self._json({"error_code": "unsupported_grant_type",
                               "error": f"Unsupported grant type: {form.get('grant_type')}"}, 400)
        scope = form.get("scope") or "ovirt-app-api"
        user_name = form["username"]
        user = self.sim.sessions.check_password(user_name, form["password"])
        if user is None:
            name, _, domain = user_name.partition("@")
            return self._json({"error_code": "access_denied",
                               "error": f"Cannot authenticate user '{name}@{domain or 'internal'}': "
                                        "The username or password is incorrect.."}, 400)
        from .auth import TOKEN_VALIDITY
        token = self.sim.sessions.issue(user)
        exp = int((time.time() + TOKEN_VALIDITY) * 1000)
        return self._json({"access_token": token, "scope": scope, "exp": str(exp), "token_type": "bearer"})

    def sso_logout(self, request: Request) -> Response:
        token = request.form.get("token") or request.args.get("token")
        if token:
            self.sim.sessions.revoke(token)
        return self._json({})

    # -- API ----------------------------------------------------------------------------------------

    def _authenticate(self, request: Request) -> tuple[User | None, str | None]:
        """The caller, and the session id to set when `Prefer: persistent-auth` asks for one."""
        sessions = self.sim.sessions
        auth = request.headers.get("Authorization", "")
        persistent = "persistent-auth" in request.headers.get("Prefer", "")
        scheme = auth.split(None, 1)[0].lower() if auth else ""
        if scheme == "bearer":
            user = sessions.resolve(auth.split(None, 1)[1].strip()) if len(auth.split(None, 1)) == 2 else None
            return user, None
        if scheme == "basic":
            user = sessions.basic(auth)
            if user is not None and persistent:
                return user, sessions.issue(user)
            return user, None
        cookie = request.cookies.get("JSESSIONID")
        if cookie:
            return sessions.resolve(cookie), None
        return None, None

    def api(self, request: Request, subpath: str) -> Response:
        correlation_id = (request.args.get("correlation_id") or request.headers.get("Correlation-Id")
                          or str(uuid.uuid4()))
        version = request.headers.get("Version")
        if version is not None and version.strip() not in ("4", ""):
            return Response(status=400, headers={"correlation-id": correlation_id})
        user, new_session = self._authenticate(request)
        if user is None:
            return Response(UNAUTHORIZED_PAGE, status=401, content_type="text/html;charset=utf-8",
                            headers={"WWW-Authenticate": 'Basic realm="RESTAPI"'})
        try:
            response = self._route(request, subpath, user, correlation_id)
        except ApiError as exc:
            response = self._error(exc)
        response.headers["correlation-id"] = correlation_id
        if new_session:
            response.set_cookie("JSESSIONID", new_session, path="/ovirt-engine/api", httponly=True)
        return response

    def _route(self, request: Request, subpath: str, user: User, correlation_id: str) -> Response:
        adapter = self.urls.bind("simulator", path_info=subpath, url_scheme="http")
        try:
            rule, args = adapter.match(subpath, method=request.method, return_rule=True)
        except MethodNotAllowed:
            return Response(status=405)
        except (NotFound, HTTPException):
            return Response(status=404)
        self.sim.stats.count(request.method, rule.rule)
        handler = rule.endpoint
        store = self.sim.store
        with store.lock:
            store.settle()
            call = Call(self.sim, request, user, correlation_id)
            if call.queries_refused and handler not in QUERY_FREE:
                raise ApiError(400, "Operation Failed", permissions.QUERY_REFUSED)
            store.acting = Acting(correlation_id, user)  # what the events this request logs carry
            try:
                response = handler(call, **args)
            finally:
                store.acting = NOBODY
        if call.cost_seconds > 0:
            time.sleep(call.cost_seconds)  # what a real engine takes to produce the listing
        if call.wait_for:
            response = self._wait_created(call, response)
        return response

    def _wait_created(self, call: Call, accepted: Response) -> Response:
        """`Expect: 201-created`: block until the new object's images are copied, then answer 201."""
        store = self.sim.store
        clock = self.sim.clock
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not clock.frozen and call.wait_for is not None:
            with store.lock:
                store.settle()
                final = call.wait_for()
                if final is not None:
                    return final
            time.sleep(0.01)
        return accepted

    @staticmethod
    def _error(exc: ApiError) -> Response:
        if exc.reason is None:
            return Response(status=exc.status)
        return Response(fault_xml(exc.reason, exc.detail), status=exc.status,
                        content_type="application/xml;charset=UTF-8")

