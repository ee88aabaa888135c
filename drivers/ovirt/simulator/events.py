"""The engine's audit log (`GET /events`): what each change logs, under the codes a real engine uses.

Codes and order follow ovirt-engine's AuditLogType and the commands that log them (AddVmCommand,
RunVmCommand at the command and again when the VM is Up, StopVmCommand then VmAnalyzer's VM_DOWN,
RemoveVmCommand, AddDiskCommand, RemoveDiskCommand, Attach/DetachDiskToVmCommand, AddVmTemplateCommand,
RemoveVmTemplateCommand, CreateSnapshotForVmCommand, RemoveSnapshotCommand). Guest-agent reports (addresses,
FQDN) and the silent status moves (wait_for_launch -> powering_up) log nothing, as on a real engine: a
client cannot learn them from events. Descriptions follow AuditLogMessages.properties closely, not to
the letter.

Each event gets the next `index` when it is logged; an event of a timed step (a VM coming Up, a disk
made) is logged when the step settles, with the step's time, by the user and correlation id of the
request that started it (the store keeps them with the step).
"""
from __future__ import annotations

import itertools
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .entities import Disk, StorageDomain, Template, Vm
    from .store import Store

KEEP = 50_000  # events kept (the engine ages them out after 30 days; a ring here)

USER_RUN_VM = 32                    # the VM is Up (RunVmCommandBase.runningSucceded)
USER_STOP_VM = 33
USER_ADD_VM = 34                    # a VM without disks to copy
USER_ADD_VM_STARTED = 37
USER_CREATE_SNAPSHOT = 45
USER_ADD_VM_TEMPLATE = 48
USER_REMOVE_VM_TEMPLATE = 50
USER_ADD_VM_TEMPLATE_FINISHED_SUCCESS = 51
USER_ADD_VM_FINISHED_SUCCESS = 53
VM_DOWN = 61
USER_CREATE_SNAPSHOT_FINISHED_SUCCESS = 68
USER_INITIATED_SHUTDOWN_VM = 73
USER_ADD_DISK_TO_VM = 78
USER_ADD_DISK_TO_VM_FINISHED_SUCCESS = 97
USER_REMOVE_VM_FINISHED = 113
USER_STARTED_VM = 153
USER_REBOOT_VM = 157
USER_REMOVE_VM_TEMPLATE_FINISHED = 251
USER_REMOVE_SNAPSHOT = 342
USER_REMOVE_SNAPSHOT_FINISHED_SUCCESS = 356
USER_FINISHED_REMOVE_DISK = 2014
USER_ATTACH_DISK_TO_VM = 2016
USER_DETACH_DISK_FROM_VM = 2018
USER_ADD_DISK = 2020
USER_ADD_DISK_FINISHED_SUCCESS = 2021
USER_REMOVE_DISK_INITIATED = 2038


@dataclass(slots=True)
class Event:
    """One audit-log row, with the links the API maps (there is no disk link: a disk is named only in
    the description)."""

    index: int
    code: int
    description: str
    time: float
    severity: str = "normal"
    correlation_id: str | None = None
    user_id: str | None = None
    vm_id: str | None = None
    template_id: str | None = None
    host_id: str | None = None
    cluster_id: str | None = None
    data_center_id: str | None = None
    storage_domain_id: str | None = None
    dismissed: bool = False


class EventLog:
    """The newest `KEEP` events in index order; indexes only grow."""

    def __init__(self, keep: int = KEEP) -> None:
        self._events: deque[Event] = deque(maxlen=keep)
        self._index = itertools.count(1)
        self.lost = 0  # events still to drop (the control API's gap, to test a client's resync)

    def add(self, event: Event) -> Event | None:
        event.index = next(self._index)
        if self.lost > 0:
            self.lost -= 1
            return None
        self._events.append(event)
        return event

    def newest_first(self) -> list[Event]:
        return [e for e in reversed(self._events) if not e.dismissed]

    def get(self, index: int) -> Event | None:
        return next((e for e in self._events if e.index == index and not e.dismissed), None)

    def __len__(self) -> int:
        return len(self._events)


