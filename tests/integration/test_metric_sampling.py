"""VM statistics from the engine to CloudWatch data points: the oVirt driver reads every running VM's statistics
in one engine request (whatever their number), and the metric sampler turns them into AWS/EC2 and CWAgent data
points, once per period in one process of those sharing a store.

Real parts over real HTTP: the simulator on a port (its clock frozen, its load set through the control API), the
driver, the store (SQLite); only the metric store is a list (the CloudWatch side's store is another branch's).
"""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Iterable, Iterator

import pytest
import requests

from gateway.config import ConfigError, load
from gateway.errors import GatewayError
from gateway.ec2_ids import instance_id
from gateway.metric_points import DataPoint
from gateway.metric_sampler import MetricSampler
from gateway.model import InstanceState

from .ovirt_env import USER, Engine, Gateway, running_engine

PERIOD = 60.0


@pytest.fixture(scope="module")
def engine() -> Iterator[Engine]:
    """Three seeded VMs (two run, in the data center Default); the `gw` fixture resets to them per test."""
    with running_engine(vms=3) as running:
        yield running


class ListSink:
    def __init__(self) -> None:
        self.points: list[DataPoint] = []

    def put_points(self, points: Iterable[DataPoint]) -> None:
        self.points.extend(points)


def running_ids(gw: Gateway) -> list[str]:
    return [i.id for i in gw.driver.instances(gw.scope()) if i.state is InstanceState.RUNNING]


def monitored(gw: Gateway, tmp_path: Path, user: str = "admin@internal", password: str = "admin") -> MetricSampler:
    """A sampler over the gateway's driver and store, reading the engine as a configured monitoring identity."""
    secret = tmp_path / f"monitor-{user}.password"
    secret.write_text(password + "\n")
    provider = replace(gw.provider, monitor_username=user, monitor_password_file=str(secret))
    config = gw.config.with_changes(providers=(provider,), cloudwatch_sample_seconds=PERIOD)
    return MetricSampler(config, gw.store, lambda p: gw.driver, ListSink(), clock=gw.time)


def engine_requests(engine: Engine, call) -> dict[str, int]:
    call()  # warm-up: the data center's description and the token are cached afterwards
    requests.delete(f"{engine.handle.url}/__simulator__/stats", timeout=10).raise_for_status()
    call()
    return requests.get(f"{engine.handle.url}/__simulator__/stats", timeout=10).json()["requests"]


def test_the_driver_reads_all_running_vms_statistics_in_one_request_whatever_their_number(tmp_path: Path) -> None:
    seen: dict[int, dict[str, int]] = {}
    for count in (3, 40):
        with running_engine(vms=count) as engine:
            gw = Gateway(engine, tmp_path / str(count))
            try:
                running = running_ids(gw)
                seen[count] = engine_requests(engine, lambda: gw.driver.instance_statistics(gw.scope()))
                read = gw.driver.instance_statistics(gw.scope())
            finally:
                gw.close()
        assert sorted(s.instance_id for s in read) == sorted(running) and running
    assert seen[3] == seen[40] == {"GET /vms": 1}, seen


def test_the_driver_maps_the_engines_statistics_and_leaves_what_it_does_not_measure_empty(gw: Gateway) -> None:
    vm = running_ids(gw)[0]
    gw.engine.control("load", vm=vm, cpu_percent=40, memory_used_percent=25, net_rx=1000, net_tx=300,
                      disk_read=5000, disk_write=7000, disk_read_ops=3, disk_write_ops=4)
    before = {s.instance_id: s for s in gw.driver.instance_statistics(gw.scope())}[vm]
    gw.engine.simulator.clock.advance(100)
    (after,) = gw.driver.instance_statistics(gw.scope(), [vm])

    assert after.cpu_percent == pytest.approx(40) and after.memory_used_percent == pytest.approx(25, abs=0.01)
    assert (after.network_rx_bytes_per_second, after.network_tx_bytes_per_second) == (1000, 300)
    assert after.network_rx_bytes_total - before.network_rx_bytes_total == 100 * 1000
    assert (after.disk_read_bytes_per_second, after.disk_write_bytes_per_second) == (5000, 7000)
    assert (after.disk_read_ops_per_second, after.disk_write_ops_per_second) == (3, 4)
    assert after.network_rx_packets_total is None and after.disk_read_bytes_total is None  # the engine has none
    assert gw.driver.instance_statistics(gw.scope(), []) == []


