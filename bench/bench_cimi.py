"""Benchmark: list 1,000 machines through CIMI in XML and in JSON, beside EC2 DescribeInstances (boto3),
all over the same VMs of one gateway, in one run.

The simulator runs in its own process (`cloudgw simulator --vms 2N`: the seed spreads VMs over two data
centers, so `Default` holds N); the gateway in another (gunicorn with gateway/gunicorn_conf.py and a
configuration naming that simulator, as in production). The three listings take turns, and the order
rotates every round (XML-JSON-EC2, JSON-EC2-XML, ...) so that neither drift nor following a particular
listing favours one; medians are compared. Judged by: slowest frontend / fastest frontend (aim <=
1.20), each timed from request sent to response body received (boto3's own parsing of the EC2 answer
is printed beside, not judged; the CIMI bodies are counted after the clock stops).

Run: python bench/bench_cimi.py [--instances N] [--runs R]
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

import boto3
import requests
from botocore.config import Config as BotoConfig
from harness import free_port, timed, wait_http

ROOT = Path(__file__).resolve().parents[1]
CLOUDGW = [sys.executable, "-m", "gateway.cli"]
USER, PASSWORD = "admin@internal", "admin"
ACCESS_KEY, SECRET_KEY = "BENCHCIMI", "bench-cimi-secret"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=11)
    args = parser.parse_args()
    sim_port, port = free_port(), free_port()
    processes: list[subprocess.Popen] = []
    with tempfile.TemporaryDirectory() as data:
        try:
            processes.append(subprocess.Popen(
                [*CLOUDGW, "simulator", "--port", str(sim_port), "--vms", str(2 * args.instances)],
                cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            engine = f"http://127.0.0.1:{sim_port}/ovirt-engine/api"
            wait_http(engine)
            config = Path(data) / "cloudgw.toml"
            config.write_text(
                f'[server]\nport = {port}\ndata_dir = "{data}"\n[log]\nlevel = "warning"\n'
                f'[[providers]]\nname = "bench"\nurl = "{engine}"\ndefault_datacenter = "Default"\n'
                f'region_aliases = {{ "us-east-1" = "Default" }}\n')
            subprocess.run([*CLOUDGW, "credentials", "create", "--config", str(config), "--user", USER,
                            "--password", PASSWORD, "--access-key", ACCESS_KEY, "--secret-key", SECRET_KEY],
                           cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
            # gunicorn as gateway/gunicorn_conf.py documents it for production (one worker per core).
            env = dict(os.environ, CLOUDGW_CONFIG=str(config), CLOUDGW_BIND=f"127.0.0.1:{port}", CLOUDGW_WORKERS="2")
            processes.append(subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "-c", "python:gateway.gunicorn_conf",
                 "--access-logfile", "/dev/null"], cwd=ROOT, env=env,
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            base = f"http://127.0.0.1:{port}"
            wait_http(f"{base}/healthz")
            return run(base, args.instances, args.runs)
        finally:
            for process in reversed(processes):
                process.terminate()
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()


def run(base: str, instances: int, runs: int) -> int:
    session = requests.Session()
    session.auth = (USER, PASSWORD)
    ec2 = boto3.client("ec2", endpoint_url=f"{base}/", region_name="us-east-1", aws_access_key_id=ACCESS_KEY,
                       aws_secret_access_key=SECRET_KEY, config=BotoConfig(retries={"max_attempts": 1}))

    http_seconds: list[float] = []
    sent_at: list[float] = []
    ec2.meta.events.register("before-send.ec2.DescribeInstances", lambda **kw: sent_at.append(time.perf_counter()))
    ec2.meta.events.register("before-parse.ec2.DescribeInstances",
                             lambda **kw: http_seconds.append(time.perf_counter() - sent_at[-1]))

    bodies: dict[str, bytes] = {}

    def cimi(fmt: str) -> Callable[[], None]:
        def list_machines() -> None:
            response = session.get(f"{base}/cimi/machines", headers={"Accept": f"application/{fmt}"}, timeout=120)
            response.raise_for_status()
            bodies[fmt] = response.content
        return list_machines

    def machines_in(fmt: str) -> int:
        marker = b"<Machine>" if fmt == "xml" else b'"resourceURI":"http://schemas.dmtf.org/cimi/1/Machine"'
        return bodies[fmt].count(marker)

    reservations: list[dict] = []

    def describe_instances() -> None:
        reservations[:] = ec2.describe_instances()["Reservations"]

    listings = {"CIMI XML": cimi("xml"), "CIMI JSON": cimi("json"), "EC2 DescribeInstances": describe_instances}
    counters = {"CIMI XML": lambda: machines_in("xml"), "CIMI JSON": lambda: machines_in("json"),
                "EC2 DescribeInstances": lambda: sum(len(r["Instances"]) for r in reservations)}
    for listing in listings.values():  # warm: tokens, data center resolution, both workers
        for _ in range(2):
            listing()
    times: dict[str, list[float]] = {name: [] for name in listings}
    counts: dict[str, int] = {}
    names = list(listings)
    for run_index in range(runs):
        for name in names[run_index % len(names):] + names[:run_index % len(names)]:
            seconds, _ = timed(listings[name])
            times[name].append(seconds)
            counts[name] = counters[name]()
    medians = {name: statistics.median(values) for name, values in times.items()}
    # What boto3 spends parsing 1,000 instances is the client's, not the gateway's: the judged figure
    # for EC2 is its HTTP exchange (request sent to body received), like the CIMI listings'.
    boto3_total = medians.pop("EC2 DescribeInstances")
    medians["EC2 DescribeInstances"] = statistics.median(http_seconds[-runs:])
    times["EC2 DescribeInstances"] = http_seconds[-runs:]
    print(f"Listing {instances} machines (median of {runs} runs, gateway under gunicorn, simulator in its own process)")
    for name, median in medians.items():
        print(f"  {name:<24} {median * 1000:8.1f} ms   ({counts[name]} listed; min {min(times[name]) * 1000:.1f} ms)")
    print(f"  (EC2 through boto3 including its response parsing: {boto3_total * 1000:.1f} ms)")
    fastest = min(medians.values())
    for name, median in medians.items():
        print(f"  ratio {name:<18} / fastest: {median / fastest:.2f}")
    worst = max(medians.values()) / fastest
    print(f"slowest / fastest frontend: {worst:.2f} (aim <= 1.20)")
    if any(count != instances for count in counts.values()):
        print(f"WARNING: expected {instances} instances in every listing, got {counts}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
