"""boto3 against a gateway on its embedded default: images made from instances, as EC2 users make them.

CreateImage stops a running instance, copies its template and starts it again (a durable operation); the
image is `pending` while the engine copies its disks, then `available` (boto3's image_available waiter);
NoDevice leaves an attached volume out and the instance gets it back; with NoReboot the instance runs on and
the image is copied from a snapshot taken for it. DeregisterImage is refused while
instances made from the image exist (the engine keeps a template that VMs are based on), then works.
"""
from __future__ import annotations

import time
import uuid
from typing import Any

import requests
from lxml import etree

from tests.clients.ec2_helpers import expect

FAST = {"Delay": 0.5, "MaxAttempts": 120}


def launch(ec2: Any, image_id: str | None = None) -> str:
    if image_id is None:
        image_id = ec2.describe_images(Filters=[{"Name": "name", "Values": ["debian-*"]}])["Images"][0]["ImageId"]
    instance_id = ec2.run_instances(ImageId=image_id, MinCount=1, MaxCount=1,
                                    InstanceType="o1.small")["Instances"][0]["InstanceId"]
    ec2.get_waiter("instance_running").wait(InstanceIds=[instance_id], WaiterConfig=FAST)
    return instance_id


def image(ec2: Any, image_id: str) -> dict[str, Any]:
    return ec2.describe_images(ImageIds=[image_id])["Images"][0]


def instance(ec2: Any, instance_id: str) -> dict[str, Any]:
    return ec2.describe_instances(InstanceIds=[instance_id])["Reservations"][0]["Instances"][0]


def terminate(ec2: Any, *instance_ids: str) -> None:
    ec2.terminate_instances(InstanceIds=list(instance_ids))
    ec2.get_waiter("instance_terminated").wait(InstanceIds=list(instance_ids), WaiterConfig=FAST)


def deregister(ec2: Any, image_id: str) -> None:
    """Deregister the image: it is gone from listings at once (the engine deletes its disks after)."""
    ec2.deregister_image(ImageId=image_id)
    expect("InvalidAMIID.NotFound", ec2.describe_images, ImageIds=[image_id])


def template_disks(gateway: Any, image_id: str) -> list[str]:
    """The disks of the image's template, as the engine lists them."""
    template_id = str(uuid.UUID(image_id.removeprefix("ami-")))
    answer = requests.get(f"{gateway.engine_url}/templates/{template_id}/diskattachments", auth=gateway.admin,
                          timeout=10)
    return [a.get("id") for a in etree.fromstring(answer.content)]


def test_an_image_of_a_running_instance_stops_copies_and_starts_it_again(ec2: Any, gateway: Any) -> None:
    instance_id = launch(ec2)
    launched = instance(ec2, instance_id)["LaunchTime"]
    name = f"web server (v1) {uuid.uuid4().hex[:6]}"  # spaces and brackets: AWS allows them, oVirt does not
    try:
        image_id = ec2.create_image(InstanceId=instance_id, Name=name, Description="made by boto3", TagSpecifications=[
            {"ResourceType": "image", "Tags": [{"Key": "team", "Value": "0123"}]},
            {"ResourceType": "snapshot", "Tags": [{"Key": "team", "Value": "snap"}]}])["ImageId"]
        made = image(ec2, image_id)
        assert made["State"] in ("pending", "available")
        assert made["Name"] == name and made["Description"] == "made by boto3"
        assert made["Tags"] == [{"Key": "team", "Value": "0123"}]
        assert instance(ec2, instance_id)["State"]["Name"] in ("stopped", "pending", "running")
        ec2.get_waiter("image_available").wait(ImageIds=[image_id], WaiterConfig=FAST)
        ec2.get_waiter("instance_running").wait(InstanceIds=[instance_id], WaiterConfig=FAST)
        assert instance(ec2, instance_id)["LaunchTime"] > launched  # stopped for the copy, started again
        assert ec2.describe_images(Filters=[{"Name": "name", "Values": [name]}])["Images"][0]["ImageId"] == image_id
        expect("InvalidAMIName.Duplicate", ec2.create_image, InstanceId=instance_id, Name=name)

        child = launch(ec2, image_id)  # an instance made from the new image runs like any other
        assert instance(ec2, child)["ImageId"] == image_id
        refused = expect("IncorrectState", ec2.deregister_image, ImageId=image_id)
        assert "used by" in refused.response["Error"]["Message"]
        terminate(ec2, child)
        gateway.simulator_control("clock", frozen=True)  # the engine deletes the disks once the clock runs again
        try:
            ec2.deregister_image(ImageId=image_id)  # gone at once, while the engine still deletes its disks
            expect("InvalidAMIID.NotFound", ec2.describe_images, ImageIds=[image_id])
            expect("InvalidAMIID.NotFound", ec2.deregister_image, ImageId=image_id)
        finally:
            gateway.simulator_control("clock", frozen=False)
    finally:
        terminate(ec2, instance_id)


