"""boto3 against the gateway: RunInstances BlockDeviceMappings with `Ebs.SnapshotId` (issue 13).

A volume from a snapshot, made as CreateVolume makes one (a VM snapshot through a hidden helper VM, a floating
volume's snapshot with a disk copy), attached under the device asked for before the first start, grown to
`VolumeSize`, with its own DeleteOnTermination and the launch's volume tags; refusals in EC2's words."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests
from botocore.exceptions import WaiterError
from lxml import etree

from tests.clients.ec2_helpers import expect

FAST = {"Delay": 0.5, "MaxAttempts": 120}


def engine_helpers(gateway: Any) -> list[str]:
    """The ids of the gateway's helper VMs the engine has now (asked of the simulator, as an admin would)."""
    answer = requests.get(f"{gateway.engine_url}/vms", params={"search": "comment=cloudgw-helper-*"},
                          auth=gateway.admin, timeout=10)
    answer.raise_for_status()
    return [vm.get("id") for vm in etree.fromstring(answer.content).iterfind("vm")]


def described(ec2: Any, instance_id: str) -> dict[str, Any]:
    return ec2.describe_instances(InstanceIds=[instance_id])["Reservations"][0]["Instances"][0]


@pytest.fixture(scope="module")
def image(ec2: Any) -> dict[str, Any]:
    return ec2.describe_images(Filters=[{"Name": "name", "Values": ["centos-stream-*"]}])["Images"][0]


@pytest.fixture(scope="module")
def snapshots(ec2: Any, image: dict[str, Any]) -> Iterator[dict[str, str]]:
    """A completed snapshot of a 2 GiB volume attached to an instance, and one of a 1 GiB volume attached
    to none: {"of_vm": id, "of_loose": id}."""
    run = ec2.run_instances(ImageId=image["ImageId"], MinCount=1, MaxCount=1, InstanceType="o1.small",
                            BlockDeviceMappings=[{"DeviceName": "/dev/sdb", "Ebs": {"VolumeSize": 2}}])
    source = run["Instances"][0]["InstanceId"]
    zone = run["Instances"][0]["Placement"]["AvailabilityZone"]
    loose = ec2.create_volume(Size=1, AvailabilityZone=zone)["VolumeId"]
    ec2.get_waiter("instance_running").wait(InstanceIds=[source], WaiterConfig=FAST)
    data = next(m["Ebs"]["VolumeId"] for m in described(ec2, source)["BlockDeviceMappings"]
                if m["DeviceName"] == "/dev/sdb")
    ec2.get_waiter("volume_available").wait(VolumeIds=[loose], WaiterConfig=FAST)
    taken = {"of_vm": ec2.create_snapshot(VolumeId=data, Description="data")["SnapshotId"],
             "of_loose": ec2.create_snapshot(VolumeId=loose, Description="loose")["SnapshotId"]}
    ec2.get_waiter("snapshot_completed").wait(SnapshotIds=list(taken.values()), WaiterConfig=FAST)
    try:
        yield taken
    finally:
        ec2.terminate_instances(InstanceIds=[source])
        ec2.delete_volume(VolumeId=loose)


def test_volumes_from_snapshots_attached_before_the_first_start(gateway: Any, ec2: Any, image: dict[str, Any],
                                                                snapshots: dict[str, str]) -> None:
    run = ec2.run_instances(ImageId=image["ImageId"], MinCount=1, MaxCount=1, InstanceType="o1.small",
                            BlockDeviceMappings=[
                                {"DeviceName": "/dev/sdf", "Ebs": {"SnapshotId": snapshots["of_vm"], "VolumeSize": 3,
                                                                   "DeleteOnTermination": False}},
                                {"DeviceName": "/dev/vdg", "Ebs": {"SnapshotId": snapshots["of_loose"]}}],
                            TagSpecifications=[{"ResourceType": "volume", "Tags": [{"Key": "suite", "Value": "snap"}]}])
    instance_id = run["Instances"][0]["InstanceId"]
    ec2.get_waiter("instance_running").wait(InstanceIds=[instance_id], WaiterConfig=FAST)
    mappings = {m["DeviceName"]: m["Ebs"] for m in described(ec2, instance_id)["BlockDeviceMappings"]}
    assert {name: ebs["DeleteOnTermination"] for name, ebs in mappings.items()} == {
        image["RootDeviceName"]: True, "/dev/sdf": False, "/dev/vdg": True}
    volumes = {v["Attachments"][0]["Device"]: v for v in ec2.describe_volumes(
        VolumeIds=[ebs["VolumeId"] for ebs in mappings.values()])["Volumes"]}
    assert {d: v["Size"] for d, v in volumes.items()} == {image["RootDeviceName"]: 10, "/dev/sdf": 3, "/dev/vdg": 1}
    assert {d: v["SnapshotId"] for d, v in volumes.items() if d != image["RootDeviceName"]} == {
        "/dev/sdf": snapshots["of_vm"], "/dev/vdg": snapshots["of_loose"]}
    assert all(v["State"] == "in-use" and v["Tags"] == [{"Key": "suite", "Value": "snap"}] for v in volumes.values())
    assert not engine_helpers(gateway)  # the helper VM that copied the VM snapshot is gone
    # copies, not the disks that hold the snapshots (a floating volume's snapshot is itself a disk)
    held = {"vol-" + s.split("-", 1)[1] for s in snapshots.values()}
    assert not {ebs["VolumeId"] for ebs in mappings.values()} & held

    ec2.terminate_instances(InstanceIds=[instance_id])
    ec2.get_waiter("instance_terminated").wait(InstanceIds=[instance_id], WaiterConfig=FAST)
    kept = mappings["/dev/sdf"]["VolumeId"]
    ec2.get_waiter("volume_available").wait(VolumeIds=[kept], WaiterConfig=FAST)
    ec2.get_waiter("volume_deleted").wait(VolumeIds=[mappings["/dev/vdg"]["VolumeId"]], WaiterConfig=FAST)
    assert ec2.describe_volumes(VolumeIds=[kept])["Volumes"][0]["Size"] == 3
    ec2.delete_volume(VolumeId=kept)


