"""oVirt disks as EBS volumes and VM snapshots as EBS snapshots: the response dicts and what they need.

Volumes. A disk lives in a storage domain of the data center, not in a cluster, and oVirt attaches it to
any VM of the data center. EC2 wants one availability zone per volume, so a volume's zone is that of
the instance it is attached to; else the zone it was created in (kept in the store, `ec2.volume`); else
the data center's first zone by name, where it can be attached as well as anywhere. States: a locked
disk is `creating` (or `deleting` when this gateway removed it), a disk with an active attachment
`in-use`, an illegal one `error`; a removed disk is gone (InvalidVolume.NotFound, what boto3's
volume_deleted waiter waits for). oVirt disks have no performance classes: every volume is `standard`,
unencrypted, single-attach.

Snapshots. oVirt snapshots a VM, narrowed to chosen disks of it: an EBS snapshot of a volume is a
snapshot of the VM the volume is attached to covering that one disk, so its VolumeId and VolumeSize are
the volume's (also kept in the store, `ec2.snapshot`, as the engine names a snapshot's disks only when a
listing follows them), and so is its description as the client gave it (the engine requires one, so a
snapshot asked for without one gets the driver's, which EC2 clients never see). A snapshot taken outside EC2 names its first disk. An unattached volume has no VM
to snapshot: its snapshot is the driver's copy of the disk. A volume made from a snapshot names it (SnapshotId,
kept in the volume's `ec2.volume` record).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from gateway.model import Instance, ResourceState, Snapshot, Volume

from . import devices, ids, inventory
from .call import Call
from .errors import Ec2Error
from .present import EPOCH, tag_list

GIB = 1 << 30
VOLUME_RECORD = "ec2.volume"  # store entity: the zone a volume was created in
MODIFICATION_RECORD = "ec2.volume_modification"  # store entity: a volume's last ModifyVolume (volume_modifications)
SNAPSHOT_RECORD = "ec2.snapshot"  # store entity: the volume (and its size) a snapshot was asked for
VOLUME_STATES = {ResourceState.PENDING: "creating", ResourceState.AVAILABLE: "available",
                 ResourceState.IN_USE: "in-use", ResourceState.DELETING: "deleting", ResourceState.ERROR: "error"}
SNAPSHOT_STATES = {ResourceState.PENDING: "pending", ResourceState.AVAILABLE: "completed",
                   ResourceState.IN_USE: "completed", ResourceState.DELETING: "pending",
                   ResourceState.ERROR: "error"}
UNKNOWN_VOLUME = "vol-ffffffff"  # what EC2 answers for a snapshot whose volume it cannot name


def gib(size_bytes: int | None) -> int:
    return max(1, -(-(size_bytes or 0) // GIB))


@dataclass
class VolumeContext:
    """What volume items need besides the volumes, fetched once per request."""

    instances: dict[str, Instance] = field(default_factory=dict)  # attached instances by id
    zones: dict[str, str] = field(default_factory=dict)  # realm id -> zone name
    records: dict[str, dict[str, Any]] = field(default_factory=dict)  # volume id -> ec2.volume record
    default_zone: str = ""
    owner_id: str = ""


def volume_context(call: Call, volumes: list[Volume]) -> VolumeContext:
    """Instances are looked up only for attachments whose realm the driver did not give: a driver that lists
    volumes with their instances' realms (and named devices) costs no second listing of every instance."""
    attached = sorted({a.instance_id for v in volumes for a in v.attachments if a.realm_id is None})
    instances = {i.id: i for i in call.driver.instances(call.scope, attached)} if attached else {}
    zones = inventory.zone_names(call)
    records = {r["id"]: r for r in call.gateway.store.entities(VOLUME_RECORD, call.scope.provider.name)}
    return VolumeContext(instances=instances, zones=zones, records=records,
                         default_zone=min(zones.values(), default=""), owner_id=inventory.account_id(call))


def put_volume_record(call: Call, volume_id: str, **values: Any) -> None:
    call.gateway.store.put_entity(VOLUME_RECORD, call.scope.provider.name, volume_id, {"id": volume_id, **values})


def _device(volume_id: str, instance: Instance | None, reported: str | None) -> str:
    """The name DescribeInstances gives this volume on that instance (see devices)."""
    if instance is not None:
        for attachment, name in zip(instance.attachments, devices.names(instance.attachments)):
            if attachment.volume_id == volume_id:
                return name
    return reported or devices.ROOT_DEVICE


