"""CreateImage, DeregisterImage, RegisterImage, CopyImage: images made, removed, registered and copied.

CreateImage is the driver's durable image operation (the instance is stopped for the copy and started
again unless NoReboot); its `BlockDeviceMappings` may leave attached volumes out (`NoDevice`), by the
device names DescribeInstances shows. RegisterImage from an EBS snapshot is the same operation on the
engine's template from a VM snapshot. CopyImage is refused: a template goes to another data center only
through an export domain. What the engine cannot do is refused in words a user understands.
"""
from __future__ import annotations

import re
from typing import Any

from gateway.errors import AlreadyExists, InvalidState, NotFound

from .. import devices, ids, inventory
from ..call import Call
from ..errors import Ec2Error, invalid_value
from ..tag_specifications import tags_by_type
from . import action

NAME_RULE = re.compile(r"^[A-Za-z0-9()\[\] ./\-'@_]{3,128}$")
MAX_DESCRIPTION = 255
TAGGABLE = ("image", "snapshot")


def checked_name(name: str) -> str:
    if not NAME_RULE.match(name):
        raise Ec2Error("InvalidAMIName.Malformed",
                       "AMI names must be between 3 and 128 characters long, and may contain letters, numbers, "
                       "'(', ')', '[', ']', ' ', '.', '/', '-', ''', '@' and '_'")
    return name


def checked_description(call: Call) -> str:
    description = call.get("Description") or ""
    if len(description) > MAX_DESCRIPTION:
        raise invalid_value(f"The description may be at most {MAX_DESCRIPTION} characters long")
    return description


def excluded_volumes(call: Call, instance_id: str) -> list[str]:
    """The volumes the mappings leave out (`NoDevice`), by the instance's device names; anything else the
    engine cannot do when copying an image is refused."""
    mappings = call.get("BlockDeviceMappings", [])
    if not mappings:
        return []
    instance = inventory.one_instance(call, instance_id)
    by_device = dict(zip(devices.names(instance.attachments), instance.attachments))
    root = devices.root_name(instance.attachments)
    left_out = []
    for mapping in mappings:
        name = mapping.get("DeviceName") or ""
        if not name:
            raise Ec2Error("MissingParameter", "A block device mapping needs a DeviceName")
        attachment = by_device.get(name)
        if mapping.get("NoDevice") is not None:
            if attachment is None:
                raise Ec2Error("InvalidBlockDeviceMapping", f"The instance has no device '{name[:100]}' to leave out")
            if name == root:
                raise Ec2Error("InvalidBlockDeviceMapping", f"The root device '{name[:100]}' cannot be left out")
            left_out.append(attachment.volume_id)
            continue
        ebs = mapping.get("Ebs") or {}
        if attachment is None or mapping.get("VirtualName") or set(ebs) - {"DeleteOnTermination"} \
                or ebs.get("DeleteOnTermination") is False:
            raise Ec2Error("UnsupportedOperation",
                           f"The block device mapping of '{name[:100]}' cannot be honoured: an image here holds "
                           "copies of the instance's volumes as they are; a mapping can only leave one out "
                           "(NoDevice)")
    return left_out


@action("CreateImage", mutating=True)
def create_image(call: Call) -> dict[str, Any]:
    instance_id = ids.decode("i", call.need("InstanceId"))
    name = checked_name(call.need("Name"))
    description = checked_description(call)
    tags = tags_by_type(call, TAGGABLE, None)
    left_out = excluded_volumes(call, instance_id)
    call.check_dry_run()
    try:
        image = call.driver.create_image(call.scope, instance_id, name, description,
                                         no_reboot=bool(call.get("NoReboot")), excluded_volume_ids=left_out,
                                         tags=tags.get("image"), snapshot_tags=tags.get("snapshot"))
    except AlreadyExists:
        raise Ec2Error("InvalidAMIName.Duplicate", f"AMI name {name} is already in use by AMI") from None
    return {"ImageId": ids.image_id(image.id)}


@action("DeregisterImage", mutating=True)
def deregister_image(call: Call) -> dict[str, Any]:
    image_id = ids.decode("ami", call.need("ImageId"))
    shown = ids.image_id(image_id)
    call.check_dry_run()
    try:
        call.driver.delete_image(call.scope, image_id)
    except NotFound:  # never was, or already deregistered (gone from listings at once)
        raise Ec2Error("InvalidAMIID.NotFound", f"The image id '[{shown}]' does not exist") from None
    except InvalidState as exc:  # instances made from it still exist, or it is being copied
        raise Ec2Error("IncorrectState", f"The image '{shown}' cannot be deregistered now: {exc.message}") from None
    return {}


