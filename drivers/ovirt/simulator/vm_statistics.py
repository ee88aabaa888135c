"""What the engine measures of a running VM, its NICs and its disks (`.../statistics`), simulated.

The names, descriptions, kinds, units and value types are the engine's own (ovirt-engine's
`VmStatisticalQuery`, `NicStatisticalQuery` and `DiskStatisticalQuery`); a statistic's id is the
name-based UUID the engine derives from its name. The values follow a per-VM `Load` a test sets through
the control API (`POST /__simulator__/load`), else a small idle load: rates and percentages while the VM
runs and zero when it does not; the NIC counters (`data.total.rx/tx`) grow by rate x simulated seconds
the VM ran, so they advance with the simulator's clock. So do the disks' operation counts: the engine labels
`data.current.read_ops/write_ops` "gauge, unit seconds", yet serves VDSM's `block.N.rd.reqs`/`wr.reqs`, the
operations since the VM's qemu process started (a running total). Like the hypervisor's, every counter starts
again from zero when the VM starts again. Memory used is the guest agent's figure: zero (the engine's "unknown")
until the agent reports. The load's network rates belong to the VM's first NIC and its disk rates to its first
disk (the others idle at zero). The engine has no disk byte totals and no packet counts: neither does this.
"""
from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field, fields
from typing import Any

from .entities import Vm

RUNNING = ("up", "powering_up", "reboot_in_progress", "migrating", "powering_down")


@dataclass(slots=True)
class Load:
    """What a running VM does: CPU and memory in percent, network and disk in bytes (or operations) a second."""

    cpu_percent: float = 1.5
    memory_used_percent: float = 20.0
    net_rx: float = 200.0
    net_tx: float = 100.0
    disk_read: float = 0.0
    disk_write: float = 4096.0
    disk_read_ops: float = 0.0
    disk_write_ops: float = 1.0

    @classmethod
    def from_json(cls, data: dict[str, Any], base: "Load") -> "Load":
        """`base` with the fields `data` names; a negative or unknown field is a ValueError."""
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known - {"vm"}
        if unknown:
            raise ValueError(f"unknown load fields: {', '.join(sorted(unknown))} (known: {', '.join(sorted(known))})")
        values = {name: float(data.get(name, getattr(base, name))) for name in known}
        if any(v < 0 for v in values.values()) or values["cpu_percent"] > 100 or values["memory_used_percent"] > 100:
            raise ValueError("load values must be non-negative, and percentages at most 100")
        return cls(**values)

    def as_json(self) -> dict[str, float]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass(slots=True)
class StatisticsState:
    """Per-VM loads, the NICs' byte counters and the disks' operation counters, with the time up to which they
    are counted and the start of the run they count."""

    loads: dict[str, Load] = field(default_factory=dict)             # vm id -> its load (absent: idle)
    nic_totals: dict[str, list[float]] = field(default_factory=dict)  # nic id -> [rx bytes, tx bytes]
    disk_ops: dict[str, list[float]] = field(default_factory=dict)    # disk id -> [read ops, write ops]
    counted_until: dict[str, float] = field(default_factory=dict)     # vm id -> simulated time
    run_started: dict[str, float] = field(default_factory=dict)       # vm id -> start time of the counted run

    def load(self, vm_id: str) -> Load:
        return self.loads.get(vm_id) or Load()

    def accrue(self, vm: Vm, now: float) -> None:
        """Add to the VM's first NIC's and first disk's counters what its load moved since they were last
        counted (only the time the VM ran: from its start, and up to its stop if it stopped meanwhile). A VM
        started again since has new counters, from zero (a new qemu process)."""
        if vm.start_time is not None and self.run_started.get(vm.id) != vm.start_time:
            if vm.id in self.run_started:
                for nic in vm.nics:
                    self.nic_totals.pop(nic.id, None)
                for attachment in vm.attachments:
                    self.disk_ops.pop(attachment.disk_id, None)
            self.run_started[vm.id] = vm.start_time
            self.counted_until[vm.id] = vm.start_time
        since = self.counted_until.get(vm.id, vm.start_time if vm.start_time is not None else now)
        self.counted_until[vm.id] = now
        if vm.start_time is None:
            return
        begin = max(since, vm.start_time)
        if is_running(vm):
            end = now
        elif vm.stop_time is not None and vm.stop_time > begin:
            end = vm.stop_time
        else:
            return
        seconds = max(0.0, end - begin)
        load = self.load(vm.id)
        if vm.nics:
            totals = self.nic_totals.setdefault(vm.nics[0].id, [0.0, 0.0])
            totals[0] += load.net_rx * seconds
            totals[1] += load.net_tx * seconds
        if vm.attachments:
            ops = self.disk_ops.setdefault(vm.attachments[0].disk_id, [0.0, 0.0])
            ops[0] += load.disk_read_ops * seconds
            ops[1] += load.disk_write_ops * seconds

    def set_load(self, vm: Vm, load: Load, now: float) -> None:
        self.accrue(vm, now)  # what the old load moved is counted before the new one applies
        self.loads[vm.id] = load


