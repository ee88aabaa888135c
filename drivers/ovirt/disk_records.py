"""What the engine keeps no record of about disks, kept by the driver in the store per data center.

- **When a disk came to be.** oVirt's Disk type has no creation time (the API model lists none; only VMs,
  templates and snapshots carry dates). A disk's time is therefore the gateway's own honest one: when it
  created the disk (CreateVolume), when it learned the disks of a VM it created (the VM's creation time,
  as the engine copied them then), else when it first saw the disk in a listing. Recorded once, never
  moved, so every frontend shows the same time on every read; never the epoch.
- **The device name a client asked for.** A disk attachment has no client-chosen name in oVirt; the guest
  reports its own (`logical_name`, e.g. /dev/vdb) only while it runs. EC2 shows the name given to
  AttachVolume or a launch's mapping (Terraform's aws_volume_attachment finds its attachment by it), and a
  launch records the names its image gave the disks it copied, so the driver keeps it per (VM, disk) and
  answers it as VolumeAttachment.device; device_names names the rest by their bus.
- **Whether terminating the VM deletes the disk** (EC2's DeleteOnTermination). oVirt's DiskAttachment has
  no such property and its VM removal is all or nothing (every disk removed, or with `detach_only` every
  disk kept, which the engine refuses for a VM made from a template), so the choice is the gateway's: kept
  per (VM, disk), true for the disks a launch made unless its mapping said false, false for an attached volume
  unless the attach asked otherwise (CIMI's `deleteOnTerminate`), changed by ModifyInstanceAttribute or a CIMI
  MachineVolume edit; without a record, the boot disk is deleted and the others are kept.
  The terminate operation reads it (see operations.TerminateInstance.step_keep_volumes).

Records of disks or attachments that are gone are dropped by a full, admin-level volume listing (a user-level
one sees only part of the data center and must not judge what is gone).
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timezone

from gateway.model import Volume, VolumeAttachment
from gateway.store import Store

DISK_RECORD = "ovirt.disk"      # entity per disk: {"id", "created"}
DEVICE_RECORD = "ovirt.device"  # entity per attachment: {"id": "<vm>/<disk>", "vm_id", "disk_id", "device"}
TERMINATION_RECORD = "ovirt.termination"  # entity per attachment: {"id": "<vm>/<disk>", "vm_id", "disk_id", "delete"}


def _now() -> datetime:
    return datetime.now(timezone.utc)


# --- creation times -------------------------------------------------------------------------------------
def record_created(store: Store, place_key: str, disk_ids: Iterable[str], when: datetime | None = None) -> None:
    """Remember when these disks came to be, unless a time is already kept (the first one stands)."""
    disk_ids = list(dict.fromkeys(disk_ids))
    known = {r.get("id") for r in store.entities(DISK_RECORD, place_key, disk_ids)}
    stamp = (when or _now()).isoformat()
    for disk_id in disk_ids:
        if disk_id and disk_id not in known:
            store.put_entity(DISK_RECORD, place_key, disk_id, {"id": disk_id, "created": stamp})


def record_source(store: Store, place_key: str, disk_id: str, snapshot_id: str) -> None:
    """Remember the snapshot a disk was copied from (the engine keeps no trace of it on the copy)."""
    record = store.entity(DISK_RECORD, place_key, disk_id) or {"id": disk_id, "created": _now().isoformat()}
    store.put_entity(DISK_RECORD, place_key, disk_id, {**record, "snapshot_id": snapshot_id})


def fill_created(store: Store, place_key: str, volumes: Iterable[Volume], *,
                 every_disk: set[str] | None = None) -> None:
    """Give each volume the engine left undated its kept time, first recording the ones never seen before, and
    each copied from a snapshot that snapshot's id.

    `every_disk`: the ids of all the data center's disks, when the listing saw them all; records of other
    disks are then dropped.
    """
    records = {r["id"]: r for r in store.entities(DISK_RECORD, place_key) if r.get("id")}
    now = _now()
    undated = []
    for volume in volumes:
        volume.snapshot_id = volume.snapshot_id or records.get(volume.id, {}).get("snapshot_id")
        if volume.created is not None:
            continue
        record = records.get(volume.id)
        if record is None:
            undated.append(volume)
        else:
            volume.created = datetime.fromisoformat(record["created"])
    if undated:  # one transaction; a listing racing this one keeps whichever time was kept first
        store.add_entities(DISK_RECORD, place_key, {v.id: {"id": v.id, "created": now.isoformat()} for v in undated})
        kept = {r["id"]: r for r in store.entities(DISK_RECORD, place_key) if r.get("id")}
        for volume in undated:
            volume.created = datetime.fromisoformat(kept[volume.id]["created"]) if volume.id in kept else now
    if every_disk is not None:
        store.delete_entities(DISK_RECORD, place_key, set(records) - every_disk)


# --- requested device names -----------------------------------------------------------------------------
def _key(vm_id: str, disk_id: str) -> str:
    return f"{vm_id}/{disk_id}"


def attachment_keys(attachments: Iterable[VolumeAttachment]) -> list[str]:
    """The keys of these attachments' records (a few instances' records are read by key, not all of them)."""
    return [_key(a.instance_id, a.volume_id) for a in attachments]


def requested_devices(store: Store, place_key: str, keys: Iterable[str] | None = None) -> dict[str, str]:
    """'<vm>/<disk>' -> the device name a client gave when attaching (one store query); only `keys` if given."""
    return {r["id"]: r["device"] for r in store.entities(DEVICE_RECORD, place_key, keys) if r.get("device")}


def name_attachments(attachments: Iterable[VolumeAttachment], requested: dict[str, str]) -> None:
    """The requested name where one was given, else the guest's (left as it is)."""
    for a in attachments:
        a.device = requested.get(_key(a.instance_id, a.volume_id)) or a.device


