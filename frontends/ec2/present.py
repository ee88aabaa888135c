"""The common model as boto3 sees it: instances, states, images, zones and tags as response dicts.

EC2 vocabulary is decided here and only here: state codes, `ami-`/`i-` ids, `o1.small`-style instance
type names, zone names. Actions assemble these dicts; the renderer never needs to know what they mean.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from gateway.model import LAUNCH_ERROR, HardwareProfile, Image, Instance, InstanceState, NetworkInterface, ResourceState

from . import devices, ids, instance_options, networks

# Canonical state -> (EC2 code, EC2 name). EC2 has no paused, suspended or error: they are stopped
# (the reason says why), so waiters never mistake them for running.
EC2_STATES: dict[InstanceState, tuple[int, str]] = {
    InstanceState.PENDING: (0, "pending"),
    InstanceState.RUNNING: (16, "running"),
    InstanceState.SHUTTING_DOWN: (32, "shutting-down"),
    InstanceState.TERMINATED: (48, "terminated"),
    InstanceState.STOPPING: (64, "stopping"),
    InstanceState.STOPPED: (80, "stopped"),
    InstanceState.PAUSED: (80, "stopped"),
    InstanceState.SUSPENDED: (80, "stopped"),
    InstanceState.ERROR: (80, "stopped"),
}
STATE_REASONS = {
    InstanceState.PAUSED: ("Server.Paused", "The instance is paused in the backend"),
    InstanceState.SUSPENDED: ("Client.UserInitiatedHibernate", "The instance is suspended in the backend"),
    InstanceState.ERROR: ("Server.InternalError", "The backend reports the instance in an error state"),
    InstanceState.TERMINATED: ("Client.UserInitiatedShutdown", "Client.UserInitiatedShutdown: User initiated shutdown"),
}
TYPE_PREFIX = "o1."
IMAGE_STATES = {ResourceState.AVAILABLE: "available", ResourceState.PENDING: "pending",
                ResourceState.ERROR: "failed", ResourceState.DELETING: "deregistered",
                ResourceState.IN_USE: "available"}
INSTANCE_RECORD = "ec2.instance"  # store entity kind: what EC2 adds to a VM (reservation, launch index, ...)
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
NO_RECORD: dict[str, Any] = {}  # read-only stand-in for an instance without an EC2 record


def state(value: InstanceState) -> dict[str, Any]:
    code, name = EC2_STATES[value]
    return {"Code": code, "Name": name}


def type_name(profile: HardwareProfile) -> str:
    """`o1.small` for oVirt's `Small`: AWS-shaped, as Terraform's instance type parser wants."""
    slug = re.sub(r"[^a-z0-9]+", "-", profile.name.lower()).strip("-") or profile.id
    return TYPE_PREFIX + slug


def tag_list(tags: dict[str, str] | None) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in sorted((tags or {}).items())]


@dataclass
class Catalog:
    """What rendering instances needs besides the instances, fetched once per request."""

    zones: dict[str, str] = field(default_factory=dict)  # realm id -> zone name
    types: dict[str, str] = field(default_factory=dict)  # hardware profile id -> EC2 type name
    records: dict[str, dict[str, Any]] = field(default_factory=dict)  # instance id -> record
    tags: dict[str, dict[str, str]] = field(default_factory=dict)
    owner_id: str = ""
    placements: Any = None  # provider_networks.Placements: interfaces on a network provider's subnets

    def type_of(self, profile_id: str | None) -> str | None:
        if not profile_id:
            return None
        return self.types.get(profile_id, TYPE_PREFIX + profile_id)


def reservation_id(instance_id: str) -> str:
    return ids.encode("r", instance_id)


def instance_item(instance: Instance, catalog: Catalog) -> dict[str, Any]:
    """One `Instance` of a reservation, as boto3 returns it.

    Plain loops rather than comprehensions: a listing builds a thousand of these, and in Python 3.11
    every comprehension is a function call of its own.
    """
    record = catalog.records.get(instance.id) or NO_RECORD
    private_ip = public_ip = hostname = None  # the first of each, in reported order
    for address in instance.addresses:
        kind = address.kind
        if kind == "ipv4":
            if address.private:
                if private_ip is None:
                    private_ip = address.value
            elif public_ip is None:
                public_ip = address.value
        elif kind == "hostname" and hostname is None:
            hostname = address.value
    code, name = EC2_STATES[instance.state]
    device_names = devices.names(instance.attachments)
    mappings = []
    for n, attachment in enumerate(instance.attachments):
        ebs = {"VolumeId": ids.encode("vol", attachment.volume_id),
               "Status": "attached" if attachment.active else "detached",
               "DeleteOnTermination": attachment.delete_on_termination}
        if attachment.attached_at:
            ebs["AttachTime"] = attachment.attached_at
        mappings.append({"DeviceName": device_names[n], "Ebs": ebs})
    launched = instance.launch_time or instance.created or EPOCH
    interfaces = []
    for index, nic in enumerate(instance.interfaces):
        interfaces.append(interface_item(instance, nic, catalog.owner_id, index=index, attached=launched,
                                         dns_name=hostname if private_ip is not None else None,
                                         placements=catalog.placements))
    item: dict[str, Any] = {
        "InstanceId": ids.instance_id(instance.id),
        "ImageId": ids.image_id(instance.image_id) if instance.image_id else None,
        "State": {"Code": code, "Name": name},
        "PrivateDnsName": hostname if hostname is not None and private_ip is not None else "",
        "PublicDnsName": hostname if hostname is not None and private_ip is None else "",
        "StateTransitionReason": instance.state_reason or "",
        "KeyName": instance.key_name or record.get("key_name"),
        "AmiLaunchIndex": int(record.get("launch_index", 0)),
        "InstanceType": catalog.type_of(instance.hardware_profile_id),
        "LaunchTime": launched,
        "Placement": {"AvailabilityZone": catalog.zones.get(instance.realm_id or "", ""), "GroupName": "",
                      "Tenancy": "default"},
        "Monitoring": {"State": "disabled"},
        "PrivateIpAddress": private_ip,
        "PublicIpAddress": public_ip,
        "Architecture": instance.architecture or "x86_64",
        "RootDeviceType": "ebs",
        "RootDeviceName": devices.root_name(instance.attachments, device_names, instance.root_device),
        "BlockDeviceMappings": mappings,
        "VirtualizationType": "hvm",
        "Hypervisor": "xen",
        "ClientToken": record.get("client_token", ""),
        "Tags": tag_list(catalog.tags.get(instance.id, instance.tags)),
        **(catalog.placements.instance(instance) if catalog.placements  # VpcId, SubnetId, SecurityGroups
           else networks.instance_placement(instance)),
        "NetworkInterfaces": interfaces,
        "SourceDestCheck": True,
        "EbsOptimized": False,
        **instance_options.instance_members(cpus=instance.cpus, launched=launched),
    }
    reason = STATE_REASONS.get(instance.state)
    if instance.state is InstanceState.TERMINATED and instance.extra.get(LAUNCH_ERROR):
        item["StateReason"] = {"Code": "Server.InternalError",  # AWS's words for a launch that failed
                               "Message": f"Server.InternalError: {instance.extra[LAUNCH_ERROR]}"}
    elif reason:
        item["StateReason"] = {"Code": reason[0], "Message": instance.state_reason or reason[1]}
    return item


def interface_item(instance: Instance, nic: NetworkInterface, owner_id: str, *, index: int = 0,
                   attached: datetime = EPOCH, dns_name: str | None = None, placements: Any = None) -> dict[str, Any]:
    """One of an instance's `NetworkInterfaces` (the `index`th); its first IPv4 address is the primary one."""
    private_ips = []
    for ip in nic.ipv4:
        private_ips.append({"PrivateIpAddress": ip, "Primary": not private_ips, "PrivateDnsName": dns_name or ""})
    ipv6 = []
    for ip in nic.ipv6:
        ipv6.append({"Ipv6Address": ip})
    placed = placements.interface(instance, nic) if placements else {
        **networks.interface_placement(instance, nic.network_id),
        "Groups": [networks.default_group(nic.network_id)] if nic.network_id else []}
    return {"NetworkInterfaceId": ids.encode("eni", nic.id), "MacAddress": nic.mac, **placed,
            "Status": "in-use" if nic.plugged else "available", "OwnerId": owner_id,
            "PrivateIpAddress": nic.ipv4[0] if nic.ipv4 else None, "SourceDestCheck": True,
            "Description": nic.name, "PrivateIpAddresses": private_ips, "Ipv6Addresses": ipv6,
            "PrivateDnsName": dns_name or "", "InterfaceType": "interface",
            "Attachment": instance_options.interface_attachment(nic.id, index, plugged=nic.plugged, attached=attached)}


