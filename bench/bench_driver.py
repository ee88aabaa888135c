"""Benchmark: list 1,000 instances through the oVirt driver, beside the raw engine requests it needs.

The simulator runs in its own process (`cloudgw simulator --vms 2N`: the seed spreads VMs over two data
centers, so the scoped one holds N). The driver lists the instances of the `Default` data center
(engine requests, XML parsing, mapping, tags / key names / operations from the store); the raw side
sends exactly the HTTP requests that listing sent, with the same token, and reads the bodies. The two
alternate in the same run; medians are compared. Judged by: driver time / raw engine time (aim <= 1.25).

Run: python bench/bench_driver.py [--instances N] [--runs R]
"""
from __future__ import annotations

import argparse
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from drivers.ovirt.driver import OvirtDriver  # noqa: E402
from gateway.config import Config, ProviderConfig  # noqa: E402
from gateway.operations import OperationRunner  # noqa: E402
from gateway.scope import Credentials, Scope  # noqa: E402
from gateway.store import Store, load_or_create_key  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(url: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            requests.head(url, timeout=1)
            return
        except requests.ConnectionError:
            time.sleep(0.1)
    raise RuntimeError(f"simulator did not start at {url}")


def timed(action) -> float:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    port = free_port()
    simulator = subprocess.Popen(
        [sys.executable, "-m", "gateway.cli", "simulator", "--port", str(port), "--vms", str(2 * args.instances)],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    api = f"http://127.0.0.1:{port}/ovirt-engine/api"
    try:
        wait_ready(api)
        with tempfile.TemporaryDirectory() as data:
            provider = ProviderConfig(name="bench", url=api)
            config = Config(providers=(provider,), default_provider="bench")
            store = Store(f"sqlite:///{data}/cloudgw.db", load_or_create_key(Path(data) / "key"))
            driver = OvirtDriver(config, store, OperationRunner(store))
            scope = Scope(provider, "Default", Credentials("admin@internal", "admin"), request_id="bench")
            client = driver.client_for(provider)
            sent: list[tuple[str, dict[str, str]]] = []
            client.session.hooks["response"].append(lambda r, *a, **k: sent.append((r.url, dict(r.request.headers))))
            listed = driver.instances(scope)  # warm: token and data center resolved, as in steady state
            sent.clear()
            listed = driver.instances(scope)
            needed = list(sent)
            raw = requests.Session()

            def raw_requests() -> None:
                for url, headers in needed:
                    response = raw.get(url, headers=headers, timeout=120)
                    response.raise_for_status()
                    _ = response.content

            raw_requests()
            driver_times, raw_times = [], []
            for _ in range(args.runs):
                driver_times.append(timed(lambda: driver.instances(scope)))
                raw_times.append(timed(raw_requests))
            driver.close()
            store.close()
        driver_median, raw_median = statistics.median(driver_times), statistics.median(raw_times)
        print(f"instances listed:           {len(listed)} (data center Default; engine holds {2 * args.instances})")
        print(f"engine requests per listing: {len(needed)}: " + ", ".join(u.split('/api/')[-1][:60] for u, _ in needed))
        print(f"driver listing (median of {args.runs}): {driver_median * 1000:8.1f} ms")
        print(f"raw engine requests (median):   {raw_median * 1000:8.1f} ms")
        print(f"ratio driver / engine:          {driver_median / raw_median:8.2f}  (aim <= 1.25)")
        return 0
    finally:
        simulator.terminate()
        simulator.wait(timeout=20)


if __name__ == "__main__":
    sys.exit(main())
