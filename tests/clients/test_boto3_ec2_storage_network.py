"""boto3 against a gateway on its embedded default: VPCs, subnets and security groups from oVirt's logical
networks; EBS volumes and snapshots on oVirt disks and VM snapshots, with boto3's waiters; STS's
GetCallerIdentity on the same endpoint; the error codes and DryRun answers of each."""
from __future__ import annotations

import time
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any, Iterator

import boto3
import pytest
import requests
from botocore.exceptions import ClientError
from lxml import etree

from tests.clients.ec2_helpers import REGION, error_code, expect

FAST = {"Delay": 0.5, "MaxAttempts": 120}


@pytest.fixture(scope="module")
def default_subnet(ec2: Any) -> dict[str, Any]:
    vpc = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"]
    assert len(vpc) == 1
    subnets = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc[0]["VpcId"]]},
                                            {"Name": "default-for-az", "Values": ["true"]}])["Subnets"]
    return sorted(subnets, key=lambda s: s["AvailabilityZone"])[0]


@pytest.fixture(scope="module")
def instance(ec2: Any, default_subnet: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """One running instance launched into the default subnet (terminated at the end of the module)."""
    images = ec2.describe_images(Filters=[{"Name": "name", "Values": ["debian-*"]}])["Images"]
    run = ec2.run_instances(ImageId=images[0]["ImageId"], MinCount=1, MaxCount=1, InstanceType="o1.small",
                            SubnetId=default_subnet["SubnetId"],
                            TagSpecifications=[{"ResourceType": "instance",
                                                "Tags": [{"Key": "Name", "Value": "b3-storage"}]},
                                               {"ResourceType": "volume",  # as Ansible sends them
                                                "Tags": [{"Key": "suite", "Value": "b3-root"}]}])
    instance_id = run["Instances"][0]["InstanceId"]
    try:
        ec2.get_waiter("instance_running").wait(InstanceIds=[instance_id], WaiterConfig=FAST)
        yield ec2.describe_instances(InstanceIds=[instance_id])["Reservations"][0]["Instances"][0]
    finally:
        ec2.terminate_instances(InstanceIds=[instance_id])


def test_logical_networks_are_vpcs_with_a_subnet_per_zone(ec2: Any, default_subnet: dict[str, Any]) -> None:
    vpcs = ec2.describe_vpcs()["Vpcs"]
    default = [v for v in vpcs if v["IsDefault"]]
    assert len(default) == 1 and default[0]["State"] == "available"
    assert {"Key": "Name", "Value": "ovirtmgmt"} in default[0]["Tags"]
    assert ec2.describe_vpcs(VpcIds=[default[0]["VpcId"]])["Vpcs"] == default
    zones = {z["ZoneName"] for z in ec2.describe_availability_zones()["AvailabilityZones"]}
    subnets = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [default[0]["VpcId"]]}])["Subnets"]
    assert {s["AvailabilityZone"] for s in subnets} == zones and all(s["DefaultForAz"] for s in subnets)
    assert default_subnet["State"] == "available" and default_subnet["CidrBlock"].endswith("/24")
    by_zone = ec2.describe_subnets(Filters=[{"Name": "availability-zone",
                                             "Values": [default_subnet["AvailabilityZone"]]}])["Subnets"]
    assert default_subnet["SubnetId"] in {s["SubnetId"] for s in by_zone}
    assert ec2.describe_subnets(SubnetIds=[default_subnet["SubnetId"]])["Subnets"] == [default_subnet]
    tagged = ec2.describe_vpcs(Filters=[{"Name": "tag:Name", "Values": ["ovirtmgmt"]}])["Vpcs"]
    assert [v["VpcId"] for v in tagged] == [default[0]["VpcId"]]
    expect("InvalidVpcID.NotFound", ec2.describe_vpcs, VpcIds=["vpc-" + "0" * 32])
    expect("InvalidVpcID.Malformed", ec2.describe_vpcs, VpcIds=["vpc-nothex"])
    expect("InvalidSubnetID.NotFound", ec2.describe_subnets, SubnetIds=["subnet-" + "0" * 32])
    expect("DryRunOperation", ec2.describe_vpcs, DryRun=True)
    expect("InvalidVpc.Range", ec2.create_vpc, CidrBlock="10.0.0.0/8")  # VPCs are made on the OVN provider
    expect("UnsupportedOperation", ec2.create_subnet, VpcId=default[0]["VpcId"], CidrBlock="10.0.1.0/24")


