"""The simulator's clock, addresses, state machine and request parsing, without HTTP."""

from __future__ import annotations

import time

import pytest

from drivers.ovirt.simulator import lifecycle, seed
from drivers.ovirt.simulator.clock import Clock, iso
from drivers.ovirt.simulator.errors import ApiError
from drivers.ovirt.simulator.render_common import parse_follow
from drivers.ovirt.simulator.store import Store, nic_addresses, reported_device_id
from drivers.ovirt.simulator.xmlin import parse_body

CENTOS = "7e000000-0000-4000-8000-000000000011"


@pytest.fixture()
def store() -> Store:
    s = Store(Clock(frozen=True, start=1_700_000_000))
    seed.load(s)
    return s


def test_clock_frozen_scaled_and_advanced() -> None:
    frozen = Clock(frozen=True, start=100)
    assert frozen.now() == 100 and frozen.advance(5) == 105
    with pytest.raises(ValueError):
        frozen.advance(-1)
    fast = Clock(speed=1000)
    t0 = fast.now()
    time.sleep(0.01)
    assert fast.now() - t0 >= 9
    assert iso(0) == "1970-01-01T00:00:00.000+00:00"


def test_addresses_are_deterministic_and_engine_shaped() -> None:
    assert nic_addresses("56:6f:00:01:02:03") == ("10.1.2.3", "fd00::546f:ff:fe01:203", "fe80::546f:ff:fe01:203")
    # the engine's own example: "eth0" + "00:1a:4a:16:01:05"
    assert reported_device_id("eth0", "00:1a:4a:16:01:05") == "65746830-3030-3a31-613a-34613a31363a"


def test_seed_holds_the_documented_objects(store: Store) -> None:
    assert {dc.name for dc in store.datacenters.values()} == {"Default", "barcelona"}
    assert {c.name for c in store.clusters.values()} == {"Default", "barcelona-cluster"}
    assert store.blank().name == "Blank"
    assert [it.name for it in store.instancetypes.values()] == ["Tiny", "Small", "Medium", "Large", "XLarge"]
    assert {u.user_name: u.admin for u in store.users.values()} == {"admin@internal": True, "user@internal": False}
    seed.add_vms(store, 6)
    assert sum(v.status == "up" for v in store.vms.values()) == 4
    assert len({n.mac for v in store.vms.values() for n in v.nics}) == 6


def test_state_machine_on_a_frozen_clock(store: Store) -> None:
    admin = next(u for u in store.users.values() if u.admin)
    vm = lifecycle.create_vm(store, name="unit", cluster_id=store.templates[CENTOS].cluster_id,
                             template=store.templates[CENTOS], owner=admin)
    assert vm.status == "image_locked"
    with pytest.raises(ApiError) as locked:
        lifecycle.start(store, vm, None, None, False)
    assert locked.value.status == 409
    store.clock.advance(8)
    store.settle()
    assert vm.status == "down"
    with pytest.raises(ApiError) as not_running:
        lifecycle.stop(store, vm, None, None)
    assert not_running.value.detail == "[Cannot stop VM. VM is not running.]"
    lifecycle.start(store, vm, None, {"custom_script": "#cloud-config"}, run_once=True)
    assert vm.status == "wait_for_launch" and vm.initialization == {"custom_script": "#cloud-config"}
    lifecycle.stop(store, vm, None, "test")     # a new course: the boot's pending steps are dropped
    store.clock.advance(60)
    store.settle()
    assert vm.status == "down" and vm.stop_reason == "test" and not vm.guest_reported
    with pytest.raises(ApiError) as removal_blocked:
        vm.delete_protected = True
        lifecycle.remove(store, vm)
    assert "Delete protection" in removal_blocked.value.detail


def test_follow_parsing_normalizes_link_names() -> None:
    assert parse_follow("nics.reported_devices,disk_attachments.disk") == {
        "nics": {"reporteddevices": {}}, "diskattachments": {"disk": {}}}


def test_request_parsing_is_safe() -> None:
    with pytest.raises(ApiError):
        parse_body(b'<!DOCTYPE v [<!ENTITY e SYSTEM "file:///etc/passwd">]><vm><name>&e;</name></vm>', "vm")
    with pytest.raises(ApiError) as wrong_root:
        parse_body(b"<template/>", "vm")
    assert wrong_root.value.status == 400
    with pytest.raises(ApiError) as too_big:
        parse_body(b"<vm>" + b" " * (2 * 1024 * 1024) + b"</vm>", "vm")
    assert too_big.value.status == 413
