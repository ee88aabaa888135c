"""Benchmark: list 1,000 instances through the oVirt driver, beside the raw engine requests it needs.

The simulator runs in its own process (`cloudgw simulator --vms 2N`: the seed spreads VMs over two data
centers, so the scoped one holds N). The driver lists the instances of the `Default` data center
(engine requests, XML parsing, mapping, tags / key names / operations from the store); the raw side
sends exactly the HTTP requests that listing sent, with the same token, and reads the bodies fully, in
both ways plain requests offers: `response.content`, and streamed in the driver's chunk size (the faster of
the two is the engine's own time: the least a client spends just to receive the answer). The three
alternate in the same run, in a rotating order; medians are compared. Judged by: driver time / raw engine
time (aim <= 1.25).

Run: python bench/bench_driver.py [--instances N] [--runs R]
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from urllib.parse import unquote

import requests
from harness import free_port, timed, wait_http

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from drivers.ovirt.client import STREAM_CHUNK  # noqa: E402
from drivers.ovirt.driver import OvirtDriver  # noqa: E402
from gateway.config import Config, ProviderConfig  # noqa: E402
from gateway.operations import OperationRunner  # noqa: E402
from gateway.scope import Credentials, Scope  # noqa: E402
from gateway.store import Store, load_or_create_key  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    port = free_port()
    simulator = subprocess.Popen(
        [sys.executable, "-m", "gateway.cli", "simulator", "--port", str(port), "--vms", str(2 * args.instances)],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    api = f"http://127.0.0.1:{port}/ovirt-engine/api"
    try:
        wait_http(api)
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

            def raw_content() -> None:
                for url, headers in needed:
                    response = raw.get(url, headers=headers, timeout=120)
                    response.raise_for_status()
                    _ = response.content

            def raw_streamed() -> None:
                for url, headers in needed:
                    with raw.get(url, headers=headers, timeout=120, stream=True) as response:
                        response.raise_for_status()
                        for _ in response.iter_content(STREAM_CHUNK):
                            pass

            sides = {"driver": lambda: driver.instances(scope), "content": raw_content, "streamed": raw_streamed}
            for action in sides.values():
                action()
            times: dict[str, list[float]] = {name: [] for name in sides}
            order = list(sides)
            for _ in range(args.runs):
                for name in order:
                    times[name].append(timed(sides[name])[0])
                order = order[1:] + order[:1]
            driver.close()
            store.close()
        median = {name: statistics.median(values) for name, values in times.items()}
        engine = min(median["content"], median["streamed"])
        print(f"instances listed:            {len(listed)} (data center Default; engine holds {2 * args.instances})")
        print(f"engine requests per listing: {len(needed)}: " + ", ".join(unquote(u.split('/api/')[-1]) for u, _ in needed))
        print(f"driver listing (median of {args.runs}):   {median['driver'] * 1000:8.1f} ms")
        print(f"raw requests, .content:          {median['content'] * 1000:8.1f} ms")
        print(f"raw requests, streamed:          {median['streamed'] * 1000:8.1f} ms")
        print(f"ratio driver / engine (faster):  {median['driver'] / engine:8.2f}  (aim <= 1.25)")
        return 0
    finally:
        simulator.terminate()
        simulator.wait(timeout=20)


if __name__ == "__main__":
    sys.exit(main())
