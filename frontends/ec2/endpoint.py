"""The HTTP side: POST (form) and GET (query) at `/ec2/` and `/`, verified, dispatched on `Action`.

Order as on AWS: authenticate, then find the action, parse its parameters by the model, build the scope
(the signature's region selects the data center; X-Deltacloud-Provider still overrides), run it, render.
Every failure leaves as an EC2 error document; nothing a client sends produces a stack trace.
"""
from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, Response, g, request
from werkzeug.exceptions import HTTPException

from gateway import request_stats
from gateway.app import current_gateway, request_scope
from gateway.errors import ConfigError, GatewayError
from gateway.scope import PROVIDER_HEADER, Credentials, ProviderChoice, Scope
from gateway.xmlsafe import require_writable

from . import signing, sts
from .actions import ACTIONS, load_all
from .call import Call
from .errors import Ec2Error, dry_run_error, from_gateway
from .protocol import parse_params
from .render import render_error, render_response

log = logging.getLogger("cloudgw.ec2")
CONTENT_TYPE = "text/xml;charset=UTF-8"


def flat_params() -> dict[str, str]:
    """Query and form parameters, one value each (the form wins where both name one)."""
    params = {key: request.args.get(key, "") for key in request.args}
    if request.method == "POST":
        params.update({key: request.form.get(key, "") for key in request.form})
    return params


def signed_request(params: dict[str, str], body: bytes) -> signing.SignedRequest:
    return signing.SignedRequest(method=request.method, path=request.path,
                                 query=signing.decoded_query(request.query_string), headers=request.headers,
                                 body=body, params=params)


def region_name(scope: Scope, signed_region: str | None) -> str:
    """The region name the client knows this data center by: its own, an alias, or the data center's."""
    if signed_region and not request.headers.get(PROVIDER_HEADER):
        return signed_region
    datacenter = scope.datacenter or ""
    for alias, target in scope.provider.region_aliases.items():
        if target == datacenter:
            return alias
    return datacenter


def scope_for(verified: signing.Verified) -> Scope:
    """The request's scope; a key bound to a provider uses it unless the header names another."""
    gateway = current_gateway()
    stored = verified.credential
    credentials = Credentials(stored.username, stored.password)
    if request.headers.get(PROVIDER_HEADER) or not stored.provider:
        return request_scope(credentials, verified.region)
    try:
        provider = gateway.config.provider(stored.provider)
    except ConfigError:
        return request_scope(credentials, verified.region)
    region = verified.region
    datacenter = provider.region_aliases.get(region, region) if region else provider.default_datacenter
    return gateway.scope(ProviderChoice(provider, datacenter), credentials)


def handle() -> Response:
    if sts.addressed_to_sts(request.headers, request.args):  # Terraform's STS calls share the endpoint
        return sts.handle()
    request_id = getattr(g, "request_id", "")
    try:
        body = request.get_data(cache=True)  # before the form is read, or the signed body is lost
        params = flat_params()
        gateway = current_gateway()
        verified = signing.verify(signed_request(params, body), gateway.store.credential,
                                  skew=gateway.config.signature_skew_seconds, service="ec2")
        request_stats.note_identity(verified.credential.access_key)
        action_name = params.get("Action", "")
        if not action_name:
            raise Ec2Error("MissingAction", "The request must contain the parameter Action")
        action = ACTIONS.get(action_name)
        if action is None:
            raise Ec2Error("InvalidAction", f"The action {action_name[:100]} is not valid for this web service.")
        request_stats.name_action("ec2", action_name)
        parsed = parse_params(action_name, params)
        for name, value in params.items():  # before any side effect: the engine's XML could not carry them
            require_writable(value, require_writable(name, "a parameter name"))
        scope = scope_for(verified)
        call = Call(action=action_name, params=parsed, scope=scope, driver=gateway.driver_for(scope.provider),
                    gateway=gateway, region=region_name(scope, verified.region), request_id=request_id)
        result = action(call)
        if parsed.get("DryRun") and not call.dry_run_checked:
            raise dry_run_error()
        return Response(render_response(action_name, result, request_id, params.get("Version")),
                        content_type=CONTENT_TYPE)
    except Ec2Error as exc:
        return error_response(exc)
    except GatewayError as exc:
        return error_response(from_gateway(exc))
    except HTTPException as exc:
        return error_response(Ec2Error("InvalidRequest", exc.description or exc.name, exc.code or 400))
    except Exception:
        log.exception("EC2 request failed", extra={"request_id": request_id})
        return error_response(Ec2Error("InternalError", "An internal error has occurred", 500))


def error_response(exc: Ec2Error) -> Response:
    response = Response(render_error(exc.code, exc.message, getattr(g, "request_id", "")), status=exc.status,
                        content_type=CONTENT_TYPE)
    if exc.retry_after is not None:
        response.headers["Retry-After"] = str(exc.retry_after)
    return response


def unknown_path(rest: str) -> Any:
    return error_response(Ec2Error("InvalidAction", f"The path /ec2/{rest[:100]} is not an EC2 endpoint", 404))


def blueprint() -> Blueprint:
    load_all()
    bp = Blueprint("ec2", __name__)
    for rule in ("/", "/ec2", "/ec2/"):
        bp.add_url_rule(rule, f"ec2{rule.replace('/', '_')}", handle, methods=["GET", "POST"],
                        strict_slashes=False)
    bp.add_url_rule("/ec2/<path:rest>", "ec2_unknown", unknown_path,
                    methods=["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD"])
    return bp
