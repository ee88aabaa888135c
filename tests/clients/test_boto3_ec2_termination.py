"""boto3 against a gateway on its embedded default: terminating an instance keeps, with their data, the
volumes whose attachment says DeleteOnTermination=false, and deletes only those saying true, as EC2 does.
An attached volume says false, the launch's root volume true; ModifyInstanceAttribute changes either."""
from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.clients.ec2_helpers import error_code

FAST = {"Delay": 0.5, "MaxAttempts": 120}
DEVICE = "/dev/sdf"


def launch(ec2: Any) -> dict[str, Any]:
    """A running instance, as DescribeInstances shows it."""
    image = ec2.describe_images(Filters=[{"Name": "name", "Values": ["debian-*"]}])["Images"][0]["ImageId"]
    instance_id = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1,
                                    InstanceType="o1.small")["Instances"][0]["InstanceId"]
    ec2.get_waiter("instance_running").wait(InstanceIds=[instance_id], WaiterConfig=FAST)
    return described(ec2, instance_id)


def described(ec2: Any, instance_id: str) -> dict[str, Any]:
    return ec2.describe_instances(InstanceIds=[instance_id])["Reservations"][0]["Instances"][0]


def mappings(ec2: Any, instance_id: str) -> dict[str, dict[str, Any]]:
    """Device name -> its Ebs entry in DescribeInstances' BlockDeviceMappings."""
    return {m["DeviceName"]: m["Ebs"] for m in described(ec2, instance_id)["BlockDeviceMappings"]}


def root_volume(instance: dict[str, Any]) -> str:
    return next(m["Ebs"]["VolumeId"] for m in instance["BlockDeviceMappings"]
                if m["DeviceName"] == instance["RootDeviceName"])


def attached_volume(ec2: Any, instance: dict[str, Any]) -> str:
    """A new volume in the instance's zone, attached at DEVICE."""
    zone = instance["Placement"]["AvailabilityZone"]
    volume_id = ec2.create_volume(Size=1, AvailabilityZone=zone)["VolumeId"]
    ec2.get_waiter("volume_available").wait(VolumeIds=[volume_id], WaiterConfig=FAST)
    ec2.attach_volume(VolumeId=volume_id, InstanceId=instance["InstanceId"], Device=DEVICE)
    ec2.get_waiter("volume_in_use").wait(VolumeIds=[volume_id], WaiterConfig=FAST)
    return volume_id


def set_delete_on_termination(ec2: Any, instance_id: str, device: str, delete: bool) -> None:
    ec2.modify_instance_attribute(InstanceId=instance_id, BlockDeviceMappings=[
        {"DeviceName": device, "Ebs": {"DeleteOnTermination": delete}}])


def terminate(ec2: Any, instance_id: str) -> None:
    ec2.terminate_instances(InstanceIds=[instance_id])
    ec2.get_waiter("instance_terminated").wait(InstanceIds=[instance_id], WaiterConfig=FAST)


def attachment_flag(ec2: Any, volume_id: str) -> bool:
    (attachment,) = ec2.describe_volumes(VolumeIds=[volume_id])["Volumes"][0]["Attachments"]
    return attachment["DeleteOnTermination"]


def assert_gone(ec2: Any, volume_id: str) -> None:
    ec2.get_waiter("volume_deleted").wait(VolumeIds=[volume_id], WaiterConfig=FAST)
    with pytest.raises(ClientError) as caught:
        ec2.describe_volumes(VolumeIds=[volume_id])
    assert error_code(caught.value) == "InvalidVolume.NotFound"


def assert_kept(ec2: Any, volume_id: str) -> None:
    """Available again, under the same id (the same disk, so the same data), attached to nothing."""
    ec2.get_waiter("volume_available").wait(VolumeIds=[volume_id], WaiterConfig=FAST)
    (volume,) = ec2.describe_volumes(VolumeIds=[volume_id])["Volumes"]
    assert (volume["VolumeId"], volume["State"], volume["Attachments"]) == (volume_id, "available", [])


