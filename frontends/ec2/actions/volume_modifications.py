"""ModifyVolume (grow a volume) and DescribeVolumesModifications.

oVirt extends a disk in place (its `provisioned_size`, never smaller) and keeps it locked meanwhile. A
modification is recorded in the store (`ec2.volume_modification`: original and target size, start time, the
data center, as each region lists only its own) and its state read from the disk: `modifying` while the
engine has it locked below the target, `optimizing` for the moment it is locked at the target size,
`completed` once it is unlocked at the target size (the end time is when that was first seen). The record
goes with the volume: DeleteVolume drops it, and housekeeping once the engine no longer has the volume
(`Store.keep_records`; until then a volume removed elsewhere shows `failed`). oVirt disks have no IOPS,
throughput or type classes: those are absent from the answers and refused in a request.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from gateway.errors import InvalidParameter, InvalidState
from gateway.model import ResourceState, Volume

from .. import ids, inventory, storage
from ..call import Call
from ..errors import Ec2Error, invalid_value
from ..filters import apply_filters, page_size, paginate
from . import action
from .volumes import MAX_SIZE_GIB

MODIFICATION_RECORD = storage.MODIFICATION_RECORD
MODIFICATION_FILTERS = {
    "volume-id": lambda m: [m["VolumeId"]],
    "modification-state": lambda m: [m["ModificationState"]],
    "target-size": lambda m: [m["TargetSize"]],
    "original-size": lambda m: [m["OriginalSize"]],
    "start-time": lambda m: [m["StartTime"].isoformat()],
}


def _record(call: Call, volume_id: str) -> dict[str, Any] | None:
    return call.gateway.store.entity(MODIFICATION_RECORD, call.scope.provider.name, volume_id)


def _item(call: Call, record: dict[str, Any], volume: Volume | None) -> dict[str, Any]:
    """The modification as EC2 shows it, its state read from the disk now (and its end kept once seen)."""
    target = int(record["target_size"])
    if record.get("end_time"):
        state = "completed"
    elif volume is None:
        state = "failed"
    elif volume.state is ResourceState.PENDING:
        state = "optimizing" if storage.gib(volume.size_bytes) >= target else "modifying"
    else:
        state = "completed" if storage.gib(volume.size_bytes) >= target else "modifying"
    if state == "completed" and not record.get("end_time"):
        record = {**record, "end_time": datetime.now(timezone.utc).isoformat()}
        call.gateway.store.put_entity(MODIFICATION_RECORD, call.scope.provider.name, record["id"], record)
    item: dict[str, Any] = {
        "VolumeId": ids.encode("vol", record["id"]), "ModificationState": state,
        "TargetSize": target, "TargetVolumeType": "standard", "TargetMultiAttachEnabled": False,
        "OriginalSize": int(record["original_size"]), "OriginalVolumeType": "standard",
        "OriginalMultiAttachEnabled": False, "Progress": 100 if state == "completed" else 0,
        "StartTime": datetime.fromisoformat(record["start_time"]),
    }
    if state == "failed":
        item["StatusMessage"] = "The volume no longer exists"
    if record.get("end_time"):
        item["EndTime"] = datetime.fromisoformat(record["end_time"])
    return item


@action("ModifyVolume", mutating=True)
def modify_volume(call: Call) -> dict[str, Any]:
    volume = storage.one_volume(call, ids.decode("vol", call.need("VolumeId")))
    for name in ("Iops", "Throughput"):
        if call.get(name) is not None:
            raise Ec2Error("UnsupportedOperation", f"oVirt disks have no {name.lower()} setting to modify")
    if call.get("MultiAttachEnabled"):
        raise Ec2Error("UnsupportedOperation", "oVirt disks here are single-attach")
    kind = call.get("VolumeType")
    if kind is not None and kind != "standard":
        raise Ec2Error("UnsupportedOperation", f"oVirt disks have one volume type, standard, not '{kind[:40]}'")
    current = storage.gib(volume.size_bytes)
    size = call.get("Size")
    if size is None:
        size = current
    if size < current:
        raise invalid_value(f"New size cannot be smaller than existing size: volume "
                            f"'{ids.encode('vol', volume.id)}' is {current} GiB")
    if size > MAX_SIZE_GIB:
        raise invalid_value(f"Volume size {size} GiB is out of range: it must be at most {MAX_SIZE_GIB} GiB")
    earlier = _record(call, volume.id)
    if earlier is not None and not earlier.get("end_time") and _item(call, earlier, volume)["ModificationState"] \
            != "completed":
        raise Ec2Error("IncorrectModificationState", f"Volume '{ids.encode('vol', volume.id)}' is already being "
                                                     "modified.")
    if volume.state not in (ResourceState.AVAILABLE, ResourceState.IN_USE):
        raise Ec2Error("IncorrectState", f"Cannot modify volume '{ids.encode('vol', volume.id)}': it is in the "
                                         f"'{storage.VOLUME_STATES[volume.state]}' state.")
    call.check_dry_run()
    if size > current:
        try:
            call.driver.resize_volume(call.scope, volume.id, size * storage.GIB)
        except InvalidState as exc:
            raise Ec2Error("IncorrectState", exc.message) from None
        except InvalidParameter as exc:
            raise invalid_value(exc.message) from None
    record = {"id": volume.id, "original_size": current, "target_size": size, "region": inventory.region_id(call),
              "start_time": datetime.now(timezone.utc).isoformat()}
    if size == current:
        record["end_time"] = record["start_time"]
    call.gateway.store.put_entity(MODIFICATION_RECORD, call.scope.provider.name, volume.id, record)
    item = _item(call, record, None if size == current else volume)
    if size > current:
        item["ModificationState"], item["Progress"] = "modifying", 0
    return {"VolumeModification": item}


@action("DescribeVolumesModifications")
def describe_volumes_modifications(call: Call) -> dict[str, Any]:
    given = call.get("VolumeIds")
    wanted = ids.decode_many("vol", given) if given else None
    size = page_size(call.get("MaxResults"), with_ids=bool(wanted), ids_name="VolumeIds")
    call.check_dry_run()
    records = {r["id"]: r for r in call.gateway.store.entities(MODIFICATION_RECORD, call.scope.provider.name)}
    if wanted is not None:
        volumes = {v.id: v for v in call.driver.volumes(call.scope, wanted)}
        for volume_id in dict.fromkeys(wanted):
            if volume_id not in volumes:
                raise Ec2Error("InvalidVolume.NotFound", f"The volume '{ids.encode('vol', volume_id)}' does not exist.")
            if volume_id not in records:
                raise Ec2Error("InvalidVolumeModification.NotFound",
                               f"Modification for volume '{ids.encode('vol', volume_id)}' does not exist.")
        records = {k: records[k] for k in dict.fromkeys(wanted)}
    else:  # this region's records (one kept before records named theirs: where its volume is)
        here = inventory.region_id(call)
        records = {k: r for k, r in records.items() if r.get("region", here) == here}
        volumes = {v.id: v for v in call.driver.volumes(call.scope, list(records))} if records else {}
        records = {k: r for k, r in records.items() if "region" in r or k in volumes}
    items = [_item(call, r, volumes.get(r["id"])) for r in records.values()]
    items = apply_filters(items, call.get("Filters"), MODIFICATION_FILTERS)
    page, token = paginate(items, lambda m: m["VolumeId"], size, call.get("NextToken"))
    return {"VolumesModifications": page, "NextToken": token}
