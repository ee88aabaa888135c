"""EBS volumes and snapshots as boto3 sees them: items parsed back with botocore's EC2 parser, device
names consistent between instances and volumes, states and zones as documented in frontends.ec2.storage."""
from __future__ import annotations

from datetime import datetime, timezone

from frontends.ec2 import devices, storage
from frontends.ec2.render import render_response
from gateway.model import (
    Instance,
    InstanceState,
    ResourceState,
    Snapshot,
    Volume,
    VolumeAttachment,
)

from .ec2_roundtrip import parsed

VM = "aa000000-0000-4000-8000-000000000001"
ROOT = "d0000000-0000-4000-8000-000000000001"
DATA = "d0000000-0000-4000-8000-000000000002"
WHEN = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)


def instance(*attachments: VolumeAttachment) -> Instance:
    return Instance(id=VM, name="vm", state=InstanceState.RUNNING, realm_id="zone-b", attachments=list(attachments))


def test_device_names_root_first_and_never_repeated() -> None:
    boot = VolumeAttachment(ROOT, VM, bootable=True)
    data = VolumeAttachment(DATA, VM)
    reported = VolumeAttachment("d3", VM, device="/dev/sdb")
    assert devices.names([boot, data]) == ["/dev/sda1", "/dev/sdb"]
    assert devices.names([boot, data, reported]) == ["/dev/sda1", "/dev/sdc", "/dev/sdb"]
    assert devices.root_name([data, boot]) == "/dev/sda1"
    guest = VolumeAttachment(ROOT, VM, device="/dev/vda", bootable=True)
    assert devices.root_name([guest, data]) == "/dev/vda"  # Terraform matches RootDeviceName to a mapping
    assert devices.root_name([]) == "/dev/sda1"


def test_volume_items_round_trip_with_the_instances_zone_and_device() -> None:
    boot, data = VolumeAttachment(ROOT, VM, bootable=True), VolumeAttachment(DATA, VM, attached_at=WHEN)
    context = storage.VolumeContext(instances={VM: instance(boot, data)}, zones={"zone-a": "A", "zone-b": "B"},
                                    records={"loose": {"zone": "A", "created": WHEN.isoformat()}},
                                    default_zone="A", owner_id="1")
    attached = Volume(id=DATA, name="data", size_bytes=5 * storage.GIB + 1, state=ResourceState.IN_USE,
                      created=WHEN, attachments=[data], tags={"Name": "data"})
    loose = Volume(id="loose", name="loose", size_bytes=storage.GIB, state=ResourceState.PENDING)
    items = [storage.volume_item(v, context) for v in (attached, loose)]
    volumes = parsed("DescribeVolumes", {"Volumes": items})["Volumes"]
    assert volumes[0]["VolumeId"] == "vol-d0000000000040008000000000000002"
    assert volumes[0]["Size"] == 6 and volumes[0]["State"] == "in-use" and volumes[0]["AvailabilityZone"] == "B"
    assert volumes[0]["Attachments"] == [{
        "VolumeId": volumes[0]["VolumeId"], "InstanceId": "i-aa000000000040008000000000000001",
        "Device": "/dev/sdb", "State": "attached", "DeleteOnTermination": False, "AttachTime": WHEN}]
    assert volumes[0]["Tags"] == [{"Key": "Name", "Value": "data"}]
    assert volumes[1]["State"] == "creating" and volumes[1]["AvailabilityZone"] == "A"
    assert volumes[1]["CreateTime"] == WHEN and volumes[1]["Attachments"] == []
    created = parsed("CreateVolume", items[1])
    assert created["VolumeId"] == "vol-loose" and created["VolumeType"] == "standard" and not created["Encrypted"]


def test_volume_states() -> None:
    assert storage.VOLUME_STATES == {ResourceState.PENDING: "creating", ResourceState.AVAILABLE: "available",
                                     ResourceState.IN_USE: "in-use", ResourceState.DELETING: "deleting",
                                     ResourceState.ERROR: "error"}


def test_attachment_answers_parse() -> None:
    out = parsed("AttachVolume", {"VolumeId": "vol-1", "InstanceId": "i-1", "Device": "/dev/sdf",
                                  "State": "attaching", "AttachTime": WHEN, "DeleteOnTermination": False})
    assert out["State"] == "attaching" and out["Device"] == "/dev/sdf" and out["AttachTime"] == WHEN
    assert parsed("DetachVolume", {"VolumeId": "vol-1", "State": "detaching"})["State"] == "detaching"
    assert "<return>true</return>" in render_response("DeleteVolume", {}, "r", None).decode()


def test_snapshot_names_the_volume_it_was_asked_for() -> None:
    snap = Snapshot(id="5a000000-0000-4000-8000-000000000001", instance_id=VM, description="nightly",
                    state=ResourceState.PENDING, created=WHEN, volume_ids=[ROOT, DATA])
    asked = storage.snapshot_item(snap, {"volume_id": DATA, "volume_size": 6}, owner_id="1", tags={"k": "v"},
                                  sizes={})
    foreign = storage.snapshot_item(snap, {}, owner_id="1", tags={}, sizes={ROOT: 10 * storage.GIB})
    out = parsed("DescribeSnapshots", {"Snapshots": [asked, foreign]})["Snapshots"]
    assert out[0]["SnapshotId"] == "snap-5a000000000040008000000000000001"
    assert out[0]["VolumeId"] == "vol-d0000000000040008000000000000002" and out[0]["VolumeSize"] == 6
    assert out[0]["State"] == "pending" and out[0]["Progress"] == "0%" and out[0]["Tags"] == [{"Key": "k", "Value": "v"}]
    assert out[1]["VolumeId"] == "vol-d0000000000040008000000000000001" and out[1]["VolumeSize"] == 10
    snap.state = ResourceState.AVAILABLE
    done = parsed("CreateSnapshot", storage.snapshot_item(snap, {}, owner_id="1", tags={}, sizes={}))
    assert done["State"] == "completed" and done["Progress"] == "100%" and done["StartTime"] == WHEN
    snap.volume_ids = []
    assert storage.snapshot_item(snap, {}, owner_id="1", tags={}, sizes={})["VolumeId"] == storage.UNKNOWN_VOLUME


def test_time_filters_compare_with_the_rendered_timestamp() -> None:
    """A create-time/start-time filter value is what DescribeVolumes/DescribeSnapshots show, milliseconds included."""
    from frontends.ec2.actions.snapshots import SNAPSHOT_FILTERS
    from frontends.ec2.actions.volumes import VOLUME_FILTERS

    when = datetime(2026, 1, 2, 3, 4, 5, 123456, tzinfo=timezone.utc)
    assert VOLUME_FILTERS["create-time"]({"CreateTime": when}) == ["2026-01-02T03:04:05.123Z"]
    assert SNAPSHOT_FILTERS["start-time"]({"StartTime": when}) == ["2026-01-02T03:04:05.123Z"]