def test_no_device_leaves_a_volume_out_of_the_image_and_gives_it_back(ec2: Any, gateway: Any) -> None:
    instance_id = launch(ec2)
    try:
        ec2.stop_instances(InstanceIds=[instance_id])
        ec2.get_waiter("instance_stopped").wait(InstanceIds=[instance_id], WaiterConfig=FAST)
        zone = instance(ec2, instance_id)["Placement"]["AvailabilityZone"]
        volume_id = ec2.create_volume(Size=1, AvailabilityZone=zone)["VolumeId"]
        ec2.get_waiter("volume_available").wait(VolumeIds=[volume_id], WaiterConfig=FAST)
        ec2.attach_volume(VolumeId=volume_id, InstanceId=instance_id, Device="/dev/sdf")
        ec2.get_waiter("volume_in_use").wait(VolumeIds=[volume_id], WaiterConfig=FAST)

        expect("InvalidBlockDeviceMapping", ec2.create_image, InstanceId=instance_id, Name="no such device",
               BlockDeviceMappings=[{"DeviceName": "/dev/sdz", "NoDevice": ""}])
        image_id = ec2.create_image(InstanceId=instance_id, Name=f"root-only-{uuid.uuid4().hex[:6]}",
                                    BlockDeviceMappings=[{"DeviceName": "/dev/sdf", "NoDevice": ""}])["ImageId"]
        ec2.get_waiter("image_available").wait(ImageIds=[image_id], WaiterConfig=FAST)
        assert len(template_disks(gateway, image_id)) == 1  # the root volume's copy only
        ec2.get_waiter("volume_in_use").wait(VolumeIds=[volume_id], WaiterConfig=FAST)
        attachment = ec2.describe_volumes(VolumeIds=[volume_id])["Volumes"][0]["Attachments"][0]
        assert attachment["InstanceId"] == instance_id
        assert instance(ec2, instance_id)["State"]["Name"] == "stopped"  # it was stopped: it stays so
        deregister(ec2, image_id)
    finally:
        terminate(ec2, instance_id)


def test_no_reboot_copies_a_snapshot_and_the_instance_runs_on(ec2: Any, gateway: Any) -> None:
    instance_id = launch(ec2)
    launched = instance(ec2, instance_id)["LaunchTime"]
    volumes = [m["Ebs"]["VolumeId"] for m in instance(ec2, instance_id)["BlockDeviceMappings"]]
    try:
        image_id = ec2.create_image(InstanceId=instance_id, Name=f"hot copy {uuid.uuid4().hex[:6]}",
                                    NoReboot=True)["ImageId"]
        ec2.get_waiter("image_available").wait(ImageIds=[image_id], WaiterConfig=FAST)
        now = instance(ec2, instance_id)
        assert now["State"]["Name"] == "running" and now["LaunchTime"] == launched  # never stopped
        assert len(template_disks(gateway, image_id)) == 1
        for _ in range(60):  # the snapshot taken for the copy goes once the copy is done
            if not ec2.describe_snapshots(Filters=[{"Name": "volume-id", "Values": volumes}])["Snapshots"]:
                break
            time.sleep(0.5)
        assert ec2.describe_snapshots(Filters=[{"Name": "volume-id", "Values": volumes}])["Snapshots"] == []
        deregister(ec2, image_id)
    finally:
        terminate(ec2, instance_id)


def test_bad_requests_get_ec2_errors(ec2: Any) -> None:
    instance_id = launch(ec2)
    try:
        expect("InvalidAMIName.Malformed", ec2.create_image, InstanceId=instance_id, Name="n" * 129)
        expect("InvalidAMIName.Malformed", ec2.create_image, InstanceId=instance_id, Name="semi;colon")
        expect("InvalidInstanceID.NotFound", ec2.create_image, InstanceId="i-" + "f" * 32, Name="missing one")
        expect("InvalidAMIID.NotFound", ec2.deregister_image, ImageId="ami-" + "f" * 32)
        expect("InvalidParameterValue", ec2.create_image, InstanceId=instance_id, Name="bad tags",
               TagSpecifications=[{"ResourceType": "volume", "Tags": [{"Key": "a", "Value": "b"}]}])
    finally:
        terminate(ec2, instance_id)


