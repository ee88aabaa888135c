"""The statistics of running VMs, in one engine request per data center whatever their number.

`GET vms?search=datacenter=X and status!=down&follow=statistics,nics.statistics,disk_attachments.disk.statistics`
inlines each VM's own statistics, its NICs' and its disks' (ovirt-engine's VmStatisticalQuery,
NicStatisticalQuery and DiskStatisticalQuery), so reading them costs no request per VM; the answer is mapped VM by
VM as it streams in. Of what it lists, the VMs whose status the gateway calls running (up, migrating,
reboot_in_progress: gateway.engine_states) are kept. The engine measures CPU (percent), memory (bytes, from the
guest agent: 0 when none reports, which is kept as None), NIC rates and byte totals, disk byte rates and disk
operation counts: `data.current.read_ops/write_ops`, labelled "gauge, unit seconds", are VDSM's running totals
since the VM's process started (`block.N.rd.reqs`), so they are totals here. It has no packet counts and no disk
byte totals, which stay None in the model.
"""
from __future__ import annotations

import time
from collections.abc import Iterable

from gateway.engine_states import VM as VM_STATES
from gateway.instance_statistics import DiskTotals, InstanceStatistics, NicTotals
from gateway.model import InstanceState
from gateway.scope import Scope

from . import mapping
from .base import Element, OvirtBase, is_helper

STATISTICS_FOLLOW = "statistics,nics.statistics,disk_attachments.disk.statistics"
RUNNING_STATUSES = frozenset(status for status, row in VM_STATES.items() if row.model is InstanceState.RUNNING)


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
    """One VM's statistics (its own, and the sums over its NICs and its disks, and each one's counters)."""
    own = statistic_values(vm)
    nic_elements = list(vm.iterfind("nics/nic"))
    disk_elements = list(vm.iterfind("disk_attachments/disk_attachment/disk"))
    nics = [statistic_values(n) for n in nic_elements]
    disks = [statistic_values(d) for d in disk_elements]
    reported = own.get("memory.free", 0) > 0  # the guest agent's figures; the engine writes 0 for unknown
    return InstanceStatistics(
        instance_id=vm.get("id", ""), measured_at=measured_at,
        cpu_percent=own.get("cpu.current.total"),
        memory_installed_bytes=_int(own.get("memory.installed")),
        memory_used_bytes=_int(own.get("memory.used")) if reported else None,
        network_rx_bytes_per_second=_sum(nics, "data.current.rx"),
        network_tx_bytes_per_second=_sum(nics, "data.current.tx"),
        network_rx_bytes_total=_int(_sum(nics, "data.total.rx")),
        network_tx_bytes_total=_int(_sum(nics, "data.total.tx")),
        disk_read_bytes_per_second=_sum(disks, "data.current.read"),
        disk_write_bytes_per_second=_sum(disks, "data.current.write"),
        disk_read_ops_total=_int(_sum(disks, "data.current.read_ops")),
        disk_write_ops_total=_int(_sum(disks, "data.current.write_ops")),
        uptime_seconds=_int(own.get("elapsed.time")),
        nics=tuple(NicTotals(e.get("id", ""), _int(s.get("data.total.rx")), _int(s.get("data.total.tx")))
                   for e, s in zip(nic_elements, nics)),
        disks=tuple(DiskTotals(e.get("id", ""), _int(s.get("data.current.read_ops")),
                               _int(s.get("data.current.write_ops"))) for e, s in zip(disk_elements, disks)))


def is_running(vm: Element) -> bool:
    return (vm.findtext("status") or "") in RUNNING_STATUSES


class StatisticsMixin(OvirtBase):
    def instance_statistics(self, scope: Scope, ids: Iterable[str] | None = None, *,
                            unfiltered: bool = False) -> list[InstanceStatistics]:
        """The running VMs of the scoped data center with their statistics: one engine request (plus the data
        center's description when not cached). `unfiltered` needs an administrator-level scope."""
        if unfiltered and scope.user_level:
            raise ValueError("an unfiltered read of statistics needs an administrator-level scope, not user_level")
        place = self._place(scope)
        wanted = None if ids is None else set(ids)
        if wanted is not None and not wanted:
            return []
        params = self._vm_params(place, STATISTICS_FOLLOW, "status!=down")
        if unfiltered:
            # Said so: an identity that is no engine administrator is refused rather than answered with only the
            # VMs it may see (the engine filters non-administrators by default).
            params["filter"] = "false"
        now = time.time()

        def read(vm: Element) -> InstanceStatistics | None:
            keep = (is_running(vm) and not is_helper(vm) and mapping.link_id(vm, "cluster") in place.realms
                    and (wanted is None or vm.get("id") in wanted))
            return vm_statistics(vm, now) if keep else None

        found = self.client_for(scope.provider).collection(scope, "vms", "vm", read, params=params)
        return [s for s in found if s is not None]
