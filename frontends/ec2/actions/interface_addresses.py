"""AssignPrivateIpAddresses and UnassignPrivateIpAddresses: an interface here has exactly one private IPv4
address, its provider port's fixed IP, because ovirt-provider-ovn takes one fixed IP per port (its port mapper
answers a second with 400, "Specifying more then one fixed_ips value is not allowed").

So assigning secondary addresses or prefixes is UnsupportedOperation in those words, and unassigning names
addresses the interface does not hold as secondary ones (InvalidParameterValue, as EC2 answers for those);
both check the interface first (InvalidNetworkInterfaceID.Malformed/NotFound).
"""
from __future__ import annotations

from typing import Any

from .. import networks
from ..call import Call
from ..errors import Ec2Error
from ..provider_networks import ProviderNetworks
from . import action
from .network_interfaces import listed_interface_ids

ONE_ADDRESS = ("an interface has one private IPv4 address here: the network provider (ovirt-provider-ovn) "
               "gives a port one fixed IP")


def _interface(call: Call) -> str:
    """The EC2 id given, once it names an interface DescribeNetworkInterfaces lists."""
    given = call.need("NetworkInterfaceId")
    (interface_id,) = networks.decode_ids("eni", [given], "NetworkInterfaceID") or [""]
    if interface_id not in listed_interface_ids(call, ProviderNetworks.of(call)):
        raise Ec2Error("InvalidNetworkInterfaceID.NotFound", f"The networkInterface ID '{given[:100]}' does not exist")
    return given


@action("AssignPrivateIpAddresses", mutating=True)
def assign_private_ip_addresses(call: Call) -> dict[str, Any]:
    given = _interface(call)
    if not any(call.get(n) for n in ("PrivateIpAddresses", "SecondaryPrivateIpAddressCount", "Ipv4Prefixes",
                                     "Ipv4PrefixCount")):
        raise Ec2Error("MissingParameter", "Name the addresses (PrivateIpAddress.N), how many "
                                           "(SecondaryPrivateIpAddressCount) or the prefixes to assign")
    raise Ec2Error("UnsupportedOperation", f"Secondary addresses cannot be assigned to {given[:100]}: {ONE_ADDRESS}")


@action("UnassignPrivateIpAddresses", mutating=True)
def unassign_private_ip_addresses(call: Call) -> dict[str, Any]:
    given = _interface(call)
    if not call.get("PrivateIpAddresses") and not call.get("Ipv4Prefixes"):
        raise Ec2Error("MissingParameter", "Name the addresses (PrivateIpAddress.N) or prefixes to unassign")
    raise Ec2Error("InvalidParameterValue", f"Some of the specified addresses are not assigned to interface "
                                            f"{given[:100]}: it has no secondary addresses ({ONE_ADDRESS})")
