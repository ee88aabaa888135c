"""NetworkConfigurations and NetworkTemplates: kept by the gateway, as Volume ones are (the engine and the
network provider have no offerings of networks to list, only the block each create names).

A NetworkConfiguration holds the subnet's block in the extension attribute `cidr` (networkType PRIVATE, the
only kind the provider makes; `mtu` and `classOfService` are the provider's, so refused rather than ignored).
A NetworkTemplate holds its `networkConfig` (a reference or by value), its `forwardingGroup` (a reference to
a VPC) and optionally `realm`. A NetworkCreate names a stored template or gives one by value.
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, Response

from gateway.errors import InvalidParameter, MissingParameter, NotFound
from gateway.network_blocks import ipv4_block

from ..context import Context, current
from ..listing import created_response, register_collection, resource_response
from ..network_views import has_network_provider
from ..reading import nested, text
from ..records import all_records, deleting_view, find_record
from ..schema import common_attributes
from .templates import _new_record, _save

NETWORK_CONFIG, NETWORK_TEMPLATE = "cimi.networkConfiguration", "cimi.networkTemplate"


def _unknown(field: str, exc: NotFound) -> InvalidParameter:
    return InvalidParameter(f"The {field} reference names nothing: {exc.message}", parameter=field)


def read_network_config(content: dict[str, Any]) -> dict[str, Any]:
    """{'cidr': ...} from a NetworkConfiguration's attributes (given whole or inline)."""
    if (text(content, "networkType") or "PRIVATE").upper() != "PRIVATE":
        raise InvalidParameter("Only PRIVATE networks can be made (the provider's subnets have no public addresses)",
                               parameter="networkType")
    for name in ("mtu", "classOfService"):
        if content.get(name) not in (None, ""):
            raise InvalidParameter(f"'{name}' is the network provider's to choose and cannot be set here",
                                   parameter=name)
    return {"cidr": str(ipv4_block(content.get("cidr"), "networkConfig.cidr"))}


def read_network_template(ctx: Context, content: dict[str, Any]) -> dict[str, Any]:
    """{'config_id' or 'cidr', 'vpc_id', 'realm'?} from a NetworkTemplate's attributes."""
    config = nested(content, "networkConfig")
    if config is None:
        raise MissingParameter("A networkTemplate needs a networkConfig (a reference, or by value with its cidr)",
                               parameter="networkConfig")
    attributes: dict[str, Any] = {}
    if "href" in config:
        config_id = ctx.id_from_href(config["href"], "networkConfigs", "NetworkConfiguration")
        try:
            find_record(ctx, NETWORK_CONFIG, config_id, "network configuration")
        except NotFound as exc:
            raise _unknown("networkConfig", exc) from None
        attributes["config_id"] = config_id
    else:
        attributes.update(read_network_config(config))
    group = nested(content, "forwardingGroup")
    if group is None or "href" not in group:
        raise MissingParameter("The networkTemplate needs a forwardingGroup: a reference to the ForwardingGroup "
                               "(VPC) the network joins", parameter="forwardingGroup")
    attributes["vpc_id"] = ctx.id_from_href(group["href"], "forwardingGroups", "forwarding group")
    realm = text(content, "realm")
    if realm:
        attributes["realm"] = realm
    return attributes


def resolve_network_template(ctx: Context, template: dict[str, Any]) -> dict[str, Any]:
    """{'cidr', 'vpc_id', 'realm'?} of a NetworkCreate's template, a stored one or one given by value."""
    if set(template) == {"href"}:
        template_id = ctx.id_from_href(template["href"], "networkTemplates", "NetworkTemplate")
        try:
            attributes = dict(find_record(ctx, NETWORK_TEMPLATE, template_id, "network template")["attributes"])
        except NotFound as exc:
            raise _unknown("networkTemplate", exc) from None
    else:
        attributes = read_network_template(ctx, template)
    if "config_id" in attributes:
        try:
            config = find_record(ctx, NETWORK_CONFIG, attributes.pop("config_id"), "network configuration")
        except NotFound as exc:
            raise _unknown("networkConfig", exc) from None
        attributes["cidr"] = config["attributes"]["cidr"]
    return attributes