def test_terminating_keeps_an_attached_volume_and_deletes_the_root_volume(ec2: Any) -> None:
    instance = launch(ec2)
    instance_id, root = instance["InstanceId"], root_volume(instance)
    volume_id = attached_volume(ec2, instance)
    shown = mappings(ec2, instance_id)
    assert shown[DEVICE]["VolumeId"] == volume_id and shown[DEVICE]["DeleteOnTermination"] is False
    assert shown[instance["RootDeviceName"]]["DeleteOnTermination"] is True
    assert (attachment_flag(ec2, volume_id), attachment_flag(ec2, root)) == (False, True)

    terminate(ec2, instance_id)
    assert_kept(ec2, volume_id)
    assert_gone(ec2, root)
    ec2.delete_volume(VolumeId=volume_id)


def test_an_attached_volume_flipped_to_delete_on_termination_goes_with_the_instance(ec2: Any) -> None:
    instance = launch(ec2)
    instance_id = instance["InstanceId"]
    volume_id = attached_volume(ec2, instance)
    set_delete_on_termination(ec2, instance_id, DEVICE, True)
    assert mappings(ec2, instance_id)[DEVICE]["DeleteOnTermination"] is True
    assert attachment_flag(ec2, volume_id) is True
    attribute = ec2.describe_instance_attribute(InstanceId=instance_id, Attribute="blockDeviceMapping")
    assert {m["DeviceName"]: m["Ebs"]["DeleteOnTermination"] for m in attribute["BlockDeviceMappings"]}[DEVICE]

    terminate(ec2, instance_id)
    assert_gone(ec2, volume_id)
    assert_gone(ec2, root_volume(instance))


def test_a_root_volume_flipped_to_keep_outlives_the_instance(ec2: Any) -> None:
    instance = launch(ec2)
    instance_id, root = instance["InstanceId"], root_volume(instance)
    set_delete_on_termination(ec2, instance_id, instance["RootDeviceName"], False)
    assert mappings(ec2, instance_id)[instance["RootDeviceName"]]["DeleteOnTermination"] is False

    terminate(ec2, instance_id)
    assert_kept(ec2, root)
    ec2.delete_volume(VolumeId=root)
    assert_gone(ec2, root)


def test_a_kept_volume_with_a_snapshot_is_kept(ec2: Any) -> None:
    """The engine detaches no disk a snapshot of the VM holds; the snapshot, removed with the VM anyway,
    goes first and the volume stays."""
    instance = launch(ec2)
    volume_id = attached_volume(ec2, instance)
    snapshot_id = ec2.create_snapshot(VolumeId=volume_id)["SnapshotId"]
    ec2.get_waiter("snapshot_completed").wait(SnapshotIds=[snapshot_id], WaiterConfig=FAST)

    terminate(ec2, instance["InstanceId"])
    assert_kept(ec2, volume_id)
    ec2.delete_volume(VolumeId=volume_id)


def test_a_device_that_is_not_mapped_or_a_mapping_without_the_flag_is_refused(ec2: Any) -> None:
    instance = launch(ec2)
    try:
        with pytest.raises(ClientError) as caught:
            set_delete_on_termination(ec2, instance["InstanceId"], "/dev/sdz", False)
        assert error_code(caught.value) == "InvalidInstanceAttributeValue"
        with pytest.raises(ClientError) as caught:
            ec2.modify_instance_attribute(InstanceId=instance["InstanceId"], BlockDeviceMappings=[
                {"DeviceName": instance["RootDeviceName"], "Ebs": {}}])
        assert error_code(caught.value) == "MissingParameter"
        with pytest.raises(ClientError) as caught:
            ec2.modify_instance_attribute(InstanceId=instance["InstanceId"], DryRun=True, BlockDeviceMappings=[
                {"DeviceName": instance["RootDeviceName"], "Ebs": {"DeleteOnTermination": False}}])
        assert error_code(caught.value) == "DryRunOperation"
        assert mappings(ec2, instance["InstanceId"])[instance["RootDeviceName"]]["DeleteOnTermination"] is True
    finally:
        terminate(ec2, instance["InstanceId"])
