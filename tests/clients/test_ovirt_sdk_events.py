"""The official oVirt SDK polls the simulator's audit log as it would a real engine's: ManageIQ's and
oVirt's own system tests read `events_service().list(from_=last)` and look for codes (33 then 61 for a
stop, 45 then 68 for a snapshot)."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from tests.simulator_fixtures import ADMIN, TEMPLATE_CENTOS_DEFAULT, advance, running_simulator

sdk = pytest.importorskip("ovirtsdk4")
types = pytest.importorskip("ovirtsdk4.types")

from tests.clients.test_ovirt_sdk import assert_sdk_parsed_all  # noqa: E402


@pytest.fixture()
def engine() -> Iterator[Any]:
    with running_simulator(frozen=True) as (sim, handle):
        yield handle


@pytest.fixture()
def connection(engine: Any) -> Iterator[Any]:
    conn = sdk.Connection(url=engine.api_url, username=ADMIN[0], password=ADMIN[1])
    yield conn
    conn.close()


def test_the_sdk_reads_the_events_of_a_launch_start_and_stop_from_the_last_index(engine: Any,
                                                                                  connection: Any) -> None:
    events = connection.system_service().events_service()
    newest = events.list(max=1)
    last = newest[0].index if newest else 0
    vms = connection.system_service().vms_service()
    vm = vms.add(types.Vm(name="sdk-events", cluster=types.Cluster(name="Default"),
                          template=types.Template(id=TEMPLATE_CENTOS_DEFAULT)))
    advance(engine, 60)
    vms.vm_service(vm.id).start()
    advance(engine, 20)
    vms.vm_service(vm.id).stop()
    advance(engine, 2)

    logged = events.list(from_=last)
    assert [e.code for e in reversed(logged)] == [37, 53, 153, 32, 33, 61]
    assert all(e.index > last and e.vm.id == vm.id for e in logged)
    assert [e.index for e in logged] == sorted((e.index for e in logged), reverse=True)
    assert logged[0].severity == types.LogSeverity.NORMAL and logged[0].time is not None
    assert logged[0].host is not None and logged[0].cluster is not None
    assert events.list(from_=logged[0].index) == []
    raw = requests.get(f"{engine.api_url}/events", params={"from": last}, auth=ADMIN, timeout=10).content
    assert_sdk_parsed_all(raw, logged)  # every element the simulator writes is one the SDK knows
