"""HTTP to one oVirt engine: pooled session, SSO tokens, timeouts, retries, faults -> gateway errors.

One EngineClient per configured engine, shared by every request of the process. Tokens are cached per
(engine, user, password digest) and renewed once on a 401; an engine without the SSO endpoint is
spoken to with HTTP Basic. Only idempotent requests (GET, and PUT/DELETE when the caller says so) are
retried, with exponential backoff, on refused connections, timeouts and 502/503/504. XML is parsed with
entities, DTDs and network access off, and an answer is mapped only when it is what the request asks for
(answers.py: XML content type, no DTD, the expected root element); anything else is BackendError (502).
"""
from __future__ import annotations

import hashlib
import logging
import os
import re
import ssl
import threading
import time
from typing import Any, Callable, Mapping, TypeVar
from urllib.parse import urlsplit

import requests
from lxml import etree
from requests.adapters import HTTPAdapter

from gateway import request_stats
from gateway.config import Config, ProviderConfig
from gateway.expiring import Flight
from gateway.errors import (AuthFailure, BackendError, BackendTimeout, BackendUnavailable, Forbidden, GatewayError,
                            InvalidParameter, InvalidState, NotFound, NotSupported, innermost_reason)
from gateway.scope import Scope

from .answers import check_content_type, check_document, check_head, expected_root

log = logging.getLogger("cloudgw.ovirt")

XML_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, remove_blank_text=True)
RETRYABLE_STATUS = (502, 503, 504)
CORRELATION_ID = re.compile(r"[^A-Za-z0-9_-]")
SSO_ABSENT = (404, 405, 501)
STREAM_CHUNK = 64 * 1024  # large enough to keep the transfer cheap, small enough to interleave with parsing
T = TypeVar("T")


def parse_xml(content: bytes) -> etree._Element:
    """Parse an engine answer safely; BackendError if it is not XML."""
    try:
        return etree.fromstring(content, XML_PARSER)
    except etree.XMLSyntaxError as exc:
        raise BackendError("The engine answered something that is not XML", detail=str(exc)) from None


def causes(exc: BaseException) -> list[BaseException]:
    """The exception and its chain of causes, outermost first (bounded: a chain is short)."""
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and len(chain) < 10:
        chain.append(current)
        current = current.__cause__ or current.__context__
    return chain


def fault_text(content: bytes) -> str:
    """The engine's reason for a failure: `<fault><detail>` (brackets stripped), else the reason."""
    if not content or not content.lstrip().startswith(b"<"):
        return ""
    try:
        root = etree.fromstring(content, XML_PARSER)
    except etree.XMLSyntaxError:
        return ""
    fault = root if root.tag == "fault" else root.find("fault")
    if fault is None:
        return ""
    detail = (fault.findtext("detail") or "").strip()
    if detail.startswith("[") and detail.endswith("]"):
        detail = detail[1:-1]
    return detail or (fault.findtext("reason") or "").strip()


