"""Responses in the negotiated format, with the headers Deltacloud clients and its test suite expect.

Every answer carries what Deltacloud 1.1.3 sent and its test suite checks literally: `Content-Type`
exactly `application/xml` or `application/json` (rack_accept.rb sets the bare media type),
`Server: Apache-Deltacloud/1.1.3` (this gateway's own name and version go in `X-Cloudgw-Version`),
`X-Deltacloud-Driver`, one `Date` (the HTTP server's), and for GET an `ETag` (with 304 for a matching
If-None-Match).
"""
from __future__ import annotations

import functools
import importlib.metadata
import json
from typing import Any

from flask import Response, g, request

from gateway.errors import GatewayError
from gateway.scope import PROVIDER_HEADER

from .context import API_VERSION, choice, driver_name, matrix_params, provider_text
from .description import Entity, collection_xml, xml_bytes
from .negotiation import CONTENT_TYPES, JSON, choose_format

SERVER_HEADER = f"Apache-Deltacloud/{API_VERSION}"
VERSION_HEADER = "X-Cloudgw-Version"


@functools.cache
def gateway_version() -> str:
    try:
        return importlib.metadata.version("cloudgw")
    except importlib.metadata.PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown"


def current_format() -> str:
    """'xml' or 'json' (NotAcceptable when neither can be served); decided once per request."""
    if "dc_format" not in g:
        g.dc_format = choose_format(request.args.get("format"), request.accept_mimetypes,
                                    request.headers.get("Accept", ""))
    return g.dc_format


def document(xml_element: Any, json_value: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A response from an XML element and its JSON counterpart, in the negotiated format."""
    fmt = current_format()
    if fmt == JSON:
        body = json.dumps(json_value, ensure_ascii=False).encode()
    else:
        body = xml_bytes(xml_element)
    return Response(body, status=status, headers=headers, content_type=CONTENT_TYPES[fmt])


def entity(item: Entity, status: int = 200, *, wrapped: bool = True, headers: dict[str, str] | None = None) -> Response:
    """One resource: XML `<tag>`, JSON `{"tag": {...}}` (unwrapped for action results, as Deltacloud did)."""
    value = item.to_json()
    return document(item.to_xml(), {item.tag: value} if wrapped else value, status, headers)


def created(item: Entity) -> Response:
    """201 with the new resource, `Location` its href."""
    return entity(item, 201, headers={"Location": item.href})


def collection(name: str, items: list[Entity]) -> Response:
    """`<name><tag/>...</name>`; JSON `{"name": [...]}`."""
    return document(collection_xml(name, items), {name: [i.to_json() for i in items]})


def no_content() -> Response:
    return Response(status=204)


def accepted() -> Response:
    """202, no body: the engine does the work once it can (a durable operation)."""
    return Response(status=202)


def finish(response: Response) -> Response:
    """after_request: protocol headers, ETag and conditional GET."""
    response.headers["Server"] = SERVER_HEADER
    response.headers[VERSION_HEADER] = gateway_version()
    try:
        selected = choice()
        response.headers["X-Deltacloud-Driver"] = driver_name(selected.provider)
        if matrix_or_header_provider():
            response.headers["X-Deltacloud-Provider"] = provider_text() or ""
    except GatewayError:
        pass  # a refused provider is already answered as an error
    if request.method in ("GET", "HEAD") and response.status_code == 200 and not response.is_streamed:
        response.add_etag()
        response.make_conditional(request)
        # make_conditional writes a Date; the HTTP server (werkzeug's or gunicorn's) always writes its own.
        del response.headers["Date"]
    return response


def matrix_or_header_provider() -> bool:
    return bool(matrix_params("api").get("provider") or request.headers.get(PROVIDER_HEADER))

