"""Instances named by id, with the inventory view on, never wait for a refresh of the view under way.

A TerminateInstances checks the state of the instance it names, and a waiter polls by id: both read the
engine afresh. Under load a poll's refetch (up to 200 watched VMs) or a full listing holds the view's refresh
for long, and such a read used to wait for it to end; it now answers at once, and the view refetches the VM
before its next answer, so a listing never shows it older than that read did.
"""
from __future__ import annotations

import threading
import time

import requests

from .ovirt_env import Gateway
from .test_inventory_view import (advance, by_id, engine_action, engine_vm, hold_next_vm_listing,  # noqa: F401
                                  on_fake_clock, viewing, views)

HOLD_SECONDS = 8


def test_a_read_by_id_answers_while_a_poll_is_held_back(gw: Gateway, views: list) -> None:  # noqa: F811
    made = engine_vm(gw.engine, "view-no-wait")
    advance(gw.engine, 60)
    engine_action(gw.engine, made, "start")
    advance(gw.engine, 14)  # up, no address yet: watched, so the next poll refetches it
    views.append(viewing(gw, poll_seconds=1))
    view_driver = views[0]
    clock = on_fake_clock(view_driver)
    view_driver.instances(gw.scope())
    stats = hold_next_vm_listing(gw, HOLD_SECONDS)
    clock.now = 5  # a poll is due: its refetch of the watched VM is answered HOLD_SECONDS late
    polling = threading.Thread(target=view_driver.instances, args=(gw.scope(),))
    polling.start()
    while requests.get(stats, timeout=10).json()["requests"].get("GET /vms", 0) < 1:
        time.sleep(0.01)
    advance(gw.engine, 10)  # the guest reports its address
    read = view_driver.instance(gw.scope(), made)
    assert polling.is_alive(), "the read by id waited for the poll held back"
    assert read.addresses_of("ipv4")
    polling.join()
    assert by_id(view_driver.instances(gw.scope()))[made].addresses_of("ipv4")  # never older than the read
