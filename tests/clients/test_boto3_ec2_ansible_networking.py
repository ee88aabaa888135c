"""boto3 over real HTTP: what Ansible's amazon.aws network modules ask of the gateway beyond the plain
actions, on the embedded default's OVN network provider: tags on network interfaces (ec2_eni keeps its `Name`
and tags with CreateTags/DeleteTags/DescribeTags), the interface filters it finds an interface by, the VPC
filter ec2_vpc_net finds a VPC by, an instance launched into a subnet showing that subnet and its groups
at once (ec2_instance compares the groups right after RunInstances and changes them if they differ), and
secondary addresses (ec2_eni's secondary_private_ip_addresses) refused in words, as the provider refuses them.
"""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from tests.clients.ec2_helpers import ec2_client, expect
from tests.clients.test_boto3_ec2_vpc_networking import neutron

CENTOS = "ami-7e000000000040008000000000000011"


@pytest.fixture(scope="module")
def ec2(net_gateway: Any) -> Any:
    return ec2_client(net_gateway)


@pytest.fixture()
def frozen_engine(net_gateway: Any) -> Iterator[None]:
    """The simulator's clock stopped: a new VM stays image_locked, so its launch has not placed its NIC yet."""
    net_gateway.simulator_control("clock", frozen=True).raise_for_status()
    try:
        yield
    finally:
        net_gateway.simulator_control("clock", frozen=False).raise_for_status()


def tags_of(ec2: Any, resource_id: str) -> dict[str, str]:
    found = ec2.describe_tags(Filters=[{"Name": "resource-id", "Values": [resource_id]}])["Tags"]
    assert all(t["ResourceType"] == "network-interface" for t in found)
    return {t["Key"]: t["Value"] for t in found}


def test_network_interfaces_take_tags_after_creation(ec2: Any) -> None:
    vpc_id = ec2.create_vpc(CidrBlock="10.90.0.0/16")["Vpc"]["VpcId"]
    subnet_id = ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.90.1.0/24")["Subnet"]["SubnetId"]
    eni_id = ec2.create_network_interface(SubnetId=subnet_id, TagSpecifications=[
        {"ResourceType": "network-interface", "Tags": [{"Key": "team", "Value": "a"}]}])["NetworkInterface"][
        "NetworkInterfaceId"]
    ec2.create_tags(Resources=[eni_id], Tags=[{"Key": "Name", "Value": "second leg"}, {"Key": "team", "Value": "b"}])
    assert tags_of(ec2, eni_id) == {"Name": "second leg", "team": "b"}
    by_tag = ec2.describe_network_interfaces(Filters=[{"Name": "tag:Name", "Values": ["second leg"]},
                                                      {"Name": "subnet-id", "Values": [subnet_id]}])
    assert [(n["NetworkInterfaceId"], n["TagSet"]) for n in by_tag["NetworkInterfaces"]] == [
        (eni_id, [{"Key": "Name", "Value": "second leg"}, {"Key": "team", "Value": "b"}])]
    typed = ec2.describe_tags(Filters=[{"Name": "resource-type", "Values": ["network-interface"]}])["Tags"]
    assert {t["ResourceId"] for t in typed} == {eni_id}
    ec2.delete_tags(Resources=[eni_id], Tags=[{"Key": "team"}])
    assert tags_of(ec2, eni_id) == {"Name": "second leg"}

    # an instance's own interface takes tags too, and keeps its interface of its own's after attaching one
    instance_id = ec2.run_instances(ImageId=CENTOS, MinCount=1, MaxCount=1, InstanceType="o1.small",
                                    SubnetId=subnet_id)["Instances"][0]["InstanceId"]
    ec2.get_waiter("instance_running").wait(InstanceIds=[instance_id], WaiterConfig={"Delay": 1, "MaxAttempts": 60})
    ec2.attach_network_interface(NetworkInterfaceId=eni_id, InstanceId=instance_id, DeviceIndex=1)
    listed = ec2.describe_network_interfaces(Filters=[{"Name": "attachment.instance-id", "Values": [instance_id]}])
    by_index = {n["Attachment"]["DeviceIndex"]: n for n in listed["NetworkInterfaces"]}
    assert by_index[1]["NetworkInterfaceId"] == eni_id and by_index[1]["TagSet"] == [
        {"Key": "Name", "Value": "second leg"}]
    own_id = by_index[0]["NetworkInterfaceId"]
    ec2.create_tags(Resources=[own_id], Tags=[{"Key": "Name", "Value": "primary"}])
    primary = ec2.describe_network_interfaces(Filters=[{"Name": "attachment.device-index", "Values": ["0"]},
                                                       {"Name": "attachment.instance-id", "Values": [instance_id]}])
    assert [n["TagSet"] for n in primary["NetworkInterfaces"]] == [[{"Key": "Name", "Value": "primary"}]]
    assert tags_of(ec2, own_id) == {"Name": "primary"}

    expect("InvalidNetworkInterfaceID.NotFound", ec2.create_tags, Resources=["eni-" + "0" * 32],
           Tags=[{"Key": "a", "Value": "b"}])
    expect("InvalidNetworkInterfaceID.Malformed", ec2.create_tags, Resources=["eni-zz"],
           Tags=[{"Key": "a", "Value": "b"}])
    ec2.terminate_instances(InstanceIds=[instance_id])
    ec2.get_waiter("instance_terminated").wait(InstanceIds=[instance_id], WaiterConfig={"Delay": 1, "MaxAttempts": 90})


