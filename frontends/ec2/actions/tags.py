"""CreateTags, DeleteTags, DescribeTags on every taggable id the gateway hands out: instances, images,
volumes, snapshots, VPCs, subnets, security groups, network interfaces (and key pairs).

The driver keeps tags where the backend can hold them and in the store otherwise (an instance's `Name`
renames its VM where oVirt's naming rules allow); key pairs are the gateway's own, so are their tags.
Network objects (see ..networks) are tagged under their UUIDs: a VPC under its network's, a subnet
under its named (network, cluster) UUID, a security group under one named from its network's; a network
interface under the UUID of its `eni-` id (an instance's own NIC's, or the provider port of one made on its own).
"""
from __future__ import annotations

from typing import Any

from .. import ids, inventory, networks
from ..call import Call
from ..errors import Ec2Error
from ..filters import apply_filters, page_size, paginate
from ..provider_networks import ProviderNetworks
from ..tag_specifications import checked_tag
from . import action
from .network_interfaces import interface_tags, listed_interface_ids

RESOURCE_TYPES = {"i": "instance", "ami": "image", "vol": "volume", "snap": "snapshot", "vpc": "vpc",
                  "subnet": "subnet", "sg": "security-group", "eni": "network-interface"}
NETWORK_KINDS = ("vpc", "subnet", "security-group", "network-interface")
MALFORMED_KINDS = {"vpc": "VpcID", "subnet": "SubnetID", "security-group": "GroupId",
                   "network-interface": "NetworkInterfaceID"}
NOT_FOUND = {"vpc": "InvalidVpcID.NotFound", "subnet": "InvalidSubnetID.NotFound",
             "security-group": "InvalidGroup.NotFound", "network-interface": "InvalidNetworkInterfaceID.NotFound"}
PREFIXES = {kind: prefix for prefix, kind in RESOURCE_TYPES.items()}
KEY_PAIR_PREFIX = "key-"
TAG_FILTERS = {
    "resource-id": lambda t: [t["ResourceId"]],
    "resource-type": lambda t: [t["ResourceType"]],
    "key": lambda t: [t["Key"]],
    "value": lambda t: [t["Value"]],
    "tag-key": lambda t: [t["Key"]],
    "tag-value": lambda t: [t["Value"]],
}


def _prefix(resource_id: str) -> str:
    head, sep, _ = resource_id.partition("-")
    return head if sep else ""


def _backend_key(kind: str, prefix: str, resource_id: str) -> str:
    """The id tags are kept under: the backend UUID (a security group's is named from its network's);
    a malformed network id gets AWS's own code (InvalidVpcID/InvalidSubnetID/InvalidGroupId.Malformed)."""
    if kind in MALFORMED_KINDS:
        (backend_id,) = networks.decode_ids(prefix, [resource_id], MALFORMED_KINDS[kind]) or [""]
        return networks.group_tag_key(backend_id) if kind == "security-group" else backend_id
    return ids.decode(prefix, resource_id)


def _resources(call: Call) -> dict[str, list[str]]:
    """resource type -> backend ids (key pairs keep their own ids), Malformed/InvalidID on bad ids."""
    grouped: dict[str, list[str]] = {}
    for resource_id in call.need("Resources"):
        if resource_id.startswith(KEY_PAIR_PREFIX):
            grouped.setdefault("key-pair", []).append(resource_id)
            continue
        prefix = _prefix(resource_id)
        kind = RESOURCE_TYPES.get(prefix)
        if kind is None:
            raise Ec2Error("InvalidID", f"The ID '{resource_id[:100]}' is not valid")
        grouped.setdefault(kind, []).append(_backend_key(kind, prefix, resource_id))
    return grouped


def network_objects(call: Call, *, interfaces: bool = True) -> dict[str, tuple[str, str]]:
    """Tag key (see the module's docstring) -> (resource type, EC2 id) of every VPC, subnet and group, and with
    `interfaces` of every network interface (which lists every VM's NICs: only when an eni- id is involved)."""
    found = call.driver.networks(call.scope)
    objects = {n.id: ("vpc", networks.vpc_id(n.id)) for n in found}
    objects.update({networks.group_tag_key(n.id): ("security-group", networks.group_id(n.id)) for n in found})
    objects.update({s.id: ("subnet", ids.encode("subnet", s.id))
                    for s in networks.subnets(found, call.driver.realms(call.scope))})
    provided = ProviderNetworks.of(call, groups=True)
    objects.update({v.id: ("vpc", ids.encode("vpc", v.id)) for v in provided.vpcs})
    objects.update({s.id: ("subnet", ids.encode("subnet", s.id)) for s in provided.subnets})
    objects.update({networks.group_tag_key(g.id): ("security-group", ids.encode("sg", g.id)) for g in provided.groups})
    if interfaces:
        objects.update(interface_objects(call, provided))
    return objects


def interface_objects(call: Call, provided: ProviderNetworks) -> dict[str, tuple[str, str]]:
    """Tag key -> ("network-interface", EC2 id) of every interface DescribeNetworkInterfaces lists."""
    return {key: ("network-interface", ids.encode("eni", key)) for key in listed_interface_ids(call, provided)}


