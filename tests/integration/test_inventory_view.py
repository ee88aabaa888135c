"""The inventory view ([inventory] enabled): instance listings served from one in-process view of the
engine kept current from its event log, against the simulator over real HTTP on a frozen clock.

What a client relies on: the answer is the engine's (the same instances as a per-request listing), the
gateway's own changes show at once, changes made elsewhere show after a poll (also those that log no
event: a guest's addresses), an engine whose event log went backwards is listed again, and polling
costs one events request instead of a listing of every VM. Off by default and never used for a
user-level scope.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import replace

import pytest
import requests
from lxml import etree

from drivers.ovirt.driver import OvirtDriver
from gateway.config import Config
from gateway.inventory import Inventory
from gateway.model import InstanceState

from .ovirt_env import CENTOS, USER, Engine, Gateway

ADMIN_AUTH = ("admin@internal", "admin")


def viewing(gw: Gateway, poll_seconds: float) -> OvirtDriver:
    """A second driver of the same gateway, with the view on; its engine requests go to `gw.sent` too."""
    config = replace(gw.config, inventory_enabled=True, inventory_poll_seconds=poll_seconds,
                     inventory_resync_seconds=3600)
    driver = OvirtDriver(config, gw.store, gw.runner)
    driver.client_for(gw.provider).session.hooks["response"].append(
        lambda r, *a, **k: gw.sent.append((r.request.method, r.url, dict(r.request.headers))))
    return driver


@pytest.fixture
def views(gw: Gateway) -> Iterator[list[OvirtDriver]]:
    made: list[OvirtDriver] = []
    yield made
    for driver in made:
        driver.close()


def vm_listings(gw: Gateway) -> int:
    """Requests that listed the data center's VMs (not those that refetch some by id)."""
    return sum(1 for r in gw.requests if r.startswith("GET ") and "/vms?" in r and "search=datacenter" in r)


def engine_vm(engine: Engine, name: str) -> str:
    """A VM made outside the gateway (the engine's own API, as another tool would)."""
    body = f"<vm><name>{name}</name><cluster><name>Default</name></cluster><template id='{CENTOS}'/></vm>"
    answer = requests.post(f"{engine.url}/vms", data=body, auth=ADMIN_AUTH,
                           headers={"Content-Type": "application/xml"}, timeout=10)
    assert answer.status_code in (201, 202), answer.text
    return etree.fromstring(answer.content).get("id")


def engine_action(engine: Engine, vm_id: str, action: str) -> None:
    requests.post(f"{engine.url}/vms/{vm_id}/{action}", data="<action/>", auth=ADMIN_AUTH,
                  headers={"Content-Type": "application/xml"}, timeout=10).raise_for_status()


def advance(engine: Engine, seconds: float) -> None:
    engine.control("clock/advance", seconds=seconds)


def by_id(instances: list) -> dict:
    return {i.id: i for i in instances}


def test_repeated_listings_are_the_engines_answer_and_list_the_vms_once(gw: Gateway, views: list) -> None:
    made = [engine_vm(gw.engine, f"view-{n}") for n in range(3)]
    advance(gw.engine, 60)
    views.append(viewing(gw, poll_seconds=3600))
    view_driver = views[0]
    gw.forget_requests()
    answers = [view_driver.instances(gw.scope()) for _ in range(4)]
    assert vm_listings(gw) == 1  # the first read fills the view; the others list nothing
    plain = gw.driver.instances(gw.scope())
    for answer in answers:
        assert sorted(i.id for i in answer) == sorted(i.id for i in plain)
        assert {i.id: (i.state, i.tags, i.attachments[0].device) for i in answer} == \
            {i.id: (i.state, i.tags, i.attachments[0].device) for i in plain}
    assert set(made) <= set(by_id(answers[-1]))
    answers[0][0].tags["changed"] = "by one request"  # a request's copy, not the view's
    assert "changed" not in view_driver.instances(gw.scope())[0].tags