def config_entry(ctx: Context, stored: dict[str, Any]) -> dict[str, Any]:
    href = ctx.href("networkConfigs", stored["id"])
    entry = common_attributes(href, stored["name"], description=stored.get("description"), created=stored["created"],
                              properties=stored.get("properties"))
    entry.update({"networkType": "PRIVATE", "cidr": stored["attributes"]["cidr"],
                  "operations": [{"rel": "delete", "href": href}]})
    return entry


def template_entry(ctx: Context, stored: dict[str, Any]) -> dict[str, Any]:
    href = ctx.href("networkTemplates", stored["id"])
    attrs = stored["attributes"]
    entry = common_attributes(href, stored["name"], description=stored.get("description"), created=stored["created"],
                              properties=stored.get("properties"))
    if "config_id" in attrs:
        entry["networkConfig"] = {"href": ctx.href("networkConfigs", attrs["config_id"])}
    else:
        entry["networkConfig"] = {"networkType": "PRIVATE", "cidr": attrs["cidr"]}
    entry["forwardingGroup"] = {"href": ctx.href("forwardingGroups", attrs["vpc_id"])}
    if attrs.get("realm"):
        entry["realm"] = attrs["realm"]
    entry["operations"] = [{"rel": "delete", "href": href}]
    return entry


def create_config() -> Response:
    ctx = current()
    ctx.verify_credentials()
    _, body = ctx.body("NetworkConfiguration")
    attributes = read_network_config(body)
    record = _new_record(body, "network-config")
    _save(ctx, NETWORK_CONFIG, record, body, attributes)
    return created_response(ctx, "NetworkConfiguration", config_entry(ctx, record))


def create_template() -> Response:
    ctx = current()
    ctx.verify_credentials()
    _, body = ctx.body("NetworkTemplate")
    attributes = read_network_template(ctx, body)
    record = _new_record(body, "network-template")
    _save(ctx, NETWORK_TEMPLATE, record, body, attributes)
    return created_response(ctx, "NetworkTemplate", template_entry(ctx, record))


def get_config(config_id: str) -> Response:
    ctx = current()
    stored = find_record(ctx, NETWORK_CONFIG, config_id, "network configuration")
    return resource_response(ctx, "NetworkConfiguration", config_entry(ctx, stored))


def get_template(template_id: str) -> Response:
    ctx = current()
    stored = find_record(ctx, NETWORK_TEMPLATE, template_id, "network template")
    return resource_response(ctx, "NetworkTemplate", template_entry(ctx, stored))


def install(bp: Blueprint) -> None:
    register_collection("networkConfigs", "NetworkConfiguration",
                        lambda ctx: [config_entry(ctx, s) for s in all_records(ctx, NETWORK_CONFIG)],
                        available=has_network_provider, can_add=has_network_provider)
    register_collection("networkTemplates", "NetworkTemplate",
                        lambda ctx: [template_entry(ctx, s) for s in all_records(ctx, NETWORK_TEMPLATE)],
                        available=has_network_provider, can_add=has_network_provider)
    bp.add_url_rule("/network_configurations", "create_network_config", create_config, methods=["POST"])
    bp.add_url_rule("/network_configurations/<config_id>", "get_network_config", get_config, methods=["GET"])
    bp.add_url_rule("/network_configurations/<entity_id>", "delete_network_config",
                    deleting_view(NETWORK_CONFIG, "network configuration"), methods=["DELETE"])
    bp.add_url_rule("/network_templates", "create_network_template", create_template, methods=["POST"])
    bp.add_url_rule("/network_templates/<template_id>", "get_network_template", get_template, methods=["GET"])
    bp.add_url_rule("/network_templates/<entity_id>", "delete_network_template",
                    deleting_view(NETWORK_TEMPLATE, "network template"), methods=["DELETE"])
