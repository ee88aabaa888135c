"""Which engine events and which of the gateway's own writes make the inventory view's disk and template listings
stale: the codes are those the simulator logs (which follows ovirt-engine's AuditLogType)."""
from __future__ import annotations

import pytest

from drivers.ovirt import event_kinds
from drivers.ovirt.event_kinds import DISKS, TEMPLATES, stale_kinds, written_kinds
from drivers.ovirt.simulator import events


def test_the_codes_relied_on_are_those_the_simulator_logs() -> None:
    names = [n for n in dir(event_kinds) if n.startswith("USER_")]
    assert names and all(getattr(event_kinds, n) == getattr(events, n) for n in names)
    simulator_codes = {getattr(events, n) for n in dir(events) if n.isupper() and type(getattr(events, n)) is int}
    vm_only = {events.USER_RUN_VM, events.USER_STOP_VM, events.VM_DOWN, events.USER_INITIATED_SHUTDOWN_VM,
               events.USER_STARTED_VM, events.USER_REBOOT_VM}  # states only: the VM's refetch covers them
    assert simulator_codes - event_kinds.DISK_CODES - {events.KEEP} == vm_only


@pytest.mark.parametrize(("code", "links_template", "kinds"), [
    (events.USER_ADD_DISK, False, {DISKS}), (events.USER_FINISHED_REMOVE_DISK, False, {DISKS}),
    (events.USER_ADD_VM_STARTED, False, {DISKS}), (events.USER_REMOVE_VM_FINISHED, False, {DISKS}),
    (events.USER_CREATE_SNAPSHOT_FINISHED_SUCCESS, False, {DISKS}),
    (events.USER_ADD_VM_TEMPLATE_FINISHED_SUCCESS, True, {DISKS, TEMPLATES}),
    (9999, True, {DISKS, TEMPLATES}),  # a template event this gateway has no code for: its link says so
    (events.USER_RUN_VM, False, set()), (None, False, set()),
])
def test_events_make_their_kinds_stale(code: int | None, links_template: bool, kinds: set[str]) -> None:
    assert stale_kinds(code, links_template) == kinds


@pytest.mark.parametrize(("method", "path", "kinds"), [
    ("POST", "disks", {DISKS}), ("DELETE", "disks/d1", {DISKS}), ("PUT", "disks/d1", {DISKS}),
    ("POST", "disks/d1/copy", {DISKS}), ("POST", "templates", {DISKS, TEMPLATES}),
    ("POST", "templates/t1/permissions", {DISKS, TEMPLATES}), ("POST", "vms", {DISKS}),
    ("DELETE", "vms/v1", {DISKS}), ("POST", "vms/v1/diskattachments", {DISKS}),
    ("DELETE", "vms/v1/diskattachments/d1", {DISKS}), ("POST", "vms/v1/snapshots", {DISKS}),
    ("POST", "vms/v1/start", set()), ("PUT", "vms/v1", set()), ("GET", "disks", set()),
])
def test_the_gateways_own_writes_make_their_kinds_stale(method: str, path: str, kinds: set[str]) -> None:
    assert written_kinds(method, path.split("/")) == kinds
