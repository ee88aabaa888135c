"""Device names of an instance's volumes, the same in DescribeInstances, DescribeInstanceAttribute and
DescribeVolumes.

The driver names each attachment (the oVirt driver: the name a client gave, else the name a Linux guest
gives the disk on its bus, /dev/vda or /dev/sda for the boot disk; see drivers/ovirt/device_names.py), and
the image's root device by the same rule. For a driver that names nothing, the boot disk is EC2's usual
root device, /dev/sda1, and the others /dev/sdb, /dev/sdc, ... in attachment order. The root device name
is the boot disk's, so Terraform, which finds the root volume by matching `RootDeviceName` against the
block device mappings, always finds it.
"""
from __future__ import annotations

import re
from typing import Sequence

from gateway.model import VolumeAttachment

ROOT_DEVICE = "/dev/sda1"
VALID_NAME = re.compile(r"^/dev/(sd|xvd|vd|hd)[a-z]{1,2}[0-9]{0,2}$")  # the Linux and Xen names EC2 accepts
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


def root_name(attachments: Sequence[VolumeAttachment], given: Sequence[str] | None = None,
              known: str | None = None) -> str:
    """The boot disk's device name (EC2's RootDeviceName); else the one the driver `known` (an instance whose
    disks are not listed yet), else /dev/sda1."""
    given = names(attachments) if given is None else given
    for attachment, name in zip(attachments, given):
        if attachment.bootable:
            return name
    return known or ROOT_DEVICE