def test_changes_made_elsewhere_show_after_a_poll_and_not_before(gw: Gateway, views: list) -> None:
    views.extend([viewing(gw, poll_seconds=0), viewing(gw, poll_seconds=3600)])
    polling, stale = views
    polling.instances(gw.scope()), stale.instances(gw.scope())
    made = engine_vm(gw.engine, "view-elsewhere")
    assert made in by_id(polling.instances(gw.scope()))
    assert made not in by_id(stale.instances(gw.scope()))  # served from its view, not the engine
    advance(gw.engine, 60)
    assert by_id(polling.instances(gw.scope()))[made].state is InstanceState.STOPPED
    requests.delete(f"{gw.engine.url}/vms/{made}", auth=ADMIN_AUTH, timeout=10).raise_for_status()
    gw.forget_requests()
    assert made not in by_id(polling.instances(gw.scope()))
    assert vm_listings(gw) == 0  # one events request and one refetch by id, no listing


def test_the_gateways_own_changes_show_at_once(gw: Gateway, views: list) -> None:
    made = engine_vm(gw.engine, "view-own")
    advance(gw.engine, 60)
    views.append(viewing(gw, poll_seconds=3600))
    view_driver = views[0]
    assert by_id(view_driver.instances(gw.scope()))[made].state is InstanceState.STOPPED
    view_driver.start_instance(gw.scope(), made)
    assert by_id(view_driver.instances(gw.scope()))[made].state is InstanceState.PENDING


def test_a_change_made_through_another_process_shows_at_once_there_too(gw: Gateway, views: list) -> None:
    """Each gunicorn worker (or host) keeps its own view: the write is marked in the store they share, so the
    client's next listing shows it whichever process serves it, without waiting for that one's poll."""
    made = engine_vm(gw.engine, "view-other-process")
    advance(gw.engine, 60)
    views.extend([viewing(gw, poll_seconds=3600), viewing(gw, poll_seconds=3600)])
    writer, reader = views
    assert by_id(reader.instances(gw.scope()))[made].state is InstanceState.STOPPED
    writer.start_instance(gw.scope(), made)
    assert by_id(reader.instances(gw.scope()))[made].state is InstanceState.PENDING
    gw.forget_requests()
    reader.instances(gw.scope())
    assert not gw.requests, "a mark is refetched once"


def test_a_poll_that_finds_nothing_new_costs_one_events_request(gw: Gateway, views: list) -> None:
    """The answer from one before the cursor includes the cursor's own event: the log still reaches it, so no
    second request asks for the newest index (that doubled the polling of every idle view)."""
    engine_vm(gw.engine, "view-idle")
    advance(gw.engine, 60)
    views.append(viewing(gw, poll_seconds=0.001))
    view_driver = views[0]
    view_driver.instances(gw.scope())
    time.sleep(0.01)
    gw.forget_requests()
    view_driver.instances(gw.scope())
    assert [r for r in gw.requests if "/events" in r] == [r for r in gw.requests if "/events?from=" in r]
    assert len([r for r in gw.requests if "/events" in r]) == 1


def test_a_guests_addresses_show_though_no_event_says_so(gw: Gateway, views: list) -> None:
    made = engine_vm(gw.engine, "view-guest")
    advance(gw.engine, 60)
    views.append(viewing(gw, poll_seconds=0))
    view_driver = views[0]
    engine_action(gw.engine, made, "start")
    advance(gw.engine, 14)  # Up (an event), the guest agent not yet reported
    up = by_id(view_driver.instances(gw.scope()))[made]
    assert up.state is InstanceState.RUNNING and not up.addresses_of("ipv4")
    advance(gw.engine, 10)  # the report: no event, the VM is watched until it has an address
    assert by_id(view_driver.instances(gw.scope()))[made].addresses_of("ipv4")


