"""The common model: what every frontend renders and every driver returns.

Plain dataclasses in the libcloud spirit: small value objects, exact units (bytes, not MiB; timezone-aware
UTC datetimes), and an `extra` dict for backend facts that have no field. Ids are the backend's own ids
(oVirt UUIDs); frontends encode them in their own shapes.
"""
from __future__ import annotations

import base64
import dataclasses
import enum
import functools
import types
import typing
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

T = TypeVar("T")


class InstanceState(str, enum.Enum):
    """The one canonical instance state; each frontend maps it to its own vocabulary."""

    PENDING = "pending"
    RUNNING = "running"
    STOPPING = "stopping"
    STOPPED = "stopped"
    SHUTTING_DOWN = "shutting-down"
    TERMINATED = "terminated"
    PAUSED = "paused"
    SUSPENDED = "suspended"
    ERROR = "error"


class ResourceState(str, enum.Enum):
    """Life cycle of images, volumes and snapshots."""

    PENDING = "pending"
    AVAILABLE = "available"
    IN_USE = "in-use"
    DELETING = "deleting"
    ERROR = "error"


@dataclass
class Region:
    """A data center."""

    id: str
    name: str
    description: str = ""
    available: bool = True


@dataclass
class Realm:
    """A cluster of the scoped data center: where an instance runs (EC2 availability zone)."""

    id: str
    name: str
    region_id: str
    region_name: str
    available: bool = True
    description: str = ""
    architecture: str = "x86_64"


@dataclass
class Image:
    """A template usable in the scoped data center."""

    id: str
    name: str
    description: str = ""
    owner: str = ""
    architecture: str = "x86_64"
    state: ResourceState = ResourceState.AVAILABLE
    created: datetime | None = None
    memory_bytes: int | None = None
    cpus: int | None = None
    disk_bytes: int | None = None
    os_type: str = ""
    realm_id: str | None = None
    is_public: bool = True
    tags: dict[str, str] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    root_device: str | None = None  # the boot disk's device name, the same an instance of the image shows
    volumes: list["ImageVolume"] = field(default_factory=list)  # its disks, the boot disk first
    backend_state: str = ""  # the engine's own status word (gateway.engine_states reads what it allows)


@dataclass
class ImageVolume:
    """A disk an image gives each of its instances: `snapshot_id` is the backend's id of the disk's image
    (oVirt's disk snapshot id), what EC2 shows as the mapping's SnapshotId."""

    device: str
    size_bytes: int
    bootable: bool = False
    snapshot_id: str | None = None


@dataclass
class LaunchPermissions:
    """Who may launch instances from an image besides its owner: backend user names, and everyone."""

    users: list[str] = field(default_factory=list)
    public: bool = False


@dataclass
class HardwareProfile:
    """A sizing an instance can be created with (oVirt instance type or a template's own sizing)."""

    id: str
    name: str
    memory_bytes: int
    cpus: int
    disk_bytes: int | None = None
    architecture: str = "x86_64"
    description: str = ""


@dataclass
class Address:
    """An address of an instance. kind: ipv4, ipv6, mac, hostname."""

    kind: str
    value: str
    private: bool = True


@dataclass
class NetworkInterface:
    """A VM NIC with the addresses the guest reports on it."""

    id: str
    instance_id: str
    name: str
    mac: str | None = None
    network_id: str | None = None
    profile_id: str | None = None
    ipv4: list[str] = field(default_factory=list)
    ipv6: list[str] = field(default_factory=list)
    plugged: bool = True
    linked: bool = True
    interface: str = "virtio"


@dataclass
class VolumeAttachment:
    """A volume attached to an instance.

    `delete_on_termination`: whether terminating the instance deletes the volume (else it is detached and
    stays, with its data); EC2's DeleteOnTermination, the same for every frontend.
    """

    volume_id: str
    instance_id: str
    device: str | None = None
    bootable: bool = False
    active: bool = True
    attached_at: datetime | None = None
    delete_on_termination: bool = False
    interface: str = ""  # the backend's bus (oVirt: virtio, virtio_scsi, ide, ...), where it says
    realm_id: str | None = None  # the instance's realm, where a volume listing says (no instance lookup then)


