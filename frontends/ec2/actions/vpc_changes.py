"""CreateVpc, DeleteVpc, CreateSubnet, DeleteSubnet: VPCs and subnets of the provider's network provider.

Where the provider entry names none, the driver says so (UnsupportedOperation naming the provider) and the
logical networks stay read-only views (..vpcs). The EC2 rules are checked here, before anything is made: a
VPC's block is a /16 to /28 (InvalidVpc.Range), a subnet's lies inside its VPC's (InvalidSubnet.Range) and
overlaps no other subnet of it (InvalidSubnet.Conflict); a VPC with subnets or groups, or a subnet a network
interface uses, is not deleted (DependencyViolation).
"""
from __future__ import annotations

import ipaddress
from typing import Any

from .. import inventory, networks
from ..call import Call
from ..errors import Ec2Error, invalid_value
from ..provider_networks import ProviderNetworks, cidr_block, subnet_item, vpc_item
from ..tag_specifications import tags_for
from . import action
from .vpcs import NETWORK_ADMIN


def _read_only(call: Call, kind: str, backend_id: str) -> bool:
    """Whether the id is one of the read-only views' (a logical network or one of its pseudo-subnets)."""
    found = call.driver.networks(call.scope)
    if kind == "vpc":
        return any(n.id == backend_id for n in found)
    return any(s.id == backend_id for s in networks.subnets(found, call.driver.realms(call.scope)))


@action("CreateVpc", mutating=True)
def create_vpc(call: Call) -> dict[str, Any]:
    block = cidr_block(call.need("CidrBlock"), "InvalidVpc.Range")
    if call.get("AmazonProvidedIpv6CidrBlock") or call.get("Ipv6CidrBlock") or call.get("Ipv4IpamPoolId"):
        raise Ec2Error("UnsupportedOperation", "IPv6 blocks and IPAM pools are not supported here")
    tags = tags_for(call, "vpc")
    call.driver.vpcs(call.scope)  # UnsupportedOperation now, naming the provider, if it has no network provider
    call.check_dry_run()
    vpc = call.driver.create_vpc(call.scope, str(block))
    if tags:
        call.driver.set_tags(call.scope, "vpc", [vpc.id], tags)
    return {"Vpc": {**vpc_item(vpc, inventory.account_id(call), tags), "State": "pending"}}


@action("DeleteVpc", mutating=True)
def delete_vpc(call: Call) -> dict[str, Any]:
    given = call.need("VpcId")
    (vpc_id,) = networks.decode_ids("vpc", [given], "VpcID") or [""]
    found = ProviderNetworks.of(call, changing=True)
    if not any(v.id == vpc_id for v in found.vpcs):
        if _read_only(call, "vpc", vpc_id):
            raise Ec2Error("UnsupportedOperation", f"DeleteVpc is not supported for {given[:100]}: {NETWORK_ADMIN}")
        raise Ec2Error("InvalidVpcID.NotFound", f"The vpc ID '{given[:100]}' does not exist")
    call.check_dry_run()
    call.driver.delete_vpc(call.scope, vpc_id)
    return {}


def _realm(call: Call) -> Any:
    realms = call.driver.realms(call.scope)
    zone, zone_id = call.get("AvailabilityZone"), call.get("AvailabilityZoneId")
    if not zone and not zone_id:
        if not realms:
            raise invalid_value("The data center has no availability zone (cluster)")
        return realms[0]
    found = next((r for r in realms if (zone and r.name == zone) or (zone_id and r.id == zone_id)), None)
    if found is None:
        raise invalid_value(f"Value ({str(zone or zone_id)[:100]}) for parameter availabilityZone is invalid. "
                            f"Subnets can currently only be created in the following availability zones: "
                            f"{', '.join(r.name for r in realms)}.")
    return found


@action("CreateSubnet", mutating=True)
def create_subnet(call: Call) -> dict[str, Any]:
    given = call.need("VpcId")
    (vpc_id,) = networks.decode_ids("vpc", [given], "VpcID") or [""]
    block = cidr_block(call.need("CidrBlock"), "InvalidSubnet.Range")
    if call.get("Ipv6CidrBlock") or call.get("Ipv6Native"):
        raise Ec2Error("UnsupportedOperation", "IPv6 subnets are not supported here")
    tags = tags_for(call, "subnet")
    realm = _realm(call)
    call.driver.vpcs(call.scope)  # UnsupportedOperation, naming the provider, without a network provider
    found = ProviderNetworks.of(call, changing=True)
    if not any(v.id == vpc_id for v in found.vpcs) and _read_only(call, "vpc", vpc_id):
        raise Ec2Error("UnsupportedOperation", f"CreateSubnet is not supported in {given[:100]}: {NETWORK_ADMIN}")
    vpc = found.vpc(vpc_id, given)
    if not block.subnet_of(ipaddress.IPv4Network(vpc.cidr)):
        raise Ec2Error("InvalidSubnet.Range", f"The CIDR '{block}' is invalid: it is not inside the VPC's {vpc.cidr}.")
    for other in found.subnets:
        if other.vpc_id == vpc_id and block.overlaps(ipaddress.IPv4Network(other.cidr)):
            raise Ec2Error("InvalidSubnet.Conflict", f"The CIDR '{block}' conflicts with another subnet")
    call.check_dry_run()
    subnet = call.driver.create_subnet(call.scope, vpc_id, str(block), realm.id)
    if tags:
        call.driver.set_tags(call.scope, "subnet", [subnet.id], tags)
    item = subnet_item(subnet, {realm.id: realm}, inventory.account_id(call), call.region, tags)
    return {"Subnet": {**item, "State": "pending"}}


@action("DeleteSubnet", mutating=True)
def delete_subnet(call: Call) -> dict[str, Any]:
    given = call.need("SubnetId")
    (subnet_id,) = networks.decode_ids("subnet", [given], "SubnetID") or [""]
    found = ProviderNetworks.of(call, changing=True)
    if not any(s.id == subnet_id for s in found.subnets):
        if _read_only(call, "subnet", subnet_id):
            raise Ec2Error("UnsupportedOperation", f"DeleteSubnet is not supported for {given[:100]}: {NETWORK_ADMIN}")
        raise Ec2Error("InvalidSubnetID.NotFound", f"The subnet ID '{given[:100]}' does not exist")
    call.check_dry_run()
    call.driver.delete_subnet(call.scope, subnet_id)
    return {}