def test_interface_filters_on_attachments_skip_available_interfaces(ec2: Any) -> None:
    vpc_id = ec2.create_vpc(CidrBlock="10.91.0.0/16")["Vpc"]["VpcId"]
    subnet_id = ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.91.1.0/24")["Subnet"]["SubnetId"]
    eni_id = ec2.create_network_interface(SubnetId=subnet_id)["NetworkInterface"]["NetworkInterfaceId"]
    for name in ("attachment.instance-id", "attachment.attachment-id", "attachment.status", "attachment.device-index"):
        found = ec2.describe_network_interfaces(Filters=[{"Name": name, "Values": ["*"]},
                                                         {"Name": "subnet-id", "Values": [subnet_id]}])
        assert found["NetworkInterfaces"] == [], name
    ec2.delete_network_interface(NetworkInterfaceId=eni_id)


def test_a_provider_vpc_is_found_by_its_block(ec2: Any) -> None:
    vpc_id = ec2.create_vpc(CidrBlock="10.92.0.0/16")["Vpc"]["VpcId"]
    for name in ("cidr-block", "cidr"):
        found = ec2.describe_vpcs(Filters=[{"Name": name, "Values": ["10.92.0.0/16"]}])["Vpcs"]
        assert [v["VpcId"] for v in found] == [vpc_id], name
    ec2.delete_vpc(VpcId=vpc_id)


def test_an_instance_launched_into_a_subnet_shows_it_and_its_groups_before_it_is_placed(
        ec2: Any, frozen_engine: None) -> None:
    vpc_id = ec2.create_vpc(CidrBlock="10.93.0.0/16")["Vpc"]["VpcId"]
    subnet_id = ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.93.1.0/24")["Subnet"]["SubnetId"]
    web = ec2.create_security_group(VpcId=vpc_id, GroupName="web", Description="web")["GroupId"]
    launched = ec2.run_instances(ImageId=CENTOS, MinCount=1, MaxCount=1, InstanceType="o1.small",
                                 SubnetId=subnet_id, SecurityGroupIds=[web])["Instances"][0]
    expected = {"VpcId": vpc_id, "SubnetId": subnet_id, "SecurityGroups": [{"GroupId": web, "GroupName": "web"}]}
    assert {k: launched.get(k) for k in expected} == expected
    instance_id = launched["InstanceId"]
    (described,) = ec2.describe_instances(InstanceIds=[instance_id])["Reservations"][0]["Instances"]
    assert described["State"]["Name"] == "pending" and {k: described.get(k) for k in expected} == expected
    assert [(n["SubnetId"], n["Groups"]) for n in described["NetworkInterfaces"]] == [
        (subnet_id, expected["SecurityGroups"])]
    assert ec2.describe_instance_attribute(InstanceId=instance_id, Attribute="groupSet")["Groups"] == [
        {"GroupId": web, "GroupName": "web"}]
    # without groups: the VPC's default group, as on EC2
    plain = ec2.run_instances(ImageId=CENTOS, MinCount=1, MaxCount=1, InstanceType="o1.small",
                              SubnetId=subnet_id)["Instances"][0]["InstanceId"]
    default = ec2.describe_security_groups(Filters=[{"Name": "vpc-id", "Values": [vpc_id]},
                                                    {"Name": "group-name", "Values": ["default"]}])["SecurityGroups"][0]
    assert ec2.describe_instance_attribute(InstanceId=plain, Attribute="groupSet")["Groups"] == [
        {"GroupId": default["GroupId"], "GroupName": "default"}]
    ec2.terminate_instances(InstanceIds=[instance_id, plain])


