"""Networks: the network provider's VPCs (created with an `address_block`, destroyed) and the engine's
logical networks that are not the provider's subnets (read only).

As Deltacloud 1.1.3's EC2 driver had it, a network is a VPC with its `address_blocks` and `subnets`; the
subnets themselves are in .subnets. Where the provider entry has no network provider, or the provider
refuses the user (ovirt-provider-ovn admits only the users its authorisation plugin names), the logical
networks alone are listed, as EC2 shows them. A network's `name` is kept as its EC2 `Name` tag.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask import Response
from lxml import etree

from gateway.errors import AuthFailure, NotFound, NotSupported, echo
from gateway.model import Network
from gateway.network_blocks import ipv4_block
from gateway.network_model import SecurityGroup, Subnet, Vpc
from gateway.tag_rules import check_tag, non_vm_tags, tag_new

from . import context, respond
from .blueprint import bp
from .description import ActionLink, Actions, Element, Entity, JsonOnly, Ref, RefList, Value


@dataclass
class ProviderParts:
    """The scope's VPCs, subnets and (when asked for) security groups; all empty without a network provider."""

    vpcs: list[Vpc]
    subnets: list[Subnet]
    groups: list[SecurityGroup]
    names: dict[str, str]  # resource id -> its Name tag


def has_network_provider() -> bool:
    return bool(context.scope().provider.ovn_url) and context.driver().can("create_subnet")


def provider_parts(*, groups: bool = False, changing: bool = False) -> ProviderParts:
    """For a change (`changing`), the provider's refusal of the user is the answer, as in EC2."""
    driver, scope = context.driver(), context.scope()
    if not has_network_provider():
        return ProviderParts([], [], [], {})
    try:
        vpcs, subnets = driver.vpcs(scope), driver.subnets(scope)
        found = driver.security_groups(scope) if groups else []
    except NotSupported:
        return ProviderParts([], [], [], {})
    except AuthFailure:
        if changing:
            raise
        return ProviderParts([], [], [], {})
    ids = [v.id for v in vpcs] + [s.id for s in subnets]
    tags = non_vm_tags(driver, scope, ids)
    return ProviderParts(vpcs, subnets, found, {rid: t["Name"] for rid, t in tags.items() if t.get("Name")})


def require_network_provider() -> None:
    """412 (Deltacloud's missing capability) naming the provider entry, before anything is made."""
    scope = context.scope()
    if not has_network_provider():
        raise NotSupported(f"The provider '{scope.provider.name}' has no network provider configured "
                           "(ovn_url in its [[providers]] entry), so its networks are read-only")
    context.driver().vpcs(scope)  # the provider's own refusal (a user it does not admit) is the answer


@dataclass
class TextList:
    """`<address_blocks><address_block>...</address_block></address_blocks>`; JSON a list of strings."""

    name: str
    item: str
    values: list[str]

    def to_xml(self, parent: etree._Element) -> None:
        container = etree.SubElement(parent, self.name)
        for value in self.values:
            etree.SubElement(container, self.item).text = value

    def to_json(self, out: dict[str, object]) -> None:
        out[self.name] = list(self.values)


def describe(network: Network) -> Entity:
    return Entity("network", network.id, context.api_url("networks", network.id), [
        Value("name", network.name),
        Value("description", network.description or None),
        Value("state", "UP"),
        Value("vlan", network.vlan),
        Value("mtu", network.mtu),
        Element("address_blocks", []),
        Element("subnets", []),
        JsonOnly("address_blocks", []),
        JsonOnly("subnets", []),
    ])


def describe_vpc(vpc: Vpc, parts: ProviderParts) -> Entity:
    href = context.api_url("networks", vpc.id)
    subnets = [Ref("subnet", s.id, context.api_url("subnets", s.id)) for s in parts.subnets if s.vpc_id == vpc.id]
    links = [ActionLink("destroy", href, "delete")] if context.driver().can("delete_vpc") else []
    return Entity("network", vpc.id, href, [
        Value("name", parts.names.get(vpc.id) or vpc.id),
        Value("state", "UP"),
        TextList("address_blocks", "address_block", [vpc.cidr]),
        RefList("subnets", subnets),
        Actions(links),
    ])


def _all() -> list[Entity]:
    parts = provider_parts()
    imported = {s.network_id for s in parts.subnets if s.network_id}
    logical = [describe(n) for n in context.driver().networks(context.scope()) if n.id not in imported]
    return [describe_vpc(v, parts) for v in parts.vpcs] + logical


@bp.route("/networks", methods=["GET"])
def networks_index() -> Response:
    wanted = context.param(context.params(), "id")
    return respond.collection("networks", [e for e in _all() if wanted is None or e.id == wanted])


@bp.route("/networks/<network_id>", methods=["GET"])
def network_show(network_id: str) -> Response:
    for entity in _all():
        if entity.id == network_id:
            return respond.entity(entity)
    raise NotFound("network", network_id)


@bp.route("/networks", methods=["POST"])
def network_create() -> Response:
    """`address_block` (the VPC's IPv4 block, /16 to /28; required here), optional `name`: 201 + Location."""
    values = context.params()
    block = ipv4_block(context.required(values, "address_block"), "address_block")
    require_network_provider()
    driver, scope = context.driver(), context.scope()
    name = context.param(values, "name")
    check_tag("Name", name, "name")
    vpc = driver.create_vpc(scope, str(block))
    tag_new(driver, scope, "vpc", vpc.id, {"Name": name} if name else {}, lambda: driver.delete_vpc(scope, vpc.id))
    return respond.created(describe_vpc(vpc, ProviderParts([vpc], [], [], {vpc.id: name} if name else {})))


@bp.route("/networks/<network_id>", methods=["DELETE"])
def network_destroy(network_id: str) -> Response:
    """204; 409 while the network has subnets or firewalls; 412 for a logical network of the engine."""
    parts = provider_parts(changing=True)
    if not any(v.id == network_id for v in parts.vpcs):
        if any(n.id == network_id for n in context.driver().networks(context.scope())):
            raise NotSupported(f"The network '{echo(network_id)}' is a logical network of the engine: only the network "
                               "provider's networks are destroyed here")
        raise NotFound("network", network_id)
    context.driver().delete_vpc(context.scope(), network_id)
    if context.driver().can("delete_tags"):
        context.driver().delete_tags(context.scope(), [network_id])
    return respond.no_content()
