"""The `/console` blueprint: sign-in required, a CSRF token on every form, errors as pages in words.

Every POST is checked by Flask-WTF's CSRFProtect (a token kept in the signed session, compared in constant
time): the console is the only part of the gateway with cookies, so the check is enabled here alone.
"""
from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, Response, g, redirect, render_template, request, url_for
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from gateway.errors import AuthFailure, GatewayError

from .forms import form_once
from .session import csrf, sign_out, signed_in

log = logging.getLogger("cloudgw.console")
bp = Blueprint("console", __name__, url_prefix="/console", template_folder="templates",
               static_folder="static", static_url_path="/static")
bp.add_app_template_global(form_once)
OPEN_ENDPOINTS = ("console.sign_in", "console.sign_in_form", "console.static")
BACKGROUND_ENDPOINTS = ("console.instance_states",)  # the page's own polling: not the user's activity


@bp.before_request
def require_sign_in_and_token() -> Any:
    """A page needs a signed-in user (GET: to the sign-in form; anything else: 401); a POST needs its token."""
    g.user = signed_in(activity=request.endpoint not in BACKGROUND_ENDPOINTS)
    if g.user is None and request.endpoint not in OPEN_ENDPOINTS:
        if request.method in ("GET", "HEAD"):
            return redirect(url_for("console.sign_in_form"))
        return page_error(401, "Sign in first: this action needs the engine's credentials.")
    if request.method == "POST":
        csrf.protect()
    return None


@bp.route("/<path:rest>", methods=("GET", "POST"))
def unknown_page(rest: str) -> Any:
    return page_error(404, "There is no such page in the console.")


@bp.after_request
def no_caching_or_framing(response: Response) -> Response:
    """Pages hold what the signed-in user may see: never cached, never framed (clickjacking)."""
    response.headers.setdefault("Cache-Control", "no-store")
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Content-Security-Policy"] = ("default-src 'self'; script-src 'self'; style-src 'self'; "
                                                   "img-src 'self' data:; frame-ancestors 'none'")
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def page_error(status: int, message: str) -> tuple[str, int]:
    return render_template("error.html", status=status, message=message), status


@bp.errorhandler(CSRFError)
def csrf_error(exc: CSRFError) -> Any:
    return page_error(400, f"The form could not be accepted ({exc.description}). Reload the page and try again.")


@bp.errorhandler(AuthFailure)
def engine_refused(exc: AuthFailure) -> Any:
    """The engine no longer accepts the session's credentials (a changed password): sign in again."""
    sign_out()
    g.user = None
    return page_error(401, f"The engine refused the credentials: {exc.message}. Sign in again.")


@bp.errorhandler(GatewayError)
def gateway_error(exc: GatewayError) -> Any:
    return page_error(exc.status if 400 <= exc.status < 600 else 500, exc.message)


@bp.errorhandler(HTTPException)
def http_error(exc: HTTPException) -> Any:
    return page_error(exc.code or 500, exc.description or exc.name)


@bp.errorhandler(Exception)
def unexpected(exc: Exception) -> Any:
    log.exception("console: unhandled error", extra={"request_id": getattr(g, "request_id", None)})
    return page_error(500, f"The console failed to handle this request (request id {getattr(g, 'request_id', '-')}).")
