"""Sign in (engine credentials, provider, API level), choose the data center, sign out.

The credentials are checked by the engine itself (the same driver call as every API's), and the data
centers offered are those the engine lists for them. Signing in at the administrator level needs the
engine to accept unfiltered queries from the user; the administrator pages need more (operators.py).
"""
from __future__ import annotations

from typing import Any

from flask import current_app, flash, g, redirect, render_template, request, session, url_for
from werkzeug.exceptions import HTTPException

from gateway.app import current_gateway
from gateway.errors import AuthFailure, Forbidden, GatewayError
from gateway.scope import Credentials, ProviderChoice

from .blueprint import bp
from .operators import listed_operator
from .session import SignedIn, choose_datacenter, sign_out, start_session


def _providers() -> list[str]:
    return [p.name for p in current_gateway().config.providers]


@bp.get("/sign-in")
def sign_in_form() -> Any:
    if g.user is not None:
        return redirect(url_for("console.instances_page"))
    default = current_gateway().config.default_provider
    return render_template("sign_in.html", providers=_providers(), default_provider=default, error=None)


@bp.post("/sign-in")
def sign_in() -> Any:
    gateway = current_gateway()
    form = request.form
    username, password = form.get("username", "").strip(), form.get("password", "")
    provider_name = form.get("provider", "")
    user_level = form.get("user_level") == "on"

    def again(message: str, status: int) -> Any:
        return render_template("sign_in.html", providers=_providers(), default_provider=provider_name,
                               error=message, username=username, user_level=user_level), status

    if not username or not password:
        return again("Give the engine user (user@domain) and its password.", 400)
    if provider_name not in _providers():
        return again("Choose one of the configured providers.", 400)
    provider = gateway.config.provider(provider_name)
    scope = gateway.scope(ProviderChoice(provider, provider.default_datacenter, user_level),
                          Credentials(username, password))
    driver = gateway.driver_for(provider)
    try:
        driver.validate_credentials(scope)
        if not user_level:
            driver.confirm_administrator(scope)
        regions = driver.regions(scope)
    except AuthFailure:
        return again("The engine refused this user name and password.", 401)
    except Forbidden as exc:  # the engine refuses unfiltered queries to a non-administrator
        if user_level:
            return again(f"The engine could not list the data centers: {exc.message}", exc.status)
        return again("The engine accepted the credentials but not at its administrator level: "
                     "tick 'Only my own resources (user level)' and sign in again.", 403)
    except GatewayError as exc:  # the engine down, its TLS certificate, a timeout: said as what it is
        return again(f"The engine could not be asked: {exc.message}", exc.status)
    names = [r.name for r in regions]
    datacenter = provider.default_datacenter if provider.default_datacenter in names else (names or [None])[0]
    start_session(SignedIn(provider_name, username, password, user_level, datacenter))
    session["datacenters"] = names
    return redirect(url_for("console.instances_page"))


@bp.post("/sign-out")
def sign_out_now() -> Any:
    sign_out()
    flash("Signed out.")
    return redirect(url_for("console.sign_in_form"))


@bp.post("/data-center")
def data_center() -> Any:
    user: SignedIn = g.user
    scope = user.scope()
    names = [r.name for r in current_gateway().driver_for(scope.provider).regions(scope)]
    choose_datacenter(request.form.get("datacenter", ""), names)
    session["datacenters"] = names
    back = request.form.get("back")
    return redirect(back if _local(back) and _a_page(back) else _section_page(back))


def _local(target: str | None) -> bool:
    """Only a path inside the console (never another site: no open redirect)."""
    return bool(target) and target.startswith("/console/") and not target.startswith("//")


def _a_page(path: str) -> bool:
    """Whether a GET of `path` is a console page (not a POST-only action such as .../stop, met after an
    error page that followed a POST)."""
    try:
        endpoint, _ = current_app.url_map.bind("").match(path.split("?", 1)[0], method="GET")
    except HTTPException:
        return False
    return endpoint != "console.unknown_page"


def _section_page(back: str | None) -> str:
    """The list page of `back`'s section (/console/volumes/<id>/attach -> /console/volumes), else instances."""
    if _local(back):
        section = "/console/" + (back or "").split("?", 1)[0].split("/")[2]
        if _a_page(section):
            return section
    return url_for("console.instances_page")


@bp.get("")
@bp.get("/")
def home() -> Any:
    return redirect(url_for("console.instances_page"))


@bp.app_template_global()
def data_centers() -> list[str]:
    """The data centers the engine listed at sign-in (for the switcher in every page's header)."""
    return list(session.get("datacenters") or [])


@bp.app_template_global()
def console_operator() -> bool:
    """Whether the header shows the administrator pages (each one checks again: operators.operator_only)."""
    return listed_operator(g.get("user"))
