"""Benchmark: what sampling 1,000 VMs' engine statistics costs per period (issue 16), beside 100 VMs.

The simulator runs apart (`cloudgw simulator --vms 1.5N --control`: two in three seeded VMs run, so N run);
its clock is frozen and moved a minute per period, as is the sampler's (no real minute passes). A real
MetricSampler reads it through a real OvirtDriver as a monitoring identity and writes into the real MetricStore
on a real Store (SQLite in a temporary directory). Per scale it prints:
- the engine requests of a period (the simulator's own counters), the first (which signs in and learns the data
  centers) apart from the others;
- the median wall seconds of a period: the engine read+parse (the turn less the store write, so the lease too),
  of which the engine's own share (the last period's requests sent again with plain requests), and the store
  write;
- the data points written a period, and the store's growth a period (SQLite pages in use, from the second
  period on, when every series exists) as bytes a row, a VM-day, and 15 days of one-minute rows at 1,000 VMs.
Then the largest scale again with `--list-cost-ms` (what each listed VM costs a real engine). Judged by: engine
requests of a warm period (the fewest) at the largest scale / at the smallest (constant in the VMs: 1.0).

Run: python bench/bench_sampling.py [--vms 100,1000] [--periods 10] [--list-cost-ms 0.5]
"""
from __future__ import annotations

import argparse
import math
import statistics
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests
from harness import free_port, process, timed, wait_http

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from drivers.ovirt.driver import OvirtDriver  # noqa: E402
from gateway.config import Config, ProviderConfig  # noqa: E402
from gateway.metric_points import DataPoint  # noqa: E402
from gateway.metric_sampler import MetricSampler  # noqa: E402
from gateway.metric_store import MetricStore  # noqa: E402
from gateway.operations import OperationRunner  # noqa: E402
from gateway.store import Store, load_or_create_key  # noqa: E402

PERIOD = 60.0
DAY_PERIODS = 1440
RETENTION_DAYS = 15


@dataclass
class Replay:
    """A warm period's engine requests sent again with plain requests: the engine's own share of the turn."""

    seconds: float
    bytes: int


@dataclass
class Period:
    requests: int
    breakdown: dict[str, int]
    seconds: float
    write_seconds: float
    points: int
    instances: int
    store_bytes: int


class TimedSink:
    """The metric store, with the time its writes took and the instances they were about."""

    def __init__(self, store: MetricStore) -> None:
        self.store = store
        self.seconds = 0.0
        self.instances = 0

    def put_points(self, points: Iterable[DataPoint]) -> None:
        batch = list(points)
        self.instances = len({p.dimensions for p in batch})
        self.seconds, _ = timed(lambda: self.store.put_points(batch))


class Clock:
    """The sampler's clock, in the benchmark's hands."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@contextmanager
def engine(running: int, list_cost_ms: float) -> Iterator[str]:
    """A simulator process with `running` seeded VMs up (and half as many down), its clock frozen; its base URL."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    args = [sys.executable, "-m", "gateway.cli", "simulator", "--port", str(port), "--vms",
            str(math.ceil(running * 3 / 2)), "--control", "--list-cost-ms", str(list_cost_ms)]
    with process(args):
        wait_http(f"{base}/__simulator__/clock", timeout=300)
        requests.post(f"{base}/__simulator__/clock", json={"frozen": True}, timeout=10).raise_for_status()
        yield base


def store_bytes(store: Store) -> int:
    """Bytes of the SQLite database's pages in use (WAL frames included: page_count reads the live database)."""
    with store.engine.connect() as conn:
        pages = conn.exec_driver_sql("PRAGMA page_count").scalar() or 0
        free = conn.exec_driver_sql("PRAGMA freelist_count").scalar() or 0
        size = conn.exec_driver_sql("PRAGMA page_size").scalar() or 0
    return (pages - free) * size


def replay(sent: list[tuple[str, dict[str, str]]]) -> Replay:
    """Send these GETs (URL, headers: the driver's token included) again, reading each body whole."""
    seconds, sizes = timed(lambda: [len(requests.get(url, headers=headers, timeout=120).content)
                                    for url, headers in sent])
    return Replay(seconds, sum(sizes))


def sample(base: str, periods: int) -> tuple[list[Period], Replay]:
    """`periods` sampling turns of a fresh store against the simulator at `base`, a simulated minute apart;
    and the last turn's engine requests replayed."""
    with tempfile.TemporaryDirectory(prefix="bench-sampling-") as data:
        secret = Path(data) / "monitor.password"
        secret.write_text("admin\n")
        provider = ProviderConfig(name="bench", url=f"{base}/ovirt-engine/api", monitor_username="admin@internal",
                                  monitor_password_file=str(secret))
        config = Config(providers=(provider,), default_provider="bench", cloudwatch_sample_seconds=PERIOD)
        store = Store(f"sqlite:///{data}/cloudgw.db", load_or_create_key(Path(data) / "key"))
        driver = OvirtDriver(config, store, OperationRunner(store))
        sink = TimedSink(MetricStore(store))
        clock = Clock((math.floor(time.time() / PERIOD) + 1) * PERIOD + 1.0)
        sampler = MetricSampler(config, store, lambda _: driver, sink, clock=clock)
        sent: list[tuple[str, dict[str, str]]] = []
        driver.client_for(provider).session.hooks["response"].append(
            lambda r, *a, **k: sent.append((r.url, dict(r.request.headers))) if r.request.method == "GET" else None)
        found: list[Period] = []
        try:
            for turn in range(periods):
                if turn:
                    clock.now += PERIOD
                    requests.post(f"{base}/__simulator__/clock/advance", json={"seconds": PERIOD},
                                  timeout=60).raise_for_status()
                requests.delete(f"{base}/__simulator__/stats", timeout=10).raise_for_status()
                sink.seconds = 0.0
                sent.clear()
                seconds, points = timed(sampler.maybe_run)
                counted = requests.get(f"{base}/__simulator__/stats", timeout=10).json()
                if not points:
                    raise RuntimeError(f"period {turn + 1} wrote no data points (see the gateway's log)")
                found.append(Period(counted["total"], counted["requests"], seconds, sink.seconds, points,
                                    sink.instances, store_bytes(store)))
            engine_share = replay(sent)
        finally:
            sampler.close()
            driver.close()
            store.close()
    return found, engine_share


