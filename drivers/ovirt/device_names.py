"""Device names of a VM's (or a template's) disks: one name per disk, the same in every answer.

oVirt keeps no device name for a disk attachment; the guest agent reports its own (`logical_name`) only
while the VM runs, so a name taken from it would change with the VM's state. The name is therefore:

1. the one a client gave (AttachVolume's Device, a launch's block device mapping), kept by the driver
   (disk_records), or recorded for the disks a launch made;
2. else the name a Linux guest gives a disk on the attachment's bus, which the engine does say: `/dev/vda`
   for the boot disk on `virtio`, `/dev/sda` on the SCSI-like buses (`virtio_scsi`, `sata`, `spapr_vscsi`,
   and `ide`, which current kernels name as SCSI disks too); the other disks take the next free letter on
   their bus's prefix (`/dev/vdb`, `/dev/sdb`, ...), in the engine's attachment order.

A template's disks are named by the same rule, so an image's RootDeviceName is the one its instances show.
"""
from __future__ import annotations

import re
from collections.abc import Sequence

from gateway.model import VolumeAttachment

VIRTIO_PREFIX = "/dev/vd"
SCSI_PREFIX = "/dev/sd"
LETTERS = "abcdefghijklmnopqrstuvwxyz"
# EC2/Xen-style names imply a bus when a client asks for one: /dev/vdX -> virtio, anything else -> virtio_scsi.
DEVICE_NAME = re.compile(r"^/dev/(sd|xvd|vd|hd)[a-z]{1,2}[0-9]{0,2}$")


def prefix(interface: str) -> str:
    return VIRTIO_PREFIX if interface == "virtio" else SCSI_PREFIX


def interface_for(device: str | None) -> str:
    """The bus a disk attached under this requested name goes on."""
    return "virtio" if device and device.startswith(VIRTIO_PREFIX) else "virtio_scsi"


def name_all(attachments: Sequence[VolumeAttachment]) -> None:
    """Give every attachment without a (requested) `device` its bus name; no name is given twice."""
    used = {a.device for a in attachments if a.device}
    for a in sorted(attachments, key=lambda a: not a.bootable):  # the boot disk first: it takes letter a
        if a.device:
            continue
        start = 0 if a.bootable else 1
        a.device = next((prefix(a.interface) + letter for letter in LETTERS[start:]
                         if prefix(a.interface) + letter not in used), None)
        if a.device:
            used.add(a.device)


def root_of(attachments: Sequence[VolumeAttachment]) -> str | None:
    """The boot disk's name, once `name_all` has named them."""
    return next((a.device for a in attachments if a.bootable), None)