def remember_device(store: Store, place_key: str, vm_id: str, disk_id: str, device: str | None) -> None:
    """Keep the name an attach asked for; an attach without one drops any older name of that pair."""
    if device:
        store.put_entity(DEVICE_RECORD, place_key, _key(vm_id, disk_id),
                         {"id": _key(vm_id, disk_id), "vm_id": vm_id, "disk_id": disk_id, "device": device})
    else:
        store.delete_entity(DEVICE_RECORD, place_key, _key(vm_id, disk_id))


def forget_device(store: Store, place_key: str, vm_id: str, disk_id: str) -> None:
    store.delete_entity(DEVICE_RECORD, place_key, _key(vm_id, disk_id))


def forget_devices_of(store: Store, place_key: str, vm_id: str) -> None:
    """Drop every name and termination choice kept for a removed VM's attachments."""
    for kind in (DEVICE_RECORD, TERMINATION_RECORD):
        for record in store.entities(kind, place_key):
            if record.get("vm_id") == vm_id:
                store.delete_entity(kind, place_key, record["id"])


def prune_devices(store: Store, place_key: str, requested: dict[str, str],
                  attachments: Iterable[VolumeAttachment]) -> None:
    """Drop names of attachments that no longer exist (`attachments`: every one of the data center)."""
    store.delete_entities(DEVICE_RECORD, place_key,
                          set(requested) - {_key(a.instance_id, a.volume_id) for a in attachments})


# --- what terminating a VM does to each disk ------------------------------------------------------------
def termination_choices(store: Store, place_key: str, keys: Iterable[str] | None = None) -> dict[str, bool]:
    """'<vm>/<disk>' -> whether terminating the VM deletes the disk, where a choice was recorded (one query);
    only `keys` if given."""
    return {r["id"]: bool(r.get("delete")) for r in store.entities(TERMINATION_RECORD, place_key, keys)
            if r.get("id")}


def mark_termination(attachments: Iterable[VolumeAttachment], choices: dict[str, bool]) -> None:
    """The recorded choice where there is one, else the mapping's default (the boot disk goes)."""
    for a in attachments:
        a.delete_on_termination = choices.get(_key(a.instance_id, a.volume_id), a.delete_on_termination)


def remember_termination(store: Store, place_key: str, vm_id: str, disk_ids: Iterable[str], delete: bool) -> None:
    for disk_id in dict.fromkeys(disk_ids):
        store.put_entity(TERMINATION_RECORD, place_key, _key(vm_id, disk_id),
                         {"id": _key(vm_id, disk_id), "vm_id": vm_id, "disk_id": disk_id, "delete": delete})


def forget_termination(store: Store, place_key: str, vm_id: str, disk_id: str) -> None:
    store.delete_entity(TERMINATION_RECORD, place_key, _key(vm_id, disk_id))


def prune_termination(store: Store, place_key: str, choices: dict[str, bool],
                      attachments: Iterable[VolumeAttachment]) -> None:
    """Drop choices of attachments that no longer exist (`attachments`: every one of the data center)."""
    store.delete_entities(TERMINATION_RECORD, place_key,
                          set(choices) - {_key(a.instance_id, a.volume_id) for a in attachments})