def _user_name(store: "Store") -> str:
    user = store.acting.user
    return user.user_name if user is not None else "SYSTEM"


def emit(store: "Store", code: int, description: str, *, vm: "Vm | None" = None,
         template: "Template | None" = None, domain: "StorageDomain | None" = None,
         severity: str = "normal") -> None:
    """Log one event with the acting request's user and correlation id, linking the VM (with its
    cluster, data center and host), the template or the storage domain it is about."""
    acting = store.acting
    cluster_id = vm.cluster_id if vm is not None else template.cluster_id if template is not None else None
    dc = store.data_center_of_cluster(cluster_id) if cluster_id else None
    dc_id = dc.id if dc is not None else domain.data_center_id if domain is not None else None
    store.events.add(Event(
        index=0, code=code, description=description, time=acting.time if acting.time is not None else store.now(),
        severity=severity, correlation_id=acting.correlation_id,
        user_id=acting.user.id if acting.user is not None else None, vm_id=vm.id if vm is not None else None,
        template_id=template.id if template is not None else None,
        host_id=vm.host_id if vm is not None else None, cluster_id=cluster_id, data_center_id=dc_id,
        storage_domain_id=domain.id if domain is not None else None))


# -- what each change logs ------------------------------------------------------------------------------

def vm_added(store: "Store", vm: "Vm", copying: bool) -> None:
    """AddVmCommand: `started` when the VM's disks are still being copied (the finish follows), else done."""
    if copying:
        emit(store, USER_ADD_VM_STARTED, f"VM {vm.name} creation was initiated by {_user_name(store)}.", vm=vm)
    else:
        emit(store, USER_ADD_VM, f"VM {vm.name} was created by {_user_name(store)}.", vm=vm)


def vm_add_finished(store: "Store", vm: "Vm") -> None:
    emit(store, USER_ADD_VM_FINISHED_SUCCESS, f"VM {vm.name} creation has been completed.", vm=vm)


def _host_name(store: "Store", vm: "Vm") -> str:
    host = store.hosts.get(vm.host_id or "")
    return host.name if host is not None else "N/A"


def vm_started(store: "Store", vm: "Vm") -> None:
    emit(store, USER_STARTED_VM, f"VM {vm.name} was started by {_user_name(store)} "
                                 f"(Host: {_host_name(store, vm)}).", vm=vm)


def vm_up(store: "Store", vm: "Vm") -> None:
    emit(store, USER_RUN_VM, f"VM {vm.name} started on Host {_host_name(store, vm)}", vm=vm)


def vm_stopping(store: "Store", vm: "Vm", graceful: bool) -> None:
    if graceful:
        emit(store, USER_INITIATED_SHUTDOWN_VM, f"VM shutdown initiated by {_user_name(store)} on VM {vm.name} "
                                                f"(Host: {_host_name(store, vm)}).", vm=vm)
    else:
        emit(store, USER_STOP_VM, f"VM {vm.name} powered off by {_user_name(store)} "
                                  f"(Host: {_host_name(store, vm)}).", vm=vm)


def vm_down(store: "Store", vm: "Vm") -> None:
    emit(store, VM_DOWN, f"VM {vm.name} is down. Exit message: User shut down from within the guest", vm=vm)


def vm_rebooted(store: "Store", vm: "Vm") -> None:
    emit(store, USER_REBOOT_VM, f"User {_user_name(store)} initiated reboot of VM {vm.name}.", vm=vm)


def vm_removed(store: "Store", vm: "Vm") -> None:
    emit(store, USER_REMOVE_VM_FINISHED, f"VM {vm.name} was successfully removed.", vm=vm)


def _domain(store: "Store", disk: "Disk") -> "StorageDomain | None":
    return store.storagedomains.get(disk.storage_domain_id)


def disk_added(store: "Store", disk: "Disk", vm: "Vm | None") -> None:
    if vm is None:
        emit(store, USER_ADD_DISK, f"Add-Disk operation of '{disk.name}' was initiated by {_user_name(store)}.",
             domain=_domain(store, disk))
    else:
        emit(store, USER_ADD_DISK_TO_VM, f"Add-Disk operation of {disk.name} was initiated on VM {vm.name} by "
                                         f"{_user_name(store)}.", vm=vm, domain=_domain(store, disk))


