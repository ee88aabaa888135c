"""Benchmark: two gateway hosts, one killed (issue 14, "Several hosts"). Two hosts in network namespaces run
`cloudgw serve` (gunicorn) on one PostgreSQL database and one simulator, behind HAProxy; twenty clients send
the load mix through the balancer; `kill -9` takes one host's whole process group down mid-run while it holds
operations' leases. Prints the requests that failed after the kill and for how long (judged against the lease),
whether every operation ended exactly once, and how the survivor took over the dead host's operations.

    sudo .venv/bin/python bench/bench_failover.py [--vms 50] [--clients 20] [--kill-after 30] [--run-after 30]
                                                  [--lease 5] [--workers 2] [--threads 8] [--hold 1] [--keep DIR]

Needs root, `ip`, `unshare` and `haproxy` (Debian's package); everything it makes (namespaces, veth pairs, the
bridge, PostgreSQL, processes) is removed at the end, on an error or on Ctrl-C. The scenario and its checks are
tests/failover_load.py, the cluster tests/two_host_cluster.py; tests/integration/test_two_host_failover.py runs
a shorter one. Exit status 1 if a check failed; where it cannot run (not root, no haproxy) it says so and exits 0.
"""
from __future__ import annotations

import argparse
import signal
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.failover_load import run_failover  # noqa: E402
from tests.two_host_cluster import missing, two_host_cluster  # noqa: E402


def _interrupted(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # unwinds through the cluster's clean-up, like Ctrl-C


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vms", type=int, default=50, help="VMs seeded in the simulator")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--kill-after", type=float, default=30.0, help="seconds of load before the kill")
    parser.add_argument("--run-after", type=float, default=30.0, help="seconds of load after the kill")
    parser.add_argument("--lease", type=float, default=5.0, help="operations.lease_seconds of both hosts")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers per host")
    parser.add_argument("--threads", type=int, default=8, help="threads per gunicorn worker")
    parser.add_argument("--hold", type=float, default=1.0,
                        help="seconds the engine keeps back its answer to each VM creation and removal")
    parser.add_argument("--speed", type=float, default=20.0, help="simulator transition speed factor")
    parser.add_argument("--verbose", action="store_true", help="list every failed request")
    parser.add_argument("--keep", type=Path, default=None, help="keep the hosts' logs and configuration here")
    opts = parser.parse_args()
    reason = missing()
    if reason:  # not a failure of `make bench` on a machine that cannot make hosts
        print(f"bench_failover: skipped: {reason}")
        return 0
    signal.signal(signal.SIGTERM, _interrupted)
    with tempfile.TemporaryDirectory(prefix="bench-failover-") as scratch:
        work = opts.keep or Path(scratch)
        print(f"two hosts, {opts.workers} workers x {opts.threads} threads each; {opts.clients} clients, "
              f"{opts.vms} VMs seeded; kill -9 of gw-a after {opts.kill_after:g} s, then {opts.run_after:g} s more; "
              f"engine holds each creation/removal answer {opts.hold:g} s", flush=True)
        with two_host_cluster(vms=opts.vms, speed=opts.speed, lease_seconds=opts.lease, workers=opts.workers,
                              threads=opts.threads, work=work) as cluster:
            figures = run_failover(cluster, clients=opts.clients, kill_after=opts.kill_after,
                                   run_after=opts.run_after, hold=opts.hold)
    for line in figures.lines():
        print(f"  {line}")
    if opts.verbose:
        for line in figures.failure_lines():
            print(f"    failed: {line}")
    problems = figures.problems()
    print("  checks: " + ("all hold" if not problems else "; ".join(problems)))
    return 1 if problems else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("bench_failover: interrupted; the hosts, their network and the database were removed", file=sys.stderr)
        sys.exit(130)
