"""What every VPC has and what none has here, as the tools probe for them (Terraform's `aws_vpc` reads the
main route table and default network ACL after every create and refresh).

Each VPC, a logical network (see ..networks) or a router of the network provider (..provider_networks), has
as on EC2 its DNS attributes (.vpc_attributes), a main route table with its local route, a default network
ACL allowing all traffic associated with each of its subnets (oVirt filters nothing between VMs by rule, and
on the provider the security groups are all the filtering OVN does), and a DHCP options set. That set is
empty: on a logical network DHCP is whoever serves the VLAN, and the provider's DHCP options are its subnets'
own, so the gateway knows no VPC-wide options to claim. There are no internet gateways, VPC endpoints or
managed prefix lists: those answers are empty lists, not errors.

All of these are read-only. OVN has no network ACLs nor DHCP option sets apart from its subnets; its routers
have static routes and an external gateway (ovirt-provider-ovn has no floating IPs), which the gateway does
not map onto route tables and internet gateways yet. So creating or changing any of them is
UnsupportedOperation saying so, never a request accepted and ignored.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .. import ids, inventory, networks
from ..call import Call
from ..errors import Ec2Error
from ..filters import apply_filters, page_size, paginate
from . import action
from ..provider_networks import ProviderNetworks
from .vpcs import learned_cidrs, logical_networks

ALLOW_ALL, DENY_ALL = 100, 32767  # the rule numbers of a default ACL's two entries per direction
ROUTE_TABLE_FILTERS = {
    "route-table-id": lambda t: [t["RouteTableId"]],
    "vpc-id": lambda t: [t["VpcId"]],
    "owner-id": lambda t: [t["OwnerId"]],
    "association.main": lambda t: [a["Main"] for a in t["Associations"]],
    "association.route-table-association-id": lambda t: [a["RouteTableAssociationId"] for a in t["Associations"]],
    "association.route-table-id": lambda t: [a["RouteTableId"] for a in t["Associations"]],
    "association.subnet-id": lambda t: [a.get("SubnetId") for a in t["Associations"]],
    "route.destination-cidr-block": lambda t: [r["DestinationCidrBlock"] for r in t["Routes"]],
    "route.gateway-id": lambda t: [r["GatewayId"] for r in t["Routes"]],
    "route.origin": lambda t: [r["Origin"] for r in t["Routes"]],
    "route.state": lambda t: [r["State"] for r in t["Routes"]],
}
NETWORK_ACL_FILTERS = {
    "network-acl-id": lambda a: [a["NetworkAclId"]],
    "vpc-id": lambda a: [a["VpcId"]],
    "owner-id": lambda a: [a["OwnerId"]],
    "default": lambda a: [a["IsDefault"]],
    "association.association-id": lambda a: [s["NetworkAclAssociationId"] for s in a["Associations"]],
    "association.network-acl-id": lambda a: [s["NetworkAclId"] for s in a["Associations"]],
    "association.subnet-id": lambda a: [s["SubnetId"] for s in a["Associations"]],
}
DHCP_FILTERS = {
    "dhcp-options-id": lambda d: [d["DhcpOptionsId"]],
    "owner-id": lambda d: [d["OwnerId"]],
    "key": lambda d: [c["Key"] for c in d["DhcpConfigurations"]],
}


@dataclass(frozen=True)
class Outline:
    """What a VPC's parts are drawn from: its backend id, its block and its subnets' backend ids."""

    id: str
    cidr: str
    subnet_ids: list[str]


def _outlines(call: Call, *, with_cidrs: bool = False) -> tuple[list[Outline], str]:
    """Every VPC of the scope: the logical networks that are VPCs of their own (their blocks learned from the
    instances' addresses only `with_cidrs`: it reads every instance), then the network provider's."""
    provided = ProviderNetworks.of(call)
    found = logical_networks(call, provided)
    pseudo = networks.subnets(found, call.driver.realms(call.scope))
    learned = learned_cidrs(call) if with_cidrs else None
    outlines = [Outline(n.id, (learned.vpc(n.id) if learned else None) or networks.vpc_cidr(n.id),
                        [s.id for s in pseudo if s.network.id == n.id]) for n in found]
    outlines += [Outline(v.id, v.cidr, [s.id for s in provided.subnets if s.vpc_id == v.id])
                 for v in provided.vpcs]
    return outlines, inventory.account_id(call)


def _narrow(items: list[dict[str, Any]], key: str, noun: str, given: list[str] | None,
            code: str) -> list[dict[str, Any]]:
    """The items with the ids asked for (NotFound naming the first missing one), or all of them."""
    if not given:
        return items
    by_id = {item[key]: item for item in items}
    absent = [g for g in given if g not in by_id]
    if absent:
        raise Ec2Error(code, f"The {noun} ID '{absent[0][:100]}' does not exist")
    return [by_id[g] for g in dict.fromkeys(given)]


def _listing(call: Call, items: list[dict[str, Any]], key: str, filters: dict[str, Any], name: str) -> dict[str, Any]:
    size = page_size(call.get("MaxResults"), low=5)
    call.check_dry_run()
    items = apply_filters(items, call.get("Filters"), filters)
    page, token = paginate(items, lambda i: i[key], size, call.get("NextToken"))
    return {name: page, "NextToken": token}


def route_table_item(vpc: Outline, owner_id: str) -> dict[str, Any]:
    """The VPC's main route table: its local route, implicitly associated with every subnet."""
    table_id = ids.encode("rtb", vpc.id)
    return {
        "RouteTableId": table_id, "VpcId": networks.vpc_id(vpc.id), "OwnerId": owner_id,
        "Routes": [{"DestinationCidrBlock": vpc.cidr, "GatewayId": "local", "Origin": "CreateRouteTable",
                    "State": "active"}],
        "Associations": [{"Main": True, "RouteTableAssociationId": ids.encode("rtbassoc", vpc.id),
                          "RouteTableId": table_id, "AssociationState": {"State": "associated"}}],
        "PropagatingVgws": [], "Tags": [],
    }


def _acl_entry(number: int, egress: bool, action_name: str) -> dict[str, Any]:
    return {"RuleNumber": number, "Protocol": "-1", "RuleAction": action_name, "Egress": egress,
            "CidrBlock": "0.0.0.0/0"}


def network_acl_item(vpc: Outline, owner_id: str) -> dict[str, Any]:
    """The VPC's default ACL: everything allowed both ways (filtering is the groups' alone), on every subnet."""
    acl_id = ids.encode("acl", vpc.id)
    return {
        "NetworkAclId": acl_id, "VpcId": networks.vpc_id(vpc.id), "OwnerId": owner_id, "IsDefault": True,
        "Entries": [_acl_entry(n, egress, verdict) for egress in (True, False)
                    for n, verdict in ((ALLOW_ALL, "allow"), (DENY_ALL, "deny"))],
        "Associations": [{"NetworkAclAssociationId": ids.encode("aclassoc", s), "NetworkAclId": acl_id,
                          "SubnetId": ids.encode("subnet", s)} for s in vpc.subnet_ids],
        "Tags": [],
    }


@action("DescribeRouteTables")
def describe_route_tables(call: Call) -> dict[str, Any]:
    found, owner = _outlines(call, with_cidrs=True)
    items = [route_table_item(v, owner) for v in found]
    items = _narrow(items, "RouteTableId", "route table", call.get("RouteTableIds"), "InvalidRouteTableID.NotFound")
    return _listing(call, items, "RouteTableId", ROUTE_TABLE_FILTERS, "RouteTables")


@action("DescribeNetworkAcls")
def describe_network_acls(call: Call) -> dict[str, Any]:
    found, owner = _outlines(call)
    items = [network_acl_item(v, owner) for v in found]
    items = _narrow(items, "NetworkAclId", "network ACL", call.get("NetworkAclIds"), "InvalidNetworkAclID.NotFound")
    return _listing(call, items, "NetworkAclId", NETWORK_ACL_FILTERS, "NetworkAcls")


@action("DescribeDhcpOptions")
def describe_dhcp_options(call: Call) -> dict[str, Any]:
    found, owner = _outlines(call)
    items = [{"DhcpOptionsId": networks.dhcp_options_id(n.id), "OwnerId": owner, "DhcpConfigurations": [],
              "Tags": []} for n in found]
    items = _narrow(items, "DhcpOptionsId", "DHCP options", call.get("DhcpOptionsIds"), "InvalidDhcpOptionID.NotFound")
    return _listing(call, items, "DhcpOptionsId", DHCP_FILTERS, "DhcpOptions")


def _none_here(list_name: str, ids_name: str, code: str, noun: str) -> Any:
    """An action listing what no VPC has here: empty, and NotFound for any id asked for."""
    def describe(call: Call) -> dict[str, Any]:
        asked = call.get(ids_name)
        page_size(call.get("MaxResults"), low=5)
        call.check_dry_run()
        if asked:
            raise Ec2Error(code, f"The {noun} ID '{asked[0][:100]}' does not exist")
        return {list_name: [], "NextToken": None}
    return describe


action("DescribeInternetGateways")(_none_here("InternetGateways", "InternetGatewayIds",
                                              "InvalidInternetGatewayID.NotFound", "internet gateway"))
action("DescribeVpcEndpoints")(_none_here("VpcEndpoints", "VpcEndpointIds", "InvalidVpcEndpointId.NotFound",
                                          "VPC endpoint"))
action("DescribePrefixLists")(_none_here("PrefixLists", "PrefixListIds", "InvalidPrefixListID.NotFound",
                                         "prefix list"))


def _refuse(what: str) -> Any:
    def refuse(call: Call) -> dict[str, Any]:
        raise Ec2Error("UnsupportedOperation", f"{call.action} is not supported: {what}")
    return refuse


READ_ONLY = {
    "route tables are read-only here: each VPC has its main table with the local route only": (
        "CreateRouteTable", "DeleteRouteTable", "CreateRoute", "ReplaceRoute", "DeleteRoute", "AssociateRouteTable",
        "DisassociateRouteTable", "ReplaceRouteTableAssociation"),
    "network ACLs are read-only here: each VPC has its default ACL allowing all traffic (filter with security "
    "groups)": ("CreateNetworkAcl", "DeleteNetworkAcl", "CreateNetworkAclEntry", "ReplaceNetworkAclEntry",
                "DeleteNetworkAclEntry", "ReplaceNetworkAclAssociation"),
    "DHCP options are read-only here: each VPC has its own empty set": (
        "CreateDhcpOptions", "DeleteDhcpOptions", "AssociateDhcpOptions"),
    "there are no internet gateways here (the network provider's external gateways are not mapped)": (
        "CreateInternetGateway", "DeleteInternetGateway", "AttachInternetGateway", "DetachInternetGateway"),
}
for _why, _names in READ_ONLY.items():
    for _name in _names:
        action(_name, mutating=True)(_refuse(_why))
