"""boto3 against the gateway: what Terraform's and Ansible's AWS modules probe besides the resources they
manage, and the behaviours that made the real tools fail (issue 12): VPC attributes and the parts every
VPC has, tags on VPCs/subnets/security groups, snapshot attributes and descriptions, a snapshot asked
for while the engine still holds the VM's snapshot lock, an instance's address inside its subnet's
block, and the root volume's size at launch."""
from __future__ import annotations

import ipaddress
import time
import uuid
from typing import Any, Iterator

import pytest

from tests.clients.ec2_helpers import addressed_instances, expect

FAST = {"Delay": 0.5, "MaxAttempts": 120}


@pytest.fixture(scope="module")
def default_vpc(ec2: Any) -> dict[str, Any]:
    return ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0]


@pytest.fixture(scope="module")
def image_id(ec2: Any) -> str:
    return ec2.describe_images(Filters=[{"Name": "name", "Values": ["centos-stream-*"]}])["Images"][0]["ImageId"]


@pytest.fixture(scope="module")
def instance(ec2: Any, image_id: str) -> Iterator[dict[str, Any]]:
    """One running instance whose root volume was grown to 12 GiB at launch (terminated at the end)."""
    root = ec2.describe_images(ImageIds=[image_id])["Images"][0]["RootDeviceName"]
    run = ec2.run_instances(ImageId=image_id, MinCount=1, MaxCount=1, InstanceType="o1.small",
                            BlockDeviceMappings=[{"DeviceName": root,
                                                  "Ebs": {"VolumeSize": 12, "DeleteOnTermination": True}}],
                            TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": "Name", "Value": "probes"}]}])
    instance_id = run["Instances"][0]["InstanceId"]
    try:
        ec2.get_waiter("instance_running").wait(InstanceIds=[instance_id], WaiterConfig=FAST)
        yield ec2.describe_instances(InstanceIds=[instance_id])["Reservations"][0]["Instances"][0]
    finally:
        ec2.terminate_instances(InstanceIds=[instance_id])


def test_vpc_attributes_and_the_parts_every_vpc_has(ec2: Any, default_vpc: dict[str, Any]) -> None:
    vpc_id = default_vpc["VpcId"]
    for attribute, member in (("enableDnsSupport", "EnableDnsSupport"), ("enableDnsHostnames", "EnableDnsHostnames"),
                              ("enableNetworkAddressUsageMetrics", "EnableNetworkAddressUsageMetrics")):
        answer = ec2.describe_vpc_attribute(VpcId=vpc_id, Attribute=attribute)
        assert answer["VpcId"] == vpc_id and answer[member] == {"Value": False}
    expect("InvalidVpcID.NotFound", ec2.describe_vpc_attribute, VpcId="vpc-" + "0" * 32, Attribute="enableDnsSupport")

    main = ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [vpc_id]},
                                              {"Name": "association.main", "Values": ["true"]}])["RouteTables"]
    assert len(main) == 1 and main[0]["Routes"][0]["GatewayId"] == "local"
    assert main[0]["Routes"][0]["DestinationCidrBlock"] == default_vpc["CidrBlock"]
    subnets = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["Subnets"]
    acls = ec2.describe_network_acls(Filters=[{"Name": "vpc-id", "Values": [vpc_id]},
                                              {"Name": "default", "Values": ["true"]}])["NetworkAcls"]
    assert len(acls) == 1
    assert {a["SubnetId"] for a in acls[0]["Associations"]} == {s["SubnetId"] for s in subnets}
    assert {(e["RuleNumber"], e["RuleAction"], e["Egress"]) for e in acls[0]["Entries"]} == {
        (100, "allow", False), (32767, "deny", False), (100, "allow", True), (32767, "deny", True)}
    options = ec2.describe_dhcp_options(DhcpOptionsIds=[default_vpc["DhcpOptionsId"]])["DhcpOptions"]
    assert [o["DhcpOptionsId"] for o in options] == [default_vpc["DhcpOptionsId"]]
    assert ec2.describe_internet_gateways()["InternetGateways"] == []
    assert ec2.describe_vpc_endpoints()["VpcEndpoints"] == []
    assert ec2.describe_prefix_lists()["PrefixLists"] == []
    assert ec2.get_ebs_encryption_by_default()["EbsEncryptionByDefault"] is False
    assert "KmsKeyId" not in ec2.get_ebs_default_kms_key_id()


