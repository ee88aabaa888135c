"""DescribeNetworkInterfaces: every VM NIC of the scoped data center as an EC2 network interface (`eni-` and
the NIC's UUID), attached to its instance, in its subnet and groups (see ..provider_networks.Placements).

NICs are the VMs' own in oVirt, so every interface is attached; creating, attaching or detaching interfaces
of their own is not offered yet (UnsupportedOperation, by the dispatcher: no such action here).
"""
from __future__ import annotations

from typing import Any

from .. import ids, inventory
from ..call import Call
from ..errors import Ec2Error
from ..filters import apply_filters, page_size, paginate
from ..present import interface_item
from ..provider_networks import Placements
from . import action

INTERFACE_FILTERS = {
    "network-interface-id": lambda n: [n["NetworkInterfaceId"]],
    "subnet-id": lambda n: [n.get("SubnetId")],
    "vpc-id": lambda n: [n.get("VpcId")],
    "availability-zone": lambda n: [n["AvailabilityZone"]],
    "attachment.instance-id": lambda n: [n["Attachment"]["InstanceId"]],
    "attachment.attachment-id": lambda n: [n["Attachment"]["AttachmentId"]],
    "attachment.status": lambda n: [n["Attachment"]["Status"]],
    "group-id": lambda n: [g["GroupId"] for g in n["Groups"]],
    "group-name": lambda n: [g["GroupName"] for g in n["Groups"]],
    "mac-address": lambda n: [n["MacAddress"]],
    "private-ip-address": lambda n: [a["PrivateIpAddress"] for a in n["PrivateIpAddresses"]],
    "addresses.private-ip-address": lambda n: [a["PrivateIpAddress"] for a in n["PrivateIpAddresses"]],
    "status": lambda n: [n["Status"]],
    "owner-id": lambda n: [n["OwnerId"]],
    "description": lambda n: [n["Description"]],
}


@action("DescribeNetworkInterfaces")
def describe_network_interfaces(call: Call) -> dict[str, Any]:
    wanted = call.get("NetworkInterfaceIds")
    size = page_size(call.get("MaxResults"), with_ids=bool(wanted), ids_name="NetworkInterfaceIds")
    wanted_ids = [ids.encode("eni", ids.decode("eni", w)) for w in wanted or []]
    call.check_dry_run()
    owner, zones, placements = inventory.account_id(call), inventory.zone_names(call), Placements(call)
    items = []
    for instance in call.driver.instances(call.scope):
        for index, nic in enumerate(instance.interfaces):
            item = interface_item(instance, nic, owner, index=index, placements=placements)
            item["Attachment"] = {**item["Attachment"], "InstanceId": ids.instance_id(instance.id),
                                  "InstanceOwnerId": owner}
            item.update(AvailabilityZone=zones.get(instance.realm_id or "", ""), RequesterManaged=False,
                        TagSet=[])
            items.append(item)
    if wanted is not None:
        known = {i["NetworkInterfaceId"]: i for i in items}
        absent = [w for w in wanted_ids if w not in known]
        if absent:
            raise Ec2Error("InvalidNetworkInterfaceID.NotFound",
                           f"The networkInterface ID '{absent[0][:100]}' does not exist")
        items = [known[w] for w in dict.fromkeys(wanted_ids)]
    items = apply_filters(items, call.get("Filters"), INTERFACE_FILTERS)
    page, token = paginate(items, lambda n: n["NetworkInterfaceId"], size, call.get("NextToken"))
    return {"NetworkInterfaces": page, "NextToken": token}
