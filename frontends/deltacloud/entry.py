"""The entry point `/api` and the `drivers` collection.

`GET /api` lists a link per collection the scoped provider's driver can serve (read from
`driver.can(...)`, no engine request), each with its `<feature>`s; `?force_auth=1` checks the
credentials with the engine (401 when wrong). `/api/drivers/rhevm` lists the configured engines' data
centers as providers, each with the entrypoint a client puts in `X-Deltacloud-Provider`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from flask import Response, redirect, request
from lxml import etree

from gateway.app import basic_credentials, current_gateway
from gateway.config import ProviderConfig
from gateway.errors import GatewayError, echo
from gateway.scope import ProviderChoice

from . import context, respond
from .blueprint import bp
from .errors import DeltacloudError


@dataclass(frozen=True)
class Feature:
    name: str
    operation: str
    params: tuple[str, ...]
    needs: str  # the driver operation that makes the feature real


@dataclass(frozen=True)
class Collection:
    rel: str
    needs: str | None  # driver operation required; None: always served by the gateway
    features: tuple[Feature, ...] = field(default=())
    network_provider: bool = False  # served only where the provider entry names a network provider (OVN)


COLLECTIONS: tuple[Collection, ...] = (
    Collection("drivers", None),
    Collection("realms", "realms"),
    Collection("images", "images", (
        Feature("image_name", "create", ("name",), "create_image"),
        Feature("image_description", "create", ("description",), "create_image"),
    )),
    Collection("hardware_profiles", "hardware_profiles"),
    Collection("instances", "instances", (
        Feature("user_name", "create", ("name",), "create_instance"),
        Feature("user_data", "create", ("user_data",), "create_instance"),
        Feature("authentication_key", "create", ("keyname",), "create_instance"),
        Feature("hardware_profiles", "create", ("hwp_id", "hwp_memory", "hwp_cpu", "hwp_storage"), "create_instance"),
        Feature("realm_filter", "index", ("realm_id",), "instances"),
    )),
    Collection("instance_states", "instances"),
    Collection("keys", "create_instance", (Feature("import_key", "create", ("public_key",), "create_instance"),)),
    Collection("storage_volumes", "volumes"),
    Collection("storage_snapshots", "snapshots"),
    Collection("networks", "networks"),
    Collection("metrics", "instance_statistics"),
    Collection("subnets", "subnets", network_provider=True),
    Collection("firewalls", "security_groups", network_provider=True),
)


def served_collections() -> list[tuple[Collection, list[Feature]]]:
    driver = context.driver()
    networked = bool(context.choice().provider.ovn_url)
    served = []
    for collection in COLLECTIONS:
        if collection.network_provider and not networked:
            continue
        if collection.needs is None or driver.can(collection.needs):
            served.append((collection, [f for f in collection.features if driver.can(f.needs)]))
    return served


def _entry_xml(served: list[tuple[Collection, list[Feature]]], driver: str, provider: str) -> etree._Element:
    root = etree.Element("api", {"version": context.API_VERSION, "driver": driver, "provider": provider})
    for collection, features in served:
        link = etree.SubElement(root, "link", {"rel": collection.rel, "href": context.api_url(collection.rel)})
        for feature in features:
            element = etree.SubElement(link, "feature", {"name": feature.name, "rel": feature.operation})
            for name in feature.params:
                etree.SubElement(element, "param", {"name": name})
    return root


def _entry_json(served: list[tuple[Collection, list[Feature]]], driver: str, provider: str) -> dict[str, Any]:
    links = [{"rel": c.rel, "href": context.api_url(c.rel),
              "features": [[{"name": f.name, "rel": f.operation, "params": list(f.params), "constraints": {}}]
                           for f in features]}
             for c, features in served]
    return {"api": {"version": context.API_VERSION, "driver": driver, "provider": provider, "links": links}}


@bp.route("", methods=["GET"], strict_slashes=False, provide_automatic_options=False)
def entry_point() -> Response:
    if request.args.get("force_auth") not in (None, "", "0", "false"):
        context.driver().validate_credentials(context.scope())
    served = served_collections()
    driver = context.driver_name(context.choice().provider)
    provider = context.provider_text() or "default"
    return respond.document(_entry_xml(served, driver, provider), _entry_json(served, driver, provider))


@bp.route("", methods=["OPTIONS"], strict_slashes=False)
def entry_options() -> Response:
    response = Response(status=200)
    response.headers["Allow"] = ",".join(c.rel for c, _ in served_collections())
    return response


@bp.route("", methods=["POST"], strict_slashes=False, provide_automatic_options=False)
def switch_provider() -> Response:
    """Deltacloud's form switch: redirect (301) to the matrix URL naming the driver and provider."""
    values = context.params()
    suffix = ""
    if context.param(values, "driver"):
        suffix += ";driver=" + quote(values["driver"], safe="")
    if context.param(values, "provider") and values["provider"] != "default":
        suffix += ";provider=" + quote(values["provider"], safe="")
    return redirect(request.host_url.rstrip("/") + "/api" + suffix, 301)


# --- drivers ---------------------------------------------------------------------------------------
def _driver_names() -> list[str]:
    return sorted({context.driver_name(p) for p in current_gateway().config.providers})


def _providers_of(name: str) -> list[ProviderConfig]:
    return [p for p in current_gateway().config.providers if context.driver_name(p) == name]


def _datacenters(provider: ProviderConfig) -> list[tuple[str, str, str]]:
    """(provider id, kind, entrypoint) per data center of the engine the caller can see; the engine alone
    when the request has no credentials or the engine does not answer."""
    credentials = basic_credentials()
    if credentials is not None:
        gateway = current_gateway()
        scope = gateway.scope(ProviderChoice(provider, provider.default_datacenter), credentials)
        try:
            regions = gateway.driver_for(provider).regions(scope)
            return [(r.id, r.name, f"{provider.url};{r.id}") for r in regions]
        except GatewayError:
            pass
    return [(provider.name, "default", provider.url)]


@bp.route("/drivers", methods=["GET"])
def drivers_index() -> Response:
    root = etree.Element("drivers")
    listing = []
    for name in _driver_names():
        href, providers = context.api_url("drivers", name), _providers_of(name)
        element = etree.SubElement(root, "driver", {"href": href, "id": name})
        etree.SubElement(element, "name").text = name.upper()
        for provider in providers:
            etree.SubElement(element, "provider", {"id": provider.name})
        listing.append({"id": name, "href": href, "name": name.upper(),
                        "providers": [{"id": p.name} for p in providers]})
    return respond.document(root, {"drivers": listing})


@bp.route("/drivers/<name>", methods=["GET"])
def driver_show(name: str) -> Response:
    if name not in _driver_names():
        raise DeltacloudError(404, f"The driver '{echo(name)}' is not configured (this gateway has: "
                                   f"{', '.join(_driver_names())})")
    root = etree.Element("driver", {"href": context.api_url("drivers", name), "id": name})
    etree.SubElement(root, "name").text = name.upper()
    providers = []
    for engine in _providers_of(name):
        for provider_id, kind, url in _datacenters(engine):
            element = etree.SubElement(root, "provider", {"id": provider_id})
            etree.SubElement(element, "entrypoint", {"kind": kind}).text = etree.CDATA(url)
            providers.append({"id": provider_id, "entrypoints": [{"kind": kind, "url": url}]})
    return respond.document(root, {"driver": {"id": name, "href": context.api_url("drivers", name),
                                              "name": name.upper(), "providers": providers}})
