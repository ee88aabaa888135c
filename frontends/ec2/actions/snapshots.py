"""EBS snapshots on oVirt VM snapshots: DescribeSnapshots, CreateSnapshot, DeleteSnapshot.

oVirt snapshots disks of a VM (see ..storage): CreateSnapshot of a volume snapshots that one disk of the
VM it is attached to; of a volume attached to none, the driver copies the disk (a snapshot that is a disk
copy). CopySnapshot copies within the engine. The engine locks the snapshot
while it copies, shown as `pending` until it is `completed` (boto3's snapshot_completed waiter).
"""
from __future__ import annotations

from typing import Any

from gateway.errors import InvalidState
from gateway.model import ResourceState

from .. import ids, inventory, storage
from ..call import Call
from ..errors import Ec2Error
from ..filters import apply_filters, page_size, paginate
from ..render import timestamp
from ..tag_specifications import tags_for
from . import action

SNAPSHOT_FILTERS = {
    "snapshot-id": lambda s: [s["SnapshotId"]],
    "volume-id": lambda s: [s["VolumeId"]],
    "status": lambda s: [s["State"]],
    "owner-id": lambda s: [s["OwnerId"]],
    "description": lambda s: [s["Description"]],
    "volume-size": lambda s: [s["VolumeSize"]],
    "progress": lambda s: [s["Progress"]],
    "encrypted": lambda s: [s["Encrypted"]],
    "storage-tier": lambda s: [s["StorageTier"]],
    "start-time": lambda s: [timestamp(s["StartTime"])],
}


def _not_found(snapshot_id: str) -> Ec2Error:
    return Ec2Error("InvalidSnapshot.NotFound", f"The snapshot '{ids.encode('snap', snapshot_id)}' does not exist.")


@action("DescribeSnapshots")
def describe_snapshots(call: Call) -> dict[str, Any]:
    given = call.get("SnapshotIds")
    wanted = ids.decode_many("snap", given) if given else None
    size = page_size(call.get("MaxResults"), with_ids=bool(wanted), ids_name="SnapshotIds")
    call.check_dry_run()
    owner = inventory.account_id(call)
    owners = call.get("OwnerIds")
    if owners and not {"self", owner} & set(owners):  # every snapshot here is the caller's own
        return {"Snapshots": [], "NextToken": None}
    found = call.driver.snapshots(call.scope, wanted)
    if wanted is not None:
        known = {s.id for s in found}
        absent = [w for w in dict.fromkeys(wanted) if w not in known]
        if absent:
            raise _not_found(absent[0])
    records = storage.snapshot_records(call)
    sizes: dict[str, int] = {}
    if any(s.id not in records and s.volume_ids for s in found):  # taken outside EC2: size of its disk
        sizes = {v.id: v.size_bytes for v in call.driver.volumes(call.scope)}
    tags = call.driver.tags(call.scope, [s.id for s in found]) if found else {}
    items = [storage.snapshot_item(s, records.get(s.id, {}), owner_id=owner, tags=tags.get(s.id, {}), sizes=sizes)
             for s in found]
    items = apply_filters(items, call.get("Filters"), SNAPSHOT_FILTERS)
    page, token = paginate(items, lambda s: s["SnapshotId"], size, call.get("NextToken"))
    return {"Snapshots": page, "NextToken": token}


