"""Which listings of the inventory view an engine event makes stale, by its code (ovirt-engine's AuditLogType).

A real engine's disk events link no disk (the disk is named only in the description) and a VM's creation or
removal makes or removes disks without a disk event of its own, so these codes mean "list the data center's
disks again"; template events link their template, and a template's disks appear in the disk listing too, so
they make both kinds stale. Codes are those the simulator logs (drivers/ovirt/simulator/events.py, checked by
tests/unit/test_event_kinds.py). A change that logs none of them (a disk resized or a template's permissions
changed by another tool) shows at the next resync; disks and templates still locked are listed again at every
poll, so a copy ending without an event of its own is not missed.
"""
from __future__ import annotations

from collections.abc import Iterable

DISKS = "disks"
TEMPLATES = "templates"

USER_ADD_VM = 34
USER_ADD_VM_STARTED = 37
USER_ADD_VM_FINISHED_SUCCESS = 53
USER_REMOVE_VM_FINISHED = 113
USER_CREATE_SNAPSHOT = 45
USER_CREATE_SNAPSHOT_FINISHED_SUCCESS = 68
USER_REMOVE_SNAPSHOT = 342
USER_REMOVE_SNAPSHOT_FINISHED_SUCCESS = 356
USER_ADD_DISK_TO_VM = 78
USER_ADD_DISK_TO_VM_FINISHED_SUCCESS = 97
USER_ADD_DISK = 2020
USER_ADD_DISK_FINISHED_SUCCESS = 2021
USER_REMOVE_DISK_INITIATED = 2038
USER_FINISHED_REMOVE_DISK = 2014
USER_ATTACH_DISK_TO_VM = 2016
USER_DETACH_DISK_FROM_VM = 2018
USER_ADD_VM_TEMPLATE = 48
USER_REMOVE_VM_TEMPLATE = 50
USER_ADD_VM_TEMPLATE_FINISHED_SUCCESS = 51
USER_REMOVE_VM_TEMPLATE_FINISHED = 251

TEMPLATE_CODES = frozenset({USER_ADD_VM_TEMPLATE, USER_REMOVE_VM_TEMPLATE, USER_ADD_VM_TEMPLATE_FINISHED_SUCCESS,
                            USER_REMOVE_VM_TEMPLATE_FINISHED})
DISK_CODES = frozenset({
    USER_ADD_VM, USER_ADD_VM_STARTED, USER_ADD_VM_FINISHED_SUCCESS, USER_REMOVE_VM_FINISHED,  # a VM's own disks
    USER_CREATE_SNAPSHOT, USER_CREATE_SNAPSHOT_FINISHED_SUCCESS, USER_REMOVE_SNAPSHOT,  # lock, then free, its disks
    USER_REMOVE_SNAPSHOT_FINISHED_SUCCESS,
    USER_ADD_DISK_TO_VM, USER_ADD_DISK_TO_VM_FINISHED_SUCCESS, USER_ADD_DISK, USER_ADD_DISK_FINISHED_SUCCESS,
    USER_REMOVE_DISK_INITIATED, USER_FINISHED_REMOVE_DISK, USER_ATTACH_DISK_TO_VM, USER_DETACH_DISK_FROM_VM,
}) | TEMPLATE_CODES


def stale_kinds(code: int | None, links_template: bool) -> set[str]:
    """The listings one event makes stale."""
    kinds = set()
    if code in DISK_CODES:
        kinds.add(DISKS)
    if code in TEMPLATE_CODES or links_template:
        kinds |= {TEMPLATES, DISKS}
    return kinds


def written_kinds(method: str, parts: Iterable[str]) -> set[str]:
    """The listings a request of the gateway's own (not a GET) makes stale, by its path's parts: disks,
    attachments, snapshots, templates, and VMs made or removed (a launch copies disks, a removal deletes them)."""
    path = list(parts)
    if method == "GET" or not path:
        return set()
    if path[0] == "disks":
        return {DISKS}
    if path[0] == "templates":
        return {TEMPLATES, DISKS}
    if path[0] == "vms":
        if len(path) == 1 or (len(path) == 2 and method == "DELETE"):
            return {DISKS}
        if len(path) > 2 and path[2] in ("diskattachments", "snapshots"):
            return {DISKS}
    return set()
