"""XML of statistics (`<statistics>` of a VM, a VM's NIC or a disk), as the engine writes them, and the
handlers of `GET .../statistics` and `GET .../statistics/{id}`.

Statistics are read at the time of the request, so a VM whose statistics are followed (`follow=statistics`,
`nics.statistics`, `disk_attachments.disk.statistics`) is rendered afresh, never from its XML cache.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from werkzeug.wrappers import Response

from .call import Call
from .entities import Vm
from .errors import not_found
from .render_common import href
from .store import Store
from .vm_statistics import Statistic, disk_statistics, nic_statistics, vm_statistics
from .xmlwriter import XmlWriter, document

Parent = Callable[[XmlWriter], None]  # writes the statistic's owner reference (<vm/>, <nic><vm/></nic>, <disk/>)


def datum(stat: Statistic, value: float | str) -> str:
    """An integer as digits; a decimal as the engine's BigDecimal prints it (no trailing zeros)."""
    if stat.type == "integer":
        return str(int(value))
    if stat.type == "string":
        return str(value)
    number = float(value)
    if number == int(number):
        return str(int(number))
    return f"{number:.4f}".rstrip("0")


def statistic(w: XmlWriter, stat: Statistic, base: str, parent: Parent) -> None:
    w.start("statistic", f"{base}/{stat.id}", stat.id)
    w.leaf("name", stat.name)
    w.leaf("description", stat.description)
    w.leaf("kind", stat.kind)
    w.leaf("type", stat.type)
    w.leaf("unit", stat.unit)
    if stat.values:
        w.start("values")
        for value in stat.values:
            w.start("value")
            if stat.type == "string":
                w.leaf("detail", datum(stat, value))
            else:
                w.leaf("datum", datum(stat, value))
            w.end("value")
        w.end("values")
    else:
        w.empty("values")
    parent(w)
    w.end("statistic")


def statistics(w: XmlWriter, stats: list[Statistic], base: str, parent: Parent) -> None:
    w.start("statistics")
    for stat in stats:
        statistic(w, stat, base, parent)
    w.end("statistics")


# -- the three owners --------------------------------------------------------------------------------

def _vm_ref(vm_id: str) -> Parent:
    return lambda w: w.ref("vm", href("vms", vm_id), vm_id)


def _nic_ref(vm_id: str, nic_id: str) -> Parent:
    def write(w: XmlWriter) -> None:
        w.start("nic", f"{href('vms', vm_id)}/nics/{nic_id}", nic_id)
        w.ref("vm", href("vms", vm_id), vm_id)
        w.end("nic")
    return write


def _disk_ref(disk_id: str) -> Parent:
    return lambda w: w.ref("disk", href("disks", disk_id), disk_id)


Owned = tuple[list[Statistic], str, Parent]  # the statistics, their collection's href, their owner's reference


def vm_owned(store: Store, vm: Vm) -> Owned:
    """A VM's statistics (its counters brought up to the clock first)."""
    now = store.now()
    store.statistics.accrue(vm, now)
    return vm_statistics(vm, store.statistics, now), f"{href('vms', vm.id)}/statistics", _vm_ref(vm.id)


def nic_owned(store: Store, vm: Vm, index: int) -> Owned:
    store.statistics.accrue(vm, store.now())
    nic_id = vm.nics[index].id
    return (nic_statistics(vm, index, store.statistics), f"{href('vms', vm.id)}/nics/{nic_id}/statistics",
            _nic_ref(vm.id, nic_id))


def disk_owned(store: Store, disk_id: str, owner_vm_id: str | None) -> Owned:
    vm = store.vms.get(owner_vm_id or "")
    if vm is not None:
        store.statistics.accrue(vm, store.now())
    return disk_statistics(vm, disk_id, store.statistics), f"{href('disks', disk_id)}/statistics", _disk_ref(disk_id)


def vm_part(w: XmlWriter, store: Store, vm: Vm) -> None:
    statistics(w, *vm_owned(store, vm))


def nic_part(w: XmlWriter, store: Store, vm: Vm, index: int) -> None:
    statistics(w, *nic_owned(store, vm, index))


def disk_part(w: XmlWriter, store: Store, disk_id: str, owner_vm_id: str | None) -> None:
    statistics(w, *disk_owned(store, disk_id, owner_vm_id))


# -- handlers ------------------------------------------------------------------------------------------

def _answer(call: Call, owned: Owned, stat_id: str | None) -> Response:
    stats, base, parent = owned
    w = XmlWriter()
    if stat_id is None:
        statistics(w, stats, base, parent)
    else:
        found = next((s for s in stats if s.id == stat_id), None)
        if found is None:
            raise not_found()
        statistic(w, found, base, parent)
    return call.xml(document(w.getvalue()))


def vm_statistics_list(call: Call, id: str, stat: str | None = None) -> Response:
    return _answer(call, vm_owned(call.store, call.vm(id)), stat)


def nic_statistics_list(call: Call, id: str, nic: str, stat: str | None = None) -> Response:
    vm = call.vm(id)
    index = next((i for i, n in enumerate(vm.nics) if n.id == nic), None)
    if index is None:
        raise not_found()
    return _answer(call, nic_owned(call.store, vm, index), stat)


def disk_statistics_list(call: Call, id: str, stat: str | None = None) -> Response:
    d = call.get(call.store.disks, id)
    return _answer(call, disk_owned(call.store, d.id, d.owner_vm_id), stat)


ROUTES: list[tuple[str, tuple[str, ...], Any]] = [
    ("/vms/<id>/statistics", ("GET",), vm_statistics_list),
    ("/vms/<id>/statistics/<stat>", ("GET",), vm_statistics_list),
    ("/vms/<id>/nics/<nic>/statistics", ("GET",), nic_statistics_list),
    ("/vms/<id>/nics/<nic>/statistics/<stat>", ("GET",), nic_statistics_list),
    ("/disks/<id>/statistics", ("GET",), disk_statistics_list),
    ("/disks/<id>/statistics/<stat>", ("GET",), disk_statistics_list),
]
