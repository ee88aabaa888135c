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


def test_a_provider_vpc_has_its_main_route_table_default_acl_and_dhcp_options(ec2: Any) -> None:
    vpc = ec2.create_vpc(CidrBlock="10.61.0.0/16")["Vpc"]
    vpc_id = vpc["VpcId"]
    first = ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.61.1.0/24")["Subnet"]["SubnetId"]
    second = ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.61.2.0/24")["Subnet"]["SubnetId"]
    # as Terraform's aws_vpc finds them
    (main,) = ec2.describe_route_tables(Filters=[{"Name": "association.main", "Values": ["true"]},
                                                 {"Name": "vpc-id", "Values": [vpc_id]}])["RouteTables"]
    assert main["Routes"] == [{"DestinationCidrBlock": "10.61.0.0/16", "GatewayId": "local",
                               "Origin": "CreateRouteTable", "State": "active"}]
    assert [(a["Main"], a["RouteTableId"]) for a in main["Associations"]] == [(True, main["RouteTableId"])]
    assert ec2.describe_route_tables(RouteTableIds=[main["RouteTableId"]])["RouteTables"][0]["VpcId"] == vpc_id
    (acl,) = ec2.describe_network_acls(Filters=[{"Name": "default", "Values": ["true"]},
                                                {"Name": "vpc-id", "Values": [vpc_id]}])["NetworkAcls"]
    assert {a["SubnetId"] for a in acl["Associations"]} == {first, second}
    assert {(e["RuleNumber"], e["RuleAction"], e["Egress"]) for e in acl["Entries"]} == {
        (100, "allow", False), (32767, "deny", False), (100, "allow", True), (32767, "deny", True)}
    by_subnet = ec2.describe_network_acls(Filters=[{"Name": "association.subnet-id", "Values": [second]}])
    assert [a["NetworkAclId"] for a in by_subnet["NetworkAcls"]] == [acl["NetworkAclId"]]
    (options,) = ec2.describe_dhcp_options(DhcpOptionsIds=[vpc["DhcpOptionsId"]])["DhcpOptions"]
    assert options["DhcpConfigurations"] == []
    # a subnet's imported logical network has no route table of its own: it is not a VPC
    vpc_ids = {t["VpcId"] for t in ec2.describe_route_tables()["RouteTables"]}
    assert vpc_ids == {v["VpcId"] for v in ec2.describe_vpcs()["Vpcs"]}


def test_route_acl_dhcp_and_gateway_writes_are_refused_in_words(ec2: Any, vpc: dict[str, Any]) -> None:
    table = ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [vpc["VpcId"]]}])["RouteTables"][0]
    for call, kwargs, word in (
            (ec2.create_route_table, {"VpcId": vpc["VpcId"]}, "route tables"),
            (ec2.create_route, {"RouteTableId": table["RouteTableId"], "DestinationCidrBlock": "0.0.0.0/0",
                                "GatewayId": "igw-1"}, "route tables"),
            (ec2.create_network_acl, {"VpcId": vpc["VpcId"]}, "network ACLs"),
            (ec2.create_dhcp_options, {"DhcpConfigurations": [{"Key": "domain-name", "Values": ["lab"]}]}, "DHCP"),
            (ec2.create_internet_gateway, {}, "internet gateways"),
            (ec2.attach_internet_gateway, {"InternetGatewayId": "igw-1", "VpcId": vpc["VpcId"]}, "internet gateways")):
        assert word in expect("UnsupportedOperation", call, **kwargs).response["Error"]["Message"]
