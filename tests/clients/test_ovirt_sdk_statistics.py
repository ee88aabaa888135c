"""The official oVirt SDK reads the simulator's VM, NIC and disk statistics as it would a real engine's
(`statistics_service().list()`, and inlined with `follow`): the engine's names, kinds, units and types, and
values that follow the load a test sets, the VM's state and the simulator's clock."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from tests.simulator_fixtures import ADMIN, advance, control, running_simulator

sdk = pytest.importorskip("ovirtsdk4")
types = pytest.importorskip("ovirtsdk4.types")

from tests.clients.test_ovirt_sdk import assert_sdk_parsed_all  # noqa: E402

RUNNING_VM = "5eed0000-0000-4000-8000-000000000001"  # the seeded VMs 1 and 2 run, 3 is down
DOWN_VM = "5eed0000-0000-4000-8000-000000000003"


@pytest.fixture()
def engine() -> Iterator[Any]:
    with running_simulator(frozen=True, vms=3) as (sim, handle):
        yield handle


@pytest.fixture()
def connection(engine: Any) -> Iterator[Any]:
    conn = sdk.Connection(url=engine.api_url, username=ADMIN[0], password=ADMIN[1])
    yield conn
    conn.close()


def by_name(stats: list[Any]) -> dict[str, Any]:
    return {s.name: s for s in stats}


def datum(stat: Any) -> float:
    return float(stat.values[0].datum)


def test_the_sdk_reads_a_loaded_vms_statistics_with_the_engines_names_units_and_types(engine: Any,
                                                                                      connection: Any) -> None:
    control(engine, "POST", "load", vm=RUNNING_VM, cpu_percent=40, memory_used_percent=50)
    service = connection.system_service().vms_service().vm_service(RUNNING_VM).statistics_service()
    stats = by_name(service.list())

    assert {"memory.installed", "memory.used", "memory.free", "memory.buffered", "memory.cached", "cpu.current.guest",
            "cpu.current.hypervisor", "cpu.current.total", "elapsed.time", "migration.progress"} <= set(stats)
    assert datum(stats["cpu.current.total"]) == pytest.approx(40)
    assert stats["cpu.current.total"].unit == types.StatisticUnit.PERCENT
    assert stats["cpu.current.total"].type == types.ValueType.DECIMAL
    assert stats["memory.used"].kind == types.StatisticKind.GAUGE and stats["memory.used"].unit == types.StatisticUnit.BYTES
    assert datum(stats["memory.used"]) == datum(stats["memory.installed"]) / 2
    assert stats["elapsed.time"].kind == types.StatisticKind.COUNTER
    assert stats["cpu.current.total"].vm.id == RUNNING_VM
    # The engine's ids: Java's UUID.nameUUIDFromBytes of the name (as a real engine's host statistics show).
    one = service.statistic_service(stats["memory.used"].id).get()
    assert one.name == "memory.used" and one.id == "b7499508-c1c3-32f0-8174-c1783e57bb08"
    raw = requests.get(f"{engine.api_url}/vms/{RUNNING_VM}/statistics", auth=ADMIN, timeout=10).content
    assert_sdk_parsed_all(raw, service.list())  # nothing the SDK does not know, nothing it reads as None


def test_nic_counters_grow_with_the_clock_while_the_vm_runs_and_rates_drop_to_zero_when_it_stops(
        engine: Any, connection: Any) -> None:
    vm_service = connection.system_service().vms_service().vm_service(RUNNING_VM)
    nic = vm_service.nics_service().list()[0]
    nic_stats = vm_service.nics_service().nic_service(nic.id).statistics_service()
    control(engine, "POST", "load", vm=RUNNING_VM, net_rx=1000, net_tx=250)
    before = by_name(nic_stats.list())
    advance(engine, 60)
    after = by_name(nic_stats.list())

    assert datum(after["data.current.rx"]) == 1000 and datum(after["data.current.tx"]) == 250
    assert after["data.current.rx"].unit == types.StatisticUnit.BYTES_PER_SECOND
    assert after["data.total.rx"].kind == types.StatisticKind.COUNTER
    assert datum(after["data.total.rx"]) - datum(before["data.total.rx"]) == 60 * 1000
    assert datum(after["data.total.tx"]) - datum(before["data.total.tx"]) == 60 * 250
    assert after["data.total.rx"].nic.id == nic.id and after["data.total.rx"].nic.vm.id == RUNNING_VM

    vm_service.stop()
    advance(engine, 30)
    stopped = by_name(nic_stats.list())
    assert datum(stopped["data.current.rx"]) == 0
    grown = datum(stopped["data.total.rx"]) - datum(after["data.total.rx"])
    assert 0 <= grown < 30 * 1000  # it counted only until the VM went down
    advance(engine, 60)
    assert datum(by_name(nic_stats.list())["data.total.rx"]) == datum(stopped["data.total.rx"])
    assert datum(by_name(vm_service.statistics_service().list())["cpu.current.total"]) == 0


def test_a_down_vm_reads_zero_and_disk_rates_follow_the_load(engine: Any, connection: Any) -> None:
    vms = connection.system_service().vms_service()
    down = by_name(vms.vm_service(DOWN_VM).statistics_service().list())
    assert datum(down["cpu.current.total"]) == 0 and datum(down["memory.used"]) == 0
    assert datum(down["memory.installed"]) > 0

    control(engine, "POST", "load", vm=RUNNING_VM, disk_read=5000, disk_write=7000, disk_read_ops=3,
            disk_write_ops=4)
    attachment = vms.vm_service(RUNNING_VM).disk_attachments_service().list()[0]
    disk_service = connection.system_service().disks_service().disk_service(attachment.disk.id)
    before = by_name(disk_service.statistics_service().list())
    advance(engine, 60)
    disk_stats = by_name(disk_service.statistics_service().list())
    assert datum(disk_stats["data.current.read"]) == 5000 and datum(disk_stats["data.current.write"]) == 7000
    # The engine's labels (gauge, unit seconds) over VDSM's running totals of operations since the VM started.
    assert disk_stats["data.current.read_ops"].unit == types.StatisticUnit.SECONDS
    assert datum(disk_stats["data.current.read_ops"]) - datum(before["data.current.read_ops"]) == 60 * 3
    assert datum(disk_stats["data.current.write_ops"]) - datum(before["data.current.write_ops"]) == 60 * 4
    assert disk_stats["data.current.read"].disk.id == attachment.disk.id


def test_a_vm_started_again_counts_from_zero_and_reports_memory_only_once_its_agent_does(engine: Any,
                                                                                        connection: Any) -> None:
    vm_service = connection.system_service().vms_service().vm_service(RUNNING_VM)
    nic = vm_service.nics_service().list()[0]
    nic_stats = vm_service.nics_service().nic_service(nic.id).statistics_service()
    disk_id = vm_service.disk_attachments_service().list()[0].disk.id
    disk_stats = connection.system_service().disks_service().disk_service(disk_id).statistics_service()
    control(engine, "POST", "load", vm=RUNNING_VM, net_rx=1000, disk_write_ops=5)
    advance(engine, 600)
    assert datum(by_name(nic_stats.list())["data.total.rx"]) >= 600 * 1000

    vm_service.stop()
    advance(engine, 30)
    vm_service.start()
    for _ in range(60):
        if vm_service.get().status == types.VmStatus.UP:
            break
        advance(engine, 1)
    vm = by_name(vm_service.statistics_service().list())
    assert datum(vm["memory.used"]) == 0 and datum(vm["memory.free"]) == 0  # up, but no guest agent report yet
    uptime = datum(vm["elapsed.time"])
    assert 0 < uptime < 60
    assert datum(by_name(nic_stats.list())["data.total.rx"]) <= uptime * 1000  # a new process's counters
    assert datum(by_name(disk_stats.list())["data.current.write_ops"]) <= uptime * 5
    advance(engine, 30)
    assert datum(by_name(vm_service.statistics_service().list())["memory.used"]) > 0  # the agent reported


def test_one_listing_inlines_the_statistics_of_vms_nics_and_disks_with_follow(engine: Any,
                                                                               connection: Any) -> None:
    control(engine, "POST", "load", vm=RUNNING_VM, cpu_percent=70, disk_write=9000)
    vms = connection.system_service().vms_service().list(
        follow="statistics,nics.statistics,disk_attachments.disk.statistics")
    vm = next(v for v in vms if v.id == RUNNING_VM)
    assert datum(by_name(vm.statistics)["cpu.current.total"]) == pytest.approx(70)
    assert "data.total.rx" in by_name(vm.nics[0].statistics)
    assert datum(by_name(vm.disk_attachments[0].disk.statistics)["data.current.write"]) == 9000
    control(engine, "POST", "load", vm=RUNNING_VM, cpu_percent=10)
    again = next(v for v in connection.system_service().vms_service().list(follow="statistics") if v.id == RUNNING_VM)
    assert datum(by_name(again.statistics)["cpu.current.total"]) == pytest.approx(10)  # measured now, not cached


def test_the_control_api_refuses_a_load_it_cannot_apply(engine: Any) -> None:
    bad = requests.post(f"{engine.url}/__simulator__/load", json={"vm": RUNNING_VM, "cpu_percent": 140}, timeout=10)
    assert bad.status_code == 400 and "percent" in bad.json()["error"]
    unknown = requests.post(f"{engine.url}/__simulator__/load", json={"vm": RUNNING_VM, "cpu": 1}, timeout=10)
    assert unknown.status_code == 400 and "cpu" in unknown.json()["error"]
    assert requests.post(f"{engine.url}/__simulator__/load", json={"vm": "nope"}, timeout=10).status_code == 404
