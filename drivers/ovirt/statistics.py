"""The statistics of running VMs, in one engine request per data center whatever their number.

`GET vms?search=datacenter=X and status=up&follow=statistics,nics.statistics,disk_attachments.disk.statistics`
inlines each VM's own statistics, its NICs' and its disks' (ovirt-engine's VmStatisticalQuery,
NicStatisticalQuery and DiskStatisticalQuery), so reading them costs no request per VM. The engine measures CPU
(percent), memory (bytes, from the guest agent), NIC rates and byte totals, and disk rates and operations a
second; it has no packet counts and no disk byte totals, which stay None in the model.
"""
from __future__ import annotations

import time
from collections.abc import Iterable

from gateway.instance_statistics import InstanceStatistics
from gateway.scope import Scope

from . import mapping
from .base import Element, OvirtBase, is_helper

STATISTICS_FOLLOW = "statistics,nics.statistics,disk_attachments.disk.statistics"


def statistic_values(owner: Element) -> dict[str, float]:
    """name -> the first datum of each `<statistics><statistic>` inlined in `owner` (unparsable ones skipped)."""
    found: dict[str, float] = {}
    for stat in owner.iterfind("statistics/statistic"):
        name, datum = stat.findtext("name"), stat.findtext("values/value/datum")
        if not name or datum is None:
            continue
        try:
            found[name] = float(datum)
        except ValueError:
            continue
    return found


def _sum(parts: list[dict[str, float]], name: str) -> float | None:
    present = [p[name] for p in parts if name in p]
    return sum(present) if present else None


def _int(value: float | None) -> int | None:
    return None if value is None else int(value)


def vm_statistics(vm: Element, measured_at: float) -> InstanceStatistics:
    """One VM's statistics (its own, and the sums over its NICs and its disks) in the common model."""
    own = statistic_values(vm)
    nics = [statistic_values(n) for n in vm.iterfind("nics/nic")]
    disks = [statistic_values(d) for d in vm.iterfind("disk_attachments/disk_attachment/disk")]
    return InstanceStatistics(
        instance_id=vm.get("id", ""), measured_at=measured_at,
        cpu_percent=own.get("cpu.current.total"),
        memory_installed_bytes=_int(own.get("memory.installed")),
        memory_used_bytes=_int(own.get("memory.used")),
        network_rx_bytes_per_second=_sum(nics, "data.current.rx"),
        network_tx_bytes_per_second=_sum(nics, "data.current.tx"),
        network_rx_bytes_total=_int(_sum(nics, "data.total.rx")),
        network_tx_bytes_total=_int(_sum(nics, "data.total.tx")),
        disk_read_bytes_per_second=_sum(disks, "data.current.read"),
        disk_write_bytes_per_second=_sum(disks, "data.current.write"),
        disk_read_ops_per_second=_sum(disks, "data.current.read_ops"),
        disk_write_ops_per_second=_sum(disks, "data.current.write_ops"),
        uptime_seconds=_int(own.get("elapsed.time")))


class StatisticsMixin(OvirtBase):
    def instance_statistics(self, scope: Scope, ids: Iterable[str] | None = None, *,
                            unfiltered: bool = False) -> list[InstanceStatistics]:
        """The running VMs of the scoped data center with their statistics: one engine request (plus the data
        center's description when not cached)."""
        place = self._place(scope)
        wanted = None if ids is None else set(ids)
        if wanted is not None and not wanted:
            return []
        params = self._vm_params(place, STATISTICS_FOLLOW, "status=up")
        if unfiltered and not scope.user_level:
            # Said so: an identity that is no engine administrator is refused rather than answered with only the
            # VMs it may see (the engine filters non-administrators by default).
            params["filter"] = "false"
        now = time.time()
        return [vm_statistics(vm, now) for vm in self._get(scope, "vms", params)
                if mapping.link_id(vm, "cluster") in place.realms and not is_helper(vm)
                and (wanted is None or vm.get("id") in wanted)]