def report(label: str, measured: tuple[list[Period], Replay]) -> dict[str, float]:
    """Print one scale's figures; return those the summary compares."""
    periods, engine_share = measured
    cold, warm = periods[0], periods[1:]
    seconds = statistics.median(p.seconds for p in warm)
    write = statistics.median(p.write_seconds for p in warm)
    points = statistics.median(p.points for p in warm)
    instances = warm[-1].instances
    # bytes a period once every series exists (the disk operation counts' series come with the second period)
    grown = (warm[-1].store_bytes - warm[0].store_bytes) / (len(warm) - 1)
    per_row = grown / points
    per_vm_day = grown * DAY_PERIODS / instances
    print(f"{label}: {instances} running VMs, {len(periods)} periods")
    later = "; ".join(f"{n} in {len(alike)} periods ({_breakdown(alike[0])})"
                      for n, alike in _by_requests(warm).items())
    print(f"  engine requests a period: first {cold.requests} ({_breakdown(cold)}); then {later}")
    print(f"  wall seconds a period (median of {len(warm)}): {seconds:.3f} = engine read+parse {seconds - write:.3f} "
          f"+ store write {write:.3f}; first period {cold.seconds:.3f} (store write {cold.write_seconds:.3f})")
    print(f"  of the read+parse, the engine's answers alone (the last period's {engine_share.bytes / 1e6:.1f} MB, "
          f"replayed): {engine_share.seconds:.3f}; the rest (the driver's parsing and mapping, the lease): "
          f"{seconds - write - engine_share.seconds:.3f}")
    print(f"  data points a period: {points:g} ({points / instances:.1f} a VM; first period {cold.points})")
    print(f"  store: {grown / 1024:.1f} KiB a period = {per_row:.1f} bytes a row, {per_vm_day / 1024:.0f} KiB a VM-day;"
          f" 1,000 VMs x {RETENTION_DAYS} days of one-minute rows: "
          f"{per_vm_day * 1000 * RETENTION_DAYS / 1024 ** 3:.2f} GiB (the database after two periods: "
          f"{warm[0].store_bytes / 1024:.0f} KiB)")
    return {"requests": min(p.requests for p in warm), "seconds": seconds}  # a warm period with the cache fresh


def _by_requests(periods: list[Period]) -> dict[int, list[Period]]:
    """The periods by their engine request count, the commonest first (a period that finds the driver's 30-second
    cache of the data centers' descriptions run out reads them again)."""
    grouped: dict[int, list[Period]] = {}
    for period in periods:
        grouped.setdefault(period.requests, []).append(period)
    return dict(sorted(grouped.items(), key=lambda item: -len(item[1])))


def _breakdown(period: Period) -> str:
    return ", ".join(f"{n} {route}" for route, n in period.breakdown.items())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vms", default="100,1000", help="running VMs of each scale, comma-separated")
    parser.add_argument("--periods", type=int, default=10, help="sampling periods (simulated minutes) per scale")
    parser.add_argument("--list-cost-ms", type=float, default=0.5,
                        help="the engine's cost per listed VM for the last run at the largest scale (0: none)")
    args = parser.parse_args()
    scales = sorted(int(n) for n in args.vms.split(","))
    if args.periods < 3:
        parser.error("--periods must be at least 3 (the first is cold; the second makes the last series)")
    results: dict[int, dict[str, float]] = {}
    for running in scales:
        with engine(running, 0.0) as base:
            results[running] = report(f"{running} VMs", sample(base, args.periods))
    if args.list_cost_ms > 0:
        running = scales[-1]
        with engine(running, args.list_cost_ms) as base:
            paced = report(f"{running} VMs, engine listing cost {args.list_cost_ms:g} ms a VM",
                           sample(base, args.periods))
        print(f"  the listing cost adds {paced['seconds'] - results[running]['seconds']:.3f} s a period")
    small, large = results[scales[0]], results[scales[-1]]
    print(f"ratio: engine requests a warm period at {scales[-1]} VMs / at {scales[0]} VMs = "
          f"{large['requests'] / small['requests']:.2f} (time: {large['seconds'] / small['seconds']:.1f})")
    return 0 if large["requests"] == small["requests"] else 1


if __name__ == "__main__":
    sys.exit(main())