def test_volumes_from_snapshots_refused_in_ec2_words(ec2: Any, image: dict[str, Any],
                                                    snapshots: dict[str, str]) -> None:
    refused = [
        ("InvalidBlockDeviceMapping", {"SnapshotId": snapshots["of_vm"], "VolumeSize": 1}),  # smaller than 2 GiB
        ("InvalidSnapshot.NotFound", {"SnapshotId": "snap-" + "1" * 32}),
        ("InvalidSnapshotID.Malformed", {"SnapshotId": "snap-nonsense"}),
        ("InvalidParameterValue", {"SnapshotId": snapshots["of_vm"], "VolumeType": "io1"}),
    ]
    before = {i["InstanceId"] for r in ec2.describe_instances()["Reservations"] for i in r["Instances"]}
    for code, ebs in refused:
        expect(code, ec2.run_instances, ImageId=image["ImageId"], MinCount=1, MaxCount=1,
               BlockDeviceMappings=[{"DeviceName": "/dev/sdf", "Ebs": ebs}])
    after = {i["InstanceId"] for r in ec2.describe_instances()["Reservations"] for i in r["Instances"]}
    assert after == before  # nothing was created


def available_volumes(ec2: Any) -> set[str]:
    return {v["VolumeId"] for v in ec2.describe_volumes(Filters=[{"Name": "status", "Values": ["available"]}])[
        "Volumes"]}


def test_a_launch_whose_volume_cannot_be_made_ends_terminated_with_its_reason(gateway: Any, ec2: Any,
                                                                              image: dict[str, Any]) -> None:
    """The engine refuses the launch's new volume for good: as on AWS the instance ends `terminated` with a
    StateReason, through the durable termination (which keeps the root volume the client asked to keep)."""
    refusal = "[Cannot add Virtual Disk. Low disk space on Storage Domain hosted_storage.]"
    before = available_volumes(ec2)
    gateway.simulator_control("faults", error={"path": r"/vms/[^/]+/diskattachments$", "method": "POST",
                                               "status": 400, "detail": refusal, "count": 1}).raise_for_status()
    try:
        run = ec2.run_instances(ImageId=image["ImageId"], MinCount=1, MaxCount=1, InstanceType="o1.small",
                                BlockDeviceMappings=[
                                    {"DeviceName": image["RootDeviceName"], "Ebs": {"DeleteOnTermination": False}},
                                    {"DeviceName": "/dev/sdb", "Ebs": {"VolumeSize": 1}}])
        instance_id = run["Instances"][0]["InstanceId"]
        with pytest.raises(WaiterError):  # as on AWS, the running waiter fails once the instance is ending
            ec2.get_waiter("instance_running").wait(InstanceIds=[instance_id], WaiterConfig=FAST)
        ec2.get_waiter("instance_terminated").wait(InstanceIds=[instance_id], WaiterConfig=FAST)
    finally:
        requests.delete(f"{gateway.simulator_url}/__simulator__/faults", timeout=10).raise_for_status()
    ended = described(ec2, instance_id)
    assert ended["State"]["Name"] == "terminated"
    assert ended["StateReason"]["Code"] == "Server.InternalError"
    assert "Low disk space" in ended["StateReason"]["Message"]
    (kept,) = available_volumes(ec2) - before  # the root volume, kept as asked; no other
    assert ec2.describe_volumes(VolumeIds=[kept])["Volumes"][0]["Size"] == 10
    ec2.delete_volume(VolumeId=kept)
