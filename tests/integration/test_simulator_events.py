"""The simulator's audit log, `GET /events`, as a client polling it sees it on the wire: the codes a real
engine logs for each change, in its order, with its links and the request's correlation id; nothing for
a guest agent's report; newest first, `from` strict, `max` after the sort, `search`; a user-level caller
gets its whole visible log whatever `from` says; a dismissed or lost event leaves a hole. Also the speed
model's per-VM listing cost and the request counters. Every transition is stepped on a frozen clock."""
from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from lxml import etree

from tests.simulator_fixtures import ADMIN, TEMPLATE_CENTOS_DEFAULT, USER, advance, control, running_simulator

XML = {"Content-Type": "application/xml"}
DATA_DOMAIN = "data-default"


@pytest.fixture()
def engine() -> Iterator[Any]:
    with running_simulator(frozen=True) as (sim, handle):
        yield handle


@pytest.fixture()
def admin(engine: Any) -> requests.Session:
    session = requests.Session()
    session.auth = ADMIN
    return session


def events(session: requests.Session, api: str, **params: Any) -> list[etree._Element]:
    response = session.get(f"{api}/events", params=params)
    assert response.status_code == 200, response.text
    return list(etree.fromstring(response.content))


def newest_index(session: requests.Session, api: str) -> int:
    found = events(session, api, max=1)
    return int(found[0].findtext("index")) if found else 0


def codes_since(session: requests.Session, api: str, index: int) -> list[int]:
    """The codes logged after `index`, oldest first."""
    return [int(e.findtext("code")) for e in reversed(events(session, api, **{"from": index}))]


def post(session: requests.Session, url: str, body: str, correlation_id: str | None = None) -> etree._Element:
    headers = {**XML, **({"Correlation-Id": correlation_id} if correlation_id else {})}
    response = session.post(url, data=body, headers=headers)
    assert response.status_code in (200, 201, 202), response.text
    return etree.fromstring(response.content)


def add_vm(session: requests.Session, api: str, name: str, correlation_id: str | None = None) -> str:
    body = f"<vm><name>{name}</name><cluster><name>Default</name></cluster><template id='{TEMPLATE_CENTOS_DEFAULT}'/></vm>"
    return post(session, f"{api}/vms", body, correlation_id).get("id")


def test_a_vm_lifecycle_logs_the_engines_codes_in_order_and_nothing_for_the_guest_report(
        engine: Any, admin: requests.Session) -> None:
    api = engine.api_url
    start = newest_index(admin, api)
    vm_id = add_vm(admin, api, "events-vm", correlation_id="launch-1")
    assert codes_since(admin, api, start) == [37]  # USER_ADD_VM_STARTED: the disks are being copied
    advance(engine, 60)
    assert codes_since(admin, api, start) == [37, 53]  # USER_ADD_VM_FINISHED_SUCCESS
    post(admin, f"{api}/vms/{vm_id}/start", "<action/>")
    advance(engine, 3.5)  # wait_for_launch -> powering_up: silent
    assert codes_since(admin, api, start) == [37, 53, 153]
    advance(engine, 10)  # Up
    assert codes_since(admin, api, start) == [37, 53, 153, 32]
    before_report = newest_index(admin, api)
    advance(engine, 10)  # the guest agent reports its addresses: no event
    assert admin.get(f"{api}/vms/{vm_id}", params={"follow": "reported_devices"}).status_code == 200
    assert newest_index(admin, api) == before_report
    post(admin, f"{api}/vms/{vm_id}/stop", "<action/>")
    advance(engine, 2)
    admin.delete(f"{api}/vms/{vm_id}").raise_for_status()
    assert codes_since(admin, api, start) == [37, 53, 153, 32, 33, 61, 113]

    logged = events(admin, api, **{"from": start})
    created = logged[-1]
    assert created.findtext("correlation_id") == "launch-1"
    assert created.find("vm").get("id") == vm_id
    assert created.find("cluster") is not None and created.find("data_center") is not None
    assert created.find("user") is not None and created.findtext("severity") == "normal"
    assert created.get("id") == created.findtext("index")
    up = next(e for e in logged if e.findtext("code") == "32")
    assert up.find("host") is not None  # logged at Up, on its host


def test_disks_templates_and_snapshots_log_their_codes(engine: Any, admin: requests.Session) -> None:
    api = engine.api_url
    vm_id = add_vm(admin, api, "events-storage")
    advance(engine, 60)
    start = newest_index(admin, api)
    disk = post(admin, f"{api}/disks", f"<disk><alias>ev-data</alias><provisioned_size>{2**30}</provisioned_size>"
                                       f"<format>cow</format><storage_domains><storage_domain><name>{DATA_DOMAIN}"
                                       "</name></storage_domain></storage_domains></disk>").get("id")
    advance(engine, 10)
    post(admin, f"{api}/vms/{vm_id}/diskattachments", f"<disk_attachment><bootable>false</bootable>"
                                                      f"<interface>virtio</interface><active>true</active>"
                                                      f"<disk id='{disk}'/></disk_attachment>")
    admin.delete(f"{api}/vms/{vm_id}/diskattachments/{disk}").raise_for_status()
    admin.delete(f"{api}/disks/{disk}").raise_for_status()
    advance(engine, 5)
    assert codes_since(admin, api, start) == [2020, 2021, 2016, 2018, 2038, 2014]
    domain_linked = events(admin, api, **{"from": start})[-1]
    assert domain_linked.find("storage_domain") is not None and domain_linked.find("vm") is None

    start = newest_index(admin, api)
    snapshot = post(admin, f"{api}/vms/{vm_id}/snapshots", "<snapshot><description>ev-snap</description>"
                                                           "</snapshot>").get("id")
    advance(engine, 10)
    admin.delete(f"{api}/vms/{vm_id}/snapshots/{snapshot}").raise_for_status()
    advance(engine, 10)
    template = post(admin, f"{api}/templates", f"<template><name>ev-template</name><vm id='{vm_id}'/></template>")
    advance(engine, 30)
    admin.delete(f"{api}/templates/{template.get('id')}").raise_for_status()
    advance(engine, 10)
    assert codes_since(admin, api, start) == [45, 68, 342, 356, 48, 51, 50, 251]
    template_event = events(admin, api, **{"from": start})[0]
    assert template_event.find("template").get("id") == template.get("id")