def test_a_sample_gives_the_ec2_metrics_per_instance_and_network_bytes_from_the_counters(gw: Gateway,
                                                                                           tmp_path: Path) -> None:
    vm = running_ids(gw)[0]
    gw.engine.control("load", vm=vm, cpu_percent=35, memory_used_percent=50, net_rx=1000, net_tx=200,
                      disk_read=4000, disk_write=8000, disk_read_ops=2, disk_write_ops=5)
    sampler = monitored(gw, tmp_path)
    sink = sampler.sink
    assert sampler.maybe_run() > 0
    gw.engine.simulator.clock.advance(PERIOD)
    gw.time.now += PERIOD
    gw.engine.control("load", vm=vm, net_rx=3000)  # the counter grows 1000 B/s until now, 3000 B/s afterwards
    gw.engine.simulator.clock.advance(10)
    sink.points.clear()
    assert sampler.maybe_run() > 0

    mine = {(p.namespace, p.metric): p for p in sink.points if p.dimensions == (("InstanceId", instance_id(vm)),)}
    assert mine[("AWS/EC2", "CPUUtilization")].value == pytest.approx(35)
    assert mine[("AWS/EC2", "CPUUtilization")].unit == "Percent"
    assert mine[("AWS/EC2", "NetworkIn")].value == PERIOD * 1000 + 10 * 3000  # what the NIC counted, not rate x period
    assert mine[("AWS/EC2", "NetworkOut")].value == (PERIOD + 10) * 200
    assert mine[("AWS/EC2", "NetworkIn")].unit == "Bytes"
    assert mine[("AWS/EC2", "DiskReadBytes")].value == 4000 * PERIOD
    assert mine[("AWS/EC2", "DiskWriteOps")].value == 5 * PERIOD and mine[("AWS/EC2", "DiskWriteOps")].unit == "Count"
    assert mine[("CWAgent", "mem_used_percent")].value == pytest.approx(50, abs=0.01)
    assert ("AWS/EC2", "NetworkPacketsIn") not in mine  # the engine counts no packets
    assert {p.scope for p in sink.points} == {gw.provider.name}
    assert all(p.timestamp == gw.time.now for p in sink.points)
    assert instance_id(vm).startswith("i-") and len(instance_id(vm)) == 34


def test_a_stopped_instance_leaves_a_gap_and_nothing_is_sampled_before_the_period_is_over(gw: Gateway,
                                                                                          tmp_path: Path) -> None:
    vm = running_ids(gw)[0]
    sampler = monitored(gw, tmp_path)
    sampler.maybe_run()
    gw.time.now += PERIOD / 2
    assert sampler.maybe_run() == 0  # not yet its turn
    gw.driver.stop_instance(gw.scope(), vm)
    gw.settle(PERIOD)
    sampler.sink.points.clear()
    assert sampler.maybe_run() > 0
    assert instance_id(vm) not in {p.dimensions[0][1] for p in sampler.sink.points}


def test_two_processes_on_one_store_sample_each_period_once_and_one_takes_over_when_the_other_stops(
        gw: Gateway, tmp_path: Path) -> None:
    first = monitored(gw, tmp_path)
    other_process = Gateway(gw.engine, gw.data_dir, gw.time)  # its own store connection, driver and runner
    try:
        second = monitored(other_process, tmp_path)
        written: list[tuple[int, int]] = []
        for _ in range(3):
            written.append((first.maybe_run(), second.maybe_run()))
            gw.time.now += PERIOD
        assert all(a > 0 and b == 0 for a, b in written), written  # one holder, every period
        gw.time.now += 3 * PERIOD  # the first stopped sampling: its lease runs out
        assert second.maybe_run() > 0 and first.maybe_run() == 0
    finally:
        other_process.close()


