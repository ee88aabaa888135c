"""Subnets: the network provider's subnets, each of a network (VPC) and a realm (zone); created with a
`network_id` and an `address_block` inside the network's block (optional `name`, and `realm_id`: the first
realm otherwise), destroyed while no interface uses them (else 409)."""
from __future__ import annotations

from flask import Response

from gateway.errors import InvalidParameter, NotFound, echo
from gateway.network_blocks import subnet_block
from gateway.network_model import Subnet
from gateway.tag_rules import check_tag, tag_new

from . import context, respond
from .blueprint import bp
from .description import ActionLink, Actions, Entity, Value
from .networks import ProviderParts, provider_parts, require_network_provider


def describe(subnet: Subnet, parts: ProviderParts) -> Entity:
    href = context.api_url("subnets", subnet.id)
    links = [ActionLink("destroy", href, "delete")] if context.driver().can("delete_subnet") else []
    return Entity("subnet", subnet.id, href, [
        Value("name", parts.names.get(subnet.id) or subnet.id),
        Value("state", "UP"),
        Value("address_block", subnet.cidr),
        Value("network", subnet.vpc_id),
        context.ref("realm", "realms", subnet.realm_id),
        Actions(links),
    ])


@bp.route("/subnets", methods=["GET"])
def subnets_index() -> Response:
    wanted = context.param(context.params(), "id")
    parts = provider_parts()
    return respond.collection("subnets", [describe(s, parts) for s in parts.subnets if wanted in (None, s.id)])


@bp.route("/subnets/<subnet_id>", methods=["GET"])
def subnet_show(subnet_id: str) -> Response:
    parts = provider_parts()
    for subnet in parts.subnets:
        if subnet.id == subnet_id:
            return respond.entity(describe(subnet, parts))
    raise NotFound("subnet", subnet_id)


@bp.route("/subnets", methods=["POST"])
def subnet_create() -> Response:
    values = context.params()
    network_id = context.required(values, "network_id")
    given_block = context.required(values, "address_block")
    require_network_provider()
    driver, scope = context.driver(), context.scope()
    parts = provider_parts(changing=True)
    vpc = next((v for v in parts.vpcs if v.id == network_id), None)
    if vpc is None:
        raise NotFound("network", network_id)
    block = subnet_block(given_block, "address_block", vpc, parts.subnets)
    realms = driver.realms(scope)
    realm_id = context.param(values, "realm_id")
    realm = next((r for r in realms if realm_id in (r.id, r.name)), None) if realm_id else (realms or [None])[0]
    if realm is None:
        raise InvalidParameter(f"There is no realm '{echo(realm_id or '')}'", parameter="realm_id")
    name = context.param(values, "name")
    check_tag("Name", name, "name")
    subnet = driver.create_subnet(scope, vpc.id, str(block), realm.id)
    tag_new(driver, scope, "subnet", subnet.id, {"Name": name} if name else {},
            lambda: driver.delete_subnet(scope, subnet.id))
    return respond.created(describe(subnet, ProviderParts([vpc], [subnet], [], {subnet.id: name} if name else {})))


@bp.route("/subnets/<subnet_id>", methods=["DELETE"])
def subnet_destroy(subnet_id: str) -> Response:
    """204; 409 while an interface uses it."""
    require_network_provider()
    context.driver().delete_subnet(context.scope(), subnet_id)
    if context.driver().can("delete_tags"):
        context.driver().delete_tags(context.scope(), [subnet_id])
    return respond.no_content()
