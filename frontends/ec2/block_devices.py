"""RunInstances `BlockDeviceMappings`: the root device's part (its size and its fate at termination).

A mapping naming the image's root device (`/dev/sda1`, the `RootDeviceName` of every image here)
changes the boot disk the instance gets from its template: `VolumeSize` grows it (the driver extends the
disk after the VM is created and before it first starts; AWS refuses a size below the image's, and so
does this), `DeleteOnTermination` must stay true (oVirt removes a VM with its disks; keeping the boot
disk is not offered yet), and the volume's tags come with `TagSpecifications` ResourceType=volume as
ever. Mappings of other devices (new empty volumes at launch, ephemeral or suppressed devices) are
refused with UnsupportedOperation for now: full block device mappings are issue 13, and they belong
in this module.
"""
from __future__ import annotations

from typing import Any

from gateway.model import Image, InstanceSpec

from . import devices
from .errors import Ec2Error, invalid_value

GIB = 1 << 30
VOLUME_TYPES = ("standard",)  # what DescribeVolumes says of every volume here
NOT_YET = "only the root device's VolumeSize and DeleteOnTermination can be given at launch for now"


def apply(mappings: list[dict[str, Any]] | None, image: Image | None, spec: InstanceSpec) -> None:
    """Fill `spec` from the mappings, or refuse them with AWS's codes."""
    for mapping in mappings or []:
        name = mapping.get("DeviceName") or ""
        if name != devices.ROOT_DEVICE or "Ebs" not in mapping or mapping.get("NoDevice") is not None \
                or mapping.get("VirtualName"):
            raise Ec2Error("UnsupportedOperation", f"The block device mapping of '{name[:100]}' cannot be "
                                                   f"honoured: {NOT_YET} (the root device is {devices.ROOT_DEVICE})")
        _root(mapping["Ebs"] or {}, image, spec)


def _root(ebs: dict[str, Any], image: Image | None, spec: InstanceSpec) -> None:
    if ebs.get("SnapshotId"):
        raise Ec2Error("UnsupportedOperation", "The root device comes from the image; it cannot be a snapshot here")
    if ebs.get("Encrypted") or ebs.get("KmsKeyId"):
        raise Ec2Error("UnsupportedOperation", "Volumes cannot be encrypted here (oVirt disks have no key service)")
    if ebs.get("VolumeType") not in (None, "", *VOLUME_TYPES):
        raise invalid_value(f"The volume type '{str(ebs['VolumeType'])[:50]}' is not offered: every volume "
                            f"here is {', '.join(VOLUME_TYPES)}")
    if ebs.get("Iops") is not None or ebs.get("Throughput") is not None:
        raise invalid_value("Iops and Throughput apply to provisioned volume types, not to standard volumes")
    if ebs.get("DeleteOnTermination") is False:
        raise Ec2Error("UnsupportedOperation", "The root volume is removed with its instance here "
                                               "(DeleteOnTermination=false is not supported yet)")
    size = ebs.get("VolumeSize")
    if size is None:
        return
    smallest = -(-image.disk_bytes // GIB) if image is not None and image.disk_bytes else 1
    if size < smallest:
        raise Ec2Error("InvalidBlockDeviceMapping", f"Volume of size {size}GB is smaller than snapshot "
                                                    f"'{devices.ROOT_DEVICE}', expect size >= {smallest}GB")
    spec.root_volume_bytes = size * GIB
