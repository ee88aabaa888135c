"""CIMI errors: the status code says what happened; the body, in the negotiated format, says why.

DSP0263 1.0.1 defines no normative error body and its clients read only the status and the message,
so the body follows Deltacloud's shape: XML `<error status="404"><code/><message/></error>`, JSON
`{"status", "code", "message"}`, with the request id to quote in a support request.
"""
from __future__ import annotations

import json
import logging

from flask import Response, g
from lxml import etree

from gateway.errors import BackendUnavailable, GatewayError
from gateway.xmltext import writable

from .protocol import DEFAULT_VERSION, VERSION_HEADER
from .render import JSON, MEDIA_TYPES, XML
from .schema import NAMESPACE

log = logging.getLogger("cloudgw.cimi")

CODES = {400: "BadRequest", 401: "Unauthorized", 403: "Forbidden", 404: "NotFound", 405: "MethodNotAllowed",
         406: "NotAcceptable", 409: "Conflict", 413: "RequestEntityTooLarge", 415: "UnsupportedMediaType",
         500: "InternalError", 501: "NotImplemented", 502: "BadGateway", 503: "ServiceUnavailable",
         504: "GatewayTimeout"}


def error_response(status: int, message: str, fmt: str | None = None, headers: dict[str, str] | None = None) -> Response:
    """The error in the negotiated format; a message quoting text XML cannot carry is written with escapes."""
    message = writable(message)
    fmt = fmt if fmt in (XML, JSON) else getattr(g, "cimi_format", XML)
    code = CODES.get(status, "Error")
    request_id = getattr(g, "request_id", "")
    if fmt == JSON:
        body = json.dumps({"status": status, "code": code, "message": message, "requestId": request_id}).encode()
    else:
        root = etree.Element("{%s}error" % NAMESPACE, nsmap={None: NAMESPACE}, status=str(status))
        etree.SubElement(root, "{%s}code" % NAMESPACE).text = code
        etree.SubElement(root, "{%s}message" % NAMESPACE).text = message
        etree.SubElement(root, "{%s}requestId" % NAMESPACE).text = request_id
        body = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    response = Response(body, status=status, content_type=MEDIA_TYPES[fmt])
    response.headers[VERSION_HEADER] = getattr(g, "cimi_version", DEFAULT_VERSION)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def gateway_error_response(exc: GatewayError) -> Response:
    headers = {}
    if isinstance(exc, BackendUnavailable):
        headers["Retry-After"] = str(exc.retry_after)
    if exc.status == 401:
        headers["WWW-Authenticate"] = 'Basic realm="cloudgw"'
    if exc.status >= 500:
        log.warning("CIMI request failed: %s (%s)", exc.message, type(exc).__name__,
                    extra={"request_id": getattr(g, "request_id", None)})
    return error_response(exc.status, exc.message, headers=headers)
