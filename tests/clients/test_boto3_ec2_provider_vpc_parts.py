"""boto3 over real HTTP: what AWS clients read of a VPC made on the OVN network provider besides the VPC itself
(its DNS attributes, main route table, default network ACL, DHCP options), as Terraform's `aws_vpc` and
Ansible's `ec2_vpc_net` read them after every create, and how the writes nobody can honour are refused.
"""
from __future__ import annotations

from typing import Any

import pytest

from tests.clients.ec2_helpers import ec2_client, expect
from tests.clients.test_boto3_ec2_vpc_networking import engine_networks

ATTRIBUTES = (("enableDnsSupport", "EnableDnsSupport"), ("enableDnsHostnames", "EnableDnsHostnames"),
              ("enableNetworkAddressUsageMetrics", "EnableNetworkAddressUsageMetrics"))


@pytest.fixture(scope="module")
def ec2(net_gateway: Any) -> Any:
    return ec2_client(net_gateway)


@pytest.fixture(scope="module")
def vpc(ec2: Any) -> dict[str, Any]:
    return ec2.create_vpc(CidrBlock="10.60.0.0/16")["Vpc"]


def attributes(ec2: Any, vpc_id: str) -> dict[str, bool]:
    return {member: ec2.describe_vpc_attribute(VpcId=vpc_id, Attribute=name)[member]["Value"]
            for name, member in ATTRIBUTES}


def test_a_provider_vpc_resolves_names_and_keeps_its_attributes(ec2: Any, vpc: dict[str, Any]) -> None:
    vpc_id = vpc["VpcId"]
    expected = {"EnableDnsSupport": True, "EnableDnsHostnames": False, "EnableNetworkAddressUsageMetrics": False}
    assert attributes(ec2, vpc_id) == expected
    # the value it has already: a no-op, as on AWS (Terraform sets both DNS attributes after CreateVpc)
    ec2.modify_vpc_attribute(VpcId=vpc_id, EnableDnsSupport={"Value": True})
    ec2.modify_vpc_attribute(VpcId=vpc_id, EnableDnsHostnames={"Value": False})
    ec2.modify_vpc_attribute(VpcId=vpc_id, EnableNetworkAddressUsageMetrics={"Value": False})
    # another value: refused in words
    message = expect("UnsupportedOperation", ec2.modify_vpc_attribute, VpcId=vpc_id,
                     EnableDnsHostnames={"Value": True}).response["Error"]["Message"]
    assert "EnableDnsHostnames" in message and "DNS" in message
    expect("UnsupportedOperation", ec2.modify_vpc_attribute, VpcId=vpc_id, EnableDnsSupport={"Value": False})
    expect("InvalidParameterCombination", ec2.modify_vpc_attribute, VpcId=vpc_id,
           EnableDnsSupport={"Value": True}, EnableDnsHostnames={"Value": False})
    expect("MissingParameter", ec2.modify_vpc_attribute, VpcId=vpc_id)
    assert attributes(ec2, vpc_id) == expected


def test_unknown_vpcs_and_the_logical_networks_keep_their_answers(net_gateway: Any, ec2: Any,
                                                                   vpc: dict[str, Any]) -> None:
    default = next(v for v in ec2.describe_vpcs()["Vpcs"] if v["IsDefault"])
    assert attributes(ec2, default["VpcId"]) == dict.fromkeys(
        ("EnableDnsSupport", "EnableDnsHostnames", "EnableNetworkAddressUsageMetrics"), False)
    message = expect("UnsupportedOperation", ec2.modify_vpc_attribute, VpcId=default["VpcId"],
                     EnableDnsSupport={"Value": False}).response["Error"]["Message"]
    assert "administrator" in message
    for call, kwargs in ((ec2.describe_vpc_attribute, {"Attribute": "enableDnsSupport"}),
                         (ec2.modify_vpc_attribute, {"EnableDnsSupport": {"Value": True}})):
        expect("InvalidVpcID.NotFound", call, VpcId="vpc-" + "0" * 32, **kwargs)
        expect("InvalidVpcID.Malformed", call, VpcId="vpc-nothex", **kwargs)
    # a subnet's imported logical network is that subnet, not a VPC of its own
    ec2.create_subnet(VpcId=vpc["VpcId"], CidrBlock="10.60.9.0/24")
    imported = [n for n in engine_networks(net_gateway) if n["external"]]
    assert imported
    for network in imported:
        expect("InvalidVpcID.NotFound", ec2.describe_vpc_attribute, VpcId="vpc-" + network["id"].replace("-", ""),
               Attribute="enableDnsSupport")
