"""Firewalls: the network provider's security groups, with Deltacloud 1.1.3's rules.

A firewall is created with `name` and `description` (as in 1.1.3) in a network (VPC): `network_id`, which
may be left out when there is exactly one. `POST /api/firewalls/:id/rules` adds a rule per source with
`protocol` (tcp, udp, icmp), `port_from`, `port_to` (for icmp the type and code, -1 for any) and sources
`ip_address1..N` (a CIDR or an address) and `group1..N` (a firewall's name or id in the same network;
`group1owner` is read and not needed); `direction` (ingress, the default, or egress) is an extension.
Each provider rule is one Deltacloud rule with one source, so `DELETE /api/firewalls/:id/:rule_id` removes
exactly what it names. A network's `default` firewall goes with its network.
"""
from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Any

from flask import Response
from lxml import etree

from gateway.errors import AlreadyExists, InvalidParameter, InvalidState, MissingParameter, NotFound, echo
from gateway.network_model import ALL_PORTS, SecurityGroup, SecurityRule, rule_ports

from . import context, respond
from .blueprint import bp
from .description import ActionLink, Actions, Entity, Ref, Value
from .networks import ProviderParts, provider_parts, require_network_provider

PROTOCOLS = ("tcp", "udp", "icmp")
ADDRESS_PARAM = re.compile(r"^ip[-_]address", re.IGNORECASE)
GROUP_PARAM = re.compile(r"^group(\d+)$")


def _owner() -> str:
    return context.scope().credentials.username


@dataclass
class Rules:
    """`<rules><rule id><allow_protocol/><port_from/><port_to/><direction/><sources><source .../></sources>`;
    JSON a list of rule objects with `sources` a list."""

    group: SecurityGroup
    names: dict[str, str]  # group id -> name, for group sources

    def _source(self, rule: SecurityRule) -> dict[str, str]:
        if rule.remote_group_id:
            return {"type": "group", "name": self.names.get(rule.remote_group_id, rule.remote_group_id),
                    "owner": _owner(), "id": rule.remote_group_id}
        network = ipaddress.ip_network(rule.remote_cidr or "0.0.0.0/0", strict=False)
        return {"type": "address", "family": f"ipv{network.version}", "address": str(network.network_address),
                "prefix": str(network.prefixlen)}

    def _fields(self, rule: SecurityRule) -> dict[str, Any]:
        low, high = rule.port_min, rule.port_max
        if rule.protocol in ("tcp", "udp") and low is None and high is None:
            low, high = ALL_PORTS  # the open range, as the client gave it (EC2 shows it so too)
        return {"allow_protocol": rule.protocol or "all", "port_from": low, "port_to": high,
                "direction": rule.direction}

    def to_xml(self, parent: etree._Element) -> None:
        container = etree.SubElement(parent, "rules")
        for rule in self.group.rules:
            element = etree.SubElement(container, "rule", {"id": rule.id})
            for name, value in self._fields(rule).items():
                if value is not None:
                    etree.SubElement(element, name).text = str(value)
            etree.SubElement(etree.SubElement(element, "sources"), "source", self._source(rule))

    def to_json(self, out: dict[str, Any]) -> None:
        out["rules"] = [{"id": rule.id, **self._fields(rule), "sources": [self._source(rule)]}
                        for rule in self.group.rules]


def describe(group: SecurityGroup, parts: ProviderParts) -> Entity:
    href = context.api_url("firewalls", group.id)
    links = [ActionLink("add_rule", href + "/rules", "post")]
    if group.name != "default" and context.driver().can("delete_security_group"):
        links.insert(0, ActionLink("destroy", href, "delete"))
    return Entity("firewall", group.id, href, [
        Value("name", group.name, cdata=True),
        Value("description", group.description, cdata=True),
        Value("owner_id", _owner()),
        Ref("network", group.vpc_id, context.api_url("networks", group.vpc_id)),
        Rules(group, {g.id: g.name for g in parts.groups}),
        Actions(links),
    ])


def _group(parts: ProviderParts, firewall_id: str) -> SecurityGroup:
    found = next((g for g in parts.groups if g.id == firewall_id), None)
    if found is None:
        raise NotFound("firewall", firewall_id)
    return found


@bp.route("/firewalls", methods=["GET"])
def firewalls_index() -> Response:
    wanted = context.param(context.params(), "id")
    parts = provider_parts(groups=True)
    return respond.collection("firewalls", [describe(g, parts) for g in parts.groups if wanted in (None, g.id)])


@bp.route("/firewalls/<firewall_id>", methods=["GET"])
def firewall_show(firewall_id: str) -> Response:
    parts = provider_parts(groups=True)
    return respond.entity(describe(_group(parts, firewall_id), parts))


