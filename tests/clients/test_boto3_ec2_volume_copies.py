"""boto3 against a gateway on its embedded default: volumes made from snapshots (through a helper VM no
listing shows), volumes grown with ModifyVolume and followed with DescribeVolumesModifications, snapshot
deletion queued behind the engine's snapshot lock, DetachVolume of a disk snapshots hold, and the console
output and password data oVirt can give."""
from __future__ import annotations

import time
import uuid
from typing import Any, Iterator

import boto3
import pytest
import requests
from lxml import etree

from tests.clients.ec2_helpers import expect

FAST = {"Delay": 0.5, "MaxAttempts": 120}


def uuid_of(ec2_id: str) -> str:
    return str(uuid.UUID(ec2_id.split("-", 1)[1]))


def engine_helpers(gateway: Any) -> list[str]:
    """The ids of the gateway's helper VMs the engine has now (asked of the simulator, as an admin would)."""
    answer = requests.get(f"{gateway.engine_url}/vms", params={"search": "comment=cloudgw-helper-*"},
                          auth=gateway.admin, timeout=10)
    answer.raise_for_status()
    return [vm.get("id") for vm in etree.fromstring(answer.content).iterfind("vm")]


def engine_snapshot_ids(gateway: Any, instance_id: str) -> list[str]:
    answer = requests.get(f"{gateway.engine_url}/vms/{uuid_of(instance_id)}/snapshots", auth=gateway.admin,
                          timeout=10)
    answer.raise_for_status()
    return [s.get("id") for s in etree.fromstring(answer.content).iterfind("snapshot")
            if s.findtext("snapshot_type") == "regular"]


def other_frontends_instances(gateway: Any) -> list[str]:
    """The ids of the instances Deltacloud and the machines CIMI list."""
    deltacloud = requests.get(f"{gateway.api_url}/instances", params={"format": "json"}, auth=gateway.admin,
                              timeout=30)
    cimi = requests.get(gateway.cimi_url.rsplit("/", 1)[0] + "/machines", headers={"Accept": "application/json"},
                        auth=gateway.admin, timeout=30)
    deltacloud.raise_for_status()
    cimi.raise_for_status()
    instances = deltacloud.json()["instances"]
    machines = cimi.json().get("machines", [])
    assert instances and machines  # the module's instance at least: the listings are not empty by mistake
    return [i["id"] for i in instances] + [m["id"].rsplit("/", 1)[1] for m in machines]