@dataclass
class Volume:
    """A disk."""

    id: str
    name: str
    size_bytes: int
    state: ResourceState = ResourceState.AVAILABLE
    description: str = ""
    created: datetime | None = None
    storage_domain_id: str | None = None
    realm_id: str | None = None
    format: str = "cow"
    sparse: bool = True
    attachments: list[VolumeAttachment] = field(default_factory=list)
    tags: dict[str, str] = field(default_factory=dict)
    backend_state: str = ""  # the engine's own status word (gateway.engine_states reads what it allows)
    snapshot_id: str | None = None  # the snapshot it was copied from, where the backend knows


@dataclass
class Snapshot:
    """A VM snapshot (what EC2 calls a snapshot and Deltacloud a storage snapshot)."""

    id: str
    instance_id: str
    description: str = ""
    state: ResourceState = ResourceState.AVAILABLE
    created: datetime | None = None
    volume_ids: list[str] = field(default_factory=list)
    size_bytes: int | None = None
    backend_state: str = ""  # the engine's own status word (gateway.engine_states reads what it allows)


@dataclass
class Network:
    """A logical network of the scoped data center (with its vNIC profiles)."""

    id: str
    name: str
    description: str = ""
    region_id: str | None = None
    vlan: int | None = None
    mtu: int | None = None
    profile_ids: list[str] = field(default_factory=list)
    is_management: bool = False
    external: bool = False  # imported from the engine's external network provider (OVN): a provider subnet


LAUNCH_ERROR = "launch_error"  # Instance.extra: why the launch that made a terminated instance failed


@dataclass
class Instance:
    """A VM."""

    id: str
    name: str
    state: InstanceState
    state_reason: str = ""
    backend_state: str = ""
    image_id: str | None = None
    realm_id: str | None = None
    region_id: str | None = None
    hardware_profile_id: str | None = None
    memory_bytes: int = 0
    cpus: int = 1
    architecture: str = "x86_64"
    created: datetime | None = None
    launch_time: datetime | None = None
    host_id: str | None = None
    host_name: str | None = None
    description: str = ""
    owner: str = ""
    addresses: list[Address] = field(default_factory=list)
    interfaces: list[NetworkInterface] = field(default_factory=list)
    attachments: list[VolumeAttachment] = field(default_factory=list)
    key_name: str | None = None
    user_data: bytes | None = None
    tags: dict[str, str] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    root_device: str | None = None  # the boot disk's device name (known before its disks are listed)
    # Until its launch puts its interface there (just before the first start): the provider subnet and groups
    # the launch asked for, which clients read back at once (Ansible compares the groups right after launching)
    launch_subnet_id: str | None = None
    launch_group_ids: list[str] = field(default_factory=list)
    # Which stored version of the instance this is a copy of (the inventory view's); None where the driver
    # read it afresh. Caches of what a frontend makes of an instance key on it (gateway/inventory.py).
    revision: int | None = field(default=None, compare=False, repr=False, metadata={"transient": True})

    def addresses_of(self, kind: str) -> list[str]:
        """The instance's addresses of one kind (ipv4, ipv6, mac, hostname), in reported order."""
        return [a.value for a in self.addresses if a.kind == kind]


@dataclass
class KeyPair:
    """An SSH key pair kept by the gateway; `private_key` is set only in the answer that created it."""

    name: str
    fingerprint: str
    public_key: str
    key_type: str = "rsa"
    id: str = ""
    created: datetime | None = None
    private_key: str | None = None
    tags: dict[str, str] = field(default_factory=dict)


