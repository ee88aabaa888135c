"""A launch's block device mappings, as steps of the durable `ovirt.run` operation, before the first start.

- `drop_devices` (NoDevice): the image's disks the client left out are removed from the new VM
  (DiskAttachmentService.remove with `detach_only=false`: detached and deleted in one engine call). Which
  disks those are is settled once, when the VM's disks are first listed (`drop_ids`), so a repeated step
  never takes a disk that moved up a letter. One already gone (a repeated step) is skipped.
- `add_volumes`: each new blank volume (those from snapshots are launch_snapshots') is created and attached in
  one call (DiskAttachmentsService.add with a new `<disk>`: size, thin `cow` format, the boot disk's storage
  domain), its description marking the launch and the device (`cloudgw-launch-<operation> /dev/sdb`). Before
  asking, the step reads the VM's disks and skips every volume whose mark is there: a gateway killed between
  the engine's answer and its own record finds the disk on the next run instead of making a second one, and a
  disk attached to the VM is never orphaned (the VM's removal takes it along, or keeps it when its
  DeleteOnTermination is false). The step waits until the engine has created every volume (a locked disk would
  refuse the start).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lxml.builder import E

from gateway.errors import InvalidState, NotFound
from gateway.model import LaunchVolume, from_json
from gateway.operations import Done, Fail, Next, Operation, Outcome, Wait
from gateway.scope import Scope

from . import device_names, disk_records
from .base import launch_mark

if TYPE_CHECKING:
    from .operations import OvirtOperation

AFTER_DISKS = ("drop_devices", "add_volumes", "snapshot_volumes", "grow_root", "start")


def following(data: dict[str, Any], after: str, learned: dict[str, Any] | None = None) -> Outcome:
    """The next step the launch still needs after `after` (`learned` merged into its data), or Done."""
    merged = {**data, **(learned or {})}
    new = merged.get("new_volumes") or []
    needed = {"drop_devices": bool(merged.get("drop_ids")),
              "add_volumes": any(not v.get("snapshot_id") for v in new),
              "snapshot_volumes": any(v.get("snapshot_id") for v in new),
              "grow_root": bool(merged.get("root_volume_bytes")), "start": bool(merged.get("start"))}
    later = AFTER_DISKS[AFTER_DISKS.index(after) + 1:] if after in AFTER_DISKS else AFTER_DISKS
    step = next((s for s in later if needed[s]), None)
    return Next(step, data=learned or {}) if step else Done(data=learned or {})


def volume_mark(operation_id: str, device: str) -> str:
    return f"{launch_mark(operation_id)} {device}"


def drop(step: "OvirtOperation", op: Operation, scope: Scope) -> Outcome:
    vm_id = op.data["vm_id"]
    vm = step.vm(scope, vm_id, follow="disk_attachments")
    if vm is None:
        return Fail("The instance was removed before it could start")
    attached = {a.get("id") for a in vm.iterfind("disk_attachments/disk_attachment")}
    store, place = step.driver.store, op.data["place"]
    for disk_id in op.data.get("drop_ids") or []:
        if disk_id in attached:
            try:
                step.driver._call(scope, "DELETE", f"vms/{vm_id}/diskattachments/{disk_id}",
                                  params={"detach_only": "false"}, idempotent=True, what=("volume", disk_id))
            except NotFound:
                pass  # removed by a run of this step that did not live to record it
            except InvalidState:
                return Wait(step.poll)  # locked for a moment
            store.add_tombstone(place, disk_id, "volume", {})
        disk_records.forget_device(store, place, vm_id, disk_id)
        disk_records.forget_termination(store, place, vm_id, disk_id)
        store.delete_tags(scope.provider.name, [disk_id])
    return following(op.data, "drop_devices")


def add(step: "OvirtOperation", op: Operation, scope: Scope) -> Outcome:
    vm_id = op.data["vm_id"]
    vm = step.vm(scope, vm_id, follow="disk_attachments.disk")
    if vm is None:
        return Fail("The instance was removed before it could start")
    if vm.findtext("status") == "image_locked":
        return Wait(step.poll)
    made: dict[str, Any] = {}
    domain = None
    for attachment in vm.iterfind("disk_attachments/disk_attachment"):
        disk = attachment.find("disk")
        if disk is None:
            continue
        made[disk.findtext("description") or ""] = disk
        if attachment.findtext("bootable") == "true":
            domain = disk.find("storage_domains/storage_domain")
    domain_id = domain.get("id") if domain is not None else None
    creating = False
    for volume in (from_json(LaunchVolume, v) for v in op.data.get("new_volumes") or []):
        if volume.snapshot_id:
            continue  # made from its snapshot by the next step (launch_snapshots)
        mark = volume_mark(op.id, volume.device)
        disk = made.get(mark)
        if disk is None:
            if domain_id is None:
                domain_id = step.driver._data_domain(scope, step.driver._place(scope), None)
            name = f"{vm.findtext('name') or 'vm'}_{volume.device.rsplit('/', 1)[-1]}"
            body = E.disk_attachment(
                E.bootable("false"), E.interface(device_names.interface_for(volume.device)), E.active("true"),
                E.disk(E.alias(name), E.name(name), E.description(mark), E.provisioned_size(str(volume.size_bytes)),
                       E.format("cow"), E.sparse("true"), E.storage_domains(E.storage_domain(id=domain_id))))
            try:
                created = step.driver._call(scope, "POST", f"vms/{vm_id}/diskattachments", body=body,
                                            idempotent=False, what=("instance", vm_id))
            except InvalidState:
                return Wait(step.poll)  # the VM is busy for a moment: the next run looks again first
            if created is None:
                return Wait(step.poll)  # no description: the next run finds the disk by its mark
            disk_id, locked = created.get("id", ""), True
        else:
            disk_id, locked = disk.get("id", ""), disk.findtext("status") == "locked"
        remember(step, op, scope, disk_id, volume)
        creating = creating or locked
    if creating:
        return Wait(step.poll)
    return following(op.data, "add_volumes")


def remember(step: "OvirtOperation", op: Operation, scope: Scope, disk_id: str, volume: LaunchVolume) -> None:
    """What the engine keeps no record of: the device name, the termination choice, tags, the time (repeatable)."""
    store, place, vm_id = step.driver.store, op.data["place"], op.data["vm_id"]
    disk_records.remember_device(store, place, vm_id, disk_id, volume.device)
    disk_records.remember_termination(store, place, vm_id, [disk_id], volume.delete_on_termination)
    disk_records.record_created(store, place, [disk_id])
    if op.data.get("volume_tags"):
        store.set_tags(scope.provider.name, "volume", [disk_id], op.data["volume_tags"])
