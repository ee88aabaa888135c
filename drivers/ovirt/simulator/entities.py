"""The objects the simulated engine holds.

Plain dataclasses: the store owns them, lifecycle code mutates them under the store's lock, renderers
read them. Fields mirror the engine's model (snake_case names as in the XML) where a client can see
them; everything else (ownership, the VM's index for deterministic addresses) is simulator bookkeeping.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

BLANK_ID = "00000000-0000-0000-0000-000000000000"
ROOT_TAG_ID = "00000000-0000-0000-0000-000000000000"
GiB = 1024 ** 3
MiB = 1024 ** 2


@dataclass(slots=True)
class User:
    id: str
    user_name: str          # e.g. admin@internal
    password: str
    admin: bool = False
    first_name: str = ""
    last_name: str = ""

    @property
    def name(self) -> str:
        return self.user_name.split("@", 1)[0]

    @property
    def domain(self) -> str:
        return self.user_name.split("@", 1)[1] if "@" in self.user_name else "internal"


@dataclass(slots=True)
class DataCenter:
    id: str
    name: str
    description: str = ""
    comment: str = ""
    status: str = "up"
    local: bool = False
    version: tuple[int, int] = (4, 7)
    storage_format: str = "v5"
    mac_pool_id: str = ""


@dataclass(slots=True)
class Cluster:
    id: str
    name: str
    data_center_id: str
    description: str = ""
    comment: str = ""
    cpu_type: str = "Intel Skylake Server IBRS SSBD Family"
    version: tuple[int, int] = (4, 7)
    mac_pool_id: str = ""
    scheduling_policy_id: str = ""


@dataclass(slots=True)
class Host:
    id: str
    name: str
    cluster_id: str
    address: str
    status: str = "up"
    memory: int = 64 * GiB
    sockets: int = 2
    cores: int = 8
    spm: bool = True
    description: str = ""
    comment: str = ""


@dataclass(slots=True)
class StorageDomain:
    id: str
    name: str
    data_center_id: str
    type: str = "data"
    storage_type: str = "nfs"
    address: str = ""
    path: str = ""
    available: int = 500 * GiB
    used: int = 20 * GiB
    committed: int = 0
    master: bool = True
    status: str = "active"
    description: str = ""
    comment: str = ""


@dataclass(slots=True)
class Network:
    id: str
    name: str
    data_center_id: str
    description: str = ""
    comment: str = ""
    mtu: int = 0
    vlan: int | None = None
    usages: tuple[str, ...] = ("vm", "management")
    external_provider_id: str = ""  # an external provider's network (OVN) imported into the data center


@dataclass(slots=True)
class VnicProfile:
    id: str
    name: str
    network_id: str
    description: str = ""


@dataclass(slots=True)
class InstanceType:
    id: str
    name: str
    description: str
    memory: int
    sockets: int
    cores: int = 1
    threads: int = 1
    creation_time: float = 0.0


@dataclass(slots=True)
class Disk:
    id: str
    name: str
    storage_domain_id: str
    provisioned_size: int
    actual_size: int = 0
    format: str = "cow"
    sparse: bool = True
    status: str = "ok"
    image_id: str = ""
    description: str = ""
    content_type: str = "data"
    shareable: bool = False
    wipe_after_delete: bool = False
    owner_vm_id: str | None = None       # bookkeeping: whose touch() a change triggers
    template_id: str | None = None


@dataclass(slots=True)
class Attachment:
    """A disk attached to a VM or template; its id is the disk's id, as in the engine."""

    disk_id: str
    bootable: bool = True
    interface: str = "virtio"
    active: bool = True
    read_only: bool = False
    pass_discard: bool = False


@dataclass(slots=True)
class Nic:
    id: str
    name: str
    mac: str
    vnic_profile_id: str | None
    interface: str = "virtio"
    plugged: bool = True
    linked: bool = True
    external_ip: str = ""  # the address its port on an external (OVN) network has (see ovn_ports)


@dataclass(slots=True)
class Template:
    id: str
    name: str
    description: str = ""
    comment: str = ""
    cluster_id: str | None = None
    memory: int = GiB
    sockets: int = 1
    cores: int = 1
    threads: int = 1
    os_type: str = "other"
    vm_type: str = "desktop"
    status: str = "ok"
    version_number: int = 1
    version_name: str = "base version"
    base_template_id: str | None = None
    creation_time: float = 0.0
    attachments: list[Attachment] = field(default_factory=list)
    nics: list[Nic] = field(default_factory=list)
    initialization: dict[str, Any] | None = None
    copy_seconds: float = 8.0          # how long a thin copy of its disks takes on the real engine
    user_roles: dict[str, str] = field(default_factory=dict)   # user id -> role on it (see permissions.py)
    group_roles: dict[str, str] = field(default_factory=dict)  # group id (Everyone) -> role on it


@dataclass(slots=True)
class Snapshot:
    id: str
    description: str
    date: float
    snapshot_type: str = "regular"
    status: str = "ok"
    persist_memorystate: bool = False
    vm_config: dict[str, Any] | None = None   # the VM as it was, rendered inside <snapshot><vm>
    disk_ids: list[str] = field(default_factory=list)
    disk_sizes: dict[str, int] = field(default_factory=dict)  # disk id -> provisioned size when taken


@dataclass(slots=True)
class Tag:
    id: str
    name: str
    description: str = ""
    parent_id: str | None = ROOT_TAG_ID


@dataclass(slots=True)
class Job:
    id: str
    description: str
    start_time: float
    owner_id: str
    status: str = "started"
    end_time: float | None = None
    correlation_id: str | None = None
    external: bool = False
    auto_cleared: bool = True

    def last_updated(self) -> float:
        return self.end_time if self.end_time is not None else self.start_time


@dataclass(slots=True)
class Vm:
    id: str
    name: str
    cluster_id: str
    template_id: str
    index: int                              # bookkeeping: seeds the deterministic MAC and addresses
    description: str = ""
    comment: str = ""
    original_template_id: str | None = None
    instance_type_id: str | None = None
    memory: int = GiB
    sockets: int = 1
    cores: int = 1
    threads: int = 1
    os_type: str = "other"
    vm_type: str = "server"
    status: str = "down"
    host_id: str | None = None
    creation_time: float = 0.0
    start_time: float | None = None
    stop_time: float | None = None
    stop_reason: str | None = None
    run_once: bool = False
    stateless: bool = False
    delete_protected: bool = False
    initialization: dict[str, Any] | None = None
    guest_reported: bool = False            # the guest agent has reported (IPs, fqdn, OS)
    attachments: list[Attachment] = field(default_factory=list)
    nics: list[Nic] = field(default_factory=list)
    snapshots: list[Snapshot] = field(default_factory=list)
    tag_ids: list[str] = field(default_factory=list)
    user_roles: dict[str, str] = field(default_factory=dict)  # user id -> role on it (see permissions.py)
    version: int = 0                        # bumped on every change; keys the render cache
    generation: int = 0                     # bumped on every state change; stale timed steps are skipped
    cache_key: tuple[Any, ...] | None = None
    cache_xml: str | None = None

    def touch(self) -> None:
        self.version += 1
        self.cache_xml = None
