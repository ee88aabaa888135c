"""DescribeImageAttribute, ModifyImageAttribute, ResetImageAttribute.

`description` is the template's; `launchPermission` is the template's permissions with oVirt's
UserTemplateBasedVm role: `Group=all` is the engine's Everyone group, a `UserId` is the account id of an
oVirt user that an EC2 credential of this gateway acts as (an account id is a digest of engine and user,
so only users with a credential have one). A template shared with a user shows in that user's
DescribeImages. `blockDeviceMapping` is read-only, as on AWS; the attributes oVirt has no notion of
(kernel, ramdisk, sriovNetSupport, ...) read empty.
"""
from __future__ import annotations

from typing import Any

from gateway.errors import NotFound

from .. import ids, inventory
from ..call import Call
from ..errors import Ec2Error, invalid_value
from ..present import image_item
from . import action
from .image_making import MAX_DESCRIPTION

READ_ONLY = ("blockDeviceMapping", "productCodes", "kernel", "ramdisk", "sriovNetSupport", "bootMode",
             "tpmSupport", "uefiData", "lastLaunchedTime", "imdsSupport", "deregistrationProtection")
EMPTY_VALUES = {"kernel": "KernelId", "ramdisk": "RamdiskId", "sriovNetSupport": "SriovNetSupport",
                "tpmSupport": "TpmSupport", "uefiData": "UefiData", "lastLaunchedTime": "LastLaunchedTime",
                "imdsSupport": "ImdsSupport", "deregistrationProtection": "DeregistrationProtection"}
ATTRIBUTES = ("description", "launchPermission", *READ_ONLY)


def _image_id(call: Call) -> str:
    return ids.decode("ami", call.need("ImageId"))


def _attribute(call: Call, allowed: tuple[str, ...]) -> str:
    name = call.get("Attribute") or ""
    if name not in allowed:
        raise Ec2Error("InvalidParameterValue", f"Value ({name[:50]}) for parameter attribute is invalid. "
                                                f"Valid values: {', '.join(allowed)}")
    return name


def _not_found(image_id: str) -> Ec2Error:
    return Ec2Error("InvalidAMIID.NotFound", f"The image id '[{ids.image_id(image_id)}]' does not exist")


@action("DescribeImageAttribute")
def describe_image_attribute(call: Call) -> dict[str, Any]:
    image_id = _image_id(call)
    name = _attribute(call, ATTRIBUTES)
    call.check_dry_run()
    try:
        image = call.driver.image(call.scope, image_id)
    except NotFound:
        raise _not_found(image_id) from None
    answer: dict[str, Any] = {"ImageId": ids.image_id(image_id)}
    if name == "description":
        answer["Description"] = {"Value": image.description}
    elif name == "blockDeviceMapping":
        answer["BlockDeviceMappings"] = image_item(image)["BlockDeviceMappings"]
    elif name == "productCodes":
        answer["ProductCodes"] = []
    elif name == "bootMode":
        answer["BootMode"] = {"Value": "legacy-bios"}
    elif name == "launchPermission":
        shared = call.driver.launch_permissions(call.scope, image_id)
        by_user = {user: account for account, user in inventory.known_accounts(call).items()}
        answer["LaunchPermissions"] = ([{"Group": "all"}] if shared.public else []) + [
            {"UserId": by_user[user]} for user in shared.users if user in by_user]
    else:
        answer[EMPTY_VALUES[name]] = {}
    return answer


def _changes(call: Call) -> tuple[list[str], list[str], bool | None]:
    """(account ids to add, account ids to remove, everyone: True/False/None) from either of the two ways
    ModifyImageAttribute names launch permissions."""
    add: list[dict[str, Any]] = list((call.get("LaunchPermission") or {}).get("Add") or [])
    remove: list[dict[str, Any]] = list((call.get("LaunchPermission") or {}).get("Remove") or [])
    listed = [{"UserId": u} for u in call.get("UserIds", [])] + [{"Group": g} for g in call.get("UserGroups", [])]
    if listed:
        operation = call.get("OperationType") or ""
        if operation not in ("add", "remove"):
            raise Ec2Error("MissingParameter", "UserIds and UserGroups need OperationType add or remove")
        (add if operation == "add" else remove).extend(listed)
    everyone: bool | None = None
    for entries, value in ((add, True), (remove, False)):
        for entry in entries:
            group = entry.get("Group")
            if group is not None and group != "all":
                raise invalid_value(f"The group '{str(group)[:50]}' is invalid: only 'all' can be given")
            if group == "all":
                everyone = value
            elif not entry.get("UserId"):
                raise Ec2Error("MissingParameter", "A launch permission needs a UserId or Group")
    return ([e["UserId"] for e in add if e.get("UserId")], [e["UserId"] for e in remove if e.get("UserId")],
            everyone)


@action("ModifyImageAttribute", mutating=True)
def modify_image_attribute(call: Call) -> dict[str, Any]:
    image_id = _image_id(call)
    name = call.get("Attribute")
    description = (call.get("Description") or {}).get("Value")
    if name == "description" or (name is None and description is not None):
        description = description if description is not None else call.get("Value")
        if description is None:
            raise Ec2Error("MissingParameter", "The request must contain the parameter Description")
        if len(description) > MAX_DESCRIPTION:
            raise invalid_value(f"The description may be at most {MAX_DESCRIPTION} characters long")
        call.check_dry_run()
        try:
            call.driver.update_image(call.scope, image_id, description=description)
        except NotFound:
            raise _not_found(image_id) from None
        return {}
    if name not in (None, "launchPermission"):
        _attribute(call, ("description", "launchPermission"))
    add, remove, everyone = _changes(call)
    if not add and not remove and everyone is None:
        raise Ec2Error("MissingParameter", "The request must name a Description or a LaunchPermission to change")
    known = inventory.known_accounts(call)
    unknown = [a for a in (*add, *remove) if a not in known]
    if unknown:
        raise Ec2Error("InvalidUserID.Malformed" if not unknown[0].isdigit() or len(unknown[0]) != 12
                       else "InvalidParameterValue",
                       f"The account '{unknown[0][:20]}' is not one this gateway knows: an account id here is that "
                       "of an oVirt user an EC2 credential acts as")
    call.check_dry_run()
    try:
        call.driver.share_image(call.scope, image_id, add_users=[known[a] for a in add],
                                remove_users=[known[a] for a in remove], public=everyone)
    except NotFound as exc:
        if exc.kind == "user":
            raise invalid_value(f"The engine has no user '{exc.resource_id}' any more") from None
        raise _not_found(image_id) from None
    return {}


@action("ResetImageAttribute", mutating=True)
def reset_image_attribute(call: Call) -> dict[str, Any]:
    """Only launchPermission can be reset (as on AWS): the image is shared with no one any more."""
    image_id = _image_id(call)
    _attribute(call, ("launchPermission",))
    call.check_dry_run()
    try:
        shared = call.driver.launch_permissions(call.scope, image_id)
        call.driver.share_image(call.scope, image_id, remove_users=shared.users, public=False)
    except NotFound:
        raise _not_found(image_id) from None
    return {}
