"""What every VPC has and what none has here, as the tools probe for them.

Each VPC (a logical network, see ..networks) has, as on EC2, its DNS attributes (.vpc_attributes), a main
route table with its local route, a default network ACL allowing all traffic (oVirt filters nothing between VMs
by rule) associated with each of its subnets, and a DHCP options set. That set is empty: DHCP on an
oVirt network is whoever serves the VLAN, not the engine, so the gateway knows no options to claim.
The engine runs no DNS for guests either, so both DNS attributes are false. There are no internet
gateways, VPC endpoints or managed prefix lists: those answers are empty lists, not errors.
"""
from __future__ import annotations

from typing import Any

from .. import ids, inventory, networks
from ..call import Call
from ..errors import Ec2Error
from ..filters import apply_filters, page_size, paginate
from . import action
from .vpcs import learned_cidrs

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


def _vpc_parts(call: Call) -> tuple[list[Any], list[networks.Subnet], str]:
    found = call.driver.networks(call.scope)
    return found, networks.subnets(found, call.driver.realms(call.scope)), inventory.account_id(call)


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


def route_table_item(network: Any, cidr: str, owner_id: str) -> dict[str, Any]:
    """The VPC's main route table: its local route, implicitly associated with every subnet."""
    table_id = ids.encode("rtb", network.id)
    return {
        "RouteTableId": table_id, "VpcId": networks.vpc_id(network.id), "OwnerId": owner_id,
        "Routes": [{"DestinationCidrBlock": cidr, "GatewayId": "local", "Origin": "CreateRouteTable",
                    "State": "active"}],
        "Associations": [{"Main": True, "RouteTableAssociationId": ids.encode("rtbassoc", network.id),
                          "RouteTableId": table_id, "AssociationState": {"State": "associated"}}],
        "PropagatingVgws": [], "Tags": [],
    }


def _acl_entry(number: int, egress: bool, action_name: str) -> dict[str, Any]:
    return {"RuleNumber": number, "Protocol": "-1", "RuleAction": action_name, "Egress": egress,
            "CidrBlock": "0.0.0.0/0"}


def network_acl_item(network: Any, subnets: list[networks.Subnet], owner_id: str) -> dict[str, Any]:
    """The VPC's default ACL: everything allowed both ways (oVirt filters nothing), on every subnet."""
    acl_id = ids.encode("acl", network.id)
    return {
        "NetworkAclId": acl_id, "VpcId": networks.vpc_id(network.id), "OwnerId": owner_id, "IsDefault": True,
        "Entries": [_acl_entry(n, egress, verdict) for egress in (True, False)
                    for n, verdict in ((ALLOW_ALL, "allow"), (DENY_ALL, "deny"))],
        "Associations": [{"NetworkAclAssociationId": ids.encode("aclassoc", s.id), "NetworkAclId": acl_id,
                          "SubnetId": ids.encode("subnet", s.id)} for s in subnets if s.network.id == network.id],
        "Tags": [],
    }


@action("DescribeRouteTables")
def describe_route_tables(call: Call) -> dict[str, Any]:
    found, _, owner = _vpc_parts(call)
    learned = learned_cidrs(call)
    items = [route_table_item(n, learned.vpc(n.id) or networks.vpc_cidr(n.id), owner) for n in found]
    items = _narrow(items, "RouteTableId", "route table", call.get("RouteTableIds"), "InvalidRouteTableID.NotFound")
    return _listing(call, items, "RouteTableId", ROUTE_TABLE_FILTERS, "RouteTables")


@action("DescribeNetworkAcls")
def describe_network_acls(call: Call) -> dict[str, Any]:
    found, subnets, owner = _vpc_parts(call)
    items = [network_acl_item(n, subnets, owner) for n in found]
    items = _narrow(items, "NetworkAclId", "network ACL", call.get("NetworkAclIds"), "InvalidNetworkAclID.NotFound")
    return _listing(call, items, "NetworkAclId", NETWORK_ACL_FILTERS, "NetworkAcls")


@action("DescribeDhcpOptions")
def describe_dhcp_options(call: Call) -> dict[str, Any]:
    found, _, owner = _vpc_parts(call)
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
