"""The `/cimi` blueprint: negotiation, version, authentication and scope before every request; errors in
CIMI's own dialect after; the generic collection routes; and a catch-all so unknown paths answer 404
(or 405 with `Allow`) as CIMI, not as Flask's HTML.
"""
from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, Response, current_app, g, request
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from gateway.app import methods_routed_elsewhere, request_scope, required_basic_credentials
from gateway.errors import GatewayError, echo
from gateway.routing import use_any_path

from . import resources
from .context import PATHS, current, make_context
from .errors import error_response, gateway_error_response
from .listing import COLLECTIONS, collection_response
from .protocol import DEFAULT_VERSION, VERSION_HEADER, NotAcceptable, negotiate_version, query_value, response_format
from .reading import UnsupportedMediaType
from .render import XML

log = logging.getLogger("cloudgw.cimi")
CATCH_ALL = "cimi.unknown_path"


def make_blueprint() -> Blueprint:
    bp = Blueprint("cimi", __name__, url_prefix="/cimi")
    use_any_path(bp)
    bp.before_request(_before)
    bp.after_request(_after)
    bp.register_error_handler(GatewayError, gateway_error_response)
    bp.register_error_handler(UnsupportedMediaType, lambda exc: error_response(
        415, f"Unsupported media type '{exc}': send application/xml or application/json"))
    bp.register_error_handler(NotAcceptable, lambda exc: error_response(
        406, "Only application/xml and application/json can be produced", XML))
    bp.register_error_handler(HTTPException, _http_error)
    bp.register_error_handler(Exception, _unexpected)
    resources.install(bp)
    for name in COLLECTIONS:
        bp.add_url_rule(f"/{PATHS[name]}", f"list_{name}", _lister(name), methods=["GET"])
    bp.add_url_rule("/<anypath:rest>", CATCH_ALL.split(".")[1], _unknown_path,
                    methods=["GET", "POST", "PUT", "DELETE", "PATCH"])
    # `/cimi/` itself (the entry point's other address) for the methods it does not take: 405 as CIMI.
    bp.add_url_rule("/", CATCH_ALL.split(".")[1], _unknown_path, defaults={"rest": ""},
                    methods=["POST", "PUT", "DELETE", "PATCH"])
    return bp


def _lister(name: str) -> Any:
    def list_collection() -> Response:
        return collection_response(current(), COLLECTIONS[name])
    list_collection.__name__ = f"list_{name}"
    return list_collection


def _before() -> None:
    g.cimi_format, g.cimi_version = XML, DEFAULT_VERSION  # what an error in negotiating them is answered in
    g.cimi_format = response_format(query_value("$format"), request.headers.get("Accept"))
    g.cimi_version = negotiate_version(request.headers.get(VERSION_HEADER))
    credentials = required_basic_credentials(
        "HTTP Basic credentials (an oVirt user such as admin@internal) are required")
    g.cimi = make_context(request_scope(credentials), g.cimi_format)


def _after(response: Response) -> Response:
    response.headers[VERSION_HEADER] = getattr(g, "cimi_version", DEFAULT_VERSION)
    return response


def _http_error(exc: HTTPException) -> Response:
    status = exc.code or 500
    headers = {}
    if isinstance(exc, MethodNotAllowed) and exc.valid_methods:
        headers["Allow"] = ", ".join(exc.valid_methods)
    message = exc.description or exc.name
    if status == 413:
        message = f"The request body is larger than {current_app.config.get('MAX_CONTENT_LENGTH')} bytes"
    return error_response(status, message, headers=headers)


def _unexpected(exc: Exception) -> Response:
    log.exception("CIMI request failed", extra={"request_id": getattr(g, "request_id", None)})
    return error_response(500, "The gateway failed to handle the request")


def _unknown_path(rest: str) -> Response:
    """404 for an unknown path; 405 with `Allow` when the path exists for other methods."""
    allowed = methods_routed_elsewhere(("GET", "POST", "PUT", "DELETE"), CATCH_ALL)
    if allowed:
        return error_response(405, f"{request.method} is not allowed on {echo(request.path)}",
                              headers={"Allow": ", ".join(allowed)})
    return error_response(404, f"There is no CIMI resource at {echo(request.path)}")