@dataclass
class InstanceSpec:
    """What to create: the driver fills in what is left out from the image and hardware profile."""

    image_id: str
    realm_id: str | None = None
    hardware_profile_id: str | None = None
    memory_bytes: int | None = None
    cpus: int | None = None
    name: str | None = None
    description: str = ""
    user_data: bytes | None = None
    ssh_public_keys: list[str] = field(default_factory=list)
    key_name: str | None = None
    host_name: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    start: bool = True
    volume_tags: dict[str, str] = field(default_factory=dict)  # for the disks it gets (they may not exist yet)
    root_volume_bytes: int | None = None  # grow the boot disk to this size before the first start
    root_delete_on_termination: bool = True  # False: terminating the instance keeps its boot disk
    new_volumes: list["LaunchVolume"] = field(default_factory=list)  # disks attached before the first start
    suppressed_devices: list[str] = field(default_factory=list)  # the image's non-boot disks it must not get
    subnet_id: str | None = None  # a network provider's subnet its one interface is on (the image's NICs go)
    security_group_ids: list[str] = field(default_factory=list)  # that interface's groups (else its VPC's default)
    private_ip: str | None = None  # that interface's address in the subnet (else the subnet's next free one)


@dataclass
class LaunchVolume:
    """A disk a launch adds to the instance, under the device name the client gave: blank, or a copy of a
    snapshot's disk (grown to `size_bytes` if larger)."""

    device: str
    size_bytes: int
    delete_on_termination: bool = True
    snapshot_id: str | None = None


MAX_VOLUME_BYTES = 64 << 40  # 64 TiB: a frontend refuses a larger disk as the client's mistake, never asks the engine


@dataclass
class VolumeSpec:
    """A new disk: empty, or a copy of a snapshot's."""

    size_bytes: int
    name: str | None = None
    description: str = ""
    realm_id: str | None = None
    storage_domain_id: str | None = None
    sparse: bool = True
    tags: dict[str, str] = field(default_factory=dict)
    snapshot_id: str | None = None  # a copy of this snapshot's disk (grown to size_bytes if larger) instead


# --- JSON round trip (tombstones, operation data) -------------------------------------------------------
def to_json(obj: Any) -> Any:
    """A model object as plain JSON data: datetimes as ISO 8601, enums by value, bytes as base64."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: to_json(getattr(obj, f.name)) for f in dataclasses.fields(obj)
                if not f.metadata.get("transient")}  # a process's own bookkeeping, meaningless elsewhere
    if isinstance(obj, enum.Enum):
        return obj.value
    if isinstance(obj, datetime):
        return obj.isoformat()
    if isinstance(obj, bytes):
        return {"base64": base64.b64encode(obj).decode()}
    if isinstance(obj, dict):
        return {str(k): to_json(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [to_json(v) for v in obj]
    return obj


def from_json(cls: type[T], data: dict[str, Any]) -> T:
    """Rebuild a model dataclass from `to_json` output; unknown keys (older/newer writers) and transient fields
    are ignored."""
    values: dict[str, Any] = {}
    for name, hint in _field_hints(cls):
        if name in data:
            values[name] = _from_json_value(hint, data[name])
    return cls(**values)


@functools.cache
def _field_hints(cls: type) -> tuple[tuple[str, Any], ...]:
    """Each field's resolved type; resolving the string annotations is the slow part, so once per class."""
    hints = typing.get_type_hints(cls)
    return tuple((f.name, hints[f.name]) for f in dataclasses.fields(cls) if not f.metadata.get("transient"))


def _from_json_value(hint: Any, value: Any) -> Any:
    if value is None:
        return None
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(hint) if a is not type(None)]
        return _from_json_value(options[0], value) if len(options) == 1 else value
    if origin is list:
        (item,) = typing.get_args(hint)
        return [_from_json_value(item, v) for v in value]
    if hint is datetime:
        return datetime.fromisoformat(value)
    if hint is bytes:
        return base64.b64decode(value["base64"]) if isinstance(value, dict) else str(value).encode()
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return hint(value)
    if dataclasses.is_dataclass(hint) and isinstance(value, dict):
        return from_json(hint, value)
    return value
