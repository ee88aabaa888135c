"""A launch's volumes from snapshots (`Ebs.SnapshotId`): the `snapshot_volumes` step of `ovirt.run`.

Each is made as CreateVolume makes a volume from a snapshot, by an `ovirt.volume_from_snapshot` operation
(snapshot_copies), here queued for a worker rather than begun in a request. Its id is derived from the launch
and the device, so a step repeated after a crash finds the copy it began instead of beginning a second one.
Once the copy is a floating disk of its own, it is attached to the new VM on the device's bus (`POST
vms/{id}/diskattachments` naming the disk) and recorded like the launch's other volumes (device name,
DeleteOnTermination, tags), with the snapshot it came from. The step waits until every copy is attached, so
the first start finds them all.

A copy that fails for good fails the launch; the step first waits for the other copies to end and removes
those not attached to the VM (one attached goes with the VM, or stays as its DeleteOnTermination says), so
no copy is left behind unseen.
"""
from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from lxml.builder import E

from gateway.errors import InvalidState, NotFound
from gateway.model import LaunchVolume, from_json
from gateway.operations import ACTIVE_STATES, DONE, FAILED, Fail, Operation, Outcome, Wait

from . import device_names, disk_records, launch_volumes, mapping

if TYPE_CHECKING:
    from gateway.scope import Scope

    from .operations import OvirtOperation

COPY_NAMESPACE = uuid.UUID("5d0c7c52-52b5-4b7e-9d8e-6c1f3a9e0b11")


def copy_id(launch_id: str, device: str) -> str:
    """The id of the operation that copies the snapshot of a launch's device: the same on every run."""
    return uuid.uuid5(COPY_NAMESPACE, f"{launch_id} {device}").hex


def from_snapshots(data: dict[str, Any]) -> list[LaunchVolume]:
    """The launch's new volumes that come from snapshots."""
    volumes = (from_json(LaunchVolume, v) for v in data.get("new_volumes") or [])
    return [v for v in volumes if v.snapshot_id]


def restore(step: "OvirtOperation", op: Operation, scope: "Scope") -> Outcome:
    """Queue each copy not yet queued, attach each one done, wait for the rest; then the launch's next step."""
    vm_id = op.data["vm_id"]
    vm = step.vm(scope, vm_id, follow="disk_attachments")
    attached = {a.get("id") for a in vm.iterfind("disk_attachments/disk_attachment")} if vm is not None else set()
    operations = step.driver.operations
    copies = {v.device: (v, operations.get(copy_id(op.id, v.device))) for v in from_snapshots(op.data)}
    failed = [(v, c) for v, c in copies.values() if c is not None and c.state == FAILED]
    if vm is None or failed:
        if any(c is not None and c.state in ACTIVE_STATES for _, c in copies.values()):
            return Wait(step.poll)  # let the other copies end first, then remove what no VM holds
        _remove_unattached(step, scope, [c for _, c in copies.values() if c is not None], attached)
        if vm is None:
            return Fail("The instance was removed before it could start")
        volume, copy = failed[0]
        return Fail(f"The volume of '{volume.device}' could not be made from its snapshot: {copy.last_error}")
    waiting = False
    cluster_id = mapping.link_id(vm, "cluster")
    for volume, copy in copies.values():
        if copy is None:
            step.driver.queue_volume_from_snapshot(scope, copy_id(op.id, volume.device), volume.snapshot_id or "",
                                                   volume.size_bytes, cluster_id,
                                                   f"{vm.findtext('name') or 'vm'}_{volume.device.rsplit('/', 1)[-1]}")
            waiting = True
            continue
        if copy.state != DONE:
            waiting = True
            continue
        disk_id = copy.data["volume_id"]
        if disk_id not in attached:
            body = E.disk_attachment(E.bootable("false"), E.interface(device_names.interface_for(volume.device)),
                                     E.active("true"), E.disk(id=disk_id))
            try:
                step.driver._call(scope, "POST", f"vms/{vm_id}/diskattachments", body=body, idempotent=False,
                                  what=("volume", disk_id))
            except InvalidState:
                return Wait(step.poll)  # the VM or the disk is busy for a moment
            except NotFound:
                return Fail(f"The volume made for '{volume.device}' was deleted before it could be attached")
        launch_volumes.remember(step, op, scope, disk_id, volume)
        disk_records.record_source(step.driver.store, op.data["place"], disk_id, volume.snapshot_id or "")
    if waiting:
        return Wait(step.poll)
    return launch_volumes.following(op.data, "snapshot_volumes")


def _remove_unattached(step: "OvirtOperation", scope: "Scope", copies: list[Operation],
                       attached: set[str | None]) -> None:
    """Delete the floating disks copied for a launch that will not start."""
    for copy in copies:
        disk_id = copy.data.get("volume_id")
        if copy.state != DONE or not disk_id or disk_id in attached:
            continue
        try:
            step.driver._call(scope, "DELETE", f"disks/{disk_id}", idempotent=True, what=("volume", disk_id))
        except NotFound:
            pass
