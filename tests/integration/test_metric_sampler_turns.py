"""Whose turn it is to sample, and as whom: the metric sampler's lease on a grid of slots among processes sharing a
store, given back by a process that fails or closes; the identity it reads the engine as (configured, or the
provider's EC2 credentials only when the provider opts in, the one that worked kept, one refused left alone);
its own thread beside the operation worker.

Real parts over real HTTP: the simulator on a port (its clock frozen), the driver, the store (SQLite) shared by
two gateway processes' worth of objects; the metric store is a list.
"""
from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from gateway.config import ConfigError, load
from gateway.metric_sampler import REFUSED_RETRY_SECONDS, MetricSampler
from gateway.periodic_lease import PeriodicLease

from .metric_env import PERIOD, ListSink, monitored, slot_start
from .ovirt_env import Engine, Gateway, running_engine


@pytest.fixture(scope="module")
def engine() -> Iterator[Engine]:
    """Three seeded VMs (two run); the `gw` fixture resets to them per test."""
    with running_engine(vms=3) as running:
        yield running


def other_process(gw: Gateway) -> Gateway:
    """Another gateway process on the same database: its own store connection, driver and runner."""
    return Gateway(gw.engine, gw.data_dir, gw.time)


def a_dir(tmp_path: Path, name: str) -> Path:
    path = tmp_path / name
    path.mkdir(exist_ok=True)
    return path


def test_two_processes_on_one_store_sample_each_slot_once_and_one_takes_over_when_the_other_stops(
        gw: Gateway, tmp_path: Path) -> None:
    first = monitored(gw, tmp_path)
    process = other_process(gw)
    try:
        second = monitored(process, a_dir(tmp_path, "b"))
        written: list[tuple[int, int]] = []
        for _ in range(3):
            written.append((first.maybe_run(), second.maybe_run()))
            gw.time.now += PERIOD
        assert all(a > 0 and b == 0 for a, b in written), written  # one holder, every slot
        gw.time.now += 3 * PERIOD  # the first stopped sampling (without closing): its lease runs out
        assert second.maybe_run() > 0 and first.maybe_run() == 0
    finally:
        process.close()


def test_of_two_processes_that_read_the_same_row_only_one_takes_the_turn(gw: Gateway) -> None:
    now = slot_start(gw)
    leases = [PeriodicLease(gw.store, "job", name, PERIOD, 3 * PERIOD) for name in ("a", "b", "c")]
    assert leases[0].turn(now) == now
    leases[0].done(now, ok=True)
    leases[0].release(now)
    later = now + PERIOD + 5
    seen = leases[1].read()
    assert seen == leases[2].read()  # both read the row before either writes it
    assert leases[1].take(later, seen) == now + PERIOD
    assert leases[2].take(later, seen) is None  # its compare-and-swap finds the row changed
    assert leases[2].holder_now() == "b"


def test_samples_fall_on_the_slot_grid_however_late_a_turn_is_polled(gw: Gateway, tmp_path: Path) -> None:
    sampler = monitored(gw, tmp_path)
    start = gw.time.now - 1
    gw.time.now = start + PERIOD - 1  # polled late in its slot
    assert sampler.maybe_run() > 0
    gw.time.now = start + PERIOD + 1  # two seconds later: the next slot, which must not go without a point
    assert sampler.maybe_run() > 0
    gw.time.now = start + PERIOD + 30
    assert sampler.maybe_run() == 0  # that slot is done
    # each point stamped with the start of the interval it covers
    assert sorted({p.timestamp for p in sampler.sink.points}) == [start - PERIOD, start]


def test_a_holder_that_cannot_sample_gives_the_turn_to_a_process_that_can(gw: Gateway, tmp_path: Path) -> None:
    failing = monitored(gw, tmp_path)
    process = other_process(gw)
    try:
        healthy = monitored(process, a_dir(tmp_path, "b"))
        assert failing.maybe_run() > 0 and healthy.maybe_run() == 0  # the first holds the lease
        (tmp_path / "monitor-admin@internal.password").unlink()  # its monitor_password_file is gone
        gw.time.now += PERIOD
        assert failing.maybe_run() == 0
        assert healthy.maybe_run() > 0  # the same slot, taken over at once
        for _ in range(3):
            gw.time.now += PERIOD
            assert (failing.maybe_run(), healthy.maybe_run() > 0) == (0, True)
    finally:
        process.close()