def is_running(vm: Vm) -> bool:
    return vm.status in RUNNING and vm.host_id is not None


def statistic_id(name: str) -> str:
    """The engine's id of a statistic: Java's UUID.nameUUIDFromBytes(name) (an MD5, version-3 UUID)."""
    digest = bytearray(hashlib.md5(name.encode()).digest())
    digest[6] = (digest[6] & 0x0F) | 0x30
    digest[8] = (digest[8] & 0x3F) | 0x80
    return str(uuid.UUID(bytes=bytes(digest)))


@dataclass(frozen=True, slots=True)
class Statistic:
    name: str
    description: str
    kind: str       # gauge | counter
    unit: str       # StatisticUnit: none, percent, bytes, bytes_per_second, bits_per_second, seconds
    type: str       # ValueType: integer | decimal | string
    values: tuple[float | str, ...]

    @property
    def id(self) -> str:
        return statistic_id(self.name)


def _s(name: str, description: str, kind: str, unit: str, type_: str, *values: float | str) -> Statistic:
    return Statistic(name, description, kind, unit, type_, values)


def vm_statistics(vm: Vm, state: StatisticsState, now: float) -> list[Statistic]:
    """VmStatisticalQuery's list, in its order: memory from the guest agent, CPU, runtime, usage histories."""
    running = is_running(vm)
    load = state.load(vm.id) if running else Load(0, 0, 0, 0, 0, 0, 0, 0)
    installed = vm.memory
    used = int(installed * load.memory_used_percent / 100) if running and vm.guest_reported else 0
    free = installed - used if running and vm.guest_reported else 0
    cached = int(free * 0.25) if free else 0
    buffered = int(free * 0.05) if free else 0
    guest = round(load.cpu_percent * 0.95, 2)
    hypervisor = round(load.cpu_percent - guest, 2)
    elapsed = int(now - vm.start_time) if running and vm.start_time is not None else 0
    net_percent = 0 if not running else min(100, int((load.net_rx + load.net_tx) * 8 * 100 / 1e9))
    return [
        _s("memory.installed", "Total memory configured", "gauge", "bytes", "integer", installed),
        _s("memory.used", "Memory used (agent)", "gauge", "bytes", "integer", used),
        _s("cpu.current.guest", "CPU used by guest", "gauge", "percent", "decimal", guest),
        _s("cpu.current.hypervisor", "CPU overhead", "gauge", "percent", "decimal", hypervisor),
        _s("cpu.current.total", "Total CPU used", "gauge", "percent", "decimal", guest + hypervisor),
        _s("migration.progress", "Migration Progress", "gauge", "percent", "decimal", 0),
        _s("memory.buffered", "Memory buffered (agent)", "gauge", "bytes", "integer", buffered),
        _s("memory.cached", "Memory cached (agent)", "gauge", "bytes", "integer", cached),
        _s("memory.free", "Memory free (agent)", "gauge", "bytes", "integer", free),
        _s("memory.unused", "Memory unused (agent)", "gauge", "bytes", "integer", free - buffered - cached),
        _s("network.current.total", "Total network used", "gauge", "percent", "decimal", net_percent),
        _s("disks.usage", "Disk usage, in bytes, per filesystem as JSON (agent)", "gauge", "none", "string", ""),
        _s("elapsed.time", "Elapsed VM runtime", "counter", "seconds", "integer", elapsed),
        _s("cpu.usage.history", "List of CPU usage history, sorted by date from newest to oldest, at intervals "
           "of 30 seconds", "gauge", "percent", "decimal", *((round(load.cpu_percent),) if running else ())),
        _s("memory.usage.history", "List of memory usage history, sorted by date from newest to oldest, at "
           "intervals of 30 seconds", "gauge", "percent", "decimal",
           *((round(load.memory_used_percent),) if running else ())),
        _s("network.usage.history", "List of network usage history, sorted by date from newest to oldest, at "
           "intervals of 30 seconds", "gauge", "percent", "decimal", *((net_percent,) if running else ())),
    ]


