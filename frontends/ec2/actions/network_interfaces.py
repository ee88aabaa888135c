"""DescribeNetworkInterfaces: every VM NIC of the scoped data center as an EC2 network interface (`eni-` and
the NIC's UUID), attached to its instance, in its subnet and groups (see ..provider_networks.Placements).

NICs are the VMs' own in oVirt, so every NIC is an attached interface; interfaces made on their own
(..interface_changes) are listed too, `available`. Each has the tags clients gave it (see .tags).

An interface detached a moment ago (see the driver's interface_detachments) is `available` with no
Attachment, as Ansible's ec2_eni expects of a detached one (it reads any Attachment as attached); a request
that asks for attachments themselves, by `attachment.attachment-id` or `attachment.status`, finds its last
one with Status `detached`, as Terraform's wait after DetachNetworkInterface does.
"""
from __future__ import annotations

from typing import Any

from gateway.network_model import InterfaceDetachment

from .. import ids, inventory
from ..call import Call
from ..errors import Ec2Error
from ..filters import apply_filters, page_size, paginate
from ..present import interface_item
from ..provider_networks import Placements, ProviderNetworks
from .interface_changes import reserved_item
from . import action

INTERFACE_FILTERS = {
    "network-interface-id": lambda n: [n["NetworkInterfaceId"]],
    "subnet-id": lambda n: [n.get("SubnetId")],
    "vpc-id": lambda n: [n.get("VpcId")],
    "availability-zone": lambda n: [n["AvailabilityZone"]],
    "attachment.instance-id": lambda n: [n.get("Attachment", {}).get("InstanceId")],  # none while available
    "attachment.attachment-id": lambda n: [n.get("Attachment", {}).get("AttachmentId")],
    "attachment.status": lambda n: [n.get("Attachment", {}).get("Status")],
    "attachment.device-index": lambda n: [n.get("Attachment", {}).get("DeviceIndex")],
    "group-id": lambda n: [g["GroupId"] for g in n["Groups"]],
    "group-name": lambda n: [g["GroupName"] for g in n["Groups"]],
    "mac-address": lambda n: [n["MacAddress"]],
    "private-ip-address": lambda n: [a["PrivateIpAddress"] for a in n["PrivateIpAddresses"]],
    "addresses.private-ip-address": lambda n: [a["PrivateIpAddress"] for a in n["PrivateIpAddresses"]],
    "status": lambda n: [n["Status"]],
    "owner-id": lambda n: [n["OwnerId"]],
    "description": lambda n: [n["Description"]],
}


DETACHMENT_FILTERS = ("attachment.attachment-id", "attachment.status")  # they name attachments, not interfaces


@action("DescribeNetworkInterfaces")
def describe_network_interfaces(call: Call) -> dict[str, Any]:
    wanted = call.get("NetworkInterfaceIds")
    size = page_size(call.get("MaxResults"), with_ids=bool(wanted), ids_name="NetworkInterfaceIds")
    wanted_ids = [ids.encode("eni", ids.decode("eni", w)) for w in wanted or []]
    call.check_dry_run()
    owner, zones, placements = inventory.account_id(call), inventory.zone_names(call), Placements(call)
    items = []
    provided = ProviderNetworks.of(call, groups=True)  # none without a provider that admits the user
    attached = call.driver.attached_interfaces(call.scope) if provided.subnets else {}
    instances = call.driver.instances(call.scope)
    tag_keys = [attached[n.id].id if n.id in attached else n.id for i in instances for n in i.interfaces]
    tags = interface_tags(call, tag_keys)
    for instance in instances:
        for index, nic in enumerate(instance.interfaces):
            item = interface_item(instance, nic, owner, index=index, placements=placements)
            own = attached.get(nic.id)
            if own is not None:  # an interface of its own: its id, description and check are its port's
                item.update(NetworkInterfaceId=ids.encode("eni", own.id), Description=own.description,
                            SourceDestCheck=own.source_dest_check)
            item["Attachment"] = {**item["Attachment"], "InstanceId": ids.instance_id(instance.id),
                                  "InstanceOwnerId": owner}
            item.update(AvailabilityZone=zones.get(instance.realm_id or "", ""), RequesterManaged=False,
                        TagSet=[{"Key": k, "Value": v} for k, v in
                                sorted(tags.get(nic.id if own is None else own.id, {}).items())])
            items.append(item)
    items.extend(_reserved_items(call, provided, with_detachments=_asks_for_attachments(call.get("Filters"))))
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


def interface_tags(call: Call, keys: list[str]) -> dict[str, dict[str, str]]:
    """The tags of interfaces (NIC or port ids): the store's alone where the driver says so, as no VM's name
    is among them (the driver's `tags` lists every VM for those)."""
    if not keys:
        return {}
    if call.driver.can("stored_tags"):
        return call.driver.stored_tags(call.scope, keys)
    return call.driver.tags(call.scope, keys)


def listed_interface_ids(call: Call, provided: ProviderNetworks) -> list[str]:
    """The backend ids behind the `eni-` ids this action lists: an instance's own NIC's UUID, and for one made on
    its own (attached or not) its provider port's."""
    if not call.driver.can("interfaces"):
        return []
    attached = call.driver.attached_interfaces(call.scope) if provided.subnets else {}
    found = [n.id for n in call.driver.interfaces(call.scope) if n.id not in attached]
    found += [r.id for r in attached.values()]
    return found + ([r.id for r in call.driver.reserved_interfaces(call.scope)] if provided.subnets else [])


def _asks_for_attachments(filters: list[dict[str, Any]] | None) -> bool:
    return any(f.get("Name") in DETACHMENT_FILTERS for f in filters or [])


def _reserved_items(call: Call, provided: ProviderNetworks, *, with_detachments: bool) -> list[dict[str, Any]]:
    """The interfaces of their own that are available, with their tags (and, `with_detachments`, the last
    attachment of one detached a moment ago)."""
    if not provided.subnets:
        return []
    reserved = call.driver.reserved_interfaces(call.scope)
    tags = interface_tags(call, [r.id for r in reserved])
    items = [reserved_item(call, r, provided, tags.get(r.id)) for r in reserved]
    if with_detachments and reserved:
        detached = {d.interface_id: d for d in call.driver.interface_detachments(call.scope)}
        owner = inventory.account_id(call)
        for r, item in zip(reserved, items):
            if r.id in detached:
                item["Attachment"] = detached_attachment(detached[r.id], owner)
    return items


def detached_attachment(detachment: InterfaceDetachment, owner: str) -> dict[str, Any]:
    """An interface's last attachment as EC2 shows it once detached."""
    return {"AttachmentId": ids.encode("eni-attach", detachment.attachment_id),
            "InstanceId": ids.instance_id(detachment.instance_id), "InstanceOwnerId": owner,
            "DeviceIndex": detachment.device_index, "NetworkCardIndex": 0, "Status": "detached",
            "DeleteOnTermination": False}
