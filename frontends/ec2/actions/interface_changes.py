"""CreateNetworkInterface and DeleteNetworkInterface: interfaces of their own on the network provider's
subnets (see drivers' ReservedInterface), `available` until attached to an instance.

EC2's rules are checked before the provider is asked: the subnet is one of the provider's
(InvalidSubnetID.NotFound), the groups are of its VPC (InvalidGroup.NotFound, InvalidParameter), the address
is inside the subnet (InvalidParameterValue) and free (InvalidIPAddress.InUse); an interface that is an
instance's NIC is not deleted (InvalidNetworkInterface.InUse).
"""
from __future__ import annotations

from typing import Any

from gateway.errors import InUse
from gateway.network_model import ReservedInterface

from .. import ids, inventory, networks
from ..call import Call
from ..errors import Ec2Error, invalid_value
from ..private_addresses import check_address
from ..provider_networks import ProviderNetworks
from ..tag_specifications import tags_for
from . import action

UNSUPPORTED = ("SecondaryPrivateIpAddressCount", "Ipv6Addresses", "Ipv6AddressCount",
               "Ipv4Prefixes", "Ipv4PrefixCount", "Ipv6Prefixes", "Ipv6PrefixCount")


def reserved_item(call: Call, reserved: ReservedInterface, provided: ProviderNetworks,
                  tags: dict[str, str] | None = None) -> dict[str, Any]:
    """An interface of its own as DescribeNetworkInterfaces shows it (`available`, no attachment)."""
    owner = inventory.account_id(call)
    subnet = next((s for s in provided.subnets if s.id == reserved.subnet_id), None)
    zones = inventory.zone_names(call)
    names = {g.id: g.name for g in provided.groups}
    return {"NetworkInterfaceId": ids.encode("eni", reserved.id), "MacAddress": reserved.mac,
            "SubnetId": ids.encode("subnet", reserved.subnet_id),
            "VpcId": ids.encode("vpc", subnet.vpc_id) if subnet else None,
            "AvailabilityZone": zones.get(subnet.realm_id or "", "") if subnet else "",
            "Groups": [{"GroupId": ids.encode("sg", g), "GroupName": names.get(g, "")} for g in reserved.group_ids],
            "Status": "available", "OwnerId": owner, "RequesterManaged": False,
            "PrivateIpAddress": reserved.ip, "SourceDestCheck": reserved.source_dest_check,
            "Description": reserved.description, "InterfaceType": "interface", "Ipv6Addresses": [],
            "PrivateDnsName": "", "PrivateIpAddresses": [{"PrivateIpAddress": reserved.ip, "Primary": True,
                                                           "PrivateDnsName": ""}],
            "TagSet": [{"Key": k, "Value": v} for k, v in sorted((tags or {}).items())]}


def _primary_address(call: Call) -> str | None:
    """The one address asked for: `PrivateIpAddress`, or `PrivateIpAddresses` naming only the primary one (as
    Terraform's `private_ips` does); secondary, IPv6 and prefix addresses are UnsupportedOperation."""
    listed = call.get("PrivateIpAddresses") or []
    if any(call.get(name) for name in UNSUPPORTED) or len(listed) > 1 or any(a.get("Primary") is False for a in listed):
        raise Ec2Error("UnsupportedOperation", "Secondary, IPv6 and prefix addresses are not supported here: "
                                               "an interface has one private IPv4 address")
    address = call.get("PrivateIpAddress")
    primary = listed[0].get("PrivateIpAddress") if listed else None
    if address and primary and address != primary:
        raise Ec2Error("InvalidParameterCombination", f"PrivateIpAddress {address[:50]} and the primary address "
                                                      f"of PrivateIpAddresses {primary[:50]} differ")
    return address or primary


@action("CreateNetworkInterface", mutating=True)
def create_network_interface(call: Call) -> dict[str, Any]:
    given = call.need("SubnetId")
    (subnet_id,) = networks.decode_ids("subnet", [given], "SubnetID") or [""]
    address = _primary_address(call)
    if (call.get("InterfaceType") or "interface") != "interface":
        raise Ec2Error("UnsupportedOperation", f"InterfaceType {str(call.get('InterfaceType'))[:30]} is not supported here")
    description = str(call.get("Description") or "")
    if len(description) > 255:
        raise invalid_value("Description is at most 255 characters long")
    tags = tags_for(call, "network-interface")
    provided = ProviderNetworks.of(call, groups=True, changing=True)
    subnet = next((s for s in provided.subnets if s.id == subnet_id), None)
    if subnet is None:
        raise Ec2Error("InvalidSubnetID.NotFound", f"The subnet ID '{given[:100]}' does not exist")
    groups = []
    for group_given in call.get("Groups") or []:
        (group_id,) = networks.decode_ids("sg", [group_given], "GroupId") or [""]
        group = next((g for g in provided.groups if g.id == group_id), None)
        if group is None:
            raise Ec2Error("InvalidGroup.NotFound", f"The security group '{group_given[:100]}' does not exist")
        if group.vpc_id != subnet.vpc_id:
            raise Ec2Error("InvalidParameter", f"Security group {group_given[:100]} and subnet {given[:100]} "
                                               "belong to different networks.")
        groups.append(group.id)
    if address:
        check_address(address, subnet.cidr, subnet.gateway_ip)
    call.check_dry_run()
    try:
        reserved = call.driver.create_interface(call.scope, subnet.id, groups, address, description)
    except InUse:  # the provider's 409: the address is another port's, or the pool is empty
        if address:
            raise Ec2Error("InvalidIPAddress.InUse", f"The specified address {address} is already in use") from None
        raise Ec2Error("InsufficientFreeAddressesInSubnet",
                       f"There are not enough free addresses in subnet '{given[:100]}'") from None
    if tags:
        call.driver.set_tags(call.scope, "network-interface", [reserved.id], tags)
    return {"NetworkInterface": reserved_item(call, reserved, provided, tags)}


@action("DeleteNetworkInterface", mutating=True)
def delete_network_interface(call: Call) -> dict[str, Any]:
    given = call.need("NetworkInterfaceId")
    (interface_id,) = networks.decode_ids("eni", [given], "NetworkInterfaceID") or [""]
    if not any(r.id == interface_id for r in call.driver.reserved_interfaces(call.scope)):
        attached = {r.id for r in call.driver.attached_interfaces(call.scope).values()}
        if interface_id in attached or any(n.id == interface_id for n in call.driver.interfaces(call.scope)):
            raise Ec2Error("InvalidNetworkInterface.InUse",
                           f"Interface: [{given[:100]}] in use.")
        raise Ec2Error("InvalidNetworkInterfaceID.NotFound", f"The networkInterface ID '{given[:100]}' does not exist")
    call.check_dry_run()
    call.driver.delete_interface(call.scope, interface_id)
    call.driver.delete_tags(call.scope, [interface_id])
    return {}
