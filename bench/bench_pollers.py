"""Benchmark: engine requests against the number of polling clients (issue 14: "engine requests per second under
that load independent of the number of polling clients"; "a 10,000-VM engine: DescribeInstances p50 and RSS
reported; listings still constant in engine requests").

This checkout's gateway, as bench_load.py runs it in gunicorn mode (2 workers x 8 threads, the simulator apart,
behind the counting proxy), with the inventory view off and then on. For each number of clients, the clients send
only DescribeInstances (raw SigV4 HTTP, answers not parsed) for `--seconds`; printed per row: engine requests per
second and per listing (the counting proxy), DescribeInstances p50 and p99 measured by the clients, and the RSS
of the gateway's processes at the end. Judged: engine req/s at the most clients over at one client, per setting.
Before the rows, `--warmup` seconds of polling by the most clients fill every worker's caches. One client's
connection is served by one worker, more clients' by both: with a view per process (the inventory view), the
view's own engine requests (events, refetches) are those of the workers in use, at most `workers` times one's.

    .venv/bin/python bench/bench_pollers.py [--clients 1,5,10,20] [--seconds 10] [--vms 2000] [--views off,on]
    .venv/bin/python bench/bench_pollers.py --vms 20000 --clients 1,5 --seconds 30   # about 10,000 VMs measured
"""
from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_load import ROOT, Side, _signed_post, engine_total, percentile, rss_mb, run_clients, running  # noqa: E402

POLLING = (("DescribeInstances", 1),)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", default="1,5,10,20", help="numbers of polling clients, in order")
    parser.add_argument("--seconds", type=float, default=10.0, help="measured seconds per number of clients")
    parser.add_argument("--vms", type=int, default=2000, help="VMs seeded (about half in Default, the one measured)")
    parser.add_argument("--views", default="off,on", help="the inventory view settings to measure")
    parser.add_argument("--warmup", type=float, default=5.0,
                        help="seconds of polling by the most clients before the rows (every worker's caches filled)")
    parser.add_argument("--list-cost-ms", type=float, default=0.0, help="simulated engine cost per VM listed (ms)")
    parser.add_argument("--speed", type=float, default=20.0, help="simulator transition speed factor")
    opts = parser.parse_args()
    opts.workers, opts.threads = 2, 8
    levels = [int(n) for n in opts.clients.split(",")]
    work = Path(tempfile.mkdtemp(prefix="bench-pollers-"))
    print(f"{opts.vms} VMs seeded, DescribeInstances only, {opts.seconds:g} s per row, list cost "
          f"{opts.list_cost_ms:g} ms/VM", flush=True)
    try:
        for view in opts.views.split(","):
            opts.inventory = view == "on"
            side = Side("current", ROOT)
            started = time.perf_counter()
            with running(side, "gunicorn", opts, work / f"view-{view}"):
                ready = time.perf_counter() - started
                first, answer = time.perf_counter(), _signed_post(requests.Session(), side.url,
                                                                  {"Action": "DescribeInstances"})
                first = time.perf_counter() - first
                print(f"\nview {view}: simulator and gateway ready in {ready:.1f} s; first DescribeInstances "
                      f"{first * 1000:.0f} ms, {len(answer.content) / 1e6:.1f} MB, "
                      f"RSS {rss_mb(side.gateway_pid):.0f} MB")
                run_clients(side.url, max(levels), opts.warmup, POLLING)
                print(f"  {'clients':>7} {'listings/s':>10} {'engine req/s':>12} {'engine/listing':>14} "
                      f"{'p50 ms':>8} {'p99 ms':>8} {'errors':>6} {'RSS MB':>7}")
                rates = {}
                for clients in levels:
                    before, begun = engine_total(side), time.perf_counter()
                    results = run_clients(side.url, clients, opts.seconds, POLLING)
                    elapsed = time.perf_counter() - begun
                    engine = engine_total(side) - before
                    times = [t for _, t, _ in results]
                    errors = sum(1 for _, _, status in results if status != 200)
                    rates[clients] = engine / elapsed
                    print(f"  {clients:>7} {len(results) / elapsed:>10.1f} {rates[clients]:>12.1f} "
                          f"{engine / max(1, len(results)):>14.2f} {percentile(times, .5) * 1000:>8.0f} "
                          f"{percentile(times, .99) * 1000:>8.0f} {errors:>6} {rss_mb(side.gateway_pid):>7.0f}",
                          flush=True)
                if len(levels) > 1 and rates[levels[0]]:
                    print(f"  engine req/s at {levels[-1]} clients / at {levels[0]}: "
                          f"{rates[levels[-1]] / rates[levels[0]]:.2f}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
