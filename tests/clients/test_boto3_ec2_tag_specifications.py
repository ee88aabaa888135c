"""boto3 over real HTTP: every EC2 create action holds its TagSpecifications to CreateTags' rules (a key of 1
to 128 characters not starting with `aws:`, a value of at most 256) and refuses a bad tag before anything is
made: the listing of what the action makes is the same before and after the refusal.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.clients.ec2_helpers import ec2_client, expect

FAST = {"Delay": 0.5, "MaxAttempts": 360}  # polls quickly; the bound only matters on a starved machine
BAD_TAGS = {
    "reserved key": {"Key": "aws:x", "Value": "v"},
    "129-character key": {"Key": "k" * 129, "Value": "v"},
    "257-character value": {"Key": "team", "Value": "v" * 257},
}
PUBLIC_KEY = ("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl tester@example")


@pytest.fixture(scope="module")
def ec2(net_gateway: Any) -> Any:
    return ec2_client(net_gateway)


@pytest.fixture(scope="module")
def made(ec2: Any) -> dict[str, str]:
    """What the refused creates are made in or from: a VPC with a subnet, a running instance, its root volume,
    a snapshot of that volume."""
    vpc_id = ec2.create_vpc(CidrBlock="10.60.0.0/16")["Vpc"]["VpcId"]
    zone = ec2.describe_availability_zones()["AvailabilityZones"][0]["ZoneName"]
    subnet_id = ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.60.1.0/24", AvailabilityZone=zone)["Subnet"]["SubnetId"]
    image_id = ec2.describe_images(Filters=[{"Name": "name", "Values": ["centos-stream-9"]}])["Images"][0]["ImageId"]
    instance = ec2.run_instances(ImageId=image_id, MinCount=1, MaxCount=1, InstanceType="o1.small")["Instances"][0]
    ec2.get_waiter("instance_running").wait(InstanceIds=[instance["InstanceId"]], WaiterConfig=FAST)
    described = ec2.describe_instances(InstanceIds=[instance["InstanceId"]])["Reservations"][0]["Instances"][0]
    volume_id = described["BlockDeviceMappings"][0]["Ebs"]["VolumeId"]
    snapshot_id = ec2.create_snapshot(VolumeId=volume_id)["SnapshotId"]
    ec2.get_waiter("snapshot_completed").wait(SnapshotIds=[snapshot_id], WaiterConfig=FAST)
    return {"vpc": vpc_id, "subnet": subnet_id, "image": image_id, "instance": instance["InstanceId"],
            "volume": volume_id, "snapshot": snapshot_id}


def specs(resource_type: str, tag: dict[str, str]) -> list[dict[str, Any]]:
    return [{"ResourceType": resource_type, "Tags": [{"Key": "Name", "Value": "fine"}, tag]}]


# action -> (the call with a bad tag, the listing of what it would make)
CREATES: dict[str, tuple[Callable[[Any, dict[str, str], dict[str, str]], Any], Callable[[Any], Any]]] = {
    "RunInstances": (
        lambda ec2, m, tag: ec2.run_instances(ImageId=m["image"], MinCount=1, MaxCount=1, InstanceType="o1.small",
                                              TagSpecifications=specs("instance", tag)),
        lambda ec2: sorted(i["InstanceId"] for r in ec2.describe_instances()["Reservations"] for i in r["Instances"])),
    "RunInstances (volume tags)": (
        lambda ec2, m, tag: ec2.run_instances(ImageId=m["image"], MinCount=1, MaxCount=1, InstanceType="o1.small",
                                              TagSpecifications=specs("volume", tag)),
        lambda ec2: sorted(i["InstanceId"] for r in ec2.describe_instances()["Reservations"] for i in r["Instances"])),
    "CreateVpc": (
        lambda ec2, m, tag: ec2.create_vpc(CidrBlock="10.61.0.0/16", TagSpecifications=specs("vpc", tag)),
        lambda ec2: sorted(v["VpcId"] for v in ec2.describe_vpcs()["Vpcs"])),
    "CreateSubnet": (
        lambda ec2, m, tag: ec2.create_subnet(VpcId=m["vpc"], CidrBlock="10.60.2.0/24",
                                              TagSpecifications=specs("subnet", tag)),
        lambda ec2: sorted(s["SubnetId"] for s in ec2.describe_subnets()["Subnets"])),
    "CreateSecurityGroup": (
        lambda ec2, m, tag: ec2.create_security_group(GroupName="web", Description="web", VpcId=m["vpc"],
                                                      TagSpecifications=specs("security-group", tag)),
        lambda ec2: sorted(g["GroupId"] for g in ec2.describe_security_groups()["SecurityGroups"])),
    "CreateNetworkInterface": (
        lambda ec2, m, tag: ec2.create_network_interface(SubnetId=m["subnet"],
                                                         TagSpecifications=specs("network-interface", tag)),
        lambda ec2: sorted(n["NetworkInterfaceId"] for n in ec2.describe_network_interfaces()["NetworkInterfaces"])),
    "CreateVolume": (
        lambda ec2, m, tag: ec2.create_volume(Size=1, AvailabilityZone=ec2.describe_availability_zones()[
            "AvailabilityZones"][0]["ZoneName"], TagSpecifications=specs("volume", tag)),
        lambda ec2: sorted(v["VolumeId"] for v in ec2.describe_volumes()["Volumes"])),
    "CreateSnapshot": (
        lambda ec2, m, tag: ec2.create_snapshot(VolumeId=m["volume"], TagSpecifications=specs("snapshot", tag)),
        lambda ec2: sorted(s["SnapshotId"] for s in ec2.describe_snapshots(OwnerIds=["self"])["Snapshots"])),
    "CopySnapshot": (
        lambda ec2, m, tag: ec2.copy_snapshot(SourceSnapshotId=m["snapshot"], SourceRegion="us-east-1",
                                              TagSpecifications=specs("snapshot", tag)),
        lambda ec2: sorted(s["SnapshotId"] for s in ec2.describe_snapshots(OwnerIds=["self"])["Snapshots"])),
    "CreateKeyPair": (
        lambda ec2, m, tag: ec2.create_key_pair(KeyName="refused", TagSpecifications=specs("key-pair", tag)),
        lambda ec2: sorted(k["KeyName"] for k in ec2.describe_key_pairs()["KeyPairs"])),
    "ImportKeyPair": (
        lambda ec2, m, tag: ec2.import_key_pair(KeyName="refused", PublicKeyMaterial=PUBLIC_KEY.encode(),
                                                TagSpecifications=specs("key-pair", tag)),
        lambda ec2: sorted(k["KeyName"] for k in ec2.describe_key_pairs()["KeyPairs"])),
    "CreateImage": (
        lambda ec2, m, tag: ec2.create_image(InstanceId=m["instance"], Name="refused-image", NoReboot=True,
                                             TagSpecifications=specs("image", tag)),
        lambda ec2: sorted(i["ImageId"] for i in ec2.describe_images(Owners=["self"])["Images"])),
    "CreateImage (snapshot tags)": (
        lambda ec2, m, tag: ec2.create_image(InstanceId=m["instance"], Name="refused-image", NoReboot=True,
                                             TagSpecifications=specs("snapshot", tag)),
        lambda ec2: sorted(i["ImageId"] for i in ec2.describe_images(Owners=["self"])["Images"])),
    "RegisterImage": (
        lambda ec2, m, tag: ec2.register_image(Name="refused-image", RootDeviceName="/dev/sda", BlockDeviceMappings=[
            {"DeviceName": "/dev/sda", "Ebs": {"SnapshotId": m["snapshot"]}}], TagSpecifications=specs("image", tag)),
        lambda ec2: sorted(i["ImageId"] for i in ec2.describe_images(Owners=["self"])["Images"])),
}


@pytest.mark.parametrize("bad", list(BAD_TAGS))
@pytest.mark.parametrize("action", list(CREATES))
def test_a_create_with_a_tag_against_the_rules_is_refused_and_makes_nothing(
        ec2: Any, made: dict[str, str], action: str, bad: str) -> None:
    create, listing = CREATES[action]
    before = listing(ec2)
    error = expect("InvalidParameterValue", create, ec2, made, BAD_TAGS[bad])
    assert listing(ec2) == before
    assert "aws:" in error.response["Error"]["Message"] or "characters" in error.response["Error"]["Message"]


def test_the_tag_rules_bounds_themselves_are_allowed(ec2: Any) -> None:
    """A 128-character key and a 256-character value are EC2's limits, not past them."""
    key, value = "k" * 128, "v" * 256
    vpc = ec2.create_vpc(CidrBlock="10.62.0.0/16", TagSpecifications=[
        {"ResourceType": "vpc", "Tags": [{"Key": key, "Value": value}]}])["Vpc"]
    listed = ec2.describe_vpcs(VpcIds=[vpc["VpcId"]])["Vpcs"][0]
    assert {"Key": key, "Value": value} in listed["Tags"]
    ec2.delete_vpc(VpcId=vpc["VpcId"])
