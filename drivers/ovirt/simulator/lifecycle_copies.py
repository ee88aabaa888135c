"""Timed copies of disk content: a VM cloned from a snapshot, a disk copied, a floating disk updated.

As the engine's AddVmFromSnapshotCommand (`POST /vms` naming `<snapshots><snapshot id=..>`): the snapshot
must exist and its VM must not be in the middle of a snapshot; the new VM gets a full copy of each disk the
snapshot holds, at the size it had when the snapshot was taken, and is `image_locked` (its disks `locked`)
while they are copied, the snapshot `locked` too (so it can be neither removed nor joined by another
snapshot meanwhile); then the VM is `down` and the snapshot `ok` again. As MoveOrCopyDiskCommand
(`POST /disks/{id}/copy`): a disk that is not locked, used by no running VM, is copied into a new floating
disk (`locked`, then `ok`); the answer names no new disk, which is found by its alias.
"""

from __future__ import annotations

from typing import Any

from .entities import Attachment, Disk, Nic, Snapshot, StorageDomain, User, Vm
from .errors import conflict, failed
from .lifecycle import TIMINGS
from .permissions import CREATOR_ROLE
from .store import Store


def clone_from_snapshot(store: Store, source: Vm, snap: Snapshot, *, name: str, cluster_id: str, owner: User,
                        **fields: Any) -> Vm:
    """A new VM from `snap` of `source` (AddVmFromSnapshot): its disks are copies of the snapshot's."""
    if snap.snapshot_type == "active":
        raise failed(400, "Cannot add VM. The snapshot type is not supported for this operation.")
    if any(s.status == "locked" for s in source.snapshots):
        raise conflict(f"Cannot add VM. Snapshot is currently being created for VM {source.name}.")
    now = store.now()
    vm = Vm(id=store.new_id(), name=name, cluster_id=cluster_id, template_id=source.template_id,
            original_template_id=source.original_template_id, index=store.next_vm_index(), memory=source.memory,
            sockets=source.sockets, cores=source.cores, threads=source.threads, os_type=source.os_type,
            vm_type=source.vm_type, creation_time=now, status="image_locked")
    for key, value in fields.items():
        if value is not None:
            setattr(vm, key, value)
    vm.user_roles[owner.id] = CREATOR_ROLE
    for nic in source.nics:
        vm.nics.append(Nic(store.new_id(), nic.name, store.next_mac(), nic.vnic_profile_id, nic.interface))
    sizes = snap.disk_sizes or {}
    copies = []
    for att in source.attachments:
        origin = store.disks.get(att.disk_id)
        if origin is None or att.disk_id not in snap.disk_ids:
            continue
        copy = Disk(store.new_id(), origin.name, origin.storage_domain_id,
                    sizes.get(origin.id, origin.provisioned_size), actual_size=origin.actual_size,
                    format=origin.format, sparse=origin.sparse, status="locked", image_id=store.new_id(),
                    description=origin.description, owner_vm_id=vm.id)
        store.disks[copy.id] = copy
        _commit(store, copy)
        copies.append(copy)
        vm.attachments.append(Attachment(copy.id, att.bootable, att.interface, active=att.active))
    vm.snapshots.append(Snapshot(store.new_id(), "Active VM", now, snapshot_type="active"))
    store.add_vm(vm)
    snap.status = "locked"
    source.touch()

    def copied(at: float) -> None:
        for disk in copies:
            if disk.status == "locked":
                disk.status = "ok"
        if snap.status == "locked":
            snap.status = "ok"
            source.touch()
        if store.vms.get(vm.id) is vm and vm.status == "image_locked":
            vm.status = "down"
            vm.touch()
    store.schedule(now + TIMINGS["snapshot_clone"], copied)
    return vm


def copy_disk(store: Store, disk: Disk, domain: StorageDomain, alias: str | None) -> Disk:
    """A floating copy of `disk` in `domain` (MoveOrCopyDisk with ImageOperation.Copy)."""
    if disk.template_id is None:
        users = [vm for vm in store.vms.values() if any(a.disk_id == disk.id for a in vm.attachments)]
        if any(vm.status != "down" for vm in users):
            raise conflict("Cannot copy Virtual Disk. At least one of the VMs is not down.")
    if disk.status == "locked":
        raise conflict(f"Cannot copy Virtual Disk: The following disks are locked: {disk.name}. Please try again "
                       "in a few minutes.")
    copy = Disk(store.new_id(), alias or disk.name, domain.id, disk.provisioned_size, actual_size=disk.actual_size,
                format=disk.format, sparse=disk.sparse, status="locked", image_id=store.new_id(),
                description=disk.description)
    store.disks[copy.id] = copy
    _commit(store, copy)

    def copied(at: float) -> None:
        if copy.status == "locked":
            copy.status = "ok"
    store.schedule(store.now() + TIMINGS["disk_copy"], copied)
    return copy


def _commit(store: Store, disk: Disk) -> None:
    domain = store.storagedomains.get(disk.storage_domain_id)
    if domain is not None:
        domain.committed += disk.provisioned_size