def nic_statistics(vm: Vm, nic_index: int, state: StatisticsState) -> list[Statistic]:
    """NicStatisticalQuery's list: current rates (bytes and bits a second), drop counters, byte totals."""
    running = is_running(vm)
    load = state.load(vm.id)
    rx, tx = (load.net_rx, load.net_tx) if running and nic_index == 0 else (0.0, 0.0)
    totals = state.nic_totals.get(vm.nics[nic_index].id, [0.0, 0.0])
    return [
        _s("data.current.rx", "Receive data rate", "gauge", "bytes_per_second", "decimal", rx),
        _s("data.current.tx", "Transmit data rate", "gauge", "bytes_per_second", "decimal", tx),
        _s("data.current.rx.bps", "Receive data rate", "gauge", "bits_per_second", "decimal", rx * 8),
        _s("data.current.tx.bps", "Transmit data rate", "gauge", "bits_per_second", "decimal", tx * 8),
        _s("errors.total.rx", "Total receive errors", "counter", "none", "integer", 0),
        _s("errors.total.tx", "Total transmit errors", "counter", "none", "integer", 0),
        _s("data.total.rx", "Total received data", "counter", "bytes", "integer", int(totals[0])),
        _s("data.total.tx", "Total transmitted data", "counter", "bytes", "integer", int(totals[1])),
    ]


def disk_statistics(vm: Vm | None, disk_id: str, state: StatisticsState) -> list[Statistic]:
    """DiskStatisticalQuery's list for an image disk: rates, operation counts and latencies. The operation
    counts are the engine's labels (gauge, unit `seconds`, sic) over running totals since the VM started (VDSM's
    `block.N.rd.reqs`, stored as a Long): they keep their value while the VM is down. A disk of no running VM, or
    not its first disk, reads zero rates."""
    first = vm is not None and is_running(vm) and bool(vm.attachments) and vm.attachments[0].disk_id == disk_id
    load = state.load(vm.id) if first and vm is not None else Load(0, 0, 0, 0, 0, 0, 0, 0)
    busy = load.disk_read_ops + load.disk_write_ops
    read_ops, write_ops = state.disk_ops.get(disk_id, [0.0, 0.0])
    return [
        _s("data.current.read", "Read data rate", "gauge", "bytes_per_second", "decimal", load.disk_read),
        _s("data.current.read_ops", "Read data ops", "gauge", "seconds", "decimal", int(read_ops)),
        _s("data.current.write", "Write data rate", "gauge", "bytes_per_second", "decimal", load.disk_write),
        _s("data.current.write_ops", "Write data ops", "gauge", "seconds", "decimal", int(write_ops)),
        _s("disk.read.latency", "Read latency", "gauge", "seconds", "decimal", 0.0004 if busy else 0.0),
        _s("disk.write.latency", "Write latency", "gauge", "seconds", "decimal", 0.0011 if busy else 0.0),
        _s("disk.flush.latency", "Flush latency", "gauge", "seconds", "decimal", 0.0002 if busy else 0.0),
    ]