def test_a_process_that_closes_gives_its_lease_back_and_the_next_slot_is_sampled_elsewhere(
        gw: Gateway, tmp_path: Path) -> None:
    first = monitored(gw, tmp_path)
    process = other_process(gw)
    try:
        second = monitored(process, a_dir(tmp_path, "b"))
        assert first.maybe_run() > 0
        first.close()  # a restart, say
        gw.time.now += PERIOD
        assert second.maybe_run() > 0
    finally:
        process.close()


def test_a_locked_store_costs_the_sampler_a_try_not_its_thread(gw: Gateway, tmp_path: Path) -> None:
    sampler = monitored(gw, tmp_path)
    locker = sqlite3.connect(gw.data_dir / "cloudgw.db", isolation_level=None)
    locker.execute("BEGIN EXCLUSIVE")  # another process writing: 'database is locked' after the busy timeout
    try:
        assert sampler.maybe_run() == 0  # said in the log; nothing raised into the loop
    finally:
        locker.execute("ROLLBACK")
        locker.close()
    assert sampler.maybe_run() > 0  # the same slot, once the store answers


def ec2_credentials_sampler(gw: Gateway, opt_in: bool = True) -> MetricSampler:
    provider = replace(gw.provider, monitor_with_ec2_credentials=opt_in)
    config = gw.config.with_changes(providers=(provider,), cloudwatch_sample_seconds=PERIOD)
    slot_start(gw)
    return MetricSampler(config, gw.store, lambda p: gw.driver, ListSink(), clock=gw.time)


def test_the_providers_ec2_credentials_are_read_as_only_when_it_opts_in(gw: Gateway) -> None:
    gw.store.create_credential("admin@internal", "admin", provider=gw.provider.name)
    assert ec2_credentials_sampler(gw, opt_in=False).maybe_run() == 0  # an end user's key is no monitor
    assert ec2_credentials_sampler(gw).maybe_run() > 0


def test_without_a_monitoring_identity_the_first_ec2_credential_that_may_read_everything_is_kept(
        gw: Gateway, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, "cloudgw.metrics")
    sampler = ec2_credentials_sampler(gw)
    gw.store.create_credential("user@internal", "user", provider=gw.provider.name)
    assert sampler.maybe_run() == 0  # a user-level identity may not list every VM: nothing
    gw.time.now += PERIOD
    gw.store.create_credential("admin@internal", "admin", provider=gw.provider.name)
    for _ in range(3):
        assert sampler.maybe_run() > 0
        gw.time.now += PERIOD
    chosen = [r.getMessage() for r in caplog.records if r.levelno == logging.INFO]
    assert len(chosen) == 1 and "as admin@internal" in chosen[0]  # said once, not every period


def test_a_refused_ec2_credential_is_not_asked_again_within_the_hour(gw: Gateway,
                                                                      caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, "cloudgw.metrics")
    gw.store.create_credential("user@internal", "an-old-password", provider=gw.provider.name)
    sampler = ec2_credentials_sampler(gw)

    def attempts() -> int:
        return sum("user@internal cannot read" in r.getMessage() for r in caplog.records)
    for _ in range(5):
        assert sampler.maybe_run() == 0
        gw.time.now += PERIOD
    assert attempts() == 1  # not a failed login a minute: the engine would lock that real user out
    gw.time.now += REFUSED_RETRY_SECONDS
    sampler.maybe_run()
    assert attempts() == 2


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
    assert config.providers[0].monitor_with_ec2_credentials is False  # opt-in
    half = tmp_path / "half.toml"
    half.write_text(f'{entry}monitor_username = "monitor@internal"\n')
    with pytest.raises(ConfigError, match="go together"):
        load(half, environ={})
    opted = tmp_path / "opted.toml"
    opted.write_text(f'{entry}monitor_with_ec2_credentials = true\n')
    assert load(opted, environ={}).providers[0].monitor_with_ec2_credentials is True
    assert load(None, environ={}).cloudwatch_sample_seconds == 60


def test_the_gateway_samples_in_a_thread_of_its_own_once_a_metric_store_is_attached(engine: Engine,
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
        sampler = core.attach_metric_sink(sink)
        core.start_workers()
        deadline = time.monotonic() + 30
        while not sink.points and time.monotonic() < deadline:
            time.sleep(0.05)
        running = {p.dimensions[0][1] for p in sink.points if p.metric == "CPUUtilization"}
        assert running and all(p.scope == "lab" for p in sink.points)
        assert len({p.timestamp for p in sink.points}) == 1  # the next sample waits for the next slot
    finally:
        core.close()
    lease = PeriodicLease(core.store, "metric-sampler|lab", sampler.holder, PERIOD, 3 * PERIOD)
    assert lease.holder_now() is None  # given back on close