def test_an_engine_whose_event_log_went_back_is_listed_again(gw: Gateway, views: list) -> None:
    for n in range(3):
        engine_vm(gw.engine, f"view-before-{n}")
    views.append(viewing(gw, poll_seconds=0))
    view_driver = views[0]
    assert len(view_driver.instances(gw.scope())) >= 3
    gw.engine.simulator.reset()  # restored from an older backup: its event indexes start again
    made = engine_vm(gw.engine, "view-after")
    gw.forget_requests()
    assert sorted(i.id for i in view_driver.instances(gw.scope())) == \
        sorted(i.id for i in gw.driver.instances(gw.scope())) == [made]
    assert vm_listings(gw) == 2  # the view's relisting and the plain driver's


def test_off_by_default_and_never_for_a_user_level_scope(gw: Gateway, views: list) -> None:
    assert Config().inventory_enabled is False
    views.append(viewing(gw, poll_seconds=3600))
    view_driver = views[0]
    gw.forget_requests()
    gw.driver.instances(gw.scope()), gw.driver.instances(gw.scope())
    assert vm_listings(gw) == 2
    gw.forget_requests()
    user = gw.scope(USER, user_level=True)
    view_driver.instances(user), view_driver.instances(user)
    assert vm_listings(gw) == 2 and not any("/events" in r for r in gw.requests)


def test_an_instance_asked_for_by_id_is_found_though_the_view_has_not_seen_it_yet(gw: Gateway, views: list) -> None:
    """A launch answered by another gateway process, then described here by its id (what waiters do)."""
    views.append(viewing(gw, poll_seconds=3600))
    view_driver = views[0]
    view_driver.instances(gw.scope())
    made = engine_vm(gw.engine, "view-by-id")
    assert [i.id for i in view_driver.instances(gw.scope(), [made])] == [made]
    assert made in by_id(view_driver.instances(gw.scope()))  # and kept
    assert view_driver.instances(gw.scope(), ["5eed0000-0000-4000-8000-0000000fffff"]) == []


def test_instances_named_by_id_are_read_from_the_engine_not_the_view(gw: Gateway, views: list) -> None:
    """What a waiter or an action's state check asks: the engine's state now, even one no event announced."""
    made = engine_vm(gw.engine, "view-fresh")
    advance(gw.engine, 60)
    views.append(viewing(gw, poll_seconds=3600))
    view_driver = views[0]
    view_driver.instances(gw.scope())
    gw.engine.control(f"vms/{made}/status", status="paused")  # logs no event
    assert view_driver.instance(gw.scope(), made).state is InstanceState.PAUSED


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def on_fake_clock(driver: OvirtDriver, poll_seconds: float = 1) -> FakeClock:
    """The driver's view polls on a clock the test moves (`clock.now`), and lists now."""
    clock = FakeClock()
    driver._inventory_state = Inventory(poll_seconds, 3600, clock=clock)
    driver._without_events, driver._administrators = {}, {}
    return clock


def hold_next_vm_listing(gw: Gateway, seconds: float) -> str:
    """The engine answers the next `GET /vms` `seconds` late; the URL of its request counts, reset."""
    stats = f"{gw.engine.handle.url}/__simulator__/stats"
    requests.delete(stats, timeout=10).raise_for_status()
    gw.engine.control("faults", hold={"path": "/vms$", "method": "GET", "seconds": seconds, "count": 1})
    return stats


