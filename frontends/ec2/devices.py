"""Device names of an instance's volumes, the same in DescribeInstances, DescribeInstanceAttribute and
DescribeVolumes.

oVirt keeps no client-chosen device name for a disk attachment, so the driver keeps the one given to
AttachVolume and answers it as the attachment's device (that is the name AWS shows, and Terraform looks the
attachment up by it); else the guest agent's name (`logical_name`, e.g. /dev/vda) once the VM runs.
Otherwise the boot disk is EC2's usual root device, /dev/sda1, and the others /dev/sdb, /dev/sdc, ... in
attachment order. The root device name is the boot disk's, so Terraform, which finds the root volume by matching
`RootDeviceName` against the block device mappings, always finds it.
"""
from __future__ import annotations

from typing import Sequence

from gateway.model import VolumeAttachment

ROOT_DEVICE = "/dev/sda1"
LETTERS = "bcdefghijklmnopqrstuvwxyz"


def names(attachments: Sequence[VolumeAttachment]) -> list[str]:
    """One device name per attachment, in order, none repeated."""
    used = {a.device for a in attachments if a.device}
    result: list[str] = []
    spare = (f"/dev/sd{letter}" for letter in LETTERS)
    for attachment in attachments:
        name = attachment.device
        if not name and attachment.bootable and ROOT_DEVICE not in used:
            name = ROOT_DEVICE
        if not name:
            name = next((n for n in spare if n not in used), f"/dev/sd{len(result)}")
        used.add(name)
        result.append(name)
    return result


def root_name(attachments: Sequence[VolumeAttachment], given: Sequence[str] | None = None) -> str:
    """The boot disk's device name (EC2's RootDeviceName); /dev/sda1 for an instance without one."""
    given = names(attachments) if given is None else given
    for attachment, name in zip(attachments, given):
        if attachment.bootable:
            return name
    return ROOT_DEVICE