def test_vpcs_subnets_and_security_groups_take_tags(ec2: Any, default_vpc: dict[str, Any]) -> None:
    key = f"probe-{uuid.uuid4().hex[:8]}"
    vpc_id = default_vpc["VpcId"]
    subnet_id = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["Subnets"][0]["SubnetId"]
    group_id = ec2.describe_security_groups(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["SecurityGroups"][0]["GroupId"]
    ec2.create_tags(Resources=[vpc_id, subnet_id, group_id], Tags=[{"Key": key, "Value": "v"}])
    try:
        tag = {"Key": key, "Value": "v"}
        assert tag in ec2.describe_vpcs(VpcIds=[vpc_id])["Vpcs"][0]["Tags"]
        assert tag in ec2.describe_subnets(SubnetIds=[subnet_id])["Subnets"][0]["Tags"]
        group = ec2.describe_security_groups(GroupIds=[group_id])["SecurityGroups"][0]
        assert group["Tags"] == [tag]  # the group's tags are its own, not its VPC's
        assert ec2.describe_vpcs(Filters=[{"Name": f"tag:{key}", "Values": ["v"]}])["Vpcs"][0]["VpcId"] == vpc_id
        listed = ec2.describe_tags(Filters=[{"Name": "key", "Values": [key]}])["Tags"]
        assert {(t["ResourceId"], t["ResourceType"]) for t in listed} == {
            (vpc_id, "vpc"), (subnet_id, "subnet"), (group_id, "security-group")}
    finally:
        ec2.delete_tags(Resources=[vpc_id, subnet_id, group_id], Tags=[{"Key": key}])
    assert ec2.describe_tags(Filters=[{"Name": "key", "Values": [key]}])["Tags"] == []
    expect("InvalidSubnetID.NotFound", ec2.create_tags, Resources=["subnet-" + "0" * 32], Tags=[{"Key": "k", "Value": "v"}])
    expect("InvalidGroupId.Malformed", ec2.create_tags, Resources=["sg-nothex"], Tags=[{"Key": "k", "Value": "v"}])


def test_an_instance_address_lies_in_its_subnet_and_vpc(ec2: Any, instance: dict[str, Any]) -> None:
    address = addressed_instances(ec2, [instance["InstanceId"]])[0]["PrivateIpAddress"]
    subnet = ec2.describe_subnets(SubnetIds=[instance["SubnetId"]])["Subnets"][0]
    vpc = ec2.describe_vpcs(VpcIds=[instance["VpcId"]])["Vpcs"][0]
    assert ipaddress.ip_address(address) in ipaddress.ip_network(subnet["CidrBlock"])
    assert ipaddress.ip_network(subnet["CidrBlock"]).subnet_of(ipaddress.ip_network(vpc["CidrBlock"]))
    table = ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [vpc["VpcId"]]}])["RouteTables"][0]
    assert table["Routes"][0]["DestinationCidrBlock"] == vpc["CidrBlock"]


def test_instance_probes(ec2: Any, instance: dict[str, Any]) -> None:
    instance_id = instance["InstanceId"]
    assert ec2.get_instance_uefi_data(InstanceId=instance_id)["InstanceId"] == instance_id
    credits = ec2.describe_instance_credit_specifications(InstanceIds=[instance_id])["InstanceCreditSpecifications"]
    assert credits == [{"InstanceId": instance_id, "CpuCredits": "standard"}]
    expect("InvalidInstanceID.NotFound", ec2.get_instance_uefi_data, InstanceId="i-" + "0" * 32)


