"""What a backend measures of a running instance at one moment: the common model of VM statistics.

Frontends (Deltacloud `metrics`) and the metric sampler read it; a driver fills it from its engine's own
statistics (oVirt: `vms/{id}/statistics` and those of its NICs and disks). A figure the backend does not
measure is None, never a made-up zero.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class NicTotals:
    """One NIC's byte counters: differenced per NIC, since a NIC added or replaced starts its own from zero."""

    nic_id: str
    rx_bytes: int | None = None
    tx_bytes: int | None = None


@dataclass(frozen=True)
class DiskTotals:
    """One disk's operation counters (oVirt: operations since the VM's process started)."""

    disk_id: str
    read_ops: int | None = None
    write_ops: int | None = None


@dataclass(frozen=True)
class InstanceStatistics:
    """One instance's statistics, summed over its NICs and disks.

    Rates are per second at the time of the reading; totals are counters since the backend began
    counting (they restart with the VM: `uptime_seconds` says since when), summed, and per device in `nics` and
    `disks`. `measured_at` is the gateway's clock when it read them. Memory used is None unless the guest
    reports it.
    """

    instance_id: str
    measured_at: float
    cpu_percent: float | None = None
    memory_installed_bytes: int | None = None
    memory_used_bytes: int | None = None
    network_rx_bytes_per_second: float | None = None
    network_tx_bytes_per_second: float | None = None
    network_rx_bytes_total: int | None = None
    network_tx_bytes_total: int | None = None
    network_rx_packets_total: int | None = None   # oVirt has no packet counts
    network_tx_packets_total: int | None = None
    disk_read_bytes_per_second: float | None = None
    disk_write_bytes_per_second: float | None = None
    disk_read_ops_per_second: float | None = None   # oVirt measures no operation rate, only counts (below)
    disk_write_ops_per_second: float | None = None
    disk_read_ops_total: int | None = None
    disk_write_ops_total: int | None = None
    disk_read_bytes_total: int | None = None      # oVirt has no disk byte totals
    disk_write_bytes_total: int | None = None
    uptime_seconds: int | None = None
    nics: tuple[NicTotals, ...] = ()
    disks: tuple[DiskTotals, ...] = ()

    @property
    def memory_used_percent(self) -> float | None:
        if not self.memory_installed_bytes or self.memory_used_bytes is None:
            return None
        return 100.0 * self.memory_used_bytes / self.memory_installed_bytes