@bp.route("/firewalls", methods=["POST"])
def firewall_create() -> Response:
    values = context.params()
    name = context.required(values, "name")
    description = context.required(values, "description")
    if len(name) > 255 or len(description) > 255:
        raise InvalidParameter("A firewall's name and description are at most 255 characters")
    require_network_provider()
    parts = provider_parts(groups=True, changing=True)
    network_id = context.param(values, "network_id")
    if network_id is None:
        if len(parts.vpcs) != 1:
            raise MissingParameter(f"Name the network of the firewall with 'network_id' (there are {len(parts.vpcs)})",
                                   parameter="network_id")
        network_id = parts.vpcs[0].id
    if not any(v.id == network_id for v in parts.vpcs):
        raise NotFound("network", network_id)
    if any(g.vpc_id == network_id and g.name == name for g in parts.groups):
        raise AlreadyExists("firewall", name)
    group = context.driver().create_security_group(context.scope(), network_id, name, description)
    parts.groups.append(group)
    return respond.created(describe(group, parts))


@bp.route("/firewalls/<firewall_id>", methods=["DELETE"])
def firewall_destroy(firewall_id: str) -> Response:
    """204; 409 for a network's default firewall or one that an instance or another firewall's rule uses."""
    require_network_provider()
    group = _group(provider_parts(groups=True, changing=True), firewall_id)
    if group.name == "default":
        raise InvalidState(f"The firewall '{echo(firewall_id)}' is its network's default one and goes with it")
    context.driver().delete_security_group(context.scope(), firewall_id)
    return respond.no_content()


def _port(values: dict[str, Any], name: str, protocol: str) -> int | None:
    text = context.required(values, name)
    try:
        number = int(text)
    except ValueError:
        raise InvalidParameter(f"'{name}' must be a whole number, got '{echo(text)}'", parameter=name) from None
    if protocol == "icmp":
        if not -1 <= number <= 255:
            raise InvalidParameter(f"'{name}' must be an ICMP type or code (0 to 255, -1 for any)", parameter=name)
        return None if number == -1 else number
    if not 0 <= number <= 65535:
        raise InvalidParameter(f"'{name}' must be a port from 0 to 65535, got {number}", parameter=name)
    return number


def _sources(values: dict[str, Any], group: SecurityGroup, parts: ProviderParts) -> list[dict[str, Any]]:
    """The rule's remote ends: {'remote_cidr', 'ethertype'} or {'remote_group_id'} per source given."""
    sources: list[dict[str, Any]] = []
    for key in sorted(values):
        value = context.param(values, key)
        if value is None:
            continue
        if ADDRESS_PARAM.match(key):
            try:
                network = ipaddress.ip_network(value, strict=False)
            except ValueError:
                raise InvalidParameter(f"'{key}' must be an address or a CIDR block, got '{echo(value)}'",
                                       parameter=key) from None
            sources.append({"remote_cidr": str(network), "ethertype": f"IPv{network.version}"})
        elif GROUP_PARAM.match(key):
            named = next((g for g in parts.groups if g.vpc_id == group.vpc_id and value in (g.id, g.name)), None)
            if named is None:
                raise InvalidParameter(f"There is no firewall '{echo(value)}' in the network of this firewall",
                                       parameter=key)
            sources.append({"remote_group_id": named.id})
    if not sources:
        raise MissingParameter("No sources. Specify at least one source ip_address or group")
    return sources


@bp.route("/firewalls/<firewall_id>/rules", methods=["POST"])
def firewall_rule_create(firewall_id: str) -> Response:
    """201 with the firewall and its new rules; 409 when the firewall has one of them already."""
    values = context.params()
    protocol = (context.required(values, "protocol")).lower()
    if protocol not in PROTOCOLS:
        raise InvalidParameter(f"'protocol' must be one of {', '.join(PROTOCOLS)}, got '{echo(protocol)}'",
                               parameter="protocol")
    low, high = _port(values, "port_from", protocol), _port(values, "port_to", protocol)
    if protocol != "icmp" and low is not None and high is not None and low > high:
        raise InvalidParameter(f"'port_from' ({low}) is after 'port_to' ({high})", parameter="port_from")
    direction = (context.param(values, "direction") or "ingress").lower()
    if direction not in ("ingress", "egress"):
        raise InvalidParameter("'direction' must be ingress or egress", parameter="direction")
    require_network_provider()
    parts = provider_parts(groups=True, changing=True)
    group = _group(parts, firewall_id)
    low, high = rule_ports(protocol, low, high)  # tcp 0-65535 is EC2's open range
    rules = [SecurityRule(direction, protocol, low, high, **source) for source in _sources(values, group, parts)]
    for rule in rules:
        if any(rule.same_traffic(existing) for existing in group.rules):
            raise AlreadyExists("firewall rule", f"{protocol} {low}-{high}",
                                "The firewall has that rule already")
    context.driver().add_security_rules(context.scope(), group.id, rules)
    parts = provider_parts(groups=True)
    return respond.created(describe(_group(parts, firewall_id), parts))


@bp.route("/firewalls/<firewall_id>/<rule_id>", methods=["DELETE"])
def firewall_rule_destroy(firewall_id: str, rule_id: str) -> Response:
    require_network_provider()
    group = _group(provider_parts(groups=True, changing=True), firewall_id)
    if not any(r.id == rule_id for r in group.rules):
        raise NotFound("firewall rule", rule_id)
    context.driver().remove_security_rules(context.scope(), [rule_id])
    return respond.no_content()