def test_without_a_monitoring_identity_the_providers_ec2_credentials_are_tried(gw: Gateway,
                                                                               tmp_path: Path) -> None:
    config = gw.config.with_changes(cloudwatch_sample_seconds=PERIOD)
    sampler = MetricSampler(config, gw.store, lambda p: gw.driver, ListSink(), clock=gw.time)
    gw.store.create_credential(USER.username, USER.password, provider=gw.provider.name)
    assert sampler.maybe_run() == 0  # a user-level identity may not list every VM: nothing, said once
    gw.time.now += PERIOD
    gw.store.create_credential("admin@internal", "admin", provider=gw.provider.name)
    assert sampler.maybe_run() > 0


def test_the_monitoring_identity_is_configured_per_provider_both_settings_or_neither(tmp_path: Path) -> None:
    secret = tmp_path / "monitor.password"
    secret.write_text("s3cret\n")
    entry = '[[providers]]\nname = "lab"\nurl = "https://engine.example/ovirt-engine/api"\n'
    good = tmp_path / "good.toml"
    good.write_text(f'[cloudwatch]\nsample_seconds = 30\n\n{entry}monitor_username = "monitor@internal"\n'
                    f'monitor_password_file = "{secret}"\n')
    config = load(good, environ={})
    assert config.cloudwatch_sample_seconds == 30
    assert (config.providers[0].monitor_username, config.providers[0].monitor_password()) == ("monitor@internal",
                                                                                               "s3cret")
    half = tmp_path / "half.toml"
    half.write_text(f'{entry}monitor_username = "monitor@internal"\n')
    with pytest.raises(ConfigError, match="go together"):
        load(half, environ={})
    assert load(None, environ={}).cloudwatch_sample_seconds == 60


def test_the_gateway_samples_in_its_operation_workers_loop_once_a_metric_store_is_attached(engine: Engine,
                                                                                          tmp_path: Path) -> None:
    from gateway.app import Gateway as GatewayCore

    engine.simulator.reset()
    secret = tmp_path / "monitor.password"
    secret.write_text("admin\n")
    config = tmp_path / "cloudgw.toml"
    config.write_text(f'[server]\ndata_dir = "{tmp_path / "data"}"\n\n[[providers]]\nname = "lab"\n'
                      f'url = "{engine.url}"\nmonitor_username = "admin@internal"\n'
                      f'monitor_password_file = "{secret}"\n')
    core = GatewayCore(load(config, environ={}))
    try:
        sink = ListSink()
        core.attach_metric_sink(sink)
        assert core.operations.periodic is not None
        core.operations.periodic()  # one turn of the worker loop: housekeeping, then the sampler
        running = {p.dimensions[0][1] for p in sink.points if p.metric == "CPUUtilization"}
        assert running and all(p.scope == "lab" for p in sink.points)
        core.operations.periodic()
        assert len({p.timestamp for p in sink.points}) == 1  # the next sample waits for the next period
    finally:
        core.close()


def test_a_user_reads_the_statistics_of_its_own_vms_but_the_sampler_never_a_partial_view(gw: Gateway) -> None:
    assert gw.driver.instance_statistics(gw.scope(USER)) == []  # the seeded VMs are the administrator's
    with pytest.raises(GatewayError):
        gw.driver.instance_statistics(gw.scope(USER), unfiltered=True)
    assert gw.driver.instance_statistics(gw.scope(), unfiltered=True)


def test_after_a_gap_the_network_bytes_are_one_periods_not_everything_the_counter_grew_meanwhile(
        gw: Gateway, tmp_path: Path) -> None:
    vm = running_ids(gw)[0]
    gw.engine.control("load", vm=vm, net_rx=1000, disk_read=100)
    sampler = monitored(gw, tmp_path)
    sampler.maybe_run()
    gw.engine.simulator.clock.advance(10 * PERIOD)  # this process did not sample for ten periods
    gw.time.now += 10 * PERIOD
    sampler.sink.points.clear()
    sampler.maybe_run()
    mine = {p.metric: p.value for p in sampler.sink.points if p.dimensions == (("InstanceId", instance_id(vm)),)}
    assert mine["NetworkIn"] == 1000 * PERIOD and mine["DiskReadBytes"] == 100 * PERIOD
