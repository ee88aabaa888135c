"""The engine's state: every object, one lock, and a queue of timed steps.

State changes that take time on a real engine (a VM booting, a disk being copied) are queued as
steps due at a simulated time; `settle()` applies the due ones and is called before every read and
write, so nothing runs in the background and the outcome depends only on the clock.
"""

from __future__ import annotations

import heapq
import ipaddress
import itertools
import threading
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from .clock import Clock
from .entities import (
    BLANK_ID, ROOT_TAG_ID, Cluster, DataCenter, Disk, Host, InstanceType, Job, Network,
    StorageDomain, Tag, Template, User, Vm, VnicProfile,
)
from .events import EventLog
from .vm_statistics import StatisticsState

Step = Callable[[float], None]


@dataclass(frozen=True, slots=True)
class Acting:
    """Who the store is acting for (the request's user and correlation id), and, in a timed step, the step's
    time: what an event logged now carries."""

    correlation_id: str | None = None
    user: User | None = None
    time: float | None = None


NOBODY = Acting()


class Store:
    """All collections, keyed by id, in insertion order."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.lock = threading.RLock()
        self.users: dict[str, User] = {}
        self.datacenters: dict[str, DataCenter] = {}
        self.clusters: dict[str, Cluster] = {}
        self.hosts: dict[str, Host] = {}
        self.storagedomains: dict[str, StorageDomain] = {}
        self.networks: dict[str, Network] = {}
        self.vnicprofiles: dict[str, VnicProfile] = {}
        self.instancetypes: dict[str, InstanceType] = {}
        self.templates: dict[str, Template] = {}
        self.vms: dict[str, Vm] = {}
        self.disks: dict[str, Disk] = {}
        self.tags: dict[str, Tag] = {ROOT_TAG_ID: Tag(ROOT_TAG_ID, "root", "root", parent_id=None)}
        self.jobs: dict[str, Job] = {}
        self.mac_pool_id = "58ca604b-017d-0374-0220-00000000014e"
        self.engine_id = "5c7e3a44-0000-4000-8000-000000000000"
        self.events = EventLog()
        self.statistics = StatisticsState()  # VM loads and NIC counters (vm_statistics)
        self.acting = NOBODY
        self._steps: list[tuple[float, int, str | None, int, Step, Acting]] = []
        self._seq = itertools.count()
        self._next_vm_index = itertools.count(1)
        self._next_mac = itertools.count(0x10)
        self._vm_order: list[Vm] | None = None

    # -- time ---------------------------------------------------------------------------------------

    def now(self) -> float:
        return self.clock.now()

    def settle(self) -> float:
        """Apply every step that is due; return the current simulated time."""
        now = self.clock.now()
        with self.lock:
            steps = self._steps
            while steps and steps[0][0] <= now:
                at, _, vm_id, generation, step, acting = heapq.heappop(steps)
                if vm_id is not None:
                    vm = self.vms.get(vm_id)
                    if vm is None or vm.generation != generation:
                        continue      # the VM was removed or changed course since the step was queued
                previous, self.acting = self.acting, Acting(acting.correlation_id, acting.user, at)
                try:
                    step(at)
                finally:
                    self.acting = previous
        return now

    def schedule(self, at: float, step: Step, vm: Vm | None = None) -> None:
        """Queue `step(at)`; a VM step is dropped if the VM changes state before it is due."""
        with self.lock:
            heapq.heappush(self._steps, (at, next(self._seq), vm.id if vm else None,
                                         vm.generation if vm else 0, step, self.acting))

    def pending_steps(self) -> int:
        return len(self._steps)

    # -- ids and addresses --------------------------------------------------------------------------

    @staticmethod
    def new_id() -> str:
        return str(uuid.uuid4())

    def next_vm_index(self) -> int:
        return next(self._next_vm_index)

    def reserve_vm_index(self, index: int) -> None:
        """Make sure later VMs get indexes above a seeded one."""
        current = next(self._next_vm_index)
        self._next_vm_index = itertools.count(max(current, index + 1))

    def next_mac(self) -> str:
        """The next address from oVirt's default MAC pool (56:6f:...)."""
        n = next(self._next_mac)
        return "56:6f:" + ":".join(f"{(n >> s) & 0xFF:02x}" for s in (24, 16, 8, 0))

    # -- lookups ------------------------------------------------------------------------------------

    def by_name(self, collection: dict[str, Any], name: str) -> list[Any]:
        return [o for o in collection.values() if o.name == name]

    def vms_sorted(self) -> list[Vm]:
        """VMs ordered by name, as the engine's search returns them; cached until a VM is added,
        removed or renamed."""
        if self._vm_order is None:
            self._vm_order = sorted(self.vms.values(), key=lambda v: (v.name.lower(), v.name))
        return self._vm_order

    def invalidate_vm_order(self) -> None:
        self._vm_order = None

    def add_vm(self, vm: Vm) -> None:
        self.vms[vm.id] = vm
        self._vm_order = None

    def remove_vm(self, vm: Vm) -> None:
        del self.vms[vm.id]
        self._vm_order = None

    def data_center_of_cluster(self, cluster_id: str | None) -> DataCenter | None:
        cluster = self.clusters.get(cluster_id or "")
        return self.datacenters.get(cluster.data_center_id) if cluster else None

    def data_center_of_template(self, template: Template) -> DataCenter | None:
        if template.cluster_id:
            return self.data_center_of_cluster(template.cluster_id)
        return None

    def profiles_of_data_center(self, dc_id: str) -> Iterable[VnicProfile]:
        for profile in self.vnicprofiles.values():
            network = self.networks.get(profile.network_id)
            if network and network.data_center_id == dc_id:
                yield profile

    def storage_domains_of(self, dc_id: str) -> list[StorageDomain]:
        return [sd for sd in self.storagedomains.values() if sd.data_center_id == dc_id]

    def host_for(self, cluster_id: str) -> Host | None:
        for host in self.hosts.values():
            if host.cluster_id == cluster_id and host.status == "up":
                return host
        return None

    def blank(self) -> Template:
        return self.templates[BLANK_ID]

    # -- jobs ---------------------------------------------------------------------------------------

    def start_job(self, description: str, owner: User, correlation_id: str | None) -> Job:
        job = Job(self.new_id(), description, self.now(), owner.id, correlation_id=correlation_id)
        self.jobs[job.id] = job
        if len(self.jobs) > 2000:      # the engine clears finished jobs too; keep memory bounded
            for old_id in [j.id for j in self.jobs.values() if j.status != "started"][:500]:
                del self.jobs[old_id]
        return job

    def finish_job(self, job: Job, at: float, status: str = "finished") -> None:
        job.status = status
        job.end_time = at


def nic_addresses(mac: str, dc_index: int = 0) -> tuple[str, str, str]:
    """Deterministic guest addresses for a NIC: IPv4 from the MAC's last three bytes, a unique-local
    IPv6 address and a link-local one, both EUI-64 from the MAC (as a real guest would configure)."""
    b = [int(x, 16) for x in mac.split(":")]
    ipv4 = f"10.{b[3]}.{b[4]}.{b[5]}"
    eui = bytes([b[0] ^ 0x02, b[1], b[2], 0xFF, 0xFE, b[3], b[4], b[5]])
    ula = ipaddress.IPv6Address(bytes([0xFD, 0x00, 0, dc_index & 0xFF, 0, 0, 0, 0]) + eui)
    link_local = ipaddress.IPv6Address(bytes([0xFE, 0x80, 0, 0, 0, 0, 0, 0]) + eui)
    return ipv4, str(ula), str(link_local)


def reported_device_id(device_name: str, mac: str) -> str:
    """The engine's id for a reported device: the first 16 bytes of name + MAC, as a UUID."""
    raw = (device_name + mac).encode()[:16].ljust(16, b"\0")
    return str(uuid.UUID(bytes=raw))
