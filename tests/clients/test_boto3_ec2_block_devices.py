"""boto3 against the gateway: RunInstances BlockDeviceMappings as EC2 users rely on them (issue 13).

One root device name in DescribeImages, RunInstances, DescribeInstances and DescribeVolumes; a root volume
kept after termination; new blank volumes attached before the first boot under the names asked for, each
with its own DeleteOnTermination and the launch's volume tags; an image's other disk left out with
NoDevice; and the mappings the engine cannot honour refused in EC2's words."""
from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.clients.ec2_helpers import expect

sdk = pytest.importorskip("ovirtsdk4")
types = pytest.importorskip("ovirtsdk4.types")

FAST = {"Delay": 0.5, "MaxAttempts": 120}
GIB = 1 << 30


@pytest.fixture(scope="module")
def image(ec2: Any) -> dict[str, Any]:
    return ec2.describe_images(Filters=[{"Name": "name", "Values": ["centos-stream-*"]}])["Images"][0]


def described(ec2: Any, instance_id: str) -> dict[str, Any]:
    return ec2.describe_instances(InstanceIds=[instance_id])["Reservations"][0]["Instances"][0]


def mappings_of(instance: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {m["DeviceName"]: m["Ebs"] for m in instance["BlockDeviceMappings"]}


def launch(ec2: Any, image_id: str, mappings: list[dict[str, Any]], **extra: Any) -> str:
    run = ec2.run_instances(ImageId=image_id, MinCount=1, MaxCount=1, InstanceType="o1.small",
                            BlockDeviceMappings=mappings, **extra)
    return run["Instances"][0]["InstanceId"]


def terminate(ec2: Any, instance_id: str) -> None:
    ec2.terminate_instances(InstanceIds=[instance_id])
    ec2.get_waiter("instance_terminated").wait(InstanceIds=[instance_id], WaiterConfig=FAST)


def test_one_root_device_name_in_the_image_the_launch_the_instance_and_its_volume(ec2: Any,
                                                                                   image: dict[str, Any]) -> None:
    root = image["RootDeviceName"]
    assert root == "/dev/vda"  # the template's boot disk is on virtio: the name a Linux guest gives it
    (mapping,) = [m for m in image["BlockDeviceMappings"] if m["DeviceName"] == root]
    assert mapping["Ebs"]["SnapshotId"].startswith("snap-") and mapping["Ebs"]["VolumeSize"] == 10
    run = ec2.run_instances(ImageId=image["ImageId"], MinCount=1, MaxCount=1, InstanceType="o1.small")
    instance_id = run["Instances"][0]["InstanceId"]
    try:
        assert run["Instances"][0]["RootDeviceName"] == root
        ec2.get_waiter("instance_running").wait(InstanceIds=[instance_id], WaiterConfig=FAST)
        running = described(ec2, instance_id)
        assert running["RootDeviceName"] == root and list(mappings_of(running)) == [root]
        volume_id = mappings_of(running)[root]["VolumeId"]
        (volume,) = ec2.describe_volumes(VolumeIds=[volume_id])["Volumes"]
        assert volume["Attachments"][0]["Device"] == root
        ec2.stop_instances(InstanceIds=[instance_id])
        ec2.get_waiter("instance_stopped").wait(InstanceIds=[instance_id], WaiterConfig=FAST)
        assert described(ec2, instance_id)["RootDeviceName"] == root  # not the guest's name, gone when it stops
    finally:
        terminate(ec2, instance_id)
    assert described(ec2, instance_id)["RootDeviceName"] == root  # the terminated instance too


def test_new_volumes_and_a_kept_root_volume(ec2: Any, image: dict[str, Any]) -> None:
    root = image["RootDeviceName"]
    instance_id = launch(ec2, image["ImageId"], [
        {"DeviceName": root, "Ebs": {"DeleteOnTermination": False, "VolumeType": "standard"}},
        {"DeviceName": "/dev/sdb", "Ebs": {"VolumeSize": 2}},
        {"DeviceName": "/dev/sdc", "Ebs": {"VolumeSize": 3, "DeleteOnTermination": False}},
    ], TagSpecifications=[{"ResourceType": "volume", "Tags": [{"Key": "suite", "Value": "bdm"}]}])
    ec2.get_waiter("instance_running").wait(InstanceIds=[instance_id], WaiterConfig=FAST)
    mappings = mappings_of(described(ec2, instance_id))
    assert {name: ebs["DeleteOnTermination"] for name, ebs in mappings.items()} == {
        root: False, "/dev/sdb": True, "/dev/sdc": False}
    volumes = {v["VolumeId"]: v for v in ec2.describe_volumes(
        VolumeIds=[ebs["VolumeId"] for ebs in mappings.values()])["Volumes"]}
    assert {v["Attachments"][0]["Device"]: v["Size"] for v in volumes.values()} == {root: 10, "/dev/sdb": 2,
                                                                                    "/dev/sdc": 3}
    assert all(v["Tags"] == [{"Key": "suite", "Value": "bdm"}] and v["State"] == "in-use" for v in volumes.values())
    by_device = ec2.describe_volumes(Filters=[{"Name": "attachment.device", "Values": ["/dev/sdc"]},
                                              {"Name": "attachment.instance-id", "Values": [instance_id]}])
    assert [v["VolumeId"] for v in by_device["Volumes"]] == [mappings["/dev/sdc"]["VolumeId"]]

    terminate(ec2, instance_id)
    kept = [mappings[root]["VolumeId"], mappings["/dev/sdc"]["VolumeId"]]
    ec2.get_waiter("volume_available").wait(VolumeIds=kept, WaiterConfig=FAST)
    for volume in ec2.describe_volumes(VolumeIds=kept)["Volumes"]:  # the same disks, with their data
        assert volume["State"] == "available" and volume["Attachments"] == []
    ec2.get_waiter("volume_deleted").wait(VolumeIds=[mappings["/dev/sdb"]["VolumeId"]], WaiterConfig=FAST)
    for volume_id in kept:
        ec2.delete_volume(VolumeId=volume_id)


@pytest.fixture(scope="module")
def two_disk_image(ec2: Any, gateway: Any, image: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """An image with a second disk: a template made on the engine (oVirt SDK) from an instance launched
    with a /dev/sdb volume."""
    instance_id = launch(ec2, image["ImageId"], [{"DeviceName": "/dev/sdb", "Ebs": {"VolumeSize": 1}}])
    ec2.get_waiter("instance_running").wait(InstanceIds=[instance_id], WaiterConfig=FAST)
    ec2.stop_instances(InstanceIds=[instance_id])
    ec2.get_waiter("instance_stopped").wait(InstanceIds=[instance_id], WaiterConfig=FAST)
    connection = sdk.Connection(url=gateway.engine_url, username=gateway.admin[0], password=gateway.admin[1])
    templates = connection.system_service().templates_service()
    name = f"bdm-{uuid.uuid4().hex[:8]}"
    template = templates.add(types.Template(name=name, vm=types.Vm(id=str(uuid.UUID(hex=instance_id[2:])))))
    try:
        deadline = time.monotonic() + 60
        while templates.template_service(template.id).get().status != types.TemplateStatus.OK:
            assert time.monotonic() < deadline, "the template was not copied in time"
            time.sleep(0.2)
        terminate(ec2, instance_id)
        yield ec2.describe_images(Filters=[{"Name": "name", "Values": [name]}])["Images"][0]
    finally:
        deadline = time.monotonic() + 60
        while True:  # the engine refuses while instances made from it are still being removed
            try:
                templates.template_service(template.id).remove()
                break
            except sdk.Error:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
        connection.close()


def test_an_image_shows_every_disk_and_no_device_leaves_one_out(ec2: Any, two_disk_image: dict[str, Any]) -> None:
    mappings = {m["DeviceName"]: m["Ebs"] for m in two_disk_image["BlockDeviceMappings"]}
    assert two_disk_image["RootDeviceName"] == "/dev/vda" and list(mappings) == ["/dev/vda", "/dev/sdb"]
    assert {name: ebs["VolumeSize"] for name, ebs in mappings.items()} == {"/dev/vda": 10, "/dev/sdb": 1}
    assert len({ebs["SnapshotId"] for ebs in mappings.values()}) == 2

    whole = launch(ec2, two_disk_image["ImageId"], [])
    without = launch(ec2, two_disk_image["ImageId"], [{"DeviceName": "/dev/sdb", "NoDevice": ""},
                                                       {"DeviceName": "/dev/sdd", "Ebs": {"VolumeSize": 1}}])
    try:
        ec2.get_waiter("instance_running").wait(InstanceIds=[whole, without], WaiterConfig=FAST)
        assert list(mappings_of(described(ec2, whole))) == ["/dev/vda", "/dev/sdb"]
        assert sorted(mappings_of(described(ec2, without))) == ["/dev/sdd", "/dev/vda"]
    finally:
        ec2.terminate_instances(InstanceIds=[whole, without])
        ec2.get_waiter("instance_terminated").wait(InstanceIds=[whole, without], WaiterConfig=FAST)


def test_mappings_the_engine_cannot_honour_are_refused_in_ec2_words(ec2: Any, image: dict[str, Any]) -> None:
    root, image_id = image["RootDeviceName"], image["ImageId"]
    refused = [
        ("InvalidBlockDeviceMapping", [{"DeviceName": root, "NoDevice": ""}]),
        ("InvalidBlockDeviceMapping", [{"DeviceName": "/dev/nvme0", "Ebs": {"VolumeSize": 1}}]),
        ("InvalidBlockDeviceMapping", [{"DeviceName": "/dev/sdb", "Ebs": {"VolumeSize": 1}},
                                       {"DeviceName": "/dev/sdb", "Ebs": {"VolumeSize": 2}}]),
        ("InvalidBlockDeviceMapping", [{"DeviceName": "/dev/sdb"}]),
        ("InvalidBlockDeviceMapping", [{"DeviceName": root, "Ebs": {"VolumeSize": 1}}]),
        ("MissingParameter", [{"DeviceName": "/dev/sdb", "Ebs": {"DeleteOnTermination": True}}]),
        ("InvalidParameterValue", [{"DeviceName": "/dev/sdb", "Ebs": {"VolumeSize": 1, "VolumeType": "gp3"}}]),
        ("InvalidParameterValue", [{"DeviceName": "/dev/sdb", "Ebs": {"VolumeSize": 0}}]),
        ("InvalidParameterValue", [{"DeviceName": "/dev/sdb", "Ebs": {"VolumeSize": 1, "Iops": 3000}}]),
        ("InvalidSnapshot.NotFound", [{"DeviceName": "/dev/sdb", "Ebs": {"SnapshotId": "snap-" + "1" * 32}}]),
        ("UnsupportedOperation", [{"DeviceName": "/dev/sdb", "Ebs": {"VolumeSize": 1, "Encrypted": True}}]),
        ("UnsupportedOperation", [{"DeviceName": "/dev/sdb", "VirtualName": "ephemeral0"}]),
    ]
    before = {i["InstanceId"] for r in ec2.describe_instances()["Reservations"] for i in r["Instances"]}
    for code, mappings in refused:
        expect(code, ec2.run_instances, ImageId=image_id, MinCount=1, MaxCount=1, BlockDeviceMappings=mappings)
    after = {i["InstanceId"] for r in ec2.describe_instances()["Reservations"] for i in r["Instances"]}
    assert after == before  # nothing was created
    own = next(m for m in image["BlockDeviceMappings"] if m["DeviceName"] == root)
    echoed = launch(ec2, image_id, [own])  # the image's own mapping (with its SnapshotId) is accepted as it is
    terminate(ec2, echoed)