def test_an_image_registered_from_a_snapshot_of_a_running_instance(ec2: Any, gateway: Any) -> None:
    instance_id = launch(ec2)
    try:
        described = instance(ec2, instance_id)
        root = next(m["Ebs"]["VolumeId"] for m in described["BlockDeviceMappings"]
                    if m["DeviceName"] == described["RootDeviceName"])
        snapshot_id = ec2.create_snapshot(VolumeId=root, Description="for an image")["SnapshotId"]
        ec2.get_waiter("snapshot_completed").wait(SnapshotIds=[snapshot_id], WaiterConfig=FAST)
        root_device = described["RootDeviceName"]

        expect("InvalidSnapshot.NotFound", ec2.register_image, Name="from nothing", RootDeviceName=root_device,
               BlockDeviceMappings=[{"DeviceName": root_device, "Ebs": {"SnapshotId": "snap-" + "f" * 32}}])
        expect("UnsupportedOperation", ec2.register_image, Name="from s3", ImageLocation="bucket/image.manifest.xml")
        expect("InvalidBlockDeviceMapping", ec2.register_image, Name="no root", RootDeviceName="/dev/sdz",
               BlockDeviceMappings=[{"DeviceName": "/dev/sdb", "NoDevice": ""}])
        free = ec2.create_volume(Size=1, AvailabilityZone=described["Placement"]["AvailabilityZone"])["VolumeId"]
        ec2.get_waiter("volume_available").wait(VolumeIds=[free], WaiterConfig=FAST)
        of_free = ec2.create_snapshot(VolumeId=free)["SnapshotId"]  # a disk copy: no instance behind it
        ec2.get_waiter("snapshot_completed").wait(SnapshotIds=[of_free], WaiterConfig=FAST)
        refused = expect("UnsupportedOperation", ec2.register_image, Name="from a free volume",
                         RootDeviceName=root_device,
                         BlockDeviceMappings=[{"DeviceName": root_device, "Ebs": {"SnapshotId": of_free}}])
        assert refused.response["Error"]["Message"] == \
            "An image can be registered only from a snapshot of an instance's volume"
        ec2.delete_snapshot(SnapshotId=of_free)
        ec2.delete_volume(VolumeId=free)
        image_id = ec2.register_image(
            Name=f"from snapshot {uuid.uuid4().hex[:6]}", RootDeviceName=root_device, VirtualizationType="hvm",
            BlockDeviceMappings=[{"DeviceName": root_device, "Ebs": {"SnapshotId": snapshot_id}}],
            TagSpecifications=[{"ResourceType": "image", "Tags": [{"Key": "from", "Value": "snapshot"}]}])["ImageId"]
        assert instance(ec2, instance_id)["State"]["Name"] == "running"  # the instance goes on as it is
        ec2.get_waiter("image_available").wait(ImageIds=[image_id], WaiterConfig=FAST)
        assert image(ec2, image_id)["Tags"] == [{"Key": "from", "Value": "snapshot"}]
        assert len(template_disks(gateway, image_id)) == 1
        deregister(ec2, image_id)
        ec2.delete_snapshot(SnapshotId=snapshot_id)
    finally:
        terminate(ec2, instance_id)


def test_copy_image_is_refused_in_words(ec2: Any) -> None:
    source = ec2.describe_images(Filters=[{"Name": "name", "Values": ["debian-*"]}])["Images"][0]["ImageId"]
    refused = expect("UnsupportedOperation", ec2.copy_image, Name="copied", SourceImageId=source,
                     SourceRegion="barcelona")
    assert "export" in refused.response["Error"]["Message"]
    refused = expect("UnsupportedOperation", ec2.copy_image, Name="copied", SourceImageId=source,
                     SourceRegion="us-east-1")
    assert "CreateImage" in refused.response["Error"]["Message"]


def test_describe_images_filters_clients_use(ec2: Any) -> None:
    def names(*filters: tuple[str, list[str]], **kwargs: Any) -> set[str]:
        found = ec2.describe_images(Filters=[{"Name": n, "Values": v} for n, v in filters], **kwargs)["Images"]
        return {i["Name"] for i in found}

    every = names()
    debian = image(ec2, ec2.describe_images(Filters=[{"Name": "name", "Values": ["debian-*"]}])["Images"][0]["ImageId"])
    root = debian["RootDeviceName"]
    size = str(debian["BlockDeviceMappings"][0]["Ebs"]["VolumeSize"])
    assert "debian-12" in names(("owner-id", [debian["OwnerId"]]), ("is-public", ["true"]), ("state", ["available"]))
    assert names(("is-public", ["false"])) == every - names(("is-public", ["true"]))
    assert "debian-12" in names(("root-device-name", [root]), ("root-device-type", ["ebs"]),
                                ("virtualization-type", ["hvm"]), ("block-device-mapping.device-name", [root]),
                                ("block-device-mapping.volume-size", [size]),
                                ("block-device-mapping.volume-type", ["standard"]),
                                ("block-device-mapping.delete-on-termination", ["true"]))
    assert "debian-12" not in names(("block-device-mapping.volume-size", ["999"]))
    assert names(("platform", ["windows"])) == set()  # oVirt's seeded images are Linux
    assert "debian-12" in names(("creation-date", [debian["CreationDate"][:10] + "*"]))
    assert names(("root-device-type", ["instance-store"])) == set()
    assert names(ExecutableUsers=["self"]) == every
    expect("InvalidParameterValue", ec2.describe_images, Filters=[{"Name": "no-such-filter", "Values": ["x"]}])
