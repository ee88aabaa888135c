"""DescribeImages: oVirt templates as AMIs."""
from __future__ import annotations

from typing import Any

from .. import ids, inventory
from ..call import Call
from ..errors import Ec2Error
from ..filters import apply_filters, page_size, paginate
from ..present import image_item
from . import action

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
}


@action("DescribeImages")
def describe_images(call: Call) -> dict[str, Any]:
    wanted = ids.decode_many("ami", call.get("ImageIds", []))
    size = page_size(call.get("MaxResults"), with_ids=bool(wanted), ids_name="ImageIds")
    owners = call.get("Owners", [])
    call.check_dry_run()
    found = call.driver.images(call.scope, wanted or None)
    if wanted:
        missing = [w for w in wanted if w not in {i.id for i in found}]
        if missing:
            shown = ", ".join(ids.image_id(m) for m in missing)
            raise Ec2Error("InvalidAMIID.NotFound", f"The image id '[{shown}]' does not exist")
    me = call.scope.credentials.username
    account = inventory.account_id(call)
    if owners:
        mine = "self" in owners or account in owners
        found = [i for i in found if (mine and i.owner == me) or i.owner in owners]
    items = apply_filters((image_item(i, owner_id=account if i.owner == me else i.owner) for i in found),
                          call.get("Filters"), IMAGE_FILTERS)
    page, token = paginate(items, lambda i: i["ImageId"], size, call.get("NextToken"))
    return {"Images": page, "NextToken": token}