def image_item(image: Image, tags: dict[str, str] | None = None, owner_id: str = "") -> dict[str, Any]:
    return {
        "ImageId": ids.image_id(image.id),
        "ImageLocation": image.name,
        "State": IMAGE_STATES.get(image.state, "available"),
        "OwnerId": owner_id or image.owner,
        "CreationDate": (image.created or EPOCH).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "Public": image.is_public,
        "Architecture": image.architecture or "x86_64",
        "ImageType": "machine",
        "Name": image.name,
        "Description": image.description,
        "RootDeviceType": "ebs",
        "RootDeviceName": image.root_device or devices.ROOT_DEVICE,
        "BlockDeviceMappings": image_mappings(image),
        "VirtualizationType": "hvm",
        "Hypervisor": "xen",
        "PlatformDetails": "Windows" if "windows" in image.os_type.lower() else "Linux/UNIX",
        "UsageOperation": "RunInstances", "EnaSupport": False, "BootMode": "legacy-bios", "ProductCodes": [],
        "Tags": tag_list(tags if tags is not None else image.tags),
    }


def image_mappings(image: Image) -> list[dict[str, Any]]:
    """An image's disks as EBS mappings, the root first, each with its disk's snapshot (the engine's image id);
    an image whose disks the driver does not list shows one root mapping of its total size."""
    if not image.volumes:
        return ([{"DeviceName": devices.ROOT_DEVICE,
                  "Ebs": {"VolumeSize": max(1, -(-image.disk_bytes // (1 << 30))), "DeleteOnTermination": True,
                          "VolumeType": "standard", "Encrypted": False}}] if image.disk_bytes else [])
    mappings = []
    for volume in image.volumes:
        ebs: dict[str, Any] = {"DeleteOnTermination": True, "VolumeSize": max(1, -(-volume.size_bytes // (1 << 30))),
                               "VolumeType": "standard", "Encrypted": False}
        if volume.snapshot_id:
            ebs["SnapshotId"] = ids.encode("snap", volume.snapshot_id)
        mappings.append({"DeviceName": volume.device, "Ebs": ebs})
    return mappings
