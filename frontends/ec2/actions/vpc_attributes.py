"""DescribeVpcAttribute and ModifyVpcAttribute: a VPC's DNS and address-usage attributes as they are here.

A VPC of the network provider (a router of ovirt-provider-ovn) resolves names: OVN's DHCP hands its guests
the subnet's DNS servers, so `enableDnsSupport` is true; nothing names the guests in DNS
(`enableDnsHostnames` false) nor meters address usage (`enableNetworkAddressUsageMetrics` false). A logical
network that is a VPC of its own has all three false (see .vpc_parts: DHCP there is whoever serves the VLAN).
Neither kind can change them: setting an attribute of a provider VPC to the value it has is a no-op, as on
AWS, and another value is UnsupportedOperation saying why; a logical network's are its administrator's.
"""
from __future__ import annotations

from typing import Any

from .. import networks
from ..call import Call
from ..errors import Ec2Error, combination, invalid_value
from ..provider_networks import ProviderNetworks
from . import action
from .vpcs import NETWORK_ADMIN, logical_networks

MEMBERS = {"enableDnsSupport": "EnableDnsSupport", "enableDnsHostnames": "EnableDnsHostnames",
           "enableNetworkAddressUsageMetrics": "EnableNetworkAddressUsageMetrics"}
PROVIDER_VPC = {"EnableDnsSupport": True, "EnableDnsHostnames": False, "EnableNetworkAddressUsageMetrics": False}
LOGICAL_NETWORK = dict.fromkeys(PROVIDER_VPC, False)
WHY_FIXED = {
    "EnableDnsSupport": "the network provider's DHCP always hands out its subnets' DNS servers",
    "EnableDnsHostnames": "ovirt-provider-ovn names no guest in DNS",
    "EnableNetworkAddressUsageMetrics": "nothing here meters a VPC's address usage",
}


def _attributes(call: Call, given: str, *, changing: bool = False) -> tuple[str, dict[str, bool] | None]:
    """The VPC's backend id and its attributes: a provider VPC's, or None for a logical network's."""
    (vpc_id,) = networks.decode_ids("vpc", [given], "VpcID") or [""]
    provided = ProviderNetworks.of(call, changing=changing)
    if any(v.id == vpc_id for v in provided.vpcs):
        return vpc_id, PROVIDER_VPC
    if any(n.id == vpc_id for n in logical_networks(call, provided)):
        return vpc_id, None
    raise Ec2Error("InvalidVpcID.NotFound", f"The vpc ID '{given[:100]}' does not exist")


@action("DescribeVpcAttribute")
def describe_vpc_attribute(call: Call) -> dict[str, Any]:
    attribute = call.need("Attribute")
    if attribute not in MEMBERS:
        raise invalid_value(f"Value ({attribute[:100]}) for parameter attribute is invalid. Unknown attribute.")
    given = call.need("VpcId")
    networks.decode_ids("vpc", [given], "VpcID")
    call.check_dry_run()
    vpc_id, attributes = _attributes(call, given)
    member = MEMBERS[attribute]
    return {"VpcId": networks.vpc_id(vpc_id), member: {"Value": (attributes or LOGICAL_NETWORK)[member]}}


@action("ModifyVpcAttribute", mutating=True)
def modify_vpc_attribute(call: Call) -> dict[str, Any]:
    given = call.need("VpcId")
    asked = {m: call.get(m)["Value"] for m in PROVIDER_VPC if call.get(m) is not None and "Value" in call.get(m)}
    if not asked:
        raise Ec2Error("MissingParameter", "The request must contain one of the parameters EnableDnsSupport, "
                                           "EnableDnsHostnames or EnableNetworkAddressUsageMetrics")
    if len(asked) > 1:
        raise combination("Only one attribute can be modified at a time")
    networks.decode_ids("vpc", [given], "VpcID")
    _, attributes = _attributes(call, given, changing=True)
    if attributes is None:
        raise Ec2Error("UnsupportedOperation", f"ModifyVpcAttribute is not supported for {given[:100]}: {NETWORK_ADMIN}")
    ((member, value),) = asked.items()
    if attributes[member] != value:
        raise Ec2Error("UnsupportedOperation", f"{member} of {given[:100]} cannot be {str(value).lower()}: "
                                               f"{WHY_FIXED[member]}, so it stays {str(attributes[member]).lower()}")
    call.check_dry_run()
    return {}
