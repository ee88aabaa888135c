"""boto3 over real HTTP: the networking calls the real Terraform AWS provider makes as it sends them (seen in
its debug log, see test_terraform_network_real), each answered in EC2's shapes on the OVN network provider.
"""
from __future__ import annotations

from typing import Any

import pytest

from tests.clients.ec2_helpers import ec2_client, expect


@pytest.fixture(scope="module")
def ec2(net_gateway: Any) -> Any:
    return ec2_client(net_gateway)


@pytest.fixture(scope="module")
def subnet_id(ec2: Any) -> str:
    vpc_id = ec2.create_vpc(CidrBlock="10.62.0.0/16")["Vpc"]["VpcId"]
    return ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.62.1.0/24")["Subnet"]["SubnetId"]


def test_an_interface_takes_its_one_address_from_private_ip_addresses(ec2: Any, subnet_id: str) -> None:
    # aws_network_interface's `private_ips` is sent as PrivateIpAddresses.1 with Primary=true
    made = ec2.create_network_interface(SubnetId=subnet_id, Description="back end", PrivateIpAddresses=[
        {"PrivateIpAddress": "10.62.1.20", "Primary": True}])["NetworkInterface"]
    assert made["PrivateIpAddress"] == "10.62.1.20"
    assert made["PrivateIpAddresses"] == [{"PrivateIpAddress": "10.62.1.20", "Primary": True, "PrivateDnsName": ""}]
    listed = ec2.describe_network_interfaces(NetworkInterfaceIds=[made["NetworkInterfaceId"]])["NetworkInterfaces"]
    assert listed[0]["PrivateIpAddress"] == "10.62.1.20"
    same = ec2.create_network_interface(SubnetId=subnet_id, PrivateIpAddress="10.62.1.21", PrivateIpAddresses=[
        {"PrivateIpAddress": "10.62.1.21", "Primary": True}])["NetworkInterface"]
    assert same["PrivateIpAddress"] == "10.62.1.21"
    expect("InvalidIPAddress.InUse", ec2.create_network_interface, SubnetId=subnet_id,
           PrivateIpAddresses=[{"PrivateIpAddress": "10.62.1.20", "Primary": True}])
    expect("InvalidParameterValue", ec2.create_network_interface, SubnetId=subnet_id,
           PrivateIpAddresses=[{"PrivateIpAddress": "10.99.1.20", "Primary": True}])
    # a second address, or only a secondary one: one private IPv4 address an interface here
    for addresses in ([{"PrivateIpAddress": "10.62.1.30", "Primary": True}, {"PrivateIpAddress": "10.62.1.31"}],
                      [{"PrivateIpAddress": "10.62.1.30", "Primary": False}]):
        expect("UnsupportedOperation", ec2.create_network_interface, SubnetId=subnet_id, PrivateIpAddresses=addresses)
    expect("InvalidParameterCombination", ec2.create_network_interface, SubnetId=subnet_id,
           PrivateIpAddress="10.62.1.30", PrivateIpAddresses=[{"PrivateIpAddress": "10.62.1.31", "Primary": True}])
    for interface in (made, same):
        ec2.delete_network_interface(NetworkInterfaceId=interface["NetworkInterfaceId"])


def test_a_rule_without_description_has_none(ec2: Any, subnet_id: str) -> None:
    # aws_vpc_security_group_ingress_rule reads an empty description as a change from none (a plan never settles)
    vpc_id = ec2.describe_subnets(SubnetIds=[subnet_id])["Subnets"][0]["VpcId"]
    group = ec2.create_security_group(VpcId=vpc_id, GroupName="rules", Description="rules")["GroupId"]
    added = ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "10.62.0.0/16"}]},
        {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "10.0.0.0/8", "Description": "ssh"}]},
    ])["SecurityGroupRules"]
    assert ["Description" in r for r in added] == [False, True]
    rules = {r["FromPort"]: r for r in ec2.describe_security_group_rules(
        Filters=[{"Name": "group-id", "Values": [group]}])["SecurityGroupRules"] if not r["IsEgress"]}
    assert "Description" not in rules[443] and rules[22]["Description"] == "ssh"
    ec2.delete_security_group(GroupId=group)


def test_attachment_filters_pass_over_available_interfaces(ec2: Any, subnet_id: str) -> None:
    # aws_network_interface's destroy waits for the detachment by this filter; an available interface beside
    # the one asked for made every such call a 500
    available = ec2.create_network_interface(SubnetId=subnet_id)["NetworkInterface"]["NetworkInterfaceId"]
    for name in ("attachment.attachment-id", "attachment.instance-id", "attachment.status"):
        assert ec2.describe_network_interfaces(Filters=[{"Name": name, "Values": ["eni-attach-" + "1" * 32]}])[
            "NetworkInterfaces"] == []
    listed = ec2.describe_network_interfaces(Filters=[{"Name": "status", "Values": ["available"]}])["NetworkInterfaces"]
    assert available in [i["NetworkInterfaceId"] for i in listed]
    ec2.delete_network_interface(NetworkInterfaceId=available)