def test_newest_first_from_strict_and_max_after_the_sort(engine: Any, admin: requests.Session) -> None:
    api = engine.api_url
    start = newest_index(admin, api)
    for n in range(4):
        add_vm(admin, api, f"events-order-{n}")  # one 37 each
    indexes = [int(e.findtext("index")) for e in events(admin, api, **{"from": start})]
    assert indexes == sorted(indexes, reverse=True) and len(indexes) == 4
    newest, oldest = indexes[0], indexes[-1]
    assert [int(e.findtext("index")) for e in events(admin, api, **{"from": oldest})] == indexes[:3]  # strictly above
    assert [int(e.findtext("index")) for e in events(admin, api, **{"from": start, "max": 2})] == [newest, newest - 1]
    assert events(admin, api, **{"from": newest}) == []


def test_search_by_code_and_sort_ascending(engine: Any, admin: requests.Session) -> None:
    api = engine.api_url
    start = newest_index(admin, api)
    vm_id = add_vm(admin, api, "events-search")
    advance(engine, 60)
    post(admin, f"{api}/vms/{vm_id}/start", "<action/>")
    found = events(admin, api, search="code=53", **{"from": start})
    assert [e.find("vm").get("id") for e in found] == [vm_id]
    ascending = events(admin, api, search="sortby time asc", **{"from": start})
    assert [int(e.findtext("code")) for e in ascending] == [37, 53, 153]
    assert admin.get(f"{api}/events", params={"search": "nonsense=1"}).status_code == 400


def test_a_user_level_caller_gets_its_whole_visible_log_whatever_from_says(engine: Any, admin: requests.Session) -> None:
    api = engine.api_url
    user = requests.Session()
    user.auth = USER
    add_vm(admin, api, "events-admins")
    mine = add_vm(user, api, "events-users")
    newest = newest_index(admin, api)
    seen = events(user, api, **{"from": newest, "max": 1})
    assert [e.find("vm").get("id") for e in seen if e.find("vm") is not None] == [mine]  # `from` and `max` ignored
    assert events(admin, api, **{"from": newest}) == []


def test_a_dismissed_or_lost_event_leaves_a_hole_in_the_indexes(engine: Any, admin: requests.Session) -> None:
    api = engine.api_url
    start = newest_index(admin, api)
    add_vm(admin, api, "events-hole-1")
    control(engine, "POST", "events/gap", skip=1)
    add_vm(admin, api, "events-hole-2")  # its event is lost
    add_vm(admin, api, "events-hole-3")
    assert [int(e.findtext("index")) for e in events(admin, api, **{"from": start})] == [start + 3, start + 1]
    assert admin.delete(f"{api}/events/{start + 1}").status_code == 200
    assert [int(e.findtext("index")) for e in events(admin, api, **{"from": start})] == [start + 3]
    assert admin.get(f"{api}/events/{start + 1}").status_code == 404
    assert admin.get(f"{api}/events/{start + 3}").status_code == 200


def test_the_listing_cost_is_off_by_default_and_slows_vm_listings_per_vm() -> None:
    with running_simulator(frozen=True, vms=40) as (sim, handle):
        session = requests.Session()
        session.auth = ADMIN
        assert control(handle, "GET", "costs") == {"list_cost_ms": 0.0}
        control(handle, "POST", "costs", list_cost_ms=25)
        started = time.monotonic()
        listed = etree.fromstring(session.get(f"{handle.api_url}/vms").content)
        assert time.monotonic() - started >= len(listed) * 0.025 >= 1.0  # 40+ VMs at 25 ms each
        started = time.monotonic()
        session.get(f"{handle.api_url}/vms", params={"search": "name=vm-00001"}).raise_for_status()
        one = time.monotonic() - started
        assert one < len(listed) * 0.025  # per VM answered, not per VM held


def test_the_request_counters_count_by_path_template(engine: Any, admin: requests.Session) -> None:
    made = [add_vm(admin, engine.api_url, f"events-counted-{n}") for n in range(2)]
    control(engine, "DELETE", "stats")
    admin.get(f"{engine.api_url}/vms").raise_for_status()
    admin.get(f"{engine.api_url}/vms", params={"search": "name=events-counted-0"}).raise_for_status()
    for vm_id in made:
        admin.get(f"{engine.api_url}/vms/{vm_id}").raise_for_status()
    counted = requests.get(f"{engine.url}/__simulator__/stats", timeout=10).json()
    assert counted["requests"] == {"GET /vms": 2, "GET /vms/<id>": 2} and counted["total"] == 4
