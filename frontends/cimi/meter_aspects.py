"""The measured aspects of a Machine that CIMI Meters expose: one row per quantity the engine measures.

DSP0263 leaves aspect URIs to the provider, so they are the gateway's own (`http://cloudgw.org/cimi/aspect/...`,
the namespace its ResourceMetadata extensions use). Each reads one figure of the model's `InstanceStatistics`;
a figure the engine does not report (memory before the guest agent reports) gives no sample, never a made-up zero.
Readings are `Point`s: the gateway reads the engine when asked, and the engine's "current" rates are its own
averages over a refresh period its API does not state. Counters (NIC bytes, disk operations) are
`StartupInterval`s, CIM's name for a total since the measured thing started: they restart with the VM.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from gateway.instance_statistics import InstanceStatistics

ASPECT_NAMESPACE = "http://cloudgw.org/cimi/aspect/"
POINT, SINCE_START = "Point", "StartupInterval"

Reader = Callable[[InstanceStatistics], float | int | None]


@dataclass(frozen=True)
class Aspect:
    key: str  # the URL segment of its Meter and MeterConfiguration
    title: str
    units: str
    read: Reader
    description: str
    min_value: str | None = None
    max_value: str | None = None  # when every machine shares it (percentages)
    time_scope: str = POINT

    @property
    def uri(self) -> str:
        return ASPECT_NAMESPACE + self.key


ASPECTS: dict[str, Aspect] = {a.key: a for a in (
    Aspect("cpuUtilization", "CPU utilization", "percent", lambda s: s.cpu_percent,
           "The share of the machine's virtual CPUs in use (the engine's cpu.current.total)", "0", "100"),
    Aspect("memoryUsed", "memory used", "bytes", lambda s: s.memory_used_bytes,
           "Memory the guest uses (the engine's memory.used, reported by the guest agent)", "0"),
    Aspect("memoryUtilization", "memory utilization", "percent", lambda s: s.memory_used_percent,
           "Memory the guest uses, in percent of the memory installed (memory.used / memory.installed)", "0", "100"),
    Aspect("networkReceived", "network received", "bytes/second", lambda s: s.network_rx_bytes_per_second,
           "Bytes received a second over all the machine's network interfaces (their data.current.rx)", "0"),
    Aspect("networkTransmitted", "network transmitted", "bytes/second", lambda s: s.network_tx_bytes_per_second,
           "Bytes sent a second over all the machine's network interfaces (their data.current.tx)", "0"),
    Aspect("diskRead", "disk read", "bytes/second", lambda s: s.disk_read_bytes_per_second,
           "Bytes read a second from all the machine's disks (their data.current.read)", "0"),
    Aspect("diskWritten", "disk written", "bytes/second", lambda s: s.disk_write_bytes_per_second,
           "Bytes written a second to all the machine's disks (their data.current.write)", "0"),
    Aspect("networkReceivedTotal", "network bytes received", "bytes", lambda s: s.network_rx_bytes_total,
           "Bytes received over all the machine's network interfaces since it started (their data.total.rx)", "0",
           time_scope=SINCE_START),
    Aspect("networkTransmittedTotal", "network bytes transmitted", "bytes", lambda s: s.network_tx_bytes_total,
           "Bytes sent over all the machine's network interfaces since it started (their data.total.tx)", "0",
           time_scope=SINCE_START),
    Aspect("diskReadOperations", "disk read operations", "operations", lambda s: s.disk_read_ops_total,
           "Read operations on all the machine's disks since it started (the engine's data.current.read_ops, "
           "VDSM's running totals)", "0", time_scope=SINCE_START),
    Aspect("diskWriteOperations", "disk write operations", "operations", lambda s: s.disk_write_ops_total,
           "Write operations on all the machine's disks since it started (the engine's data.current.write_ops, "
           "VDSM's running totals)", "0", time_scope=SINCE_START),
)}


def sample_value(value: float | int) -> str:
    """A sample's value as CIMI text: integral values without a fraction, others to a thousandth."""
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.3f}".rstrip("0").rstrip(".")