def root_snapshot(call: Call) -> str:
    """The snapshot RegisterImage makes the image of: the one the root device's mapping names; what oVirt's
    template from a snapshot cannot hold besides it is refused."""
    root = call.need("RootDeviceName")
    snapshot_id = None
    for mapping in call.need("BlockDeviceMappings"):
        name = mapping.get("DeviceName") or ""
        ebs = mapping.get("Ebs")
        if mapping.get("NoDevice") is not None and name != root:
            continue
        if mapping.get("VirtualName") or ebs is None or name != root or not ebs.get("SnapshotId"):
            raise Ec2Error("UnsupportedOperation",
                           f"The block device mapping of '{name[:100]}' cannot be honoured: an image registered here "
                           "is the copy of one snapshot, given as the root device's Ebs.SnapshotId")
        if ebs.get("VolumeType") not in (None, "", "standard"):
            raise invalid_value("Every volume here is of type standard")
        if ebs.get("VolumeSize") is not None or ebs.get("Iops") is not None or ebs.get("Encrypted"):
            raise Ec2Error("UnsupportedOperation", "The image's volume is the snapshot's as it is: its size can be "
                                                   "grown at launch (RunInstances' VolumeSize), not here")
        snapshot_id = ids.decode("snap", ebs["SnapshotId"])
    if snapshot_id is None:
        raise Ec2Error("InvalidBlockDeviceMapping", f"No block device mapping gives the root device '{root[:100]}' "
                                                    "a snapshot")
    return snapshot_id


@action("RegisterImage", mutating=True)
def register_image(call: Call) -> dict[str, Any]:
    """An image of an EBS snapshot: oVirt's template from a VM snapshot (the snapshot's volumes as they were
    then, with the configuration of the instance it was taken of)."""
    name = checked_name(call.need("Name"))
    description = checked_description(call)
    if call.get("ImageLocation"):
        raise Ec2Error("UnsupportedOperation", "Images cannot be registered from a manifest in S3 here (there is no "
                                               "S3): register one from a snapshot, or make one with CreateImage")
    if call.get("KernelId") or call.get("RamdiskId") or call.get("VirtualizationType") == "paravirtual":
        raise Ec2Error("UnsupportedOperation", "Images here are hardware-virtualized (hvm) without a kernel or "
                                               "ramdisk of their own")
    if call.get("Architecture") not in (None, "x86_64"):
        raise invalid_value(f"The architecture '{str(call.get('Architecture'))[:20]}' is not offered here")
    snapshot_id = root_snapshot(call)
    tags = tags_by_type(call, TAGGABLE, None)
    if "snapshot" in tags:
        raise invalid_value("RegisterImage tags only the image")
    call.check_dry_run()
    try:
        image = call.driver.create_image_from_snapshot(call.scope, snapshot_id, name, description,
                                                       tags=tags.get("image"))
    except AlreadyExists:
        raise Ec2Error("InvalidAMIName.Duplicate", f"AMI name {name} is already in use by AMI") from None
    except NotFound as exc:
        if "snapshot" in exc.kind:
            raise Ec2Error("InvalidSnapshot.NotFound",
                           f"The snapshot '{ids.encode('snap', snapshot_id)}' does not exist.") from None
        raise
    return {"ImageId": ids.image_id(image.id)}


@action("CopyImage", mutating=True)
def copy_image(call: Call) -> dict[str, Any]:
    """Refused: oVirt has no template copy. A template reaches another data center (region) only by an export
    to an export storage domain and an import from it, which the engine's API offers only where such a
    domain is attached; within a data center a copy is a VM made from the image, imaged again."""
    checked_name(call.need("Name"))
    ids.decode("ami", call.need("SourceImageId"))
    if call.need("SourceRegion") == call.region:
        raise Ec2Error("UnsupportedOperation",
                       "Images cannot be copied within a region here (oVirt has no template copy): launch an "
                       "instance from the image and make an image of it with CreateImage")
    raise Ec2Error("UnsupportedOperation",
                   "Images cannot be copied between regions here: regions are oVirt data centers, and oVirt moves "
                   "a template to another data center only through an export storage domain; an image stays in "
                   "its region")
