"""The official oVirt SDK against the simulator (frozen clock): a disk still being created is locked, and the
engine refuses to attach it until it is made (AttachDiskToVmCommand: DiskImagesValidator.diskImagesNotLocked,
409 "The following disks are locked"); the gateway waits that lock out (ovirt.after_lock)."""
from __future__ import annotations

from typing import Any

import pytest

sdk = pytest.importorskip("ovirtsdk4")
types = pytest.importorskip("ovirtsdk4.types")

from tests.simulator_fixtures import TEMPLATE_CENTOS_DEFAULT, advance  # noqa: E402



def test_a_disk_being_created_cannot_be_attached_until_it_is(engine: tuple[Any, Any]) -> None:
    connection, handle = engine
    system = connection.system_service()
    vms = system.vms_service()
    vm = vms.add(types.Vm(name="sdk-attach-early", cluster=types.Cluster(name="Default"),
                          template=types.Template(id=TEMPLATE_CENTOS_DEFAULT)))
    advance(handle, 120)
    disk = system.disks_service().add(types.Disk(name="sdk-young", format=types.DiskFormat.COW,
                                                 provisioned_size=2**30, sparse=True,
                                                 storage_domains=[types.StorageDomain(name="data-default")]))
    assert disk.status == types.DiskStatus.LOCKED
    attachments = vms.vm_service(vm.id).disk_attachments_service()
    asked = types.DiskAttachment(disk=types.Disk(id=disk.id), interface=types.DiskInterface.VIRTIO_SCSI,
                                 bootable=False, active=True)
    with pytest.raises(sdk.Error) as locked:
        attachments.add(asked)
    assert locked.value.code == 409
    assert "The following disks are locked: sdk-young" in str(locked.value)
    advance(handle, 10)
    attached = attachments.add(asked)
    assert attached.disk.id == disk.id and attached.active is True