def eventually(check: Any, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "the condition never held"
        time.sleep(0.3)


@pytest.fixture(scope="module")
def instance(ec2: Any) -> Iterator[dict[str, Any]]:
    images = ec2.describe_images(Filters=[{"Name": "name", "Values": ["debian-*"]}])["Images"]
    run = ec2.run_instances(ImageId=images[0]["ImageId"], MinCount=1, MaxCount=1, InstanceType="o1.small")
    instance_id = run["Instances"][0]["InstanceId"]
    try:
        ec2.get_waiter("instance_running").wait(InstanceIds=[instance_id], WaiterConfig=FAST)
        yield ec2.describe_instances(InstanceIds=[instance_id])["Reservations"][0]["Instances"][0]
    finally:
        ec2.terminate_instances(InstanceIds=[instance_id])


@pytest.fixture(scope="module")
def snapshotted(ec2: Any, instance: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """A 2 GiB volume attached to the instance and a completed snapshot of it: (volume id, snapshot id)."""
    volume_id = ec2.create_volume(Size=2, AvailabilityZone=instance["Placement"]["AvailabilityZone"])["VolumeId"]
    ec2.get_waiter("volume_available").wait(VolumeIds=[volume_id], WaiterConfig=FAST)
    ec2.attach_volume(VolumeId=volume_id, InstanceId=instance["InstanceId"], Device="/dev/sdf")
    ec2.get_waiter("volume_in_use").wait(VolumeIds=[volume_id], WaiterConfig=FAST)
    snapshot_id = ec2.create_snapshot(VolumeId=volume_id, Description="source")["SnapshotId"]
    ec2.get_waiter("snapshot_completed").wait(SnapshotIds=[snapshot_id], WaiterConfig=FAST)
    yield volume_id, snapshot_id


def test_volume_from_a_snapshot_is_a_copy_made_by_a_hidden_helper(gateway: Any, ec2: Any, instance: dict[str, Any],
                                                                   snapshotted: tuple[str, str]) -> None:
    source, snapshot_id = snapshotted
    zone = instance["Placement"]["AvailabilityZone"]
    expect("InvalidParameterValue", ec2.create_volume, SnapshotId=snapshot_id, Size=1, AvailabilityZone=zone)
    expect("InvalidSnapshot.NotFound", ec2.create_volume, SnapshotId="snap-" + "0" * 32, AvailabilityZone=zone)
    expect("DryRunOperation", ec2.create_volume, SnapshotId=snapshot_id, AvailabilityZone=zone, DryRun=True)
    gateway.simulator_control("clock", frozen=True)  # the copies stay in the making while they are looked at
    try:
        created = ec2.create_volume(SnapshotId=snapshot_id, AvailabilityZone=zone, TagSpecifications=[
            {"ResourceType": "volume", "Tags": [{"Key": "Name", "Value": "restored"}]}])
        copying = ec2.describe_volumes(VolumeIds=[created["VolumeId"]])["Volumes"][0]
        snapshot_state = ec2.describe_snapshots(SnapshotIds=[snapshot_id])["Snapshots"][0]["State"]
        helpers = engine_helpers(gateway)
        assert helpers  # the engine copies through a VM of the gateway's own ...
        listed = [i["InstanceId"] for r in ec2.describe_instances()["Reservations"] for i in r["Instances"]]
        assert not {uuid_of(i) for i in listed} & set(helpers)  # ... that no client ever sees
        assert not set(other_frontends_instances(gateway)) & set(helpers)
        # the engine copies one snapshot of a VM at a time: a second copy is refused at once, naming the first
        refused = expect("IncorrectState", ec2.create_volume, SnapshotId=snapshot_id, AvailabilityZone=zone)
        assert uuid_of(created["VolumeId"]) in refused.response["Error"]["Message"]
    finally:
        gateway.simulator_control("clock", frozen=False)
    ec2.get_waiter("volume_available").wait(VolumeIds=[created["VolumeId"]], WaiterConfig=FAST)
    grown = ec2.create_volume(SnapshotId=snapshot_id, Size=3, AvailabilityZone=zone)  # after the first copy's lock
    assert created["State"] == "creating" and created["Size"] == 2 and created["SnapshotId"] == snapshot_id
    assert grown["Size"] == 3 and created["VolumeId"] not in (source, grown["VolumeId"])
    assert copying["State"] == "creating" and copying["Attachments"] == []
    assert snapshot_state == "completed"  # the engine locks the snapshot it copies from; for EC2 it stays completed

    ec2.get_waiter("volume_available").wait(VolumeIds=[created["VolumeId"], grown["VolumeId"]], WaiterConfig=FAST)
    volumes = {v["VolumeId"]: v for v in ec2.describe_volumes(VolumeIds=[created["VolumeId"], grown["VolumeId"]])[
        "Volumes"]}
    assert volumes[created["VolumeId"]]["Size"] == 2 and volumes[grown["VolumeId"]]["Size"] == 3
    assert volumes[created["VolumeId"]]["SnapshotId"] == snapshot_id
    assert {"Key": "Name", "Value": "restored"} in volumes[created["VolumeId"]]["Tags"]
    eventually(lambda: not set(helpers) & set(engine_helpers(gateway)))  # each helper removed when done
    ec2.attach_volume(VolumeId=created["VolumeId"], InstanceId=instance["InstanceId"], Device="/dev/sdg")
    ec2.get_waiter("volume_in_use").wait(VolumeIds=[created["VolumeId"]], WaiterConfig=FAST)
    ec2.detach_volume(VolumeId=created["VolumeId"])
    ec2.get_waiter("volume_available").wait(VolumeIds=[created["VolumeId"]], WaiterConfig=FAST)
    for volume_id in (created["VolumeId"], grown["VolumeId"]):
        ec2.delete_volume(VolumeId=volume_id)


def test_detaching_a_volume_snapshots_hold_names_them(ec2: Any, snapshotted: tuple[str, str]) -> None:
    volume_id, snapshot_id = snapshotted
    refused = expect("IncorrectState", ec2.detach_volume, VolumeId=volume_id)
    assert snapshot_id in refused.response["Error"]["Message"]


def test_modify_volume_grows_it_and_reports_the_modification(ec2: Any, instance: dict[str, Any],
                                                             snapshotted: tuple[str, str]) -> None:
    attached, _ = snapshotted
    floating = ec2.create_volume(Size=1, AvailabilityZone=instance["Placement"]["AvailabilityZone"])["VolumeId"]
    ec2.get_waiter("volume_available").wait(VolumeIds=[floating], WaiterConfig=FAST)
    expect("InvalidParameterValue", ec2.modify_volume, VolumeId=attached, Size=1)  # never smaller
    expect("UnsupportedOperation", ec2.modify_volume, VolumeId=floating, Iops=3000)
    expect("InvalidVolumeModification.NotFound", ec2.describe_volumes_modifications, VolumeIds=[floating])
    expect("DryRunOperation", ec2.modify_volume, VolumeId=floating, Size=2, DryRun=True)
    for volume_id, size in ((floating, 2), (attached, 4)):
        modification = ec2.modify_volume(VolumeId=volume_id, Size=size)["VolumeModification"]
        assert modification["ModificationState"] == "modifying" and modification["TargetSize"] == size
        assert "TargetIops" not in modification and "TargetThroughput" not in modification

    def completed() -> bool:
        found = ec2.describe_volumes_modifications(VolumeIds=[floating, attached])["VolumesModifications"]
        return all(m["ModificationState"] == "completed" for m in found)
    eventually(completed)
    done = {m["VolumeId"]: m for m in ec2.describe_volumes_modifications()["VolumesModifications"]}
    assert (done[floating]["OriginalSize"], done[floating]["TargetSize"]) == (1, 2) and "EndTime" in done[floating]
    sizes = {v["VolumeId"]: (v["Size"], v["State"]) for v in ec2.describe_volumes(VolumeIds=[floating, attached])[
        "Volumes"]}
    assert sizes == {floating: (2, "available"), attached: (4, "in-use")}
    assert "Iops" not in ec2.describe_volumes(VolumeIds=[floating])["Volumes"][0]
    ec2.delete_volume(VolumeId=floating)


def test_snapshot_deleted_while_the_engine_is_busy_is_queued(gateway: Any, ec2: Any, instance: dict[str, Any],
                                                             snapshotted: tuple[str, str]) -> None:
    """With the simulator's clock stopped, a second snapshot stays `locked` (the engine refuses to remove any
    snapshot of the VM meanwhile): the deletion is accepted at once and the snapshot gone for the client,
    and the engine removes it once the clock moves on."""
    volume_id, _ = snapshotted
    first = ec2.create_snapshot(VolumeId=volume_id, Description="to delete")["SnapshotId"]
    ec2.get_waiter("snapshot_completed").wait(SnapshotIds=[first], WaiterConfig=FAST)
    gateway.simulator_control("clock", frozen=True)
    try:
        busy = ec2.create_snapshot(VolumeId=volume_id, Description="in progress")["SnapshotId"]
        started = time.monotonic()
        ec2.delete_snapshot(SnapshotId=first)
        assert time.monotonic() - started < 10  # not waited out in the request
        expect("InvalidSnapshot.NotFound", ec2.describe_snapshots, SnapshotIds=[first])
        assert uuid_of(first) in engine_snapshot_ids(gateway, instance["InstanceId"])  # the engine still has it
    finally:
        gateway.simulator_control("clock", frozen=False)
    eventually(lambda: uuid_of(first) not in engine_snapshot_ids(gateway, instance["InstanceId"]))
    ec2.get_waiter("snapshot_completed").wait(SnapshotIds=[busy], WaiterConfig=FAST)
    ec2.delete_snapshot(SnapshotId=busy)


def test_copy_snapshot_knows_this_region_by_its_alias(gateway: Any, ec2: Any, snapshotted: tuple[str, str]) -> None:
    """`us-east-1` is an alias of the data center `Default`: a copy from either name, signed for the other, is a
    copy within this region."""
    _, snapshot_id = snapshotted
    by_name = boto3.client("ec2", endpoint_url=gateway.ec2_url, region_name="Default",
                           aws_access_key_id=gateway.access_key, aws_secret_access_key=gateway.secret_key)
    expect("DryRunOperation", ec2.copy_snapshot, SourceSnapshotId=snapshot_id, SourceRegion="Default", DryRun=True)
    copy = by_name.copy_snapshot(SourceSnapshotId=snapshot_id, SourceRegion="us-east-1")["SnapshotId"]
    expect("UnsupportedOperation", by_name.copy_snapshot, SourceSnapshotId=snapshot_id, SourceRegion="barcelona")
    ec2.get_waiter("snapshot_completed").wait(SnapshotIds=[copy], WaiterConfig=FAST)
    ec2.delete_snapshot(SnapshotId=copy)
    expect("InvalidSnapshot.NotFound", ec2.describe_snapshots, SnapshotIds=[copy])


def test_console_output_and_password_data(ec2: Any, instance: dict[str, Any]) -> None:
    console = ec2.get_console_output(InstanceId=instance["InstanceId"])
    assert console["InstanceId"] == instance["InstanceId"] and "Timestamp" in console
    assert "Output" not in console  # the engine keeps no serial log to give
    password = ec2.get_password_data(InstanceId=instance["InstanceId"])
    assert password["InstanceId"] == instance["InstanceId"] and password["PasswordData"] == ""
    for action in (ec2.get_console_output, ec2.get_password_data):
        expect("InvalidInstanceID.NotFound", action, InstanceId="i-" + "0" * 32)
        expect("InvalidInstanceID.Malformed", action, InstanceId="i-nope")


def test_snapshot_of_a_volume_attached_to_none_and_copies_of_snapshots(gateway: Any, ec2: Any,
                                                                       instance: dict[str, Any],
                                                                       snapshotted: tuple[str, str]) -> None:
    """A floating volume's snapshot is a copy of its disk (independent of the volume, as an EBS snapshot);
    CopySnapshot copies a VM snapshot or such a copy; volumes are made from either."""
    _, vm_snapshot = snapshotted
    zone = instance["Placement"]["AvailabilityZone"]
    floating = ec2.create_volume(Size=1, AvailabilityZone=zone)["VolumeId"]
    ec2.get_waiter("volume_available").wait(VolumeIds=[floating], WaiterConfig=FAST)
    taken = ec2.create_snapshot(VolumeId=floating, Description="loose", TagSpecifications=[
        {"ResourceType": "snapshot", "Tags": [{"Key": "kind", "Value": "loose"}]}])
    assert (taken["State"], taken["VolumeId"], taken["VolumeSize"]) == ("pending", floating, 1)
    ec2.get_waiter("snapshot_completed").wait(SnapshotIds=[taken["SnapshotId"]], WaiterConfig=FAST)
    volume = ec2.describe_volumes(VolumeIds=[floating])["Volumes"][0]
    assert volume["State"] == "available" and volume["Attachments"] == []  # the volume stays free
    listed = {v["VolumeId"] for v in ec2.describe_volumes()["Volumes"]}
    assert "vol-" + taken["SnapshotId"].split("-", 1)[1] not in listed  # the copy is a snapshot, not a volume
    mine = ec2.describe_snapshots(Filters=[{"Name": "volume-id", "Values": [floating]}])["Snapshots"]
    assert [(s["SnapshotId"], s["Description"], s["Tags"]) for s in mine] == [
        (taken["SnapshotId"], "loose", [{"Key": "kind", "Value": "loose"}])]

    expect("UnsupportedOperation", ec2.copy_snapshot, SourceSnapshotId=vm_snapshot, SourceRegion="barcelona")
    expect("InvalidSnapshot.NotFound", ec2.copy_snapshot, SourceSnapshotId="snap-" + "0" * 32,
           SourceRegion="us-east-1")
    copy_of_loose = ec2.copy_snapshot(SourceSnapshotId=taken["SnapshotId"], SourceRegion="us-east-1")["SnapshotId"]
    copy_of_vm = ec2.copy_snapshot(SourceSnapshotId=vm_snapshot, SourceRegion="us-east-1",
                                   Description="copied")["SnapshotId"]
    ec2.get_waiter("snapshot_completed").wait(SnapshotIds=[copy_of_loose, copy_of_vm], WaiterConfig=FAST)
    copies = {s["SnapshotId"]: s for s in ec2.describe_snapshots(SnapshotIds=[copy_of_loose, copy_of_vm])[
        "Snapshots"]}
    assert (copies[copy_of_loose]["VolumeSize"], copies[copy_of_loose]["Description"]) == (1, "loose")
    assert (copies[copy_of_vm]["VolumeSize"], copies[copy_of_vm]["Description"]) == (2, "copied")
    assert copies[copy_of_vm]["VolumeId"] == snapshotted[0]

    ec2.delete_volume(VolumeId=floating)  # a snapshot outlives its volume
    ec2.get_waiter("volume_deleted").wait(VolumeIds=[floating], WaiterConfig=FAST)
    restored = [ec2.create_volume(SnapshotId=taken["SnapshotId"], Size=3, AvailabilityZone=zone)["VolumeId"],
                ec2.create_volume(SnapshotId=copy_of_vm, AvailabilityZone=zone)["VolumeId"]]
    assert ec2.describe_volumes(VolumeIds=restored[:1])["Volumes"][0]["State"] == "creating"
    ec2.get_waiter("volume_available").wait(VolumeIds=restored, WaiterConfig=FAST)
    sizes = {v["VolumeId"]: (v["Size"], v["SnapshotId"]) for v in ec2.describe_volumes(VolumeIds=restored)["Volumes"]}
    assert sizes == {restored[0]: (3, taken["SnapshotId"]), restored[1]: (2, copy_of_vm)}
    for snapshot_id in (taken["SnapshotId"], copy_of_loose, copy_of_vm):
        ec2.delete_snapshot(SnapshotId=snapshot_id)
        expect("InvalidSnapshot.NotFound", ec2.describe_snapshots, SnapshotIds=[snapshot_id])
    for volume_id in restored:
        ec2.delete_volume(VolumeId=volume_id)
    eventually(lambda: not engine_helpers(gateway))
