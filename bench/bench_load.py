"""Benchmark: speed under load (issue 14). Twenty clients at once send the issue's mix (60% DescribeInstances,
10% each DescribeImages, DescribeVolumes, RunInstances, TerminateInstances) to a baseline checkout and to this
one, side by side in one run, in two modes, and print for each: throughput, p50 and p99 (all requests and per
action), RSS of the gateway's processes at start and end, and engine requests per second (the counting proxy).

    .venv/bin/python bench/bench_load.py [--baseline REV] [--duration 15] [--clients 20] [--vms 2000]
                                         [--modes gunicorn,embedded] [--rounds 1] [--list-cost-ms 0] [--no-inventory]

- gunicorn: `cloudgw serve --config` (gunicorn, 2 workers x 8 threads), the simulator in its own process;
- embedded: simulator and gateway in one process, as `cloudgw serve` runs its embedded default.
The current checkout runs with the inventory view on (`--no-inventory`: off). The baseline (default: main
when issue 14 was filed, 9b56263; `--baseline merge-base`: where this branch left main) is checked out with
`git worktree add --detach` in a temporary directory, run with the same virtualenv (its working directory
comes first on the import path; each side prints where its `gateway` package is), and removed at the end.
Every side gets its own simulator from this checkout, seeded alike (`--vms` over its data centers: about half
in Default, the one measured), with the same per-VM listing cost. Clients send raw SigV4-signed HTTP
(botocore signs, requests sends, nothing parses the answers) from two processes, so client work does not
share a GIL with the servers. Each client terminates only instances it launched. Rounds alternate
baseline and current (A B A B) to cancel drift. Each mode ends with issue 14's goals, met or not (throughput
5x in gunicorn mode, 3x embedded; p99 under 1 s). Not a timed test: the default run is a short smoke run.
"""
from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import requests
from harness import free_port, stop_group, wait_http

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
SERVERS = Path(__file__).resolve().with_name("load_servers.py")
ACCESS_KEY, SECRET_KEY = "bench-load-key", "bench-load-secret"
CENTOS_AMI = "ami-7e000000000040008000000000000011"  # the simulator's centos-stream-9 in Default
MIX = (("DescribeInstances", 60), ("DescribeImages", 10), ("DescribeVolumes", 10), ("RunInstances", 10),
       ("TerminateInstances", 10))
GOAL_RATIO = {"gunicorn": 5.0, "embedded": 3.0}  # issue 14: throughput against main when it was filed
ISSUE_BASELINE = "9b56263"  # main when issue 14 was filed: the issue's "today's main"
INSTANCE_ID = re.compile(rb"<instanceId>(i-[0-9a-f]+)</instanceId>")


# -- clients -------------------------------------------------------------------------------------------

