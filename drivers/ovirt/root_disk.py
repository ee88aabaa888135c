"""Growing a new VM's boot disk to the size RunInstances asked for, before its first start.

The VM gets its disks from the template, at the template's size; the engine extends an attached disk
by an update of its attachment with a larger `disk/provisioned_size` (it never shrinks one), and locks
the disk while it extends the volume. This step of the durable `ovirt.run` operation asks once and
waits until the disk is the size asked for and no longer locked; repeated after a crash, it finds the
disk grown already and asks nothing. A guest's partitions are its own business (cloud-init's growpart
grows the root filesystem at first boot, as on EC2).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from lxml.builder import E

from gateway.errors import InvalidState
from gateway.operations import Done, Fail, Next, Operation, Outcome, Wait
from gateway.scope import Scope

if TYPE_CHECKING:
    from .operations import OvirtOperation


def grow(step: "OvirtOperation", op: Operation, scope: Scope) -> Outcome:
    """Extend the boot disk to `root_volume_bytes`, then go on to `start` (or finish if it stays stopped)."""
    vm_id, wanted = op.data["vm_id"], int(op.data["root_volume_bytes"])
    vm = step.vm(scope, vm_id, follow="disk_attachments.disk")
    if vm is None:
        return Fail("The instance was removed before its root volume could be grown")
    boot = next((a for a in vm.iterfind("disk_attachments/disk_attachment") if a.findtext("bootable") == "true"),
                None)
    disk = boot.find("disk") if boot is not None else None
    if boot is None or disk is None:
        return Fail("The instance's image has no boot disk to grow")
    size = int(disk.findtext("provisioned_size") or 0)
    if disk.findtext("status") == "locked":
        return Wait(step.poll)
    if size >= wanted:
        return Next("start") if op.data.get("start") else Done()
    body = E.disk_attachment(E.disk(E.provisioned_size(str(wanted))))
    try:
        step.driver._call(scope, "PUT", f"vms/{vm_id}/diskattachments/{boot.get('id')}", body=body,
                          idempotent=True, what=("volume", boot.get("id", "")))
    except InvalidState:
        pass  # locked meanwhile (or the VM moved): look again
    return Wait(step.poll)
