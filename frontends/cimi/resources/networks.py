"""Networks: the engine's logical networks; those that are the network provider's subnets carry their block
(`cidr`), zone (`realm`) and ForwardingGroup (VPC), and clients create them from a NetworkCreate and delete
them. Ids are the engine's logical network ids (../network_views.py says why).

A NetworkCreate's NetworkTemplate (stored, or by value: .network_templates) gives the subnet's block (its
networkConfig's extension attribute `cidr`), its `forwardingGroup` (the VPC it joins) and optionally `realm`
(the zone; the first one otherwise). The subnet is made synchronously (201, no Job); its `name` and
`properties` are kept as its tags (`Name` and the others), the ones EC2 clients see; the provider keeps no
description.
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, Response

from gateway.errors import BackendError, GatewayError, InvalidParameter, MissingParameter, NotFound, NotSupported, echo
from gateway.model import Network, Realm
from gateway.network_blocks import subnet_block
from gateway.tag_rules import check_tags, tag_new

from ..context import Context, current
from ..listing import created_response, register_collection, resource_response
from ..network_views import NetworkView, has_network_provider, network_view
from ..protocol import respond
from ..reading import nested, properties, text
from ..schema import common_attributes
from .network_templates import resolve_network_template


def network_entry(ctx: Context, view: NetworkView, network: Network) -> dict[str, Any]:
    href = ctx.href("networks", network.id)
    subnet = view.subnet_of(network.id)
    name = (view.name_of(subnet.id) if subnet else None) or network.name
    attributes: dict[str, str] = {"vlan": str(network.vlan)} if network.vlan is not None else {}
    if subnet is not None:
        attributes.update(view.properties_of(subnet.id))
        if subnet.gateway_ip:
            attributes["gateway"] = subnet.gateway_ip
    entry = common_attributes(href, name, description=network.description, properties=attributes or None)
    entry.update({"state": "STARTED", "networkType": "PRIVATE"})
    if network.mtu:
        entry["mtu"] = network.mtu
    if subnet is not None:
        entry.update({"forwardingGroup": {"href": ctx.href("forwardingGroups", subnet.vpc_id)}, "cidr": subnet.cidr})
        if subnet.realm_id:
            entry["realm"] = subnet.realm_id
        if ctx.driver.can("delete_subnet"):
            entry["operations"] = [{"rel": "delete", "href": href}]
    return entry


def list_networks(ctx: Context) -> list[dict[str, Any]]:
    view = network_view(ctx)
    return [network_entry(ctx, view, n) for n in view.networks]


def get_network(network_id: str) -> Response:
    ctx = current()
    view = network_view(ctx)
    for network in view.networks:
        if network.id == network_id:
            return resource_response(ctx, "Network", network_entry(ctx, view, network))
    raise NotFound("network", network_id)


def _realm(ctx: Context, given: str | None) -> Realm:
    realms = ctx.driver.realms(ctx.scope)
    if not given:
        if not realms:
            raise NotFound("realm", "(any)", "The data center has no cluster to place the network in")
        return realms[0]
    found = next((r for r in realms if given in (r.id, r.name)), None)
    if found is None:
        raise InvalidParameter(f"There is no realm '{echo(given)}' (give a cluster's name or id)", parameter="realm")
    return found


def create_network() -> Response:
    ctx = current()
    _, body = ctx.body("NetworkCreate")
    if not has_network_provider(ctx):
        raise NotSupported(f"The provider '{ctx.scope.provider.name}' has no network provider configured "
                           "(ovn_url in its [[providers]] entry), so its networks are read-only")
    template = nested(body, "networkTemplate")
    if template is None:
        raise MissingParameter("A NetworkCreate needs a networkTemplate (a reference or by value)",
                               parameter="networkTemplate")
    attributes = resolve_network_template(ctx, template)
    view = network_view(ctx, logical=False, changing=True)
    vpc = next((v for v in view.vpcs if v.id == attributes["vpc_id"]), None)
    if vpc is None:
        raise NotFound("forwarding group", attributes["vpc_id"])
    block = subnet_block(attributes["cidr"], "networkConfig.cidr", vpc, view.subnets)
    realm = _realm(ctx, attributes.get("realm"))
    name = text(body, "name")
    tags = dict(properties(body) or {}, **({"Name": name} if name else {}))
    check_tags(tags, "properties")
    subnet = ctx.driver.create_subnet(ctx.scope, vpc.id, str(block), realm.id)
    tag_new(ctx.driver, ctx.scope, "subnet", subnet.id, tags, lambda: ctx.driver.delete_subnet(ctx.scope, subnet.id))
    view = NetworkView(ctx.driver.networks(ctx.scope), [vpc], [subnet], {subnet.id: tags})
    network = next((n for n in view.networks if n.id == subnet.network_id), None)
    if network is None and subnet.network_id:  # made and imported, not listed by the engine yet
        network = Network(subnet.network_id, name or "", region_id=vpc.region_id, external=True)
    if network is None:  # the provider made it but the engine did not take it: nothing to name, so undo it
        _undo_subnet(ctx, subnet.id)
        raise BackendError("The network provider made the network but the engine did not import it; "
                           "nothing was kept, try again")
    return created_response(ctx, "Network", network_entry(ctx, view, network))


def _undo_subnet(ctx: Context, subnet_id: str) -> None:
    try:
        ctx.driver.delete_subnet(ctx.scope, subnet_id)
        if ctx.driver.can("delete_tags"):
            ctx.driver.delete_tags(ctx.scope, [subnet_id])
    except GatewayError:
        pass


def delete_network(network_id: str) -> Response:
    ctx = current()
    view = network_view(ctx, changing=True)
    subnet = view.subnet_of(network_id)
    if subnet is None:
        if any(n.id == network_id for n in view.networks):
            raise NotSupported(f"The network '{echo(network_id)}' is a logical network of the engine: only the "
                               "network provider's networks are deleted here")
        raise NotFound("network", network_id)
    ctx.driver.delete_subnet(ctx.scope, subnet.id)
    if ctx.driver.can("delete_tags"):
        ctx.driver.delete_tags(ctx.scope, [subnet.id])
    return respond(None, ctx.fmt, 200)


def install(bp: Blueprint) -> None:
    register_collection("networks", "Network", list_networks, available=lambda ctx: ctx.driver.can("networks"),
                        can_add=has_network_provider)
    bp.add_url_rule("/networks", "create_network", create_network, methods=["POST"])
    bp.add_url_rule("/networks/<network_id>", "get_network", get_network, methods=["GET"])
    bp.add_url_rule("/networks/<network_id>", "delete_network", delete_network, methods=["DELETE"])