def _signed_post(session: requests.Session, url: str, params: dict[str, str]) -> requests.Response:
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    body = "&".join(f"{k}={requests.utils.quote(v, safe='')}" for k, v in
                    {"Version": "2016-11-15", **params}.items())
    request = AWSRequest("POST", url, data=body,
                         headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
    SigV4Auth(Credentials(ACCESS_KEY, SECRET_KEY), "ec2", "us-east-1").add_auth(request)
    return session.post(url, data=body, headers=dict(request.headers), timeout=300)


Mix = tuple[tuple[str, int], ...]


def _client(url: str, seed: int, until: float, results: list[tuple[str, float, int]], mix: Mix = MIX) -> None:
    """One client: the mix in random order until `until`; terminates only what it launched."""
    rng, session, launched = random.Random(seed), requests.Session(), []
    actions, weights = zip(*mix)
    while time.time() < until:
        action = rng.choices(actions, weights)[0]
        params = {"Action": action}
        if action == "RunInstances":
            params.update(ImageId=CENTOS_AMI, MinCount="1", MaxCount="1", InstanceType="o1.tiny")
        elif action == "TerminateInstances":
            if not launched:
                continue
            params["InstanceId.1"] = launched.pop(0)
        started = time.perf_counter()
        try:
            response = _signed_post(session, url, params)
            status, content = response.status_code, response.content
        except requests.RequestException:
            status, content = 0, b""
        results.append((action, time.perf_counter() - started, status))
        if action == "RunInstances" and status == 200:
            launched.extend(m.decode() for m in INSTANCE_ID.findall(content))


def _client_process(url: str, first_seed: int, threads: int, until: float, out: Any, mix: Mix = MIX) -> None:
    import threading

    results: list[tuple[str, float, int]] = []
    workers = [threading.Thread(target=_client, args=(url, first_seed + n, until, results, mix))
               for n in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    out.put(results)


def run_clients(url: str, clients: int, seconds: float, mix: Mix = MIX) -> list[tuple[str, float, int]]:
    """`clients` threads over two processes for `seconds`, sending `mix` (action, weight); every request's
    (action, seconds, status)."""
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    until = time.time() + seconds
    split = [clients - clients // 2, clients // 2]
    procs = [context.Process(target=_client_process, args=(url, 1000 * i, n, until, queue, mix))
             for i, n in enumerate(split) if n]
    for p in procs:
        p.start()
    results = [r for _ in procs for r in queue.get(timeout=seconds + 600)]
    for p in procs:
        p.join()
    return results


# -- servers -------------------------------------------------------------------------------------------

def rss_mb(pid: int) -> float:
    """Resident memory of a process and all its descendants, in MB (from /proc)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
        except (OSError, IndexError, ValueError):
            continue
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        todo += children.get(current, [])
        try:
            for line in Path(f"/proc/{current}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


@dataclass
class Side:
    """One checkout's gateway and simulator, running."""

    name: str
    tree: Path
    url: str = ""
    counter_url: str = ""
    gateway_pid: int = 0
    gateway_module: str = ""
    rss_start: float = 0.0
    results: list[tuple[str, float, int]] = field(default_factory=list)
    seconds: float = 0.0
    engine_requests: int = 0


def _start(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> subprocess.Popen:
    return subprocess.Popen(args, cwd=cwd, env={**os.environ, **(env or {})}, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True, start_new_session=True)


def _ready(process: subprocess.Popen) -> list[str]:
    line = process.stdout.readline() if process.stdout else ""
    if not line.startswith("ready "):
        raise RuntimeError(f"server did not start (exit {process.poll()}): {line!r}")
    return line.split()[1:]


@contextmanager
def running(side: Side, mode: str, opts: argparse.Namespace, home: Path) -> Iterator[Side]:
    home.mkdir(parents=True)
    port, sim_port = free_port(), free_port()
    spec = {"speed": opts.speed, "vms": opts.vms, "list_cost_ms": opts.list_cost_ms, "simulator_port": sim_port,
            "gateway_url": f"http://127.0.0.1:{port}"}
    extra = "[inventory]\nenabled = true\n" if opts.inventory and side.name == "current" else ""
    with ExitStack() as stack:
        if mode == "gunicorn":
            simulator = _start([PYTHON, str(SERVERS), "simulator", json.dumps(spec)], ROOT)
            stack.callback(stop_group, simulator, 30)
            simulator_url = _ready(simulator)[0]
            config = _credentials(_config_text(home, port, simulator_url, extra), side.tree)
            gateway = _start([PYTHON, "-m", "gateway.cli", "serve", "--config", str(config)], side.tree,
                             {"CLOUDGW_WORKERS": str(opts.workers), "CLOUDGW_THREADS": str(opts.threads)})
            stack.callback(stop_group, gateway, 30)
        else:
            simulator_url = f"http://127.0.0.1:{sim_port}"
            config = _credentials(_config_text(home, port, simulator_url, extra), side.tree)
            gateway = _start([PYTHON, str(SERVERS), "embedded", json.dumps({**spec, "config": str(config)})],
                             side.tree)
            stack.callback(stop_group, gateway, 30)
            _ready(gateway)
        side.url, side.counter_url = f"http://127.0.0.1:{port}/", f"{simulator_url}/__bench__/stats"
        wait_http(f"http://127.0.0.1:{port}/healthz", timeout=300)
        side.gateway_pid = gateway.pid
        side.gateway_module = subprocess.run(
            [PYTHON, "-c", "import gateway; print(gateway.__file__)"], cwd=side.tree, capture_output=True,
            text=True).stdout.strip()
        yield side


def _config_text(home: Path, port: int, simulator_url: str, extra: str = "") -> Path:
    config = home / "cloudgw.toml"
    config.write_text(
        f'{extra}[server]\nport = {port}\ndata_dir = "{home / "data"}"\nfrontends = ["ec2"]\n[log]\nlevel = "warning"\n'
        f'[[providers]]\nname = "bench"\nurl = "{simulator_url}/ovirt-engine/api"\n'
        f'default_datacenter = "Default"\nregion_aliases = {{ "us-east-1" = "Default" }}\n')
    return config


def _credentials(config: Path, tree: Path) -> Path:
    subprocess.run([PYTHON, "-m", "gateway.cli", "credentials", "create", "--config", str(config), "--user",
                    "admin@internal", "--password", "admin", "--access-key", ACCESS_KEY, "--secret-key", SECRET_KEY],
                   cwd=tree, check=True, capture_output=True)
    return config


def engine_total(side: Side) -> int:
    return int(requests.get(side.counter_url, timeout=10).json()["total"])


def measure(side: Side, opts: argparse.Namespace, seconds: float) -> None:
    before, started = engine_total(side), time.perf_counter()
    side.results += run_clients(side.url, opts.clients, seconds)
    side.seconds += time.perf_counter() - started
    side.engine_requests += engine_total(side) - before


# -- report --------------------------------------------------------------------------------------------

def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def report(mode: str, sides: list[Side]) -> None:
    print(f"\n{mode}:")
    print(f"  {'checkout':<10} {'req/s':>7} {'p50 ms':>8} {'p99 ms':>8} {'errors':>6} {'RSS start -> end MB':>20} "
          f"{'engine req/s':>12}")
    for side in sides:
        times = [t for _, t, _ in side.results]
        errors = sum(1 for _, _, status in side.results if status != 200)
        print(f"  {side.name:<10} {len(times) / side.seconds:>7.1f} {percentile(times, .5) * 1000:>8.0f} "
              f"{percentile(times, .99) * 1000:>8.0f} {errors:>6} "
              f"{side.rss_start:>9.0f} -> {rss_mb(side.gateway_pid):<8.0f} "
              f"{side.engine_requests / side.seconds:>12.1f}")
    for action, _ in MIX:
        cells = []
        for side in sides:
            times = [t for a, t, _ in side.results if a == action]
            cells.append(f"{side.name} n={len(times)} p50 {percentile(times, .5) * 1000:.0f} "
                         f"p99 {percentile(times, .99) * 1000:.0f} ms")
        print(f"    {action:<19} " + "  |  ".join(cells))
    if len(sides) == 2 and sides[0].results and sides[1].results:
        ratio = (len(sides[1].results) / sides[1].seconds) / (len(sides[0].results) / sides[0].seconds)
        print(f"  throughput current/baseline: {ratio:.2f}x")
        p99 = percentile([t for _, t, _ in sides[1].results], .99)
        wanted = GOAL_RATIO.get(mode, 1.0)
        print(f"  issue 14's goals: throughput >= {wanted:g}x: {'met' if ratio >= wanted else 'NOT met'}; "
              f"p99 < 1 s: {'met' if p99 < 1.0 else 'NOT met'} ({p99 * 1000:.0f} ms)")


# -- main ----------------------------------------------------------------------------------------------

def _git(*args: str) -> str:
    return subprocess.run(["git", *args], cwd=ROOT, check=True, capture_output=True, text=True).stdout.strip()


def _merge_base() -> str:
    """Where this branch left main (HEAD itself once merged, or where there is no main: pass --baseline)."""
    try:
        return _git("merge-base", "HEAD", "main")
    except subprocess.CalledProcessError:
        return _git("rev-parse", "HEAD")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", default=ISSUE_BASELINE,
                        help="git revision to compare with (default: main when issue 14 was filed; "
                             "'merge-base': where this branch left main)")
    parser.add_argument("--duration", type=float, default=15.0, help="measured seconds per checkout and mode")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--vms", type=int, default=2000, help="VMs seeded in each simulator (about half in Default)")
    parser.add_argument("--modes", default="gunicorn,embedded")
    parser.add_argument("--rounds", type=int, default=1, help="alternations baseline/current per mode")
    parser.add_argument("--list-cost-ms", type=float, default=0.0, help="simulated engine cost per VM listed (ms)")
    parser.add_argument("--speed", type=float, default=20.0, help="simulator transition speed factor")
    parser.add_argument("--inventory", action=argparse.BooleanOptionalAction, default=True,
                        help="the current checkout with [inventory] enabled = true (the baseline has no such setting)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8)
    opts = parser.parse_args()
    baseline = _merge_base() if opts.baseline == "merge-base" else opts.baseline
    work = Path(tempfile.mkdtemp(prefix="bench-load-"))
    tree = work / "baseline"
    _git("worktree", "add", "--detach", str(tree), baseline)
    try:
        print(f"baseline {_git('rev-parse', '--short', baseline)} vs current {_git('rev-parse', '--short', 'HEAD')}"
              f"{' (+ uncommitted changes)' if _git('status', '--porcelain', '--untracked-files=no') else ''}; "
              f"{opts.clients} clients, {opts.vms} VMs seeded, {opts.duration:g} s x {opts.rounds} round(s) per side, "
              f"list cost {opts.list_cost_ms:g} ms/VM{'; current with the inventory view' if opts.inventory else ''}",
              flush=True)
        for mode in opts.modes.split(","):
            sides = [Side("baseline", tree), Side("current", ROOT)]
            with ExitStack() as stack:
                for side in sides:
                    stack.enter_context(running(side, mode, opts, work / f"{mode}-{side.name}"))
                    print(f"  {mode} {side.name}: gateway from {side.gateway_module}", flush=True)
                for side in sides:
                    _signed_post(requests.Session(), side.url, {"Action": "DescribeInstances"})  # warm caches
                    side.rss_start = rss_mb(side.gateway_pid)
                for _ in range(opts.rounds):
                    for side in sides:
                        measure(side, opts, opts.duration / opts.rounds)
                report(mode, sides)
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=ROOT, capture_output=True)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