def volume_zone(volume: Volume, context: VolumeContext) -> str:
    for attachment in volume.attachments:
        instance = context.instances.get(attachment.instance_id)
        realm_id = attachment.realm_id or (instance.realm_id if instance is not None else None)
        if realm_id in context.zones:
            return context.zones[realm_id]
    return context.records.get(volume.id, {}).get("zone") or context.default_zone


def created(volume: Volume, context: VolumeContext) -> datetime:
    """When the volume was made: the engine's time, else the one recorded at CreateVolume, else unknown."""
    if volume.created is not None:
        return volume.created
    recorded = context.records.get(volume.id, {}).get("created")
    return datetime.fromisoformat(recorded) if recorded else EPOCH


def volume_item(volume: Volume, context: VolumeContext) -> dict[str, Any]:
    create_time = created(volume, context)
    attachments = []
    for a in volume.attachments:
        instance = context.instances.get(a.instance_id)
        attachments.append({
            "VolumeId": ids.encode("vol", volume.id), "InstanceId": ids.instance_id(a.instance_id),
            "Device": _device(volume.id, instance, a.device), "State": "attached" if a.active else "detached",
            "DeleteOnTermination": a.delete_on_termination, "AttachTime": a.attached_at or create_time})
    return {
        "VolumeId": ids.encode("vol", volume.id), "Size": gib(volume.size_bytes),
        "SnapshotId": _snapshot_of(volume, context),
        "AvailabilityZone": volume_zone(volume, context), "State": VOLUME_STATES[volume.state],
        "CreateTime": create_time, "Attachments": attachments, "VolumeType": "standard",
        "Encrypted": False, "MultiAttachEnabled": False, "Tags": tag_list(volume.tags),
    }


def _snapshot_of(volume: Volume, context: VolumeContext) -> str:
    """The snapshot a volume was made from (CreateVolume's SnapshotId, a launch mapping's), "" for one made empty."""
    snapshot_id = context.records.get(volume.id, {}).get("snapshot_id") or volume.snapshot_id
    return ids.encode("snap", snapshot_id) if snapshot_id else ""


def one_volume(call: Call, volume_id: str) -> Volume:
    found = call.driver.volumes(call.scope, [volume_id])
    if not found:
        raise Ec2Error("InvalidVolume.NotFound", f"The volume '{ids.encode('vol', volume_id)}' does not exist.")
    return found[0]


def snapshot_records(call: Call) -> dict[str, dict[str, Any]]:
    return {r["id"]: r for r in call.gateway.store.entities(SNAPSHOT_RECORD, call.scope.provider.name)}


def snapshot_item(snapshot: Snapshot, record: dict[str, Any], *, owner_id: str, tags: dict[str, str],
                  sizes: dict[str, int]) -> dict[str, Any]:
    """One EBS snapshot; `sizes` maps volume id -> bytes for snapshots taken outside EC2."""
    volume_id = record.get("volume_id") or (snapshot.volume_ids[0] if snapshot.volume_ids else None)
    size = record.get("volume_size") or gib(snapshot.size_bytes or sizes.get(volume_id or "", 0))
    state = SNAPSHOT_STATES[snapshot.state]
    started: datetime = snapshot.created or EPOCH
    return {
        "SnapshotId": ids.encode("snap", snapshot.id),
        "VolumeId": ids.encode("vol", volume_id) if volume_id else UNKNOWN_VOLUME,
        "State": state, "StartTime": started, "Progress": "100%" if state == "completed" else "0%",
        "OwnerId": owner_id, "Description": record.get("description", snapshot.description), "VolumeSize": size,
        "Encrypted": False,
        "StorageTier": "standard", "Tags": tag_list(tags),
    }


def snapshot_gib(call: Call, snapshot_id: str) -> int:
    """The GiB of the snapshot a volume is made from (InvalidSnapshot.NotFound if there is none)."""
    found = call.driver.snapshots(call.scope, [snapshot_id])
    if not found:
        raise Ec2Error("InvalidSnapshot.NotFound", f"The snapshot '{ids.encode('snap', snapshot_id)}' does not exist.")
    record = snapshot_records(call).get(snapshot_id, {})
    if record.get("volume_size"):
        return int(record["volume_size"])
    sizes = {v.id: v.size_bytes for v in call.driver.volumes(call.scope, found[0].volume_ids)}
    return gib(found[0].size_bytes or sizes.get(found[0].volume_ids[0] if found[0].volume_ids else "", 0))
