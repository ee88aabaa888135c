"""RunInstances `BlockDeviceMappings`: the root volume, new volumes, and the image's disks left out.

Device names are the image's (DescribeImages' BlockDeviceMappings; its RootDeviceName is the root):

- the root device: `VolumeSize` grows the boot disk before the first start (never below the image's, as on
  AWS), `DeleteOnTermination=false` keeps it as an `available` volume after termination;
- another of the image's devices: `NoDevice` leaves that disk out (the root cannot be); an `Ebs` that
  repeats the image's own mapping is accepted, changing it is not offered;
- any other name with `Ebs.VolumeSize`: a new blank volume attached under that name before the first
  start, deleted on termination unless `DeleteOnTermination` is false (AWS's default for launch mappings);
- any other name with `Ebs.SnapshotId`: a copy of that snapshot's disk, made as CreateVolume makes one
  (`VolumeSize` may grow it, never shrink it), attached under that name before the first start, deleted on
  termination unless `DeleteOnTermination` is false.

Every volume is `standard` (the engine has no per-disk performance class an EBS type could name: its disk
profiles are quality-of-service limits an administrator sets per storage domain), so other types, Iops,
Throughput and encryption are refused with AWS's codes (CreateVolume uses the same check); instance store
(`VirtualName`) is not offered. The volumes' tags come with TagSpecifications ResourceType=volume, for
every volume of the launch.
"""
from __future__ import annotations

from typing import Any, Callable

from gateway.model import Image, InstanceSpec, LaunchVolume

from . import devices, ids
from .errors import Ec2Error, invalid_value, missing

GIB = 1 << 30
VOLUME_TYPES = ("standard",)  # what DescribeVolumes says of every volume here
MAX_SIZE_GIB = 16384  # EBS's limit for general-purpose volumes, as CreateVolume
MAX_NEW_VOLUMES = 24


def _bad(message: str) -> Ec2Error:
    return Ec2Error("InvalidBlockDeviceMapping", message)


def apply(mappings: list[dict[str, Any]] | None, image: Image | None, spec: InstanceSpec,
          snapshot_gib: Callable[[str], int] | None = None) -> None:
    """Fill `spec` from the mappings, or refuse them with AWS's codes. `snapshot_gib` gives the size of a
    snapshot a new volume is to come from (and refuses one that does not exist); without it none can."""
    root = image.root_device if image is not None and image.root_device else devices.ROOT_DEVICE
    own = {v.device: v for v in image.volumes} if image is not None else {}
    seen: set[str] = set()
    for mapping in mappings or []:
        name = str(mapping.get("DeviceName") or "")
        if not name:
            raise missing("BlockDeviceMapping.DeviceName")
        if not devices.VALID_NAME.match(name):
            raise _bad(f"Invalid device name {name[:100]}")
        if name in seen:
            raise _bad(f"The device '{name}' is used in more than one block device mapping")
        seen.add(name)
        if mapping.get("VirtualName"):
            raise Ec2Error("UnsupportedOperation", f"The block device mapping of '{name}' names an instance store "
                                                   "volume: every volume here is an engine disk (use Ebs)")
        ebs = mapping.get("Ebs")
        if mapping.get("NoDevice") is not None:
            if ebs:
                raise _bad(f"The block device mapping of '{name}' gives both Ebs and NoDevice")
            if name == root:
                raise _bad(f"The root device '{name}' cannot be suppressed")
            if name in own:
                spec.suppressed_devices.append(name)
            continue  # nothing of that name in the image: nothing to leave out, as on AWS
        if not isinstance(ebs, dict):
            raise _bad(f"The block device mapping of '{name}' must give Ebs or NoDevice")
        _check_volume(name, ebs)
        if name == root:
            _root(ebs, image, spec, root)
        elif name in own:
            _image_disk(name, ebs, own[name].snapshot_id, own[name].size_bytes)
        else:
            _new_volume(name, ebs, spec, snapshot_gib)


def check_performance(volume_type: Any, iops: Any, throughput: Any) -> None:
    """Refuse what would name a performance class the engine has none of (RunInstances and CreateVolume alike)."""
    if volume_type not in (None, "", *VOLUME_TYPES):
        raise invalid_value(f"Value ({str(volume_type)[:50]}) for parameter volumeType is invalid: every "
                            f"volume here is {', '.join(VOLUME_TYPES)}")
    if iops is not None or throughput is not None:
        raise invalid_value("Iops and Throughput apply to provisioned volume types, not to standard volumes")


