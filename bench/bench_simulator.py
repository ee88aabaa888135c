"""Benchmark: list 10,000 VMs with `follow=nics.reported_devices` from the oVirt simulator over HTTP.

The simulator runs in its own process (`python -m drivers.ovirt.simulator --vms N --control`), so
the peak memory printed is the simulator's own (max RSS, read through its control API). Prints the
first (uncached) listing, the median of the next few, the response size and the ratio it is judged
by: VMs listed per second. The simulator must never be what limits the gateway's benchmarks.

Run: python bench/bench_simulator.py [--vms N] [--runs R]
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

import requests
from harness import free_port, wait_http

ROOT = Path(__file__).resolve().parents[1]
VM_START = re.compile(rb'<vm href="[^"]*" id="[^"]*">')


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vms", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "drivers.ovirt.simulator", "--port", str(port),
                             "--vms", str(args.vms), "--control"], cwd=ROOT, stdout=subprocess.DEVNULL)
    try:
        wait_http(f"{base}/__simulator__/clock")
        seeded = time.perf_counter() - started
        session = requests.Session()
        session.auth = ("admin@internal", "admin")
        timings: list[float] = []
        size = count = 0
        for _ in range(args.runs + 1):
            start = time.perf_counter()
            response = session.get(f"{base}/ovirt-engine/api/vms", params={"follow": "nics.reported_devices"},
                                   headers={"Version": "4"})
            timings.append(time.perf_counter() - start)
            response.raise_for_status()
            size, count = len(response.content), len(VM_START.findall(response.content))
        state = session.get(f"{base}/__simulator__/state").json()
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    first, median = timings[0], statistics.median(timings[1:])
    print(f"simulator process up with {args.vms} seeded VMs in {seeded:.1f} s")
    print(f"GET /vms?follow=nics.reported_devices -> {count} VMs, {size / 1e6:.1f} MB: "
          f"first (uncached) {first:.3f} s, median of {len(timings) - 1} {median:.3f} s")
    print(f"simulator peak memory (max RSS): {state['max_rss_bytes'] / 1e6:.0f} MB")
    print(f"ratio: {count / median:,.0f} VMs/s (first listing {count / first:,.0f} VMs/s)")
    return 0 if count == args.vms else 1


if __name__ == "__main__":
    sys.exit(main())