def _check_exist(call: Call, grouped: dict[str, list[str]]) -> None:
    if "instance" in grouped:
        inventory.instances(call, grouped["instance"], include_terminated=False)
    if "image" in grouped:
        known = {i.id for i in call.driver.images(call.scope, grouped["image"])}
        missing = [i for i in grouped["image"] if i not in known]
        if missing:
            raise Ec2Error("InvalidAMIID.NotFound", f"The image id '[{ids.image_id(missing[0])}]' does not exist")
    asked = [(kind, key) for kind in NETWORK_KINDS for key in grouped.get(kind, [])]
    if asked:
        known = network_objects(call, interfaces="network-interface" in grouped)
        for kind, key in asked:
            if known.get(key, ("",))[0] != kind:
                raise Ec2Error(NOT_FOUND[kind], f"The {kind} '{_ec2_id_of(call, kind, key)}' does not exist")
    if "key-pair" in grouped:
        known = {p.id for p in call.gateway.key_pairs.list(call.owner)}
        missing = [k for k in grouped["key-pair"] if k not in known]
        if missing:
            raise Ec2Error("InvalidKeyPair.NotFound", f"The key pair ID '{missing[0][:100]}' does not exist")


def _tagged_network_objects(call: Call, kinds: dict[str, str]) -> dict[str, tuple[str, str]]:
    """network_objects, with the interfaces only if a stored tag is on none of the others or of `kinds` (the
    instances, images, volumes and snapshots): then it may be an interface's."""
    objects = network_objects(call, interfaces=False)
    if call.driver.can("stored_tags") and not set(call.driver.stored_tags(call.scope)) - set(objects) - set(kinds):
        return objects
    return {**objects, **interface_objects(call, ProviderNetworks.of(call, groups=True))}


def _ec2_id_of(call: Call, kind: str, key: str) -> str:
    """The id the client gave for a tag key (a group's key is named, not its id)."""
    for resource_id in call.need("Resources"):
        if _prefix(resource_id) == PREFIXES[kind] and _backend_key(kind, PREFIXES[kind], resource_id) == key:
            return resource_id[:100]
    return key


@action("CreateTags", mutating=True)
def create_tags(call: Call) -> dict[str, Any]:
    grouped = _resources(call)
    tags = {}
    for tag in call.need("Tags"):
        checked_tag(tag.get("Key", ""), tag.get("Value"))
        tags[tag["Key"]] = tag.get("Value") or ""
    _check_exist(call, grouped)
    call.check_dry_run()
    for kind, resource_ids in grouped.items():
        if kind == "key-pair":
            call.gateway.store.set_tags(call.owner, kind, resource_ids, tags)
        else:
            call.driver.set_tags(call.scope, kind, resource_ids, tags)
    return {}


@action("DeleteTags", mutating=True)
def delete_tags(call: Call) -> dict[str, Any]:
    grouped = _resources(call)
    given = call.get("Tags")
    tags: dict[str, str | None] | None = None
    if given:
        tags = {}
        for tag in given:
            checked_tag(tag.get("Key", ""), None)
            tags[tag["Key"]] = tag.get("Value")
    call.check_dry_run()
    for kind, resource_ids in grouped.items():
        if kind == "key-pair":
            call.gateway.store.delete_tags(call.owner, resource_ids, tags)
        else:
            call.driver.delete_tags(call.scope, resource_ids, tags)
    return {}


def _kinds_of(call: Call) -> dict[str, str]:
    """backend id -> resource type, for what the scope can see."""
    kinds = {i.id: "instance" for i in call.driver.instances(call.scope)}
    kinds.update({i.id: "image" for i in call.driver.images(call.scope)})
    if call.driver.can("volumes"):
        kinds.update({v.id: "volume" for v in call.driver.volumes(call.scope)})
    if call.driver.can("snapshots"):
        kinds.update({s.id: "snapshot" for s in call.driver.snapshots(call.scope)})
    return kinds


@action("DescribeTags")
def describe_tags(call: Call) -> dict[str, Any]:
    size = page_size(call.get("MaxResults"), high=1000)
    call.check_dry_run()
    kinds = _kinds_of(call)
    items = []
    for resource_id, tags in call.driver.tags(call.scope).items():
        kind = kinds.get(resource_id)
        if kind is None:
            continue
        ec2_id = ids.encode(PREFIXES[kind], resource_id)
        items += [{"ResourceId": ec2_id, "ResourceType": kind, "Key": k, "Value": v} for k, v in tags.items()]
    objects = _tagged_network_objects(call, kinds) if call.driver.can("networks") else {}
    if objects:
        for key, tags in interface_tags(call, list(objects)).items():
            if key in objects:
                kind, ec2_id = objects[key]
                items += [{"ResourceId": ec2_id, "ResourceType": kind, "Key": k, "Value": v} for k, v in tags.items()]
    pairs = call.gateway.key_pairs.list(call.owner)
    if pairs:
        for pair_id, tags in call.gateway.store.tags(call.owner, [p.id for p in pairs]).items():
            items += [{"ResourceId": pair_id, "ResourceType": "key-pair", "Key": k, "Value": v}
                      for k, v in tags.items()]
    items = apply_filters(items, call.get("Filters"), TAG_FILTERS)
    page, token = paginate(items, lambda t: f"{t['ResourceId']}\x00{t['Key']}", size, call.get("NextToken"))
    return {"Tags": page, "NextToken": token}
