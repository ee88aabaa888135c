"""The `/api` blueprint: format and provider settled before each view, errors in Deltacloud's dialect.

Collection modules add their routes to `bp`; a catch-all answers unknown paths (404) and known paths
with a wrong method (405 + Allow) in this API's own error format, since Flask's routing errors would
otherwise reach the app-wide JSON fallback.
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, redirect, request
from werkzeug.exceptions import HTTPException

from gateway.app import current_gateway, methods_routed_elsewhere
from gateway.errors import GatewayError, echo
from gateway.routing import use_any_path

from . import context, respond
from .errors import DeltacloudError, error_response, from_gateway_error, from_http_exception, from_unexpected
from .negotiation import NotAcceptable, wants_html

bp = Blueprint("deltacloud", __name__, url_prefix="/api")
use_any_path(bp)
CATCH_ALL = "deltacloud.unknown_path"
METHODS = ("GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS")


# Where a browser asking a collection for HTML goes in the web console.
CONSOLE_PAGES = {"instances": "/console/instances", "images": "/console/images", "keys": "/console/keys",
                 "storage_volumes": "/console/volumes", "storage_snapshots": "/console/volumes"}


@bp.before_request
def settle_format_and_provider() -> Response | None:
    """A browser goes to the console; 406 and a refused provider are answered before any view (nothing is
    contacted)."""
    if (request.method in ("GET", "HEAD") and "console" in current_gateway().frontends
            and wants_html(request.args.get("format"), request.accept_mimetypes,
                           api_client="Authorization" in request.headers
                           or "X-Deltacloud-Provider" in request.headers)):
        collection = request.path.removeprefix("/api").strip("/").split("/")[0].split(";")[0]
        return redirect(CONSOLE_PAGES.get(collection, "/console"))
    respond.current_format()
    context.choice()
    return None


@bp.after_request
def protocol_headers(response: Response) -> Response:
    return respond.finish(response)


@bp.errorhandler(NotAcceptable)
def not_acceptable(exc: NotAcceptable) -> Response:
    return error_response(406, str(exc))


@bp.errorhandler(DeltacloudError)
def deltacloud_error(exc: DeltacloudError) -> Response:
    return error_response(exc.status, exc.message, exc.headers)


@bp.errorhandler(GatewayError)
def gateway_error(exc: GatewayError) -> Response:
    return from_gateway_error(exc)


@bp.errorhandler(HTTPException)
def http_error(exc: HTTPException) -> Any:
    return from_http_exception(exc)


@bp.errorhandler(Exception)
def unexpected(exc: Exception) -> Response:
    return from_unexpected(exc)


@bp.route("/<anypath:rest>", methods=METHODS, endpoint="unknown_path")
@bp.route("", methods=("PUT", "DELETE", "PATCH"), endpoint="unknown_path", defaults={"rest": ""},
          strict_slashes=False, provide_automatic_options=False)  # the entry point's other methods: 405 here
def unknown_path(rest: str) -> Response:
    """Reached for a path no route has, or a known path with a method it does not take."""
    allowed = methods_routed_elsewhere(("GET", "POST", "DELETE", "PUT"), CATCH_ALL)
    if allowed:
        raise DeltacloudError(405, f"{request.method} is not allowed on {echo(request.path)}",
                              {"Allow": ", ".join(allowed)})
    raise DeltacloudError(404, f"No such resource: {echo(request.path)}")
