"""The official oVirt SDK against the simulator (frozen clock): the calls the gateway's terminate makes to
keep a disk. DiskAttachmentService.remove with detach_only detaches a disk only while the VM is up or down
(409 otherwise, as DetachDiskFromVmCommand) and no snapshot of the VM holds it (400); the disk then stays,
with its id, when the VM is removed, while the VM's other disks go with it."""
from __future__ import annotations

from typing import Any

import pytest

sdk = pytest.importorskip("ovirtsdk4")
types = pytest.importorskip("ovirtsdk4.types")

from tests.simulator_fixtures import TEMPLATE_CENTOS_DEFAULT, advance  # noqa: E402



def test_a_detached_disk_outlives_the_vm_removed_after(engine: tuple[Any, Any]) -> None:
    connection, handle = engine
    system = connection.system_service()
    disks = system.disks_service()
    kept = disks.add(types.Disk(name="sdk-kept", format=types.DiskFormat.COW, provisioned_size=2**30, sparse=True,
                                storage_domains=[types.StorageDomain(name="data-default")]))
    vms = system.vms_service()
    vm = vms.add(types.Vm(name="sdk-keep", cluster=types.Cluster(name="Default"),
                          template=types.Template(id=TEMPLATE_CENTOS_DEFAULT)))
    vm_service = vms.vm_service(vm.id)
    advance(handle, 120)
    assert vm_service.get().status == types.VmStatus.DOWN
    attachments = vm_service.disk_attachments_service()
    root = attachments.list()[0].id
    attachments.add(types.DiskAttachment(disk=types.Disk(id=kept.id), interface=types.DiskInterface.VIRTIO_SCSI,
                                         bootable=False, active=True))

    vm_service.start()
    assert vm_service.get().status == types.VmStatus.WAIT_FOR_LAUNCH
    with pytest.raises(sdk.Error) as starting:
        attachments.attachment_service(kept.id).remove(detach_only=True)
    assert starting.value.code == 409
    assert "Cannot detach Virtual Disk because the VM is in Wait for Launch status." in str(starting.value)

    advance(handle, 120)
    vm_service.stop()
    advance(handle, 60)
    assert vm_service.get().status == types.VmStatus.DOWN
    snapshots = vm_service.snapshots_service()
    snapshot = snapshots.add(types.Snapshot(description="holds the disk",
                                            disk_attachments=[types.DiskAttachment(disk=types.Disk(id=kept.id))]))
    advance(handle, 60)
    with pytest.raises(sdk.Error) as held:
        attachments.attachment_service(kept.id).remove(detach_only=True)
    assert held.value.code == 400 and "The disk is already configured in a snapshot" in str(held.value)
    snapshots.snapshot_service(snapshot.id).remove()
    advance(handle, 60)
    attachments.attachment_service(kept.id).remove(detach_only=True)
    assert [a.id for a in attachments.list()] == [root]
    with pytest.raises(sdk.NotFoundError):
        attachments.attachment_service(kept.id).remove(detach_only=True)  # detached already: 404

    vm_service.remove()
    with pytest.raises(sdk.NotFoundError):
        vm_service.get()
    advance(handle, 60)
    remaining = {d.id: d for d in disks.list()}
    assert root not in remaining
    assert remaining[kept.id].status == types.DiskStatus.OK and remaining[kept.id].name == "sdk-kept"