def _check_volume(name: str, ebs: dict[str, Any]) -> None:
    if ebs.get("Encrypted") or ebs.get("KmsKeyId"):
        raise Ec2Error("UnsupportedOperation", "Volumes cannot be encrypted here (oVirt disks have no key service)")
    check_performance(ebs.get("VolumeType"), ebs.get("Iops"), ebs.get("Throughput"))
    size = ebs.get("VolumeSize")
    if size is not None and not 1 <= size <= MAX_SIZE_GIB:
        raise invalid_value(f"Volume size {size} GiB of '{name}' is out of range: it must be from 1 to "
                            f"{MAX_SIZE_GIB} GiB")


def _own_snapshot(name: str, ebs: dict[str, Any], snapshot_id: str | None) -> None:
    """A SnapshotId is accepted only when it is the image's own for that device (clients copy the image's
    mappings); volumes from other snapshots at launch are not offered yet."""
    given = ebs.get("SnapshotId")
    if not given:
        return
    try:
        same = snapshot_id is not None and ids.decode("snap", str(given)) == snapshot_id
    except Ec2Error:
        same = False
    if not same:
        raise Ec2Error("UnsupportedOperation", f"The volume of '{name}' cannot come from the snapshot "
                                               f"'{str(given)[:100]}' here: only the image's own disks and blank "
                                               "volumes can be given at launch")


def _root(ebs: dict[str, Any], image: Image | None, spec: InstanceSpec, root: str) -> None:
    boot = next((v for v in image.volumes if v.bootable), None) if image is not None else None
    _own_snapshot(root, ebs, boot.snapshot_id if boot is not None else None)
    if ebs.get("DeleteOnTermination") is False:
        spec.root_delete_on_termination = False
    size = ebs.get("VolumeSize")
    if size is None:
        return
    image_bytes = boot.size_bytes if boot is not None else (image.disk_bytes if image is not None else None)
    smallest = -(-image_bytes // GIB) if image_bytes else 1
    if size < smallest:
        raise _bad(f"Volume of size {size}GB is smaller than snapshot '{root}', expect size >= {smallest}GB")
    spec.root_volume_bytes = size * GIB


def _image_disk(name: str, ebs: dict[str, Any], snapshot_id: str | None, size_bytes: int) -> None:
    """One of the image's other disks: its own mapping repeated is fine; changing it is not offered."""
    _own_snapshot(name, ebs, snapshot_id)
    size = ebs.get("VolumeSize")
    if ebs.get("DeleteOnTermination") is False or (size is not None and size * GIB != -(-size_bytes // GIB) * GIB):
        raise Ec2Error("UnsupportedOperation", f"The image's disk '{name}' can only be taken as it is or left out "
                                               "(NoDevice) at launch here; the root volume can be resized or kept")


def _new_volume(name: str, ebs: dict[str, Any], spec: InstanceSpec,
                snapshot_gib: Callable[[str], int] | None) -> None:
    """A blank volume of `VolumeSize`, or a copy of `SnapshotId`'s disk (at least the snapshot's size)."""
    size, snapshot_id = ebs.get("VolumeSize"), None
    if ebs.get("SnapshotId"):
        if snapshot_gib is None:
            raise Ec2Error("UnsupportedOperation", f"The volume of '{name}' cannot come from a snapshot here")
        snapshot_id = ids.decode("snap", str(ebs["SnapshotId"]))
        smallest = snapshot_gib(snapshot_id)
        if size is not None and size < smallest:
            raise _bad(f"Volume of size {size}GB is smaller than snapshot '{str(ebs['SnapshotId'])[:100]}', "
                       f"expect size >= {smallest}GB")
        size = smallest if size is None else size
    if size is None:
        raise missing(f"BlockDeviceMapping.Ebs.VolumeSize (of '{name}')")
    if len(spec.new_volumes) >= MAX_NEW_VOLUMES:
        raise _bad(f"At most {MAX_NEW_VOLUMES} new volumes can be attached at launch")
    spec.new_volumes.append(LaunchVolume(device=name, size_bytes=size * GIB, snapshot_id=snapshot_id,
                                         delete_on_termination=ebs.get("DeleteOnTermination") is not False))
