"""Benchmark: memory over a soak (issue 14: "RSS flat, within 10%, over a 10-minute soak after warm-up; no growth
per request"). The gateway of this checkout, as bench_load.py runs it in gunicorn mode (2 workers x 8 threads,
the simulator in its own process, the inventory view on), serves bench_load's 20-client mix for `--minutes`
after `--warmup` seconds. The RSS of the gateway's processes (master and workers, summed) is sampled every 2 s;
every `--every` seconds the window's median and maximum are printed. The ratio judged: the last window's median
over the first window's after warm-up; and the slope of RSS against requests served.

    .venv/bin/python bench/bench_soak.py [--minutes 1] [--warmup 60] [--every 30] [--clients 20] [--vms 2000]
                                         [--release-memory-seconds S]   # 0: without giving memory back

The default is a short smoke run; `--minutes 10` is the figure of the issue.
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_load import ROOT, Side, _signed_post, engine_total, percentile, rss_mb, run_clients, running  # noqa: E402

SAMPLE_SECONDS = 2.0


def slope(xs: list[float], ys: list[float]) -> float:
    """Least-squares slope of ys against xs (0 when xs do not vary)."""
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    spread = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / spread if spread else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=1.0, help="measured minutes after the warm-up")
    parser.add_argument("--warmup", type=float, default=60.0, help="seconds of load before measuring")
    parser.add_argument("--every", type=float, default=30.0, help="seconds per printed window")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--vms", type=int, default=2000, help="VMs seeded (about half in Default, the one measured)")
    parser.add_argument("--list-cost-ms", type=float, default=0.0, help="simulated engine cost per VM listed (ms)")
    parser.add_argument("--speed", type=float, default=20.0, help="simulator transition speed factor")
    parser.add_argument("--release-memory-seconds", type=float, default=None,
                        help="the gateway's [server] release_memory_seconds (default: its configuration's)")
    opts = parser.parse_args()
    opts.inventory, opts.workers, opts.threads = True, 2, 8
    if opts.release_memory_seconds is not None:
        os.environ["CLOUDGW_SERVER_RELEASE_MEMORY_SECONDS"] = f"{opts.release_memory_seconds:g}"
    seconds = opts.warmup + opts.minutes * 60
    work = Path(tempfile.mkdtemp(prefix="bench-soak-"))
    try:
        side = Side("current", ROOT)
        with running(side, "gunicorn", opts, work / "soak"):
            _signed_post(requests.Session(), side.url, {"Action": "DescribeInstances"})
            idle = rss_mb(side.gateway_pid)
            print(f"gateway from {side.gateway_module}: {opts.clients} clients, {opts.vms} VMs seeded, "
                  f"{opts.warmup:g} s warm-up then {opts.minutes:g} min; RSS idle {idle:.0f} MB", flush=True)
            results: list[tuple[str, float, int]] = []
            engine_before = engine_total(side)
            load = threading.Thread(target=lambda: results.extend(run_clients(side.url, opts.clients, seconds)))
            started = time.monotonic()
            load.start()
            samples: list[tuple[float, float]] = []  # (seconds since start, MB)
            windows: list[float] = []
            window_start = opts.warmup
            while load.is_alive():
                load.join(SAMPLE_SECONDS)
                now = time.monotonic() - started
                if now > seconds:
                    continue  # the clients are finishing their last requests
                samples.append((now, rss_mb(side.gateway_pid)))
                if now >= window_start + opts.every:
                    window = [mb for t, mb in samples if window_start <= t < window_start + opts.every]
                    if window_start >= opts.warmup and window:
                        windows.append(statistics.median(window))
                        print(f"  {window_start - opts.warmup + opts.every:>5.0f} s  RSS median {windows[-1]:>6.0f} MB"
                              f"  max {max(window):>6.0f} MB", flush=True)
                    window_start += opts.every
            window = [mb for t, mb in samples if window_start <= t and window_start >= opts.warmup]
            if window and window_start + opts.every / 2 <= seconds:  # the last window, if at least half of it ran
                windows.append(statistics.median(window))
                print(f"  {seconds - opts.warmup:>5.0f} s  RSS median {windows[-1]:>6.0f} MB  "
                      f"max {max(window):>6.0f} MB")
            elapsed = time.monotonic() - started
            engine = engine_total(side) - engine_before
        times = [t for _, t, _ in results]
        errors = sum(1 for _, _, status in results if status != 200)
        print(f"requests served {len(results)} ({len(results) / elapsed:.1f}/s), errors {errors}, "
              f"p50 {percentile(times, .5) * 1000:.0f} ms, p99 {percentile(times, .99) * 1000:.0f} ms, "
              f"engine {engine / elapsed:.1f} req/s")
        measured = [(t, mb) for t, mb in samples if t >= opts.warmup]
        if len(windows) >= 2 and measured:
            rate = len(results) / elapsed  # requests per second, to turn the time slope into one per request
            per_request = slope([t for t, _ in measured], [mb for _, mb in measured]) / rate * 1024
            print(f"RSS end/after warm-up: {windows[-1] / windows[0]:.3f} ({windows[0]:.0f} -> {windows[-1]:.0f} MB); "
                  f"trend {per_request:+.2f} KB per request")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