@action("CreateSnapshot", mutating=True)
def create_snapshot(call: Call) -> dict[str, Any]:
    volume = storage.one_volume(call, ids.decode("vol", call.need("VolumeId")))
    vol_id = ids.encode("vol", volume.id)
    tags = tags_for(call, "snapshot")
    if volume.state not in (ResourceState.AVAILABLE, ResourceState.IN_USE, ResourceState.PENDING):
        # PENDING (a locked disk) is left to the driver: a snapshot in progress locks the disk too, and
        # EC2 takes several snapshots of a volume at once; the driver waits such a lock out
        raise Ec2Error("IncorrectState", f"Cannot snapshot volume '{vol_id}': it is "
                                         f"'{storage.VOLUME_STATES[volume.state]}'.")
    instance_id = next((a.instance_id for a in volume.attachments if a.active),
                       volume.attachments[0].instance_id if volume.attachments else "")
    if not instance_id and volume.state is not ResourceState.AVAILABLE:
        raise Ec2Error("IncorrectState", f"Cannot snapshot volume '{vol_id}': it is "
                                         f"'{storage.VOLUME_STATES[volume.state]}'.")
    call.check_dry_run()
    try:
        if instance_id:
            snapshot = call.driver.create_snapshot(call.scope, instance_id, call.get("Description") or "",
                                                   volume_ids=[volume.id])
        else:  # attached to no instance: a copy of the disk (see the driver)
            snapshot = call.driver.snapshot_volume(call.scope, volume.id, call.get("Description") or "")
    except InvalidState as exc:
        raise Ec2Error("IncorrectState", exc.message) from None
    record = {"id": snapshot.id, "volume_id": volume.id, "volume_size": storage.gib(volume.size_bytes),
              "instance_id": instance_id, "description": call.get("Description") or ""}
    call.gateway.store.put_entity(storage.SNAPSHOT_RECORD, call.scope.provider.name, snapshot.id, record)
    if tags:
        call.driver.set_tags(call.scope, "snapshot", [snapshot.id], tags)
    return storage.snapshot_item(snapshot, record, owner_id=inventory.account_id(call), tags=tags, sizes={})


@action("DeleteSnapshot", mutating=True)
def delete_snapshot(call: Call) -> dict[str, Any]:
    snapshot_id = ids.decode("snap", call.need("SnapshotId"))
    if not call.driver.snapshots(call.scope, [snapshot_id]):
        raise _not_found(snapshot_id)
    call.check_dry_run()
    try:
        call.driver.delete_snapshot(call.scope, snapshot_id)
    except InvalidState as exc:
        raise Ec2Error("IncorrectState", exc.message) from None
    call.gateway.store.delete_entity(storage.SNAPSHOT_RECORD, call.scope.provider.name, snapshot_id)
    return {}


@action("CopySnapshot", mutating=True)
def copy_snapshot(call: Call) -> dict[str, Any]:
    """Within the engine: a new snapshot with the same content (a cross-region copy is refused: a region is a
    data center, and the copy would have to leave the engine's storage domains of this one)."""
    snapshot_id = ids.decode("snap", call.need("SourceSnapshotId"))
    source_region = call.need("SourceRegion")
    if call.get("Encrypted") or call.get("KmsKeyId"):
        raise Ec2Error("UnsupportedOperation", "oVirt disks here are not encrypted")
    found = call.driver.snapshots(call.scope, [snapshot_id])
    if not found:
        raise _not_found(snapshot_id)
    aliases = call.scope.provider.region_aliases  # `us-east-1` may name the data center `Default`
    if aliases.get(source_region, source_region) != aliases.get(call.region, call.region):
        raise Ec2Error("UnsupportedOperation", f"Copying a snapshot from region '{source_region[:40]}' is not "
                                               "supported: only copies within this region (data center) are")
    tags = tags_for(call, "snapshot")
    source = storage.snapshot_records(call).get(snapshot_id, {})
    call.check_dry_run()
    description = call.get("Description") or source.get("description") or found[0].description
    try:
        copy = call.driver.copy_snapshot(call.scope, snapshot_id, description)
    except InvalidState as exc:
        raise Ec2Error("IncorrectState", exc.message) from None
    record = {"id": copy.id, "volume_id": source.get("volume_id") or (found[0].volume_ids or [""])[0],
              "volume_size": source.get("volume_size") or storage.gib(found[0].size_bytes or next(
                  (v.size_bytes for v in call.driver.volumes(call.scope, found[0].volume_ids)), 0)),
              "description": description}
    call.gateway.store.put_entity(storage.SNAPSHOT_RECORD, call.scope.provider.name, copy.id, record)
    if tags:
        call.driver.set_tags(call.scope, "snapshot", [copy.id], tags)
    return {"SnapshotId": ids.encode("snap", copy.id), "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}