def test_the_root_volume_has_the_size_asked_at_launch(ec2: Any, image_id: str, instance: dict[str, Any]) -> None:
    root = next(m for m in instance["BlockDeviceMappings"] if m["DeviceName"] == instance["RootDeviceName"])
    volume = ec2.describe_volumes(VolumeIds=[root["Ebs"]["VolumeId"]])["Volumes"][0]
    assert volume["Size"] == 12 and root["Ebs"]["DeleteOnTermination"] is True
    expect("InvalidBlockDeviceMapping", ec2.run_instances, ImageId=image_id, MinCount=1, MaxCount=1,
           BlockDeviceMappings=[{"DeviceName": instance["RootDeviceName"], "Ebs": {"VolumeSize": 1}}])
    expect("InvalidSnapshot.NotFound", ec2.run_instances, ImageId=image_id, MinCount=1, MaxCount=1,
           BlockDeviceMappings=[{"DeviceName": "/dev/sdf", "Ebs": {"SnapshotId": "snap-" + "1" * 32}}])


def test_snapshots_keep_an_absent_description_and_never_show_the_engine_lock(ec2: Any, instance: dict[str, Any]) -> None:
    volume_id = ec2.create_volume(AvailabilityZone=instance["Placement"]["AvailabilityZone"], Size=1)["VolumeId"]
    ec2.get_waiter("volume_available").wait(VolumeIds=[volume_id], WaiterConfig=FAST)
    ec2.attach_volume(VolumeId=volume_id, InstanceId=instance["InstanceId"], Device="/dev/sdg")
    ec2.get_waiter("volume_in_use").wait(VolumeIds=[volume_id], WaiterConfig=FAST)
    try:
        snapshot = ec2.create_snapshot(VolumeId=volume_id)
        assert snapshot["Description"] == ""
        ec2.get_waiter("snapshot_completed").wait(SnapshotIds=[snapshot["SnapshotId"]], WaiterConfig=FAST)
        assert ec2.describe_snapshots(SnapshotIds=[snapshot["SnapshotId"]])["Snapshots"][0]["Description"] == ""
        attribute = ec2.describe_snapshot_attribute(SnapshotId=snapshot["SnapshotId"], Attribute="createVolumePermission")
        assert attribute["CreateVolumePermissions"] == []
        expect("UnsupportedOperation", ec2.modify_snapshot_attribute, SnapshotId=snapshot["SnapshotId"],
               Attribute="createVolumePermission", OperationType="add", UserIds=["123456789012"])
        for _ in range(3):  # Terraform's replacement: delete, then create at once, while the engine still removes
            ec2.delete_snapshot(SnapshotId=snapshot["SnapshotId"])
            snapshot = ec2.create_snapshot(VolumeId=volume_id, Description="again")
        second = ec2.create_snapshot(VolumeId=volume_id)  # while the first is still being taken
        for taken in (snapshot, second):  # deleted at once, while still being taken
            ec2.delete_snapshot(SnapshotId=taken["SnapshotId"])
        # The engine detaches no disk a VM snapshot still holds (a snapshot here is the VM's): once they are gone
        deadline = time.monotonic() + 60
        while ec2.describe_snapshots(Filters=[{"Name": "volume-id", "Values": [volume_id]}])["Snapshots"]:
            assert time.monotonic() < deadline, "the snapshots were not removed"
            time.sleep(0.2)
        ec2.detach_volume(VolumeId=volume_id)  # the engine may still lock the disk for a moment: the gateway waits
    finally:
        if ec2.describe_volumes(VolumeIds=[volume_id])["Volumes"][0]["Attachments"]:
            ec2.detach_volume(VolumeId=volume_id)
        ec2.get_waiter("volume_available").wait(VolumeIds=[volume_id], WaiterConfig=FAST)
        ec2.delete_volume(VolumeId=volume_id)