def test_secondary_addresses_are_refused_as_the_provider_refuses_a_second_fixed_ip(net_gateway: Any, ec2: Any) -> None:
    vpc_id = ec2.create_vpc(CidrBlock="10.94.0.0/16")["Vpc"]["VpcId"]
    subnet_id = ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.94.1.0/24")["Subnet"]["SubnetId"]
    made = ec2.create_network_interface(SubnetId=subnet_id, PrivateIpAddress="10.94.1.10")["NetworkInterface"]
    eni_id = made["NetworkInterfaceId"]
    refused = expect("UnsupportedOperation", ec2.assign_private_ip_addresses, NetworkInterfaceId=eni_id,
                     PrivateIpAddresses=["10.94.1.11"])
    assert "one private IPv4 address" in refused.response["Error"]["Message"]
    expect("UnsupportedOperation", ec2.assign_private_ip_addresses, NetworkInterfaceId=eni_id,
           SecondaryPrivateIpAddressCount=1)
    expect("MissingParameter", ec2.assign_private_ip_addresses, NetworkInterfaceId=eni_id)
    expect("InvalidParameterValue", ec2.unassign_private_ip_addresses, NetworkInterfaceId=eni_id,
           PrivateIpAddresses=["10.94.1.10"])
    for call in (ec2.assign_private_ip_addresses, ec2.unassign_private_ip_addresses):
        expect("InvalidNetworkInterfaceID.NotFound", call, NetworkInterfaceId="eni-" + "0" * 32,
               PrivateIpAddresses=["10.94.1.11"])
        expect("InvalidNetworkInterfaceID.Malformed", call, NetworkInterfaceId="eni-zz",
               PrivateIpAddresses=["10.94.1.11"])
    (listed,) = ec2.describe_network_interfaces(NetworkInterfaceIds=[eni_id])["NetworkInterfaces"]
    assert [a["PrivateIpAddress"] for a in listed["PrivateIpAddresses"]] == ["10.94.1.10"]

    # the simulated provider refuses a port with two fixed IPs, as ovirt-provider-ovn's port mapper does
    base = f"{net_gateway.simulator_url}/ovirt-provider-ovn"
    token = requests.post(f"{base}/keystone/v2.0/tokens", timeout=10, json={
        "auth": {"passwordCredentials": {"username": "admin@internal", "password": "admin"}}}).json()
    headers = {"X-Auth-Token": token["access"]["token"]["id"]}
    port = next(p for p in neutron(net_gateway, "ports") if p["mac_address"] == made["MacAddress"])
    subnet = port["fixed_ips"][0]["subnet_id"]
    two = [{"subnet_id": subnet, "ip_address": "10.94.1.20"}, {"subnet_id": subnet, "ip_address": "10.94.1.21"}]
    created = requests.post(f"{base}/neutron/v2.0/ports", headers=headers, timeout=10,
                            json={"port": {"network_id": port["network_id"], "fixed_ips": two}})
    updated = requests.put(f"{base}/neutron/v2.0/ports/{port['id']}", headers=headers, timeout=10,
                           json={"port": {"fixed_ips": two}})
    for answer in (created, updated):
        assert answer.status_code == 400
        assert answer.json()["error"]["message"] == "Specifying more then one fixed_ips value is not allowed"
    assert [p["fixed_ips"] for p in neutron(net_gateway, "ports") if p["id"] == port["id"]] == [port["fixed_ips"]]
    ec2.delete_network_interface(NetworkInterfaceId=eni_id)
