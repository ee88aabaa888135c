"""The sampler of engine statistics: per provider, once per `[cloudwatch] sample_seconds` slot, the running
instances' statistics become CloudWatch data points written to a `MetricSink` (the metric store).

It runs in a thread of its own (`start`/`close`), so a slow engine never holds up the durable operations.
Several gateway processes may share a store: a `PeriodicLease` per provider lets one of them sample that provider
per slot (the same process while it succeeds, so it keeps the counters it read last time; one that fails gives
the turn back at once). Each provider is read as its configured monitoring identity (`monitor_username` /
`monitor_password_file`); only a provider that opts in (`monitor_with_ec2_credentials`) is read as its EC2
credentials' users, the first whose engine user may list every VM: the one that worked is kept and said once,
one refused is not asked again for an hour (a changed password must not lock a real user out).

What each sample gives, per instance (namespace AWS/EC2, dimension InstanceId = the EC2 frontend's `i-` id),
stamped with the start of the interval it covers (the slot before the one it was read in):
CPUUtilization (Percent, the engine's cpu.current.total); NetworkIn/NetworkOut (Bytes: the growth of each NIC's
byte counters since the previous slot's reading; a VM that started again since (its uptime is shorter than the
time between the readings), a counter that went back (migration) or a new NIC counts from zero; without a
previous slot's reading, the engine's current rate x the period); DiskReadOps/DiskWriteOps (Count: the growth of
each disk's operation counters, the same way; without a previous reading, none); DiskReadBytes/DiskWriteBytes
(the engine has rates only, no disk byte totals: rate x the seconds since the previous reading). No
NetworkPacketsIn/Out: the engine counts no packets. Memory, which AWS does not measure, goes under the
CloudWatch agent's names: namespace CWAgent, mem_used_percent (Percent), when the guest agent reports it.
"""
from __future__ import annotations

import logging
import math
import os
import socket
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Callable

from .ec2_ids import instance_id
from .errors import GatewayError
from .instance_statistics import InstanceStatistics
from .metric_points import DataPoint, MetricSink
from .orphans import Orphans
from .periodic_lease import PeriodicLease
from .scope import Credentials, Scope

if TYPE_CHECKING:
    from .config import Config, ProviderConfig
    from .driver import Driver
    from .store import Store

log = logging.getLogger("cloudgw.metrics")

EC2_NAMESPACE = "AWS/EC2"
MEMORY_NAMESPACE = "CWAgent"
REFUSED_RETRY_SECONDS = 3600.0  # an EC2 credential the engine refused is not asked again before this


def counted(now: int | None, before: int | None, known_before: bool, restarted: bool) -> float | None:
    """What one counter counted since the previous reading (None: cannot say)."""
    if now is None:
        return None
    if restarted or not known_before or (before is not None and now < before):
        return float(now)  # counted from zero within the interval: a restart, a new device, a reset counter
    return None if before is None else float(now - before)


def growth(now: Sequence[tuple[str, int | None]], before: Sequence[tuple[str, int | None]] | None,
           restarted: bool) -> float | None:
    """The growth of per-device counters (device id, value), summed; None without a previous reading."""
    if before is None:
        return None
    earlier = dict(before)
    parts = [counted(value, earlier.get(device), device in earlier, restarted) for device, value in now]
    present = [p for p in parts if p is not None]
    return sum(present) if present else None