def test_one_allow_all_default_group_per_vpc(ec2: Any) -> None:
    vpc_ids = {v["VpcId"] for v in ec2.describe_vpcs()["Vpcs"]}
    groups = ec2.describe_security_groups()["SecurityGroups"]
    assert {g["VpcId"] for g in groups} == vpc_ids and {g["GroupName"] for g in groups} == {"default"}
    group = groups[0]
    assert group["IpPermissions"][0]["IpProtocol"] == "-1" and group["IpPermissionsEgress"][0]["IpProtocol"] == "-1"
    named = ec2.describe_security_groups(GroupNames=["default"])["SecurityGroups"]
    assert len(named) == 1
    by_filter = ec2.describe_security_groups(Filters=[{"Name": "group-name", "Values": ["default"]},
                                                      {"Name": "vpc-id", "Values": [group["VpcId"]]}])
    assert [g["GroupId"] for g in by_filter["SecurityGroups"]] == [group["GroupId"]]
    expect("InvalidGroup.NotFound", ec2.describe_security_groups, GroupNames=["web"])
    expect("InvalidGroup.NotFound", ec2.describe_security_groups, GroupIds=["sg-" + "0" * 32])
    expect("UnsupportedOperation", ec2.create_security_group, GroupName="web", Description="web")
    expect("UnsupportedOperation", ec2.authorize_security_group_ingress, GroupId=group["GroupId"],
           IpPermissions=[{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])


def test_instance_network_resolves(ec2: Any, instance: dict[str, Any], default_subnet: dict[str, Any]) -> None:
    assert instance["SubnetId"] == default_subnet["SubnetId"] and instance["VpcId"] == default_subnet["VpcId"]
    assert instance["Placement"]["AvailabilityZone"] == default_subnet["AvailabilityZone"]
    assert ec2.describe_vpcs(VpcIds=[instance["VpcId"]])["Vpcs"][0]["IsDefault"]
    assert {n["SubnetId"] for n in instance["NetworkInterfaces"]} == {default_subnet["SubnetId"]}
    found = ec2.describe_instances(Filters=[{"Name": "subnet-id", "Values": [default_subnet["SubnetId"]]},
                                            {"Name": "tag:Name", "Values": ["b3-storage"]}])["Reservations"]
    assert instance["InstanceId"] in {i["InstanceId"] for r in found for i in r["Instances"]}
    groups = ec2.describe_instance_attribute(InstanceId=instance["InstanceId"], Attribute="groupSet")["Groups"]
    assert groups == instance["SecurityGroups"] and groups[0]["GroupName"] == "default"
    images = ec2.describe_images(Filters=[{"Name": "name", "Values": ["debian-*"]}])["Images"]
    expect("InvalidSubnetID.NotFound", ec2.run_instances, ImageId=images[0]["ImageId"], MinCount=1, MaxCount=1,
           SubnetId="subnet-" + "0" * 32)


def test_root_volume_of_an_instance(ec2: Any, instance: dict[str, Any]) -> None:
    root = [m for m in instance["BlockDeviceMappings"] if m["DeviceName"] == instance["RootDeviceName"]]
    assert len(root) == 1, (instance["RootDeviceName"], instance["BlockDeviceMappings"])
    volume = ec2.describe_volumes(VolumeIds=[root[0]["Ebs"]["VolumeId"]])["Volumes"][0]
    assert volume["State"] == "in-use" and volume["Size"] >= 1
    # the engine dates no disk: the gateway's own time, the same on every read, never 1970
    assert volume["CreateTime"].year >= 2024 and volume["CreateTime"] <= instance["LaunchTime"] + timedelta(minutes=5)
    assert ec2.describe_volumes(VolumeIds=[volume["VolumeId"]])["Volumes"][0]["CreateTime"] == volume["CreateTime"]
    # RunInstances' volume tags, put on the disks once the engine made them
    assert volume["Tags"] == [{"Key": "suite", "Value": "b3-root"}]
    tagged = ec2.describe_volumes(Filters=[{"Name": "tag:suite", "Values": ["b3-root"]}])["Volumes"]
    assert [v["VolumeId"] for v in tagged] == [volume["VolumeId"]]
    described = ec2.describe_tags(Filters=[{"Name": "resource-id", "Values": [volume["VolumeId"]]}])["Tags"]
    assert described == [{"ResourceId": volume["VolumeId"], "ResourceType": "volume", "Key": "suite",
                          "Value": "b3-root"}]
    assert volume["AvailabilityZone"] == instance["Placement"]["AvailabilityZone"]
    assert volume["Attachments"][0]["InstanceId"] == instance["InstanceId"]
    assert volume["Attachments"][0]["Device"] == instance["RootDeviceName"]
    by_instance = ec2.describe_volumes(Filters=[{"Name": "attachment.instance-id",
                                                 "Values": [instance["InstanceId"]]}])["Volumes"]
    assert volume["VolumeId"] in {v["VolumeId"] for v in by_instance}


def wait_gone(call: Any, code: str, **kwargs: Any) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            call(**kwargs)
        except ClientError as exc:
            assert error_code(exc) == code
            return
        time.sleep(0.3)
    raise AssertionError(f"still there after 60 s: {kwargs}")


def uuid_of(ec2_id: str) -> str:
    hex_digits = ec2_id.split("-", 1)[1]
    return str(uuid.UUID(hex_digits))


def engine_snapshot_disks(gateway: Any, instance_id: str, snapshot_id: str) -> list[str]:
    """The disks the engine says a snapshot covers (asked of the simulator directly, as an admin would)."""
    answer = requests.get(f"{gateway.engine_url}/vms/{uuid_of(instance_id)}/snapshots/{uuid_of(snapshot_id)}",
                          params={"follow": "disks"}, auth=gateway.admin, timeout=10)
    answer.raise_for_status()
    return [d.get("id") for d in etree.fromstring(answer.content).iterfind("disks/disk")]


def test_volume_and_snapshot_lifecycle_with_waiters(gateway: Any, ec2: Any, instance: dict[str, Any]) -> None:
    zone, instance_id = instance["Placement"]["AvailabilityZone"], instance["InstanceId"]
    expect("DryRunOperation", ec2.create_volume, Size=1, AvailabilityZone=zone, DryRun=True)
    expect("InvalidZone.NotFound", ec2.create_volume, Size=1, AvailabilityZone="nowhere")
    expect("InvalidParameterValue", ec2.create_volume, Size=0, AvailabilityZone=zone)
    created = ec2.create_volume(Size=2, AvailabilityZone=zone, TagSpecifications=[
        {"ResourceType": "volume", "Tags": [{"Key": "Name", "Value": "b3-data"}, {"Key": "suite", "Value": "b3"}]}])
    volume_id = created["VolumeId"]
    assert created["State"] in ("creating", "available") and created["Size"] == 2
    assert abs(created["CreateTime"] - datetime.now(timezone.utc)) < timedelta(minutes=5)
    assert created["AvailabilityZone"] == zone
    ec2.get_waiter("volume_available").wait(VolumeIds=[volume_id], WaiterConfig=FAST)
    listed = ec2.describe_volumes(Filters=[{"Name": "tag:suite", "Values": ["b3"]},
                                           {"Name": "status", "Values": ["available"]}])["Volumes"]
    assert [v["VolumeId"] for v in listed] == [volume_id] and listed[0]["CreateTime"] == created["CreateTime"]

    expect("DryRunOperation", ec2.attach_volume, VolumeId=volume_id, InstanceId=instance_id, Device="/dev/sdf",
           DryRun=True)
    attached = ec2.attach_volume(VolumeId=volume_id, InstanceId=instance_id, Device="/dev/sdf")
    assert attached["State"] == "attaching" and attached["InstanceId"] == instance_id
    ec2.get_waiter("volume_in_use").wait(VolumeIds=[volume_id], WaiterConfig=FAST)
    expect("VolumeInUse", ec2.attach_volume, VolumeId=volume_id, InstanceId=instance_id, Device="/dev/sdg")
    expect("VolumeInUse", ec2.delete_volume, VolumeId=volume_id)
    mappings = ec2.describe_instances(InstanceIds=[instance_id])["Reservations"][0]["Instances"][0][
        "BlockDeviceMappings"]
    device = {m["Ebs"]["VolumeId"]: m["DeviceName"] for m in mappings}
    in_use = ec2.describe_volumes(VolumeIds=[volume_id])["Volumes"][0]
    assert in_use["Attachments"][0]["Device"] == device[volume_id] == "/dev/sdf"  # as asked, though the guest
    by_device = ec2.describe_volumes(Filters=[  # says /dev/vdb: how Terraform's aws_volume_attachment finds it
        {"Name": "attachment.instance-id", "Values": [instance_id]},
        {"Name": "attachment.device", "Values": ["/dev/sdf"]}])["Volumes"]
    assert [v["VolumeId"] for v in by_device] == [volume_id]

    expect("DryRunOperation", ec2.create_snapshot, VolumeId=volume_id, DryRun=True)
    snapshot = ec2.create_snapshot(VolumeId=volume_id, Description="b3 nightly", TagSpecifications=[
        {"ResourceType": "snapshot", "Tags": [{"Key": "suite", "Value": "b3"}]}])
    snapshot_id = snapshot["SnapshotId"]
    assert snapshot["VolumeId"] == volume_id and snapshot["VolumeSize"] == 2
    ec2.get_waiter("snapshot_completed").wait(SnapshotIds=[snapshot_id], WaiterConfig=FAST)
    assert engine_snapshot_disks(gateway, instance_id, snapshot_id) == [uuid_of(volume_id)]  # that volume only
    mine = ec2.describe_snapshots(OwnerIds=["self"], Filters=[{"Name": "volume-id", "Values": [volume_id]}])
    assert [(s["SnapshotId"], s["State"], s["Description"]) for s in mine["Snapshots"]] == [
        (snapshot_id, "completed", "b3 nightly")]
    assert {"Key": "suite", "Value": "b3"} in mine["Snapshots"][0]["Tags"]
    by_type = ec2.describe_tags(Filters=[{"Name": "resource-type", "Values": ["snapshot"]},
                                         {"Name": "resource-id", "Values": [snapshot_id]}])["Tags"]
    assert by_type == [{"ResourceId": snapshot_id, "ResourceType": "snapshot", "Key": "suite", "Value": "b3"}]
    assert mine["Snapshots"][0]["OwnerId"] == ec2.describe_instances(InstanceIds=[instance_id])[
        "Reservations"][0]["OwnerId"]
    expect("DryRunOperation", ec2.delete_snapshot, SnapshotId=snapshot_id, DryRun=True)
    ec2.delete_snapshot(SnapshotId=snapshot_id)
    wait_gone(ec2.describe_snapshots, "InvalidSnapshot.NotFound", SnapshotIds=[snapshot_id])
    expect("InvalidSnapshot.NotFound", ec2.delete_snapshot, SnapshotId=snapshot_id)

    expect("DryRunOperation", ec2.detach_volume, VolumeId=volume_id, DryRun=True)
    assert ec2.detach_volume(VolumeId=volume_id)["State"] == "detaching"
    ec2.get_waiter("volume_available").wait(VolumeIds=[volume_id], WaiterConfig=FAST)
    expect("IncorrectState", ec2.detach_volume, VolumeId=volume_id)
    expect("DryRunOperation", ec2.delete_volume, VolumeId=volume_id, DryRun=True)
    ec2.delete_volume(VolumeId=volume_id)
    ec2.get_waiter("volume_deleted").wait(VolumeIds=[volume_id], WaiterConfig=FAST)
    expect("InvalidVolume.NotFound", ec2.describe_volumes, VolumeIds=[volume_id])


def test_volume_error_codes(ec2: Any, instance: dict[str, Any]) -> None:
    expect("InvalidVolumeID.Malformed", ec2.describe_volumes, VolumeIds=["vol-xyz"])
    expect("InvalidVolume.NotFound", ec2.describe_volumes, VolumeIds=["vol-" + "0" * 32])
    expect("InvalidVolume.NotFound", ec2.delete_volume, VolumeId="vol-" + "0" * 32)
    expect("InvalidSnapshotID.Malformed", ec2.describe_snapshots, SnapshotIds=["snap-1"])
    expect("InvalidSnapshot.NotFound", ec2.describe_snapshots, SnapshotIds=["snap-" + "0" * 32])
    expect("MissingParameter", ec2.create_volume, AvailabilityZone=instance["Placement"]["AvailabilityZone"])
    root = next(m["Ebs"]["VolumeId"] for m in instance["BlockDeviceMappings"]
                if m["DeviceName"] == instance["RootDeviceName"])
    expect("IncorrectState", ec2.detach_volume, VolumeId=root)  # the root volume of a running instance
    expect("InvalidParameterValue", ec2.create_volume, Size=1, AvailabilityZone="Default", VolumeType="fast")


def test_create_volume_refuses_performance_classes_as_a_launch_does(ec2: Any, instance: dict[str, Any]) -> None:
    """Every volume here is `standard`: CreateVolume refuses other types, Iops and Throughput in the words a
    launch's block device mapping gets, and makes no volume."""
    zone = instance["Placement"]["AvailabilityZone"]
    before = {v["VolumeId"] for v in ec2.describe_volumes()["Volumes"]}
    for asked in ({"VolumeType": "gp3"}, {"VolumeType": "io1", "Iops": 3000}, {"Iops": 3000}, {"Throughput": 250},
                  {"VolumeType": "standard", "Iops": 100}):
        expect("InvalidParameterValue", ec2.create_volume, Size=1, AvailabilityZone=zone, **asked)
    created = expect("InvalidParameterValue", ec2.create_volume, Size=1, AvailabilityZone=zone, VolumeType="gp2")
    launched = expect("InvalidParameterValue", ec2.run_instances, ImageId=instance["ImageId"], MinCount=1,
                      MaxCount=1, BlockDeviceMappings=[{"DeviceName": "/dev/sdk",
                                                        "Ebs": {"VolumeSize": 1, "VolumeType": "gp2"}}])
    assert created.response["Error"]["Message"] == launched.response["Error"]["Message"]
    assert {v["VolumeId"] for v in ec2.describe_volumes()["Volumes"]} == before


def test_sts_account_is_the_ec2_owner(gateway: Any, ec2: Any, instance: dict[str, Any]) -> None:
    sts = boto3.client("sts", endpoint_url=gateway.ec2_url, region_name=REGION,
                       aws_access_key_id=gateway.access_key, aws_secret_access_key=gateway.secret_key)
    identity = sts.get_caller_identity()
    owner = ec2.describe_instances(InstanceIds=[instance["InstanceId"]])["Reservations"][0]["OwnerId"]
    assert identity["Account"] == owner and identity["Arn"] == f"arn:aws:iam::{owner}:user/admin@internal"
    wrong = boto3.client("sts", endpoint_url=gateway.ec2_url, region_name=REGION,
                         aws_access_key_id=gateway.access_key, aws_secret_access_key="wrong")
    expect("SignatureDoesNotMatch", wrong.get_caller_identity)
