"""The sampler of engine statistics: per provider, every `[cloudwatch] sample_seconds`, the running instances'
statistics become CloudWatch data points written to a `MetricSink` (the metric store).

It runs in the operation worker's loop (`maybe_run` on every turn). Several gateway processes may share a
store: a `PeriodicLease` per provider lets one of them sample that provider per period (the same process
while it lives, so it keeps the counters it read last time). Each provider is read as its configured
monitoring identity (`monitor_username` / `monitor_password_file`), else as the first of its EC2 credentials
whose engine user may list every VM (as housekeeping does); a provider none can read is skipped and said once.

What each sample gives, per instance (namespace AWS/EC2, dimension InstanceId = the EC2 frontend's `i-` id):
CPUUtilization (Percent, the engine's cpu.current.total); NetworkIn/NetworkOut (Bytes moved since the previous
sample: the difference of the NICs' byte counters, exact whatever the sampling jitter; at an instance's first
sample, after a gap of more than two periods, or when a counter went back (the VM restarted), the engine's
current rate x the period);
DiskReadBytes/DiskWriteBytes and DiskReadOps/DiskWriteOps (the engine has rates only, no disk totals: rate x
the seconds since the previous sample). No NetworkPacketsIn/Out: the engine counts no packets. Memory, which
AWS does not measure, goes under the CloudWatch agent's names: namespace CWAgent, mem_used_percent (Percent).
"""
from __future__ import annotations

import logging
import os
import socket
import time
import uuid
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


class MetricSampler:
    """Samples every configured provider's running instances once per period, in one process of those sharing
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
        self._last: dict[str, dict[str, InstanceStatistics]] = {}  # provider -> instance id -> previous reading
        self._unreadable: set[str] = set()

    def maybe_run(self) -> int:
        written = 0
        for provider in self.config.providers:
            if not self._leases[provider.name].turn(self.clock()):
                continue
            try:
                written += self.sample(provider)
            except Exception:  # one provider's failure must neither stop the others nor the worker loop
                log.exception("metric sampling of %s failed", provider.name)
        return written

    # --- one provider ---------------------------------------------------------------------------------
    def sample(self, provider: "ProviderConfig") -> int:
        """Read the provider's running instances in every data center and write their data points."""
        found = self.read(provider)
        if found is None:
            return 0
        previous = self._last.get(provider.name, {})
        points = [p for stats in found for p in self.points(provider.name, stats, previous.get(stats.instance_id))]
        self._last[provider.name] = {s.instance_id: s for s in found}
        if points:
            self.sink.put_points(points)
        return len(points)

    def read(self, provider: "ProviderConfig") -> list[InstanceStatistics] | None:
        """Statistics of the provider's running instances (all data centers), None if no identity could read."""
        driver = self.driver_for(provider)
        if not driver.can("instance_statistics"):
            return None
        for scope in self.scopes(provider):
            try:
                found: list[InstanceStatistics] = []
                for region in driver.regions(scope):
                    found += driver.instance_statistics(Scope(provider, region.id, scope.credentials,
                                                              user_level=False, request_id="metric-sampler"),
                                                        unfiltered=True)
                now = self.clock()  # the sampler's clock times the points (and the seconds between samples)
                return [replace(s, measured_at=now) for s in found]
            except GatewayError as exc:  # refused, or the engine is away: the next identity, or next period
                log.debug("metric sampler: %s cannot read %s: %s", scope.credentials.username, provider.name,
                          exc.message)
                if exc.retryable:
                    return None
        if provider.name not in self._unreadable:
            self._unreadable.add(provider.name)
            log.warning("metric sampler: no identity could read the VM statistics of %s (set monitor_username and "
                        "monitor_password_file in its [[providers]] entry)", provider.name)
        return None

    def scopes(self, provider: "ProviderConfig") -> list[Scope]:
        """The configured monitoring identity, else the provider's EC2 credentials as housekeeping uses them."""
        password = provider.monitor_password()
        if provider.monitor_username and password is not None:
            return [Scope(provider, None, Credentials(provider.monitor_username, password), user_level=False,
                          request_id="metric-sampler")]
        return Orphans(self.config, self.store, self.driver_for).scopes(provider)

    # --- statistics -> data points --------------------------------------------------------------------
    def points(self, owner: str, now: InstanceStatistics, before: InstanceStatistics | None) -> list[DataPoint]:
        dimensions = (("InstanceId", instance_id(now.instance_id)),)
        at = now.measured_at
        if before is not None and not 0 < at - before.measured_at <= 2 * self.period:
            before = None  # a reading from before a gap (lease held elsewhere meanwhile) covers no one period
        seconds = self.period if before is None else max(0.0, now.measured_at - before.measured_at)

        def point(metric: str, value: float | None, unit: str, namespace: str = EC2_NAMESPACE) -> list[DataPoint]:
            return [] if value is None else [DataPoint(owner, namespace, metric, dimensions, at, float(value), unit)]

        def moved(total: int | None, earlier: int | None, rate: float | None) -> float | None:
            if total is not None and earlier is not None and total >= earlier:
                return float(total - earlier)
            return None if rate is None else rate * self.period

        def over(rate: float | None) -> float | None:
            return None if rate is None else rate * seconds

        return [
            *point("CPUUtilization", now.cpu_percent, "Percent"),
            *point("NetworkIn", moved(now.network_rx_bytes_total, before and before.network_rx_bytes_total,
                                      now.network_rx_bytes_per_second), "Bytes"),
            *point("NetworkOut", moved(now.network_tx_bytes_total, before and before.network_tx_bytes_total,
                                       now.network_tx_bytes_per_second), "Bytes"),
            *point("DiskReadBytes", over(now.disk_read_bytes_per_second), "Bytes"),
            *point("DiskWriteBytes", over(now.disk_write_bytes_per_second), "Bytes"),
            *point("DiskReadOps", over(now.disk_read_ops_per_second), "Count"),
            *point("DiskWriteOps", over(now.disk_write_ops_per_second), "Count"),
            *point("mem_used_percent", now.memory_used_percent, "Percent", MEMORY_NAMESPACE),
        ]
