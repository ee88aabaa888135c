"""DescribeImages: oVirt templates as AMIs, with the filters AWS clients use and ExecutableUsers.

`ExecutableUsers` narrows to images the given accounts may launch: `self` (the caller can launch every
image it sees), `all` (public images), or an account id (images public or shared with that account:
its launch permissions, see image_attributes).
"""
from __future__ import annotations

from typing import Any

from gateway.model import Image, LaunchPermissions

from .. import ids, inventory
from ..call import Call
from ..errors import Ec2Error
from ..filters import apply_filters, page_size, paginate
from ..present import image_item
from . import action

NONE = LaunchPermissions()  # an image shared with no one

IMAGE_FILTERS = {
    "name": lambda i: [i["Name"]],
    "image-id": lambda i: [i["ImageId"]],
    "state": lambda i: [i["State"]],
    "architecture": lambda i: [i["Architecture"]],
    "owner-id": lambda i: [i["OwnerId"]],
    "is-public": lambda i: [i["Public"]],
    "image-type": lambda i: [i["ImageType"]],
    "root-device-type": lambda i: [i["RootDeviceType"]],
    "virtualization-type": lambda i: [i["VirtualizationType"]],
    "hypervisor": lambda i: [i["Hypervisor"]],
    "description": lambda i: [i["Description"]],
    "platform-details": lambda i: [i["PlatformDetails"]],
    "platform": lambda i: ["windows"] if i["PlatformDetails"] == "Windows" else [],
    "root-device-name": lambda i: [i["RootDeviceName"]],
    "creation-date": lambda i: [i["CreationDate"]],
    "kernel-id": lambda i: [],
    "ramdisk-id": lambda i: [],
    "product-code": lambda i: [],
    "product-code.type": lambda i: [],
    "manifest-location": lambda i: [i["ImageLocation"]],
    "image-allowed": lambda i: [True],
    "ena-support": lambda i: [i["EnaSupport"]],
    "block-device-mapping.device-name": lambda i: [m["DeviceName"] for m in i["BlockDeviceMappings"]],
    "block-device-mapping.snapshot-id": lambda i: [m["Ebs"]["SnapshotId"] for m in i["BlockDeviceMappings"]
                                                   if "SnapshotId" in m.get("Ebs", {})],
    "block-device-mapping.volume-size": lambda i: [m["Ebs"]["VolumeSize"] for m in i["BlockDeviceMappings"]
                                                   if "VolumeSize" in m.get("Ebs", {})],
    "block-device-mapping.volume-type": lambda i: [m["Ebs"]["VolumeType"] for m in i["BlockDeviceMappings"]
                                                   if "VolumeType" in m.get("Ebs", {})],
    "block-device-mapping.delete-on-termination": lambda i: [
        m["Ebs"]["DeleteOnTermination"] for m in i["BlockDeviceMappings"] if "DeleteOnTermination" in m.get("Ebs", {})],
    "block-device-mapping.encrypted": lambda i: [False for m in i["BlockDeviceMappings"] if "Ebs" in m],
}


@action("DescribeImages")
def describe_images(call: Call) -> dict[str, Any]:
    wanted = ids.decode_many("ami", call.get("ImageIds", []))
    size = page_size(call.get("MaxResults"), with_ids=bool(wanted), ids_name="ImageIds")
    owners = call.get("Owners", [])
    users = call.get("ExecutableUsers", [])
    call.check_dry_run()
    found = call.driver.images(call.scope, wanted or None)
    if wanted:
        missing = [w for w in wanted if w not in {i.id for i in found}]
        if missing:
            shown = ", ".join(ids.image_id(m) for m in missing)
            raise Ec2Error("InvalidAMIID.NotFound", f"The image id '[{shown}]' does not exist")
    me = call.scope.credentials.username
    account = inventory.account_id(call)
    owner_ids = {i.id: account if i.owner in ("", me) else inventory.account_id_of_user(call, i.owner) for i in found}
    if owners:
        found = [i for i in found if ("self" in owners and owner_ids[i.id] == account) or owner_ids[i.id] in owners]
    if users:
        found = executable_by(call, found, users, account)
    items = apply_filters((image_item(i, owner_id=owner_ids[i.id]) for i in found), call.get("Filters"), IMAGE_FILTERS)
    page, token = paginate(items, lambda i: i["ImageId"], size, call.get("NextToken"))
    return {"Images": page, "NextToken": token}



def executable_by(call: Call, images: list[Image], users: list[str], account: str) -> list[Image]:
    """The images one of `users` (self, all, or account ids) may launch; the launch permissions of the images
    only a share opens are read in one driver call, however many they are."""
    if any(user in ("self", account) for user in users):
        return images  # an image the caller sees is one it may launch
    everyone = any(user == "all" or user.isdigit() for user in users)  # anyone may launch a public image
    others = [u for u in users if u.isdigit() and u != account]
    names = {inventory.known_accounts(call).get(u) for u in others} - {None} if others else set()
    private = [i for i in images if not i.is_public] if names else []
    shared = call.driver.launch_permissions_of(call.scope, private) if private else {}
    return [i for i in images if (everyone if i.is_public else bool(names & set(shared.get(i.id, NONE).users)))]
