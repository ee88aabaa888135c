"""Fixed private addresses (CreateNetworkInterface and RunInstances `PrivateIpAddress`) and EC2's refusals.

An address must be an IPv4 address inside the subnet's block and not one Neutron keeps (the network and
broadcast addresses, the gateway's): InvalidParameterValue; one a port holds already is InvalidIPAddress.InUse.
"""
from __future__ import annotations

import ipaddress

from gateway.network_model import Subnet

from .call import Call
from .errors import Ec2Error, combination, invalid_value


def check_address(address: str, cidr: str, gateway_ip: str | None) -> None:
    """EC2's refusals of a fixed private address: not an address, or not usable in the subnet."""
    try:
        wanted = ipaddress.IPv4Address(address)
    except ValueError:
        raise invalid_value(f"Value ({address[:50]}) for parameter privateIpAddress is invalid. "
                            "This is not a valid IP address.") from None
    block = ipaddress.IPv4Network(cidr)
    if wanted not in block:
        raise Ec2Error("InvalidParameterValue", f"Address {address} does not fall within the subnet's address range")
    if wanted in (block.network_address, block.broadcast_address) or address == gateway_ip:
        raise Ec2Error("InvalidParameterValue", f"Address {address} is reserved in the subnet {cidr}")


def fixed_address(call: Call, subnet: Subnet | None, address: str) -> str:
    """RunInstances' `PrivateIpAddress`: for one instance on a network provider's subnet, free there."""
    if subnet is None:
        raise Ec2Error("InvalidParameterCombination" if call.get("SubnetId") else "MissingParameter",
                       "PrivateIpAddress needs a SubnetId of a VPC made here (a network provider's subnet)")
    if call.get("MaxCount") != 1:
        raise combination("PrivateIpAddress can be given for one instance only (MaxCount=1)")
    check_address(address, subnet.cidr, subnet.gateway_ip)
    if address in call.driver.addresses_in_use(call.scope, subnet.id):
        raise Ec2Error("InvalidIPAddress.InUse", f"Address {address} is in use.")
    return address