class EngineClient:
    """Requests to one engine's API (`provider.url`, e.g. https://engine/ovirt-engine/api)."""

    def __init__(self, provider: ProviderConfig, config: Config) -> None:
        self.provider = provider
        self.base = provider.url.rstrip("/")
        parts = urlsplit(self.base)
        prefix = parts.path[: -len("/api")] if parts.path.endswith("/api") else "/ovirt-engine"
        self.sso_url = f"{parts.scheme}://{parts.netloc}{prefix}/sso/oauth/token"
        self.timeout = (config.engine_connect_timeout, config.engine_read_timeout)
        self.retries = config.engine_retries
        self.backoff = 0.2
        self.session = requests.Session()
        adapter = HTTPAdapter(pool_connections=4, pool_maxsize=32, max_retries=0)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        # The environment is read once, here, not by requests on every exchange (it walks os.environ twice and
        # looks for ~/.netrc each time: under load every such system call waits for the interpreter again). Its
        # proxy for this engine (NO_PROXY heeded) and CA bundle stay as they were; a ~/.netrc entry no longer
        # replaces the engine token with its Basic credentials.
        self.session.trust_env = False
        self.session.proxies.update(requests.utils.get_environ_proxies(self.base))
        # Passed with each request: a session's own `verify` would lose to REQUESTS_CA_BUNDLE in the environment
        # (were it trusted), which would silently replace the provider's ca_file (or its `insecure`).
        self.verify = provider.tls_verify
        if self.verify is True:  # the system's bundle: the one the environment names, as requests would take
            self.verify = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
        self.session.headers.update({"Version": "4", "Accept": "application/xml"})
        self._tokens: dict[str, str] = {}
        self._logins: dict[str, Flight] = {}  # identity -> its login under way (kept once it has a token)
        self._lock = threading.Lock()
        self._sso_absent = False

    def close(self) -> None:
        self.session.close()

    # --- authentication -----------------------------------------------------------------------------
    @staticmethod
    def _identity(scope: Scope) -> str:
        digest = hashlib.sha256(scope.credentials.password.encode()).hexdigest()[:16]
        return f"{scope.credentials.username}|{digest}"

    def _auth_headers(self, scope: Scope, refused: str | None = None) -> dict[str, str]:
        """Authorization for the scope's identity: a cached bearer token, or Basic where SSO is absent.

        `refused` is a token the engine just answered 401 to: it is replaced, unless another request already
        did. Requests of one identity that find no token together log in once."""
        identity, asked = self._identity(scope), time.monotonic()
        with self._lock:
            token = self._tokens.get(identity)
            login = self._logins.setdefault(identity, Flight())
        if (token is None or token == refused) and not self._sso_absent:
            with login.lock:
                login.raise_failure_since(asked)  # the login this request waited for failed: so does this one
                with self._lock:
                    token = self._tokens.get(identity)
                if (token is None or token == refused) and not self._sso_absent:
                    try:
                        token = self._login(scope)
                    except BaseException as exc:
                        login.failed = (time.monotonic(), exc)
                        with self._lock:  # an identity that never logged in keeps nothing
                            if identity not in self._tokens and self._logins.get(identity) is login:
                                del self._logins[identity]
                        raise
                    with self._lock:
                        if token is None:
                            self._tokens.pop(identity, None)
                        else:
                            self._tokens[identity] = token
        if token is None or self._sso_absent:
            return {}
        return {"Authorization": f"Bearer {token}"}

    def _login(self, scope: Scope) -> str | None:
        """An SSO token for the scope's credentials; None when the engine has no SSO (use Basic)."""
        form = {"grant_type": "password", "scope": "ovirt-app-api", "username": scope.credentials.username,
                "password": scope.credentials.password}
        response = self._send("POST", self.sso_url, retry=True, data=form, headers={"Accept": "application/json"})
        if response.status_code in SSO_ABSENT:
            self._sso_absent = True
            log.info("engine %s has no SSO endpoint; using HTTP Basic", self.provider.name)
            return None
        try:
            body: Any = response.json()
        except ValueError:
            body = {}
        if response.status_code == 200 and isinstance(body, dict) and body.get("access_token"):
            return str(body["access_token"])
        if response.status_code == 200:  # a proxy's page, not the SSO service: no reason to blame the user
            raise BackendError("The engine's single sign-on service answered without a token")
        if response.status_code >= 500:
            raise BackendUnavailable("The engine's single sign-on service is unavailable")
        message = body.get("error_description") or body.get("error") if isinstance(body, dict) else None
        raise AuthFailure(f"The engine refused the credentials: {message or 'authentication failed'}")

    def forget_tokens(self) -> None:
        with self._lock:
            self._tokens.clear()

    # --- requests -----------------------------------------------------------------------------------
    def _send(self, method: str, url: str, *, retry: bool, **kwargs: Any) -> requests.Response:
        """One HTTP exchange with retries (idempotent requests only); transport failures -> gateway errors."""
        attempt = 0
        while True:
            started = time.perf_counter()
            tls_failure = False
            try:
                response = self.session.request(method, url, timeout=self.timeout, verify=self.verify, **kwargs)
            except requests.RequestException as exc:
                request_stats.engine_request(method, "error", time.perf_counter() - started)
                error: GatewayError = self._transport_error(exc)
                tls_failure = isinstance(exc, requests.exceptions.SSLError)
            else:
                request_stats.engine_request(method, str(response.status_code), time.perf_counter() - started)
                if not (retry and response.status_code in RETRYABLE_STATUS and attempt < self.retries):
                    return response
                response.close()  # a streamed answer would otherwise hold its pooled connection
                error = BackendUnavailable(f"The engine answered {response.status_code}")
            if not retry or attempt >= self.retries:
                if tls_failure:  # once per failed exchange, not per retry: the operator must fix the CA
                    log.warning("engine %s (%s): TLS failed: %s; check the provider's ca_file (`cloudgw "
                                "doctor` tells more)", self.provider.name, urlsplit(self.base).netloc, error.detail)
                raise error
            time.sleep(self.backoff * 2 ** attempt)
            attempt += 1

    def _transport_error(self, exc: requests.RequestException) -> GatewayError:
        if isinstance(exc, requests.Timeout):
            return BackendTimeout(f"The engine did not answer within {self.timeout[1]:g} s")
        if isinstance(exc, requests.exceptions.SSLError):
            # the reason (from the ssl module: no URL, no credentials) goes to the log, not to the client
            if any(isinstance(cause, ssl.SSLCertVerificationError) for cause in causes(exc)):
                return BackendUnavailable("The engine cannot be reached: its TLS certificate could not be "
                                          "verified", detail=innermost_reason(exc))
            return BackendUnavailable("The engine cannot be reached: the TLS handshake failed",
                                      detail=innermost_reason(exc))
        return BackendUnavailable("The engine cannot be reached", detail=type(exc).__name__)

    def request(self, scope: Scope, method: str, path: str, *, params: Mapping[str, str] | None = None,
                body: etree._Element | None = None, idempotent: bool | None = None,
                what: tuple[str, str] | None = None) -> etree._Element | None:
        """Send an API request in the scope; the parsed answer (None when empty) or a gateway error.

        `what` = (kind, id) names the resource a 404 is about.
        """
        data = None if body is None else etree.tostring(body, encoding="utf-8")
        retry = method in ("GET", "HEAD") if idempotent is None else idempotent
        response = self._exchange(scope, method, path, params=params, data=data, retry=retry)
        return self._answer(response, what, method, path)

    def collection(self, scope: Scope, path: str, item: str, each: Callable[[etree._Element], T], *,
                   params: Mapping[str, str] | None = None) -> list[T]:
        """GET a collection and `each(element)` of its `<item>` children, parsed while the body streams in.

        Parsing overlaps the transfer, and each item is mapped and freed as soon as it is complete, so a
        listing of thousands of VMs never holds its whole tree. Errors are those of `request`; a body
        cut short is retried as a whole, as `request` retries any GET.
        """
        attempt = 0
        while True:
            response = self._exchange(scope, "GET", path, params=params, retry=True, stream=True)
            if response.status_code >= 300:
                self._answer(response, None, "GET", path)
                raise BackendError(f"The engine answered {response.status_code}")
            try:
                with response:
                    check_content_type(response.headers.get("Content-Type"), f"GET {path}")
                    return self._stream_items(response, path, item, each)
            except requests.RequestException as exc:
                error = self._transport_error(exc)
            if attempt >= self.retries:
                raise error
            time.sleep(self.backoff * 2 ** attempt)
            attempt += 1

    @staticmethod
    def _stream_items(response: requests.Response, path: str, item: str,
                      each: Callable[[etree._Element], T]) -> list[T]:
        parser = etree.XMLPullParser(events=("end",), tag=item, resolve_entities=False, no_network=True,
                                     load_dtd=False, remove_blank_text=True)
        found: list[T] = []
        started = False
        head, root = b"", expected_root("GET", path) or ""
        try:
            for chunk in response.iter_content(STREAM_CHUNK):
                started = started or bool(chunk.strip())
                if root:  # nothing is parsed, let alone mapped, before the root is known to be the one expected
                    head += chunk
                    if not check_head(head, root, f"GET {path}"):
                        continue
                    chunk, head, root = head, b"", ""
                parser.feed(chunk)
                for _, element in parser.read_events():
                    parent = element.getparent()
                    if parent is None or parent.getparent() is not None:
                        continue  # the root, or a link nested in an item (a NIC's <vm>): not an item
                    found.append(each(element))
                    parent.remove(element)
            if not started:
                raise BackendError(f"The engine answered GET {path} with an empty body")
            if root:
                raise BackendError(f"The engine answered GET {path} with no root element")
            parser.close()
        except etree.XMLSyntaxError as exc:
            raise BackendError("The engine answered something that is not XML", detail=str(exc)) from None
        return found

    def _exchange(self, scope: Scope, method: str, path: str, *, params: Mapping[str, str] | None,
                  retry: bool, data: bytes | None = None, stream: bool = False) -> requests.Response:
        """One request with the scope's headers and authorization, renewing an expired token once."""
        url = f"{self.base}/{path.lstrip('/')}" if path else self.base
        headers = {"Correlation-Id": CORRELATION_ID.sub("", scope.request_id)[:50]} if scope.request_id else {}
        if scope.user_level:
            headers["Filter"] = "true"
        if data is not None:
            headers["Content-Type"] = "application/xml"
        response = None
        refused: str | None = None
        for _attempt in range(2):
            if response is not None:
                response.close()
            auth = self._auth_headers(scope, refused)
            kwargs: dict[str, Any] = {"params": params, "headers": {**headers, **auth}, "data": data,
                                      "stream": stream}
            if not auth:
                kwargs["auth"] = (scope.credentials.username, scope.credentials.password)
            response = self._send(method, url, retry=retry, **kwargs)
            if response.status_code != 401 or not auth:
                break
            refused = auth["Authorization"].removeprefix("Bearer ")
        assert response is not None
        return response

    def _answer(self, response: requests.Response, what: tuple[str, str] | None, method: str,
                path: str) -> etree._Element | None:
        code = response.status_code
        if code < 300:
            if not response.content.strip():
                return None
            request = f"{method} {path or '/'}"
            check_content_type(response.headers.get("Content-Type"), request)
            root = parse_xml(response.content)
            check_document(root, expected_root(method, path), request)
            return root
        reason = fault_text(response.content)
        if code == 404:
            kind, resource_id = what or ("resource", response.url)
            raise NotFound(kind, resource_id)
        if code == 409:
            raise InvalidState(reason or "The engine refused the operation in the resource's current state",
                               resource_id=what[1] if what else None)
        if code == 400:
            raise InvalidParameter(reason or "The engine refused the request's parameters")
        if code == 401:
            raise AuthFailure(reason or "The engine refused the credentials")
        if code == 403:  # authenticated, but the user lacks the permission (oVirt's "not authorized")
            raise Forbidden(reason or "The user is not allowed to do this")
        if code >= 500:
            raise BackendUnavailable(f"The engine answered {code}", detail=reason or None)
        if code == 405:  # an engine version (or simulator) without this endpoint
            raise NotSupported(f"The engine does not support {response.request.method} "
                               f"{urlsplit(response.url).path}")
        raise BackendError(f"The engine answered {code}", detail=reason or None)

    def probe(self) -> None:
        """The engine's API answers (401 included: no credentials are sent); 5xx means it is down."""
        response = self._send("HEAD", self.base, retry=False)
        if response.status_code >= 500:
            raise BackendUnavailable(f"The engine answered {response.status_code}")
