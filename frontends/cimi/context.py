"""Per-request facts every CIMI resource module needs: scope, driver, URLs, format, the body.

Every href the frontend writes is absolute and starts with `baseURI` (`…/cimi/`), because the Sirocco
SDK strips `baseURI` from hrefs and Deltacloud's suite expects `{base}/machines/{id}`. Ids from URLs are
checked against the collection they should belong to, so a reference to a MachineImage given where a
MachineConfiguration is expected is a 400, not a confusing engine error.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from flask import current_app, g, request

from gateway.app import current_gateway
from gateway.driver import Driver
from gateway.errors import InvalidParameter, MissingParameter, NotSupported, echo
from gateway.scope import Scope

from .reading import body_format, read_body

# URL path segment of each collection (Deltacloud's layout, which its CIMI clients assume).
PATHS = {
    "machines": "machines", "machineImages": "machine_images", "machineConfigs": "machine_configurations",
    "machineTemplates": "machine_templates", "volumes": "volumes", "volumeConfigs": "volume_configurations",
    "volumeTemplates": "volume_templates", "networks": "networks", "credentials": "credentials", "jobs": "jobs",
    "resourceMetadata": "resource_metadata", "volumeImages": "volume_images", "networkPorts": "network_ports",
    "networkTemplates": "network_templates", "networkConfigs": "network_configurations",
    "forwardingGroups": "forwarding_groups", "meters": "meters", "meterConfigs": "meter_configurations",
}


@dataclass
class Context:
    scope: Scope
    driver: Driver
    fmt: str
    base: str  # baseURI, ending in '/'
    _verified: bool = False

    # --- URLs ---------------------------------------------------------------------------------
    def href(self, collection: str, *parts: str) -> str:
        path = PATHS[collection]
        if parts:
            path += "/" + "/".join(quote(str(p), safe="") for p in parts)
        return self.base + path

    def id_from_href(self, href: object, collection: str, what: str) -> str:
        """The id in a reference to `collection` (an absolute or relative URL, or a bare id).

        `href` is whatever the client sent: a number, list or object there is a 400, not a crash.
        """
        if not isinstance(href, str):
            raise InvalidParameter(f"The {what} reference (href) must be text, not {_json_kind(href)}",
                                   parameter="href")
        value = href.strip()
        if not value:
            raise InvalidParameter(f"The {what} reference is empty")
        path = urlsplit(value).path if "://" in value or value.startswith("/") else value
        segment = PATHS[collection]
        parts = [p for p in path.split("/") if p]
        if segment in parts:
            index = len(parts) - 1 - parts[::-1].index(segment)
            rest = parts[index + 1:]
            if len(rest) == 1:
                return unquote(rest[0])
        elif len(parts) == 1 and "://" not in value and not value.startswith("/"):
            return unquote(parts[0])
        raise InvalidParameter(f"'{echo(value)}' is not a reference to a {what} (expected {self.href(collection)}/<id>)")

    # --- the driver, guarded by its capabilities ------------------------------------------------------
    def require(self, capability: str, what: str) -> None:
        if not self.driver.can(capability):
            raise NotSupported(f"The provider cannot {what}")

    def verify_credentials(self) -> None:
        """Confirm the credentials with the engine before touching gateway-only entities of their owner."""
        if not self._verified:
            self.driver.validate_credentials(self.scope)
            self._verified = True

    @property
    def owner(self) -> str:
        return self.scope.owner_key

    # --- the body ------------------------------------------------------------------------------------
    def body(self, *accepted: str, required: bool = True) -> tuple[str, dict[str, Any]]:
        data = request.get_data(cache=True)
        fmt = body_format(request.headers.get("Content-Type"), data)
        if fmt is None:
            if required:
                raise MissingParameter(f"A {' or '.join(accepted)} body is required")
            return accepted[0], {}
        return read_body(data, fmt, accepted, current_app.config.get("MAX_CONTENT_LENGTH") or 1 << 20)


def _json_kind(value: object) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return "null" if value is None else type(value).__name__


def current() -> Context:
    return g.cimi


def make_context(scope: Scope, fmt: str) -> Context:
    gateway = current_gateway()
    base = request.url_root.rstrip("/") + "/cimi/"
    return Context(scope=scope, driver=gateway.driver_for(scope.provider), fmt=fmt, base=base)