def test_an_older_refresh_never_overwrites_an_instance_read_afresh(gw: Gateway, views: list) -> None:
    """A poll's refetch answered late (held by the engine) and a waiter's read by id racing it: the view
    keeps the newer answer, so the next listing shows the address the waiter already saw."""
    made = engine_vm(gw.engine, "view-race")
    advance(gw.engine, 60)
    engine_action(gw.engine, made, "start")
    advance(gw.engine, 14)  # Up, no address yet: watched
    views.append(viewing(gw, poll_seconds=1))
    view_driver = views[0]
    clock = on_fake_clock(view_driver)
    view_driver.instances(gw.scope())
    stats = hold_next_vm_listing(gw, 2)
    clock.now = 5  # a poll is due: it refetches the watched VM, and its answer (no address) is held back
    polling = threading.Thread(target=view_driver.instances, args=(gw.scope(),))
    polling.start()
    while requests.get(stats, timeout=10).json()["requests"].get("GET /vms", 0) < 1:
        time.sleep(0.01)
    advance(gw.engine, 10)  # the guest reports its address
    assert view_driver.instance(gw.scope(), made).addresses_of("ipv4")
    polling.join()
    assert by_id(view_driver.instances(gw.scope()))[made].addresses_of("ipv4")  # not due: from the view


def test_a_listing_during_the_refetch_of_a_write_waits_for_it(gw: Gateway, views: list) -> None:
    """Two listings after a write: the first refetches the written VM (its answer held back by the engine), the
    second, arriving meanwhile, must not answer from the view without the write: it waits for that refetch."""
    made = engine_vm(gw.engine, "view-written")
    advance(gw.engine, 60)
    views.extend([viewing(gw, poll_seconds=3600), viewing(gw, poll_seconds=3600)])
    writer, reader = views
    reader.instances(gw.scope())
    writer.start_instance(gw.scope(), made)
    stats = f"{gw.engine.handle.url}/__simulator__/stats"
    requests.delete(stats, timeout=10).raise_for_status()
    gw.engine.control("faults", hold={"path": "/vms$", "method": "GET", "seconds": 2, "count": 1})
    first = threading.Thread(target=reader.instances, args=(gw.scope(),))
    first.start()
    while requests.get(stats, timeout=10).json()["requests"].get("GET /vms", 0) < 1:
        time.sleep(0.01)
    assert by_id(reader.instances(gw.scope()))[made].state is InstanceState.PENDING
    first.join()


def test_a_listing_after_a_write_waits_for_its_refetch_but_not_for_a_poll_under_way(gw: Gateway, views: list) -> None:
    """Under load a poll (events, then every watched VM refetched) is nearly always under way: a listing that
    must show a write waits for that VM's refetch alone, not for the poll held up by the engine."""
    watched_vm, written_vm = engine_vm(gw.engine, "view-watched"), engine_vm(gw.engine, "view-write")
    advance(gw.engine, 60)
    engine_action(gw.engine, watched_vm, "start")
    advance(gw.engine, 14)  # Up without an address: every poll refetches it
    views.extend([viewing(gw, poll_seconds=1), viewing(gw, poll_seconds=3600)])
    reader, writer = views
    clock = on_fake_clock(reader)
    reader.instances(gw.scope())
    stats = hold_next_vm_listing(gw, 4)
    clock.now = 5
    polling = threading.Thread(target=reader.instances, args=(gw.scope(),))
    polling.start()
    while requests.get(stats, timeout=10).json()["requests"].get("GET /vms", 0) < 1:
        time.sleep(0.01)
    writer.start_instance(gw.scope(), written_vm)
    started = time.monotonic()
    assert by_id(reader.instances(gw.scope()))[written_vm].state is InstanceState.PENDING
    assert time.monotonic() - started < 2.5, "waited for the poll held by the engine"
    polling.join()


def test_a_user_who_is_not_an_administrator_never_reads_the_view(gw: Gateway, views: list) -> None:
    """Without `;user` a request is not at user level, but the engine filters a non-administrator's answers:
    the view (every VM of the data center) must not answer such a caller."""
    views.append(viewing(gw, poll_seconds=3600))
    view_driver = views[0]
    theirs = engine_vm(gw.engine, "not-the-users")
    assert theirs in by_id(view_driver.instances(gw.scope()))  # an administrator's listing fills the view
    user = gw.scope(USER)
    assert not user.user_level
    assert theirs not in by_id(view_driver.instances(user))
    assert by_id(view_driver.instances(user)).keys() == by_id(gw.driver.instances(user)).keys()