def disk_add_finished(store: "Store", disk: "Disk", vm: "Vm | None") -> None:
    if vm is None:
        emit(store, USER_ADD_DISK_FINISHED_SUCCESS, f"The disk '{disk.name}' was successfully added.",
             domain=_domain(store, disk))
    else:
        emit(store, USER_ADD_DISK_TO_VM_FINISHED_SUCCESS, f"The disk {disk.name} was successfully added to VM "
                                                          f"{vm.name}.", vm=vm, domain=_domain(store, disk))


def disk_removing(store: "Store", disk: "Disk") -> None:
    domain = _domain(store, disk)
    emit(store, USER_REMOVE_DISK_INITIATED, f"Removal of Disk {disk.name} from domain "
                                            f"{domain.name if domain else ''} was initiated by {_user_name(store)}.",
         domain=domain)


def disk_removed(store: "Store", disk: "Disk") -> None:
    domain = _domain(store, disk)
    emit(store, USER_FINISHED_REMOVE_DISK, f"Disk {disk.name} was successfully removed from domain "
                                           f"{domain.name if domain else ''} (User {_user_name(store)}).",
         domain=domain)


def disk_attached(store: "Store", disk: "Disk", vm: "Vm") -> None:
    emit(store, USER_ATTACH_DISK_TO_VM, f"Disk {disk.name} was successfully attached to VM {vm.name} by "
                                        f"{_user_name(store)}.", vm=vm)


def disk_detached(store: "Store", disk_name: str, vm: "Vm") -> None:
    emit(store, USER_DETACH_DISK_FROM_VM, f"Disk {disk_name} was successfully detached from VM {vm.name} by "
                                          f"{_user_name(store)}.", vm=vm)


def template_adding(store: "Store", template: "Template", vm: "Vm") -> None:
    emit(store, USER_ADD_VM_TEMPLATE, f"Creation of Template {template.name} from VM {vm.name} was initiated by "
                                      f"{_user_name(store)}.", template=template, vm=vm)


def template_added(store: "Store", template: "Template", vm: "Vm") -> None:
    emit(store, USER_ADD_VM_TEMPLATE_FINISHED_SUCCESS, f"Creation of Template {template.name} from VM {vm.name} "
                                                       "has been completed.", template=template, vm=vm)


def template_removing(store: "Store", template: "Template") -> None:
    emit(store, USER_REMOVE_VM_TEMPLATE, f"Removal of Template {template.name} was initiated by "
                                         f"{_user_name(store)}.", template=template)


def template_removed(store: "Store", template: "Template") -> None:
    emit(store, USER_REMOVE_VM_TEMPLATE_FINISHED, f"Removal of Template {template.name} has been completed.",
         template=template)


def snapshot_creating(store: "Store", vm: "Vm", description: str) -> None:
    emit(store, USER_CREATE_SNAPSHOT, f"Snapshot '{description}' creation for VM '{vm.name}' was initiated by "
                                      f"{_user_name(store)}.", vm=vm)


def snapshot_created(store: "Store", vm: "Vm", description: str) -> None:
    emit(store, USER_CREATE_SNAPSHOT_FINISHED_SUCCESS, f"Snapshot '{description}' creation for VM '{vm.name}' has "
                                                       "been completed.", vm=vm)


def snapshot_removing(store: "Store", vm: "Vm", description: str) -> None:
    emit(store, USER_REMOVE_SNAPSHOT, f"Snapshot '{description}' deletion for VM '{vm.name}' was initiated by "
                                      f"{_user_name(store)}.", vm=vm)


def snapshot_removed(store: "Store", vm: "Vm", description: str) -> None:
    emit(store, USER_REMOVE_SNAPSHOT_FINISHED_SUCCESS, f"Snapshot '{description}' deletion for VM '{vm.name}' has "
                                                       "been completed.", vm=vm)
