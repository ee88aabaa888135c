"""The address-block rules every frontend applies before asking for a VPC or a subnet.

EC2 has its own error codes for them (frontends/ec2/provider_networks.py); CIMI and Deltacloud speak HTTP
statuses, so these raise the gateway's errors: a malformed or out-of-range block is a 400, a block that
overlaps a sibling subnet a 409.
"""
from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from gateway.errors import AlreadyExists, InvalidParameter, MissingParameter, echo
from gateway.network_model import Subnet, Vpc

SMALLEST, LARGEST = 28, 16  # the prefix lengths EC2 allows, kept so a block made here is one EC2 clients accept


def ipv4_block(text: object, parameter: str) -> ipaddress.IPv4Network:
    """An IPv4 block with its host bits clear, between a /16 and a /28."""
    if not isinstance(text, str) or not text.strip():
        raise MissingParameter(f"An IPv4 address block (CIDR such as 10.0.0.0/16) is required in {parameter}",
                               parameter=parameter)
    try:
        block = ipaddress.IPv4Network(text.strip(), strict=True)
    except ValueError:
        raise InvalidParameter(f"'{echo(text)}' is not an IPv4 CIDR block with its host bits clear "
                               "(such as 10.0.0.0/16)", parameter=parameter) from None
    if not LARGEST <= block.prefixlen <= SMALLEST:
        raise InvalidParameter(f"The block {block} is invalid: it must be between a /{LARGEST} and a /{SMALLEST}",
                               parameter=parameter)
    return block


def subnet_block(text: object, parameter: str, vpc: Vpc, subnets: Iterable[Subnet]) -> ipaddress.IPv4Network:
    """A block for a new subnet of `vpc`: inside the VPC's block and overlapping none of its subnets."""
    block = ipv4_block(text, parameter)
    if not block.subnet_of(ipaddress.IPv4Network(vpc.cidr)):
        raise InvalidParameter(f"The block {block} is not inside its VPC's block {vpc.cidr}", parameter=parameter)
    for other in subnets:
        if other.vpc_id == vpc.id and other.cidr and block.overlaps(ipaddress.IPv4Network(other.cidr)):
            raise AlreadyExists("subnet", str(block),
                                f"The block {block} overlaps another subnet of the VPC ({other.cidr})")
    return block


def subnet_address(text: str, subnet: Subnet, parameter: str) -> str:
    """A fixed address for an interface on `subnet`: an IPv4 address inside its block that Neutron does not
    keep for itself (the network and broadcast addresses, the gateway's)."""
    try:
        wanted = ipaddress.IPv4Address(text.strip())
    except ValueError:
        raise InvalidParameter(f"'{echo(text)}' is not an IPv4 address", parameter=parameter) from None
    block = ipaddress.IPv4Network(subnet.cidr)
    if wanted not in block:
        raise InvalidParameter(f"The address {wanted} is not inside the network's block {block}", parameter=parameter)
    if wanted in (block.network_address, block.broadcast_address) or str(wanted) == subnet.gateway_ip:
        raise InvalidParameter(f"The address {wanted} is reserved in {block}", parameter=parameter)
    return str(wanted)