class MetricSampler:
    """Samples every configured provider's running instances once per slot, in one process of those sharing
    the store; `maybe_run()` returns how many data points it wrote (0 when it was not its turn)."""

    def __init__(self, config: "Config", store: "Store", driver_for: Callable[["ProviderConfig"], "Driver"],
                 sink: MetricSink, *, clock: Callable[[], float] = time.time, holder: str | None = None) -> None:
        self.config = config
        self.store = store
        self.driver_for = driver_for
        self.sink = sink
        self.clock = clock
        self.period = config.cloudwatch_sample_seconds
        self.holder = holder or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._leases = {p.name: PeriodicLease(store, f"metric-sampler|{p.name}", self.holder, self.period,
                                              lease_seconds=3 * self.period) for p in config.providers}
        # provider -> (slot, instance id -> reading)
        self._last: dict[str, tuple[float, dict[str, InstanceStatistics]]] = {}
        self._unreadable: set[str] = set()
        self._worked: dict[str, str] = {}  # provider -> the EC2 credential's user that read it last
        self._refused: dict[tuple[str, str], float] = {}  # (provider, user) -> not asked again before
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # --- the thread -----------------------------------------------------------------------------------
    def start(self) -> None:
        for provider in self.config.providers:
            if provider.monitor_username is None and not provider.monitor_with_ec2_credentials:
                log.info("metric sampler: %s has no monitoring identity (monitor_username): its VM statistics are "
                         "not sampled", provider.name)
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._loop, name="cloudgw-metric-sampler", daemon=True)
            self._thread.start()

    def close(self, timeout: float = 10.0) -> None:
        """Stop the thread and give the leases back (another process samples the next slot, not 3 later)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        for lease in self._leases.values():
            try:
                lease.release(self.clock())
            except Exception:  # the store is away: the lease runs out by itself
                log.warning("metric sampler: could not give back the lease %s", lease.job, exc_info=True)

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.maybe_run()
            # wake at the next slot, and a few times within one to take over a turn another process gave back
            now = self.clock()
            to_next = (math.floor(now / self.period) + 1) * self.period - now
            self._stop.wait(max(0.5, min(to_next, self.period / 6)))

    # --- one turn -------------------------------------------------------------------------------------
    def maybe_run(self) -> int:
        written = 0
        for provider in self.config.providers:
            if provider.monitor_username is None and not provider.monitor_with_ec2_credentials:
                continue  # no identity to sample as (said when the sampler starts): no lease taken, nothing read
            try:  # one provider's failure (or its store's) must neither stop the others nor the thread
                written += self._turn(provider)
            except Exception:
                log.exception("metric sampling of %s failed", provider.name)
        return written

    def _turn(self, provider: "ProviderConfig") -> int:
        lease = self._leases[provider.name]
        slot = lease.turn(self.clock())
        if slot is None:
            return 0
        count: int | None = None
        try:
            count = self.sample(provider, slot)
        finally:
            lease.done(self.clock(), ok=count is not None)
        return count or 0

    def sample(self, provider: "ProviderConfig", slot: float) -> int | None:
        """Read the provider's running instances in every data center and write their data points for the
        interval before `slot`; None when they could not be read."""
        found = self.read(provider)
        if found is None:
            return None
        last_slot, previous = self._last.get(provider.name, (None, {}))
        if last_slot != slot - self.period:
            previous = {}  # a reading from before a gap (turns taken elsewhere meanwhile) covers no one period
        at = slot - self.period
        points = [p for stats in found for p in self.points(provider.name, stats, previous.get(stats.instance_id), at)]
        self._last[provider.name] = (slot, {s.instance_id: s for s in found})
        if points:
            self.sink.put_points(points)
        return len(points)

    # --- reading --------------------------------------------------------------------------------------
    def read(self, provider: "ProviderConfig") -> list[InstanceStatistics] | None:
        """Statistics of the provider's running instances (all data centers), None if no identity could read."""
        driver = self.driver_for(provider)
        if not driver.can("instance_statistics"):
            return None
        configured = provider.monitor_username is not None
        for scope in self.scopes(provider):
            user = scope.credentials.username
            try:
                found: list[InstanceStatistics] = []
                for region in driver.regions(scope):
                    found += driver.instance_statistics(Scope(provider, region.id, scope.credentials,
                                                              user_level=False, request_id="metric-sampler"),
                                                        unfiltered=True)
            except GatewayError as exc:  # refused, or the engine is away: the next identity, or the next turn
                log.debug("metric sampler: %s cannot read %s: %s", user, provider.name, exc.message)
                if exc.retryable:
                    return None
                if not configured:
                    self._refused[(provider.name, user)] = self.clock() + REFUSED_RETRY_SECONDS
                    if self._worked.get(provider.name) == user:
                        del self._worked[provider.name]
                continue
            if not configured and self._worked.get(provider.name) != user:
                self._worked[provider.name] = user
                log.info("metric sampler: reading the VM statistics of %s as %s (an EC2 credential's user)",
                         provider.name, user)
            self._unreadable.discard(provider.name)
            now = self.clock()  # the sampler's clock times the readings (and the seconds between them)
            return [replace(s, measured_at=now) for s in found]
        if provider.name not in self._unreadable:
            self._unreadable.add(provider.name)
            log.warning("metric sampler: no identity could read the VM statistics of %s (set monitor_username and "
                        "monitor_password_file in its [[providers]] entry, or monitor_with_ec2_credentials = true)",
                        provider.name)
        return None

    def scopes(self, provider: "ProviderConfig") -> list[Scope]:
        """The configured monitoring identity; else, if the provider opts in, its EC2 credentials' users (the one
        that worked last first, none refused within the hour)."""
        if provider.monitor_username is not None:
            try:
                password = provider.monitor_password()
            except OSError as exc:
                log.warning("metric sampler: cannot read %s's monitor_password_file: %s", provider.name, exc)
                return []
            if password is None:
                return []
            return [Scope(provider, None, Credentials(provider.monitor_username, password), user_level=False,
                          request_id="metric-sampler")]
        if not provider.monitor_with_ec2_credentials:
            return []
        now = self.clock()
        worked = self._worked.get(provider.name)
        candidates = [s for s in Orphans(self.config, self.store, self.driver_for).scopes(provider)
                      if self._refused.get((provider.name, s.credentials.username), 0) <= now]
        return sorted(candidates, key=lambda s: s.credentials.username != worked)

    # --- statistics -> data points --------------------------------------------------------------------
    def points(self, owner: str, now: InstanceStatistics, before: InstanceStatistics | None,
               at: float) -> list[DataPoint]:
        dimensions = (("InstanceId", instance_id(now.instance_id)),)
        seconds = self.period if before is None else max(0.0, now.measured_at - before.measured_at)
        restarted = (before is not None and now.uptime_seconds is not None
                     and now.uptime_seconds < now.measured_at - before.measured_at)

        def point(metric: str, value: float | None, unit: str, namespace: str = EC2_NAMESPACE) -> list[DataPoint]:
            return [] if value is None else [DataPoint(owner, namespace, metric, dimensions, at, float(value), unit)]

        def network(direction: str, rate: float | None) -> float | None:
            def of(s: InstanceStatistics) -> list[tuple[str, int | None]]:
                if s.nics:
                    return [(n.nic_id, n.rx_bytes if direction == "rx" else n.tx_bytes) for n in s.nics]
                return [("", s.network_rx_bytes_total if direction == "rx" else s.network_tx_bytes_total)]
            moved = growth(of(now), None if before is None else of(before), restarted)
            if moved is None and before is None and rate is not None:
                return rate * self.period
            return moved

        def operations(kind: str) -> float | None:
            def of(s: InstanceStatistics) -> list[tuple[str, int | None]]:
                if s.disks:
                    return [(d.disk_id, d.read_ops if kind == "read" else d.write_ops) for d in s.disks]
                return [("", s.disk_read_ops_total if kind == "read" else s.disk_write_ops_total)]
            return growth(of(now), None if before is None else of(before), restarted)

        def over(rate: float | None) -> float | None:
            return None if rate is None else rate * seconds

        return [
            *point("CPUUtilization", now.cpu_percent, "Percent"),
            *point("NetworkIn", network("rx", now.network_rx_bytes_per_second), "Bytes"),
            *point("NetworkOut", network("tx", now.network_tx_bytes_per_second), "Bytes"),
            *point("DiskReadBytes", over(now.disk_read_bytes_per_second), "Bytes"),
            *point("DiskWriteBytes", over(now.disk_write_bytes_per_second), "Bytes"),
            *point("DiskReadOps", operations("read"), "Count"),
            *point("DiskWriteOps", operations("write"), "Count"),
            *point("mem_used_percent", now.memory_used_percent, "Percent", MEMORY_NAMESPACE),
        ]
