"""Per-request facts of the Deltacloud API: driver and provider, credentials, scope, URLs, parameters.

Driver and provider come from matrix parameters on the `api` segment (`/api;driver=rhevm;provider=...`),
else the `X-Deltacloud-Driver` / `X-Deltacloud-Provider` headers, else the configured default. A provider
always goes through gateway.scope's allow-list (ProviderRefused, never contacted). Credentials are HTTP
Basic, demanded lazily: only what needs the engine asks for them.
"""
from __future__ import annotations

from typing import Any
from urllib.parse import quote

from flask import g, request

from gateway.app import current_gateway, required_basic_credentials
from gateway.config import ProviderConfig
from gateway.driver import Driver
from gateway.errors import InvalidParameter, MissingParameter
from gateway.scope import PROVIDER_HEADER, ProviderChoice, Scope, choose_provider
from gateway.xmlsafe import require_writable

from .description import Ref
from .matrix import API_SEGMENT_KEY, ENVIRON_KEY

API_VERSION = "1.1.3"
DRIVER_HEADER = "X-Deltacloud-Driver"
# The Deltacloud name of each backend kind: oVirt is what Deltacloud called `rhevm`.
DRIVER_NAMES = {"ovirt": "rhevm"}


def driver_name(provider: ProviderConfig) -> str:
    return DRIVER_NAMES.get(provider.driver, provider.driver)


def matrix_params(segment: str) -> dict[str, str]:
    return request.environ.get(ENVIRON_KEY, {}).get(segment, {})


def _is_driver(provider: ProviderConfig, wanted: str) -> bool:
    return wanted in (driver_name(provider), provider.driver)


def choice() -> ProviderChoice:
    """The engine and data center this request is about (cached per request)."""
    if "dc_choice" in g:
        return g.dc_choice
    config = current_gateway().config
    api = matrix_params("api")
    wanted = (api.get("driver") or request.headers.get(DRIVER_HEADER) or "").strip().lower() or None
    named = api.get("provider") or request.headers.get(PROVIDER_HEADER) or None
    if named and named.strip().lower() != "default":
        selected = choose_provider(config, named)
    else:
        selected = choose_provider(config, None)
        if wanted and not _is_driver(selected.provider, wanted):
            others = [p for p in config.providers if _is_driver(p, wanted)]
            if others:
                selected = ProviderChoice(others[0], others[0].default_datacenter)
    if wanted and not _is_driver(selected.provider, wanted):
        known = ", ".join(sorted({driver_name(p) for p in config.providers}))
        raise InvalidParameter(f"Unknown driver '{wanted[:50]}' for this provider (this gateway has: {known})",
                               parameter="driver")
    g.dc_choice = selected
    return selected


def provider_text() -> str | None:
    """The provider string as a client would send it back: `<engine URL>;<data center>`."""
    selected = choice()
    if selected.datacenter is None:
        return selected.provider.url
    return f"{selected.provider.url};{selected.datacenter}" + (";user" if selected.user_level else "")


def driver() -> Driver:
    return current_gateway().driver_for(choice().provider)


def scope() -> Scope:
    """The request's scope; asks for HTTP Basic credentials (401) only here, where the engine is needed."""
    if "dc_scope" not in g:
        credentials = required_basic_credentials("Authentication required: send HTTP Basic credentials of the engine")
        g.dc_scope = current_gateway().scope(choice(), credentials)
    return g.dc_scope


def api_url(*parts: str) -> str:
    """Absolute URL under /api, keeping the driver/provider matrix parameters the client used."""
    base = request.host_url.rstrip("/") + "/api" + request.environ.get(API_SEGMENT_KEY, "")
    return "/".join([base, *(quote(p, safe="") for p in parts)])


def ref(name: str, collection: str, resource_id: str | None) -> Ref:
    """`<name id href/>` for a resource of `collection`; without an id, no element and a null in JSON."""
    return Ref(name, resource_id, api_url(collection, resource_id) if resource_id else None)


def params() -> dict[str, Any]:
    """Request parameters: the collection segment's matrix parameters, then the query string, then the form;
    a value holding a character XML cannot carry is a 400 naming the parameter."""
    segments = [s for s in request.path.split("/") if s]
    merged: dict[str, Any] = {}
    for segment in segments[1:]:
        merged.update(matrix_params(segment))
    merged.update(request.args.to_dict())
    if request.method in ("POST", "PUT") and request.mimetype in (
            "application/x-www-form-urlencoded", "multipart/form-data"):
        merged.update(request.form.to_dict())
    merged.pop("format", None)
    for name, value in merged.items():  # read before any side effect: nothing unwritable reaches the engine
        require_writable(str(name), "parameter name")
        require_writable(str(value), str(name))
    return merged


def param(values: dict[str, Any], name: str) -> str | None:
    """A parameter's value with blanks treated as absent (Ruby clients send empty strings for nil)."""
    value = values.get(name)
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def required(values: dict[str, Any], name: str) -> str:
    value = param(values, name)
    if value is None:
        raise MissingParameter(f"Required parameter '{name}' is missing", parameter=name)
    return value
