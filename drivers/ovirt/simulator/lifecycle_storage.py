"""Timed storage operations: disks (attached or floating), hot (un)plugging, attachment updates, and
templates made from VMs.

Validation follows the engine's commands (AddDiskCommand, RemoveDiskCommand, HotPlugDiskToVmCommand,
UpdateDiskCommand, AddVmTemplateCommand, RemoveVmTemplateCommand) in their order, with their messages;
anything that copies or deletes images is `locked` first and settles on the store's clock.
"""

from __future__ import annotations

from . import events
from .entities import Attachment, Disk, GiB, Job, Nic, Snapshot, StorageDomain, Template, User, Vm
from .errors import conflict, failed
from .lifecycle import TIMINGS, _locked
from .store import Step, Store

STATUS_WORDS = {   # LocalizedVmStatus: how messages name a VM status
    "unassigned": "Unassigned", "down": "Down", "up": "Up", "powering_up": "Powering Up", "paused": "Paused",
    "migrating": "Migrating", "unknown": "Unknown", "not_responding": "Not Responding",
    "wait_for_launch": "Wait for Launch", "reboot_in_progress": "Reboot in Progress",
    "saving_state": "Saving State", "restoring_state": "Restoring State", "suspended": "Suspended",
    "image_illegal": "Image Illegal", "image_locked": "Image Locked", "powering_down": "Powering Down",
}
HOTPLUG_STATUSES = ("up", "paused", "down")


def _settle_in(store: Store, seconds: float, step: Step) -> None:
    store.schedule(store.now() + seconds, step)


# -- disks --------------------------------------------------------------------------------------------

def create_seconds(disk: Disk) -> float:
    """A thin volume is created at once; a preallocated one is written out (about 1 GiB a second)."""
    return TIMINGS["disk_create"] + (0.0 if disk.sparse else disk.provisioned_size / GiB)


def add_disk(store: Store, vm: Vm, disk: Disk, attachment: Attachment, new: bool) -> None:
    """Attach a disk; a new one is created `locked` and becomes `ok` after the (scaled) create time."""
    if vm.status == "image_locked":
        raise _locked("add disk to")
    store.disks[disk.id] = disk
    disk.owner_vm_id = vm.id
    vm.attachments.append(attachment)
    vm.touch()
    if not new:
        events.disk_attached(store, disk, vm)
        return
    disk.status = "locked"
    events.disk_added(store, disk, vm)

    def created(at: float) -> None:
        disk.status = "ok"
        owner = store.vms.get(disk.owner_vm_id or "")
        if owner:
            owner.touch()
        events.disk_add_finished(store, disk, owner)
    _settle_in(store, create_seconds(disk), created)


def extend_disk(store: Store, disk: Disk, size: int) -> None:
    """Grow a disk (UpdateDisk with a larger `provisioned_size`): `locked` while the volume is extended,
    committed space grows at once. The engine never shrinks a disk, nor extends a locked one."""
    if size < disk.provisioned_size:
        raise conflict("Cannot edit Virtual Disk. New disk size cannot be smaller than the current disk size.")
    if size == disk.provisioned_size:
        return
    if disk.status == "locked":
        raise conflict(f"Cannot edit Virtual Disk: The following disks are locked: {disk.name}. Please try again "
                       "in a few minutes.")
    domain = store.storagedomains.get(disk.storage_domain_id)
    if domain is not None:
        domain.committed += size - disk.provisioned_size
    disk.provisioned_size = size
    disk.status = "locked"

    def extended(at: float) -> None:
        if disk.status == "locked":
            disk.status = "ok"
        owner = store.vms.get(disk.owner_vm_id or "")
        if owner:
            owner.touch()
    _settle_in(store, TIMINGS["disk_create"], extended)


def create_floating_disk(store: Store, disk: Disk, domain: StorageDomain, job: Job | None) -> None:
    """A disk of no VM (`POST /disks`): `locked` while its volume is created, then `ok`."""
    existing = store.disks.get(disk.id)
    if existing is not None:
        raise conflict(f"Cannot add Virtual Disk. The selected disk ID: {disk.id} is already used by the "
                       f"following existing disk: {existing.name}.")
    disk.status = "locked"
    store.disks[disk.id] = disk
    domain.committed += disk.provisioned_size
    events.disk_added(store, disk, None)

    def created(at: float) -> None:
        if disk.status == "locked":
            disk.status = "ok"
        events.disk_add_finished(store, disk, None)
        if job is not None:
            store.finish_job(job, at)
    _settle_in(store, create_seconds(disk), created)


