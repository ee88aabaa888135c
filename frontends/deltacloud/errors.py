"""Errors in Deltacloud's dialect: its status codes and its XML / JSON error bodies.

XML (server/views/errors/common.xml.haml):
`<error url="..." status="404"><backend driver="rhevm" provider="..."/><code>404</code><message>...</message></error>`;
JSON: `{"code": 404, "message": "...", "error": "Deltacloud::Exceptions::ObjectNotFound"}`.
Gateway errors map to Deltacloud's codes: 412 for what the driver cannot do, 502 for engine errors and
an unreachable engine (with Retry-After), 504 for an engine timeout. Never a stack trace.
"""
from __future__ import annotations

import json
import logging

from flask import Response, g, request
from lxml import etree
from werkzeug.exceptions import HTTPException

from gateway.errors import (BackendError, BackendTimeout, BackendUnavailable, GatewayError,
                            NotSupported)
from gateway.xmltext import writable

from .context import choice, driver_name, provider_text
from .description import xml_bytes
from .negotiation import CONTENT_TYPES, JSON, XML, NotAcceptable
from .respond import current_format

log = logging.getLogger("cloudgw.deltacloud")

EXCEPTION_NAMES = {
    400: "ValidationFailure", 401: "AuthenticationFailure", 403: "ForbiddenError", 404: "ObjectNotFound",
    405: "MethodNotAllowed", 406: "UnknownMediaTypeError", 409: "Conflict", 412: "NotSupported",
    413: "ValidationFailure", 415: "ValidationFailure", 500: "BackendError", 502: "ProviderError",
    504: "ProviderTimeout",
}


class DeltacloudError(Exception):
    """An error this frontend decides itself (405 for an action the state forbids, 404 for a path)."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


def status_of(exc: GatewayError) -> int:
    if isinstance(exc, NotSupported):
        return 412
    if isinstance(exc, BackendTimeout):
        return 504
    if isinstance(exc, (BackendUnavailable, BackendError)):
        return 502
    return exc.status


def _format_for_error() -> str:
    """The negotiated format, or XML when negotiation itself is what failed."""
    try:
        return current_format()
    except NotAcceptable:
        return XML


def _backend() -> tuple[str, str]:
    try:
        return driver_name(choice().provider), provider_text() or "default"
    except GatewayError:
        return "", ""


def error_response(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    """The error in the negotiated format. Everything in it that may quote the client (message, url,
    provider) is made writable first, so an error about a control character is not itself a 500."""
    name = "Deltacloud::Exceptions::" + EXCEPTION_NAMES.get(status, "BackendError")
    fmt = _format_for_error()
    message = writable(message)
    if fmt == JSON:
        body = json.dumps({"code": status, "message": message, "error": name}).encode()
    else:
        root = etree.Element("error", {"url": writable(request.full_path.rstrip("?")), "status": str(status)})
        driver, provider = _backend()
        etree.SubElement(root, "backend", {"driver": writable(driver), "provider": writable(provider)})
        etree.SubElement(root, "code").text = str(status)
        etree.SubElement(root, "message").text = etree.CDATA(message)
        body = xml_bytes(root)
    response = Response(body, status=status, content_type=CONTENT_TYPES[fmt])
    for key, value in (headers or {}).items():
        response.headers[key] = value
    if status == 401:
        response.headers["WWW-Authenticate"] = f'Basic realm="{_backend()[0] or "deltacloud"}-deltacloud@{request.host}"'
    return response


def from_gateway_error(exc: GatewayError) -> Response:
    headers: dict[str, str] = {}
    if isinstance(exc, BackendUnavailable):
        headers["Retry-After"] = str(exc.retry_after)
    status = status_of(exc)
    if status >= 500:
        log.warning("engine error on %s %s: %s", request.method, request.path, exc.message,
                    extra={"request_id": getattr(g, "request_id", None)})
    return error_response(status, exc.message, headers)


def from_http_exception(exc: HTTPException) -> Response:
    headers = {}
    if exc.code == 405 and getattr(exc, "valid_methods", None):
        headers["Allow"] = ", ".join(exc.valid_methods)
    return error_response(exc.code or 500, exc.description or exc.name, headers)


def from_unexpected(exc: Exception) -> Response:
    log.exception("unhandled error in the Deltacloud API", extra={"request_id": getattr(g, "request_id", None)})
    return error_response(500, f"The gateway failed to handle the request (request id {getattr(g, 'request_id', '-')})")
