"""The official oVirt SDK against the simulator (frozen clock): the engine calls a volume made from a snapshot
and a volume grown rely on. A VM cloned from a snapshot (AddVmFromSnapshot) gets a copy of the snapshot's disk
at the size it had when taken, is `image_locked` while it is copied, and the snapshot is locked meanwhile (no
other snapshot, no removal: 409); a floating disk is grown with DiskService.update, never shrunk, and copied
with DiskService.copy (a new disk, found by its alias)."""
from __future__ import annotations

from typing import Any

import pytest

sdk = pytest.importorskip("ovirtsdk4")
types = pytest.importorskip("ovirtsdk4.types")

from tests.simulator_fixtures import TEMPLATE_CENTOS_DEFAULT, advance  # noqa: E402

GIB = 2**30



def test_a_vm_cloned_from_a_snapshot_copies_its_disk_as_it_was(engine: tuple[Any, Any]) -> None:
    connection, handle = engine
    system = connection.system_service()
    vms = system.vms_service()
    vm = vms.add(types.Vm(name="sdk-source", cluster=types.Cluster(name="Default"),
                          template=types.Template(id=TEMPLATE_CENTOS_DEFAULT)))
    advance(handle, 120)
    source = vms.vm_service(vm.id)
    attachments = source.disk_attachments_service()
    data = attachments.add(types.DiskAttachment(
        disk=types.Disk(name="sdk-data", format=types.DiskFormat.COW, provisioned_size=GIB, sparse=True),
        interface=types.DiskInterface.VIRTIO_SCSI, bootable=False, active=True))
    advance(handle, 30)
    snapshots = source.snapshots_service()
    snapshot = snapshots.add(types.Snapshot(description="one disk",
                                            disk_attachments=[types.DiskAttachment(disk=types.Disk(id=data.id))]))
    advance(handle, 30)
    attachments.attachment_service(data.id).update(types.DiskAttachment(disk=types.Disk(provisioned_size=2 * GIB)))
    advance(handle, 30)

    with pytest.raises(sdk.Error) as unknown:
        vms.add(types.Vm(name="sdk-none", cluster=types.Cluster(name="Default"),
                         snapshots=[types.Snapshot(id="00000000-0000-0000-0000-000000000001")]))
    assert unknown.value.code == 400 and "VM's Snapshot does not exist" in str(unknown.value)
    clone = vms.add(types.Vm(name="sdk-clone", cluster=types.Cluster(name="Default"),
                             snapshots=[types.Snapshot(id=snapshot.id)]))
    clone_service = vms.vm_service(clone.id)
    assert clone_service.get().status == types.VmStatus.IMAGE_LOCKED
    copies = clone_service.disk_attachments_service().list()
    assert len(copies) == 1 and copies[0].id != data.id  # only the disk the snapshot holds, as a new disk
    copy = system.disks_service().disk_service(copies[0].id).get()
    assert copy.status == types.DiskStatus.LOCKED and copy.provisioned_size == GIB  # its size when taken
    assert snapshots.snapshot_service(snapshot.id).get().snapshot_status == types.SnapshotStatus.LOCKED
    with pytest.raises(sdk.Error) as busy:
        snapshots.snapshot_service(snapshot.id).remove()
    assert busy.value.code == 409
    with pytest.raises(sdk.Error) as again:
        snapshots.add(types.Snapshot(description="meanwhile"))
    assert again.value.code == 409 and "Snapshot is currently being created" in str(again.value)

    advance(handle, 60)
    assert clone_service.get().status == types.VmStatus.DOWN
    assert system.disks_service().disk_service(copy.id).get().status == types.DiskStatus.OK
    assert snapshots.snapshot_service(snapshot.id).get().snapshot_status == types.SnapshotStatus.OK
    clone_service.disk_attachments_service().attachment_service(copy.id).remove(detach_only=True)
    clone_service.remove()
    advance(handle, 30)
    assert system.disks_service().disk_service(copy.id).get().id == copy.id  # a floating disk of its own


def test_a_floating_disk_is_grown_and_copied(engine: tuple[Any, Any]) -> None:
    connection, handle = engine
    disks = connection.system_service().disks_service()
    disk = disks.add(types.Disk(name="sdk-floating", format=types.DiskFormat.COW, provisioned_size=GIB, sparse=True,
                                storage_domains=[types.StorageDomain(name="data-default")]))
    advance(handle, 30)
    service = disks.disk_service(disk.id)
    grown = service.update(types.Disk(provisioned_size=3 * GIB))
    assert grown.provisioned_size == 3 * GIB and grown.status == types.DiskStatus.LOCKED
    with pytest.raises(sdk.Error) as locked:
        service.copy(storage_domain=types.StorageDomain(name="data-default"), disk=types.Disk(alias="sdk-copy"))
    assert locked.value.code == 409
    advance(handle, 30)
    with pytest.raises(sdk.Error) as smaller:
        service.update(types.Disk(provisioned_size=GIB))
    assert smaller.value.code == 409 and "cannot be smaller" in str(smaller.value)
    service.copy(storage_domain=types.StorageDomain(name="data-default"), disk=types.Disk(alias="sdk-copy"))
    copies = [d for d in disks.list() if d.alias == "sdk-copy"]
    assert len(copies) == 1 and copies[0].provisioned_size == 3 * GIB and copies[0].status == types.DiskStatus.LOCKED
    advance(handle, 30)
    assert disks.disk_service(copies[0].id).get().status == types.DiskStatus.OK


def test_a_disk_of_a_running_vm_is_not_copied(engine: tuple[Any, Any]) -> None:
    connection, handle = engine
    system = connection.system_service()
    vms = system.vms_service()
    vm = vms.add(types.Vm(name="sdk-running", cluster=types.Cluster(name="Default"),
                          template=types.Template(id=TEMPLATE_CENTOS_DEFAULT)))
    advance(handle, 120)
    service = vms.vm_service(vm.id)
    disk_id = service.disk_attachments_service().list()[0].id
    service.start()
    with pytest.raises(sdk.Error) as running:
        system.disks_service().disk_service(disk_id).copy(storage_domain=types.StorageDomain(name="data-default"),
                                                          disk=types.Disk(alias="sdk-live-copy"))
    assert running.value.code == 409 and "At least one of the VMs is not down" in str(running.value)
    assert not [d for d in system.disks_service().list() if d.alias == "sdk-live-copy"]