def vms_using(store: Store, disk_id: str) -> list[tuple[Vm, Attachment]]:
    return [(vm, a) for vm in store.vms.values() for a in vm.attachments if a.disk_id == disk_id]


def remove_disk(store: Store, disk: Disk) -> None:
    """`DELETE /disks/{id}`: allowed while every VM using the disk is down (or has it unplugged); it is
    detached from them at once, stays `locked` while its image is deleted, then disappears."""
    if disk.template_id:
        raise failed(400, "Cannot remove Virtual Disk. A storage domain must be specified when deleting one "
                          "of a template's disk's copies.")
    users = vms_using(store, disk.id)
    if any(vm.status != "down" and att.active for vm, att in users):
        raise conflict("Cannot remove Virtual Disk. At least one of the VMs is not down.")
    if disk.status == "locked":
        raise conflict("Cannot remove Virtual Disk. Related operation is currently in progress. "
                       "Please try again later.")
    for vm, att in users:
        vm.attachments.remove(att)
        vm.touch()
    disk.owner_vm_id = None
    disk.status = "locked"
    domain = store.storagedomains.get(disk.storage_domain_id)
    if domain is not None:
        domain.committed = max(0, domain.committed - disk.provisioned_size)
    events.disk_removing(store, disk)

    def gone(at: float) -> None:
        if store.disks.pop(disk.id, None) is not None:
            events.disk_removed(store, disk)
    _settle_in(store, TIMINGS["disk_remove"], gone)


def set_active(store: Store, vm: Vm, att: Attachment, active: bool) -> None:
    """Plug or unplug an attached disk (`active`): instant on a down VM, a hot (un)plug on a running one."""
    if att.active == active:
        return
    verb = "hot plug" if active else "hot unplug"
    if vm.status not in HOTPLUG_STATUSES:
        raise conflict(f"Cannot {verb} Virtual Disk because the VM is in {STATUS_WORDS.get(vm.status, vm.status)} "
                       "status.")
    disk = store.disks.get(att.disk_id)
    alias = disk.name if disk else att.disk_id
    if vm.status != "down" and att.interface == "ide":
        raise failed(400, f"Cannot {verb} {alias} to {vm.name}. Hot plugging a disk to an IDE interface is "
                          "not supported.")
    if disk is not None and disk.status == "locked":
        raise conflict(f"Cannot {verb} Virtual Disk: The following disks are locked: {alias}. Please try again "
                       "in a few minutes.")
    att.active = active
    vm.touch()


def update_attachment(store: Store, vm: Vm, att: Attachment, bootable: bool | None, interface: str | None) -> None:
    """Change `bootable` or `interface` (UpdateDisk): a plugged disk of a running VM refuses both."""
    disk = store.disks.get(att.disk_id)
    boot_changed = bootable is not None and bootable != att.bootable
    bus_changed = interface is not None and interface != att.interface
    if att.active and vm.status != "down" and (boot_changed or bus_changed):
        raise conflict("Cannot edit Virtual Disk. At least one of the VMs is not down.")
    if disk is not None and disk.status == "locked":
        raise conflict(f"Cannot edit Virtual Disk: The following disks are locked: {disk.name}. Please try again "
                       "in a few minutes.")
    if bootable and not att.bootable:
        for other in vm.attachments:
            if other is not att and other.bootable:
                other_disk = store.disks.get(other.disk_id)
                raise conflict(f"Cannot edit Virtual Disk. Disk {other_disk.name if other_disk else other.disk_id} "
                               f"in VM {vm.name} is already marked as boot.")
    if bootable is not None:
        att.bootable = bootable
    if interface is not None:
        att.interface = interface
    vm.touch()


# -- templates ----------------------------------------------------------------------------------------

