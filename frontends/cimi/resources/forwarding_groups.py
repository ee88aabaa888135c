"""ForwardingGroups: the network provider's VPCs, each a router joining the Networks (subnets) made in it.

A ForwardingGroupCreate names the VPC's block in its template's extension attribute `cidr`; the template's
`networks` must be empty (networks join a group when they are made in it, from a NetworkCreate naming it).
Its `name` and `properties` are kept as the VPC's tags (`Name` and the others), as EC2 shows them. Delete is
refused (409) while the group has networks or security groups, as EC2's DeleteVpc is.
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, Response

from gateway.errors import InvalidParameter, MissingParameter, NotFound
from gateway.network_blocks import ipv4_block
from gateway.network_model import Vpc
from gateway.tag_rules import check_tags, tag_new

from ..context import Context, current
from ..listing import created_response, register_collection, resource_response
from ..network_views import NetworkView, has_network_provider, network_view
from ..protocol import respond
from ..reading import nested, properties, text
from ..schema import common_attributes


def group_entry(ctx: Context, view: NetworkView, vpc: Vpc) -> dict[str, Any]:
    href = ctx.href("forwardingGroups", vpc.id)
    entry = common_attributes(href, view.name_of(vpc.id) or f"vpc {vpc.cidr}", properties=view.properties_of(vpc.id))
    entry["networks"] = [{"href": ctx.href("networks", s.network_id)} for s in view.subnets
                        if s.vpc_id == vpc.id and s.network_id]
    entry["cidr"] = vpc.cidr
    if ctx.driver.can("delete_vpc"):
        entry["operations"] = [{"rel": "delete", "href": href}]
    return entry


def list_groups(ctx: Context) -> list[dict[str, Any]]:
    view = network_view(ctx, logical=False)
    return [group_entry(ctx, view, v) for v in view.vpcs]


def get_group(group_id: str) -> Response:
    ctx = current()
    view = network_view(ctx, logical=False)
    for vpc in view.vpcs:
        if vpc.id == group_id:
            return resource_response(ctx, "ForwardingGroup", group_entry(ctx, view, vpc))
    raise NotFound("forwarding group", group_id)


def create_group() -> Response:
    ctx = current()
    _, body = ctx.body("ForwardingGroupCreate")
    template = nested(body, "forwardingGroupTemplate")
    if template is None:
        raise MissingParameter("A ForwardingGroupCreate needs a forwardingGroupTemplate (by value, with cidr)",
                               parameter="forwardingGroupTemplate")
    if template.get("networks"):
        raise InvalidParameter("A new forwarding group starts without networks: make them with a NetworkCreate "
                               "naming the group", parameter="networks")
    block = ipv4_block(template.get("cidr"), "forwardingGroupTemplate.cidr")
    name = text(body, "name")
    tags = dict(properties(body) or {}, **({"Name": name} if name else {}))
    check_tags(tags, "properties")
    ctx.driver.vpcs(ctx.scope)  # 501 naming the provider, before anything is made, without a network provider
    vpc = ctx.driver.create_vpc(ctx.scope, str(block))
    tag_new(ctx.driver, ctx.scope, "vpc", vpc.id, tags, lambda: ctx.driver.delete_vpc(ctx.scope, vpc.id))
    return created_response(ctx, "ForwardingGroup", group_entry(ctx, NetworkView(vpcs=[vpc], tags={vpc.id: tags}), vpc))


def delete_group(group_id: str) -> Response:
    ctx = current()
    ctx.driver.delete_vpc(ctx.scope, group_id)  # NotFound, or InUse (409) while it has networks or groups
    if ctx.driver.can("delete_tags"):
        ctx.driver.delete_tags(ctx.scope, [group_id])
    return respond(None, ctx.fmt, 200)


def install(bp: Blueprint) -> None:
    register_collection("forwardingGroups", "ForwardingGroup", list_groups, available=has_network_provider,
                        can_add=has_network_provider)
    bp.add_url_rule("/forwarding_groups", "create_forwarding_group", create_group, methods=["POST"])
    bp.add_url_rule("/forwarding_groups/<group_id>", "get_forwarding_group", get_group, methods=["GET"])
    bp.add_url_rule("/forwarding_groups/<group_id>", "delete_forwarding_group", delete_group, methods=["DELETE"])
