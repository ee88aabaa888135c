"""CreateImage, DeregisterImage, RegisterImage, CopyImage: images made, removed, registered and copied.

CreateImage is the driver's durable image operation (the instance is stopped for the copy and started
again unless NoReboot); its `BlockDeviceMappings` may leave attached volumes out (`NoDevice`), by the
device names DescribeInstances shows. What the engine cannot do is refused in words a user understands.
"""
from __future__ import annotations

import re
from typing import Any

from gateway.errors import AlreadyExists, InvalidState, NotFound
from gateway.model import ResourceState

from .. import devices, ids, inventory
from ..call import Call
from ..errors import Ec2Error, invalid_value
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


def tags_by_type(call: Call) -> dict[str, dict[str, str]]:
    """TagSpecifications by resource type (image or snapshot, as CreateImage allows)."""
    found: dict[str, dict[str, str]] = {}
    for spec in call.get("TagSpecifications", []):
        kind = spec.get("ResourceType") or ""
        if kind not in TAGGABLE:
            raise invalid_value(f"'{kind[:50]}' is not a valid taggable resource type for this operation; "
                                "CreateImage tags an image and its snapshots")
        for tag in spec.get("Tags") or []:
            key = tag.get("Key") or ""
            if not key or key.lower().startswith("aws:"):
                raise invalid_value(f"The tag key '{key[:128]}' is not allowed")
            found.setdefault(kind, {})[key] = tag.get("Value") or ""
    return found


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
    tags = tags_by_type(call)
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
        image = call.driver.image(call.scope, image_id)
    except NotFound:
        raise Ec2Error("InvalidAMIID.NotFound", f"The image id '[{shown}]' does not exist") from None
    if image.state is ResourceState.DELETING:
        raise Ec2Error("InvalidAMIID.Unavailable", f"The image '{shown}' has been deregistered")
    try:
        call.driver.delete_image(call.scope, image_id)
    except InvalidState as exc:  # instances made from it still exist, or it is being copied
        raise Ec2Error("IncorrectState", f"The image '{shown}' cannot be deregistered now: {exc.message}") from None
    return {}


@action("RegisterImage", mutating=True)
def register_image(call: Call) -> dict[str, Any]:
    checked_name(call.need("Name"))
    if call.get("ImageLocation"):
        raise Ec2Error("UnsupportedOperation", "Images cannot be registered from a manifest in S3 here: there is no "
                                               "S3; make an image from an instance with CreateImage")
    raise Ec2Error("UnsupportedOperation",
                   "Images cannot be registered from a snapshot here: an EBS snapshot is a snapshot of an oVirt "
                   "virtual machine, and oVirt makes an image only from a virtual machine or from a snapshot "
                   "together with that machine's configuration; make the image with CreateImage from the "
                   "instance instead")


@action("CopyImage", mutating=True)
def copy_image(call: Call) -> dict[str, Any]:
    checked_name(call.need("Name"))
    ids.decode("ami", call.need("SourceImageId"))
    call.need("SourceRegion")
    raise Ec2Error("UnsupportedOperation",
                   "Images cannot be copied here: regions are oVirt data centers, and oVirt moves a template to "
                   "another data center only through an export storage domain; an image stays in its region")