def create_template(store: Store, vm: Vm, *, name: str, description: str, comment: str, cluster_id: str,
                    owner: User, job: Job | None, snapshot: Snapshot | None = None) -> Template:
    """A template from a down VM: its sizing, NICs and (non-shareable) disks are copied. While the disks
    are copied the template is `locked` and the VM `image_locked`; then `ok` and `down` again.

    From one of the VM's snapshots (AddVmTemplateFromSnapshot, 4.3+) the VM may be running: the disks the
    snapshot holds are copied as they were then, and the snapshot (not the VM) is locked meanwhile."""
    if snapshot is not None:
        if snapshot.status != "ok":
            raise conflict("Cannot add Template. Snapshot is currently being created or removed. Please wait until "
                           "the operation ends, and try again.")
    elif vm.status != "down":
        raise conflict("Cannot add Template. VM is locked or still running, try again once VM is in the Down state.")
    dc_id = store.clusters[cluster_id].data_center_id
    for other in store.templates.values():
        other_dc = store.data_center_of_template(other)
        if other.name == name and other_dc is not None and other_dc.id == dc_id:
            raise conflict("Cannot add Template. The Template name is already in use, please choose a unique name "
                           "and try again.")
    if snapshot is None and any(s.status == "locked" for s in vm.snapshots):
        raise conflict("Cannot add Template. The VM is performing an operation on a Snapshot. Please wait for the "
                       "operation to finish, and try again.")
    now = store.now()
    template = Template(store.new_id(), name, description, comment, cluster_id=cluster_id, memory=vm.memory,
                        sockets=vm.sockets, cores=vm.cores, threads=vm.threads, os_type=vm.os_type,
                        vm_type=vm.vm_type, creation_time=now,
                        initialization=dict(vm.initialization) if vm.initialization else None,
                        user_roles={owner.id: "TemplateOwner"})   # its creator's; shared with no one else yet
    for att in vm.attachments:
        source = store.disks.get(att.disk_id)
        if source is None or source.shareable or (snapshot is not None and att.disk_id not in snapshot.disk_ids):
            continue
        copy = Disk(store.new_id(), source.name, source.storage_domain_id, source.provisioned_size,
                    actual_size=source.actual_size, format=source.format, sparse=source.sparse, status="locked",
                    image_id=store.new_id(), description=source.description, template_id=template.id)
        store.disks[copy.id] = copy
        template.attachments.append(Attachment(copy.id, att.bootable, att.interface))
    for nic in vm.nics:
        template.nics.append(Nic(store.new_id(), nic.name, "", nic.vnic_profile_id, nic.interface))
    store.templates[template.id] = template
    events.template_adding(store, template, vm)
    if not template.attachments:
        events.template_added(store, template, vm)
        if job is not None:
            store.finish_job(job, now)
        return template
    template.status = "locked"
    if snapshot is not None:
        snapshot.status = "locked"
    else:
        vm.generation += 1
        vm.status = "image_locked"
    vm.touch()

    def copied(at: float) -> None:
        template.status = "ok"
        for a in template.attachments:
            if a.disk_id in store.disks:
                store.disks[a.disk_id].status = "ok"
        if snapshot is not None:
            if snapshot.status == "locked":
                snapshot.status = "ok"
            vm.touch()
        elif store.vms.get(vm.id) is vm and vm.status == "image_locked":
            vm.status = "down"
            vm.touch()
        events.template_added(store, template, vm)
        if job is not None:
            store.finish_job(job, at)
    _settle_in(store, TIMINGS["template_copy"], copied)
    return template


def remove_template(store: Store, template: Template) -> None:
    """Remove a template no VM is based on: `locked` while its disks are deleted, then gone."""
    if template.cluster_id is None:      # Blank: RemoveVmTemplateCommand fails on its missing cluster first
        raise failed(400, "Cannot remove Template. The relevant Cluster doesn't exist.")
    disks = [store.disks[a.disk_id] for a in template.attachments if a.disk_id in store.disks]
    if template.status == "locked" or any(d.status == "locked" for d in disks):
        raise conflict("Template's Image is locked (temporarily).")
    derived = sorted(vm.name for vm in store.vms.values() if vm.template_id == template.id)
    if derived:
        raise conflict(f"Cannot delete Template. Template is being used by the following VMs: {','.join(derived)}.")

    events.template_removing(store, template)

    def gone(at: float) -> None:
        store.templates.pop(template.id, None)
        for d in disks:
            store.disks.pop(d.id, None)
        events.template_removed(store, template)
    if not disks:
        gone(store.now())
        return
    template.status = "locked"
    for d in disks:
        d.status = "locked"
    _settle_in(store, TIMINGS["disk_remove"], gone)
