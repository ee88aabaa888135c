"""Two gateway hosts behind one address, sharing one PostgreSQL database: a real cluster on this machine.

Each host is a network namespace of its own (`ip netns add`), joined by a veth pair to a bridge in the
root namespace, with its own address on a private /24 and its own host name (a UTS namespace), running
`cloudgw serve` (gunicorn). On the bridge's side of the /24, in the root namespace, are what both hosts
share: PostgreSQL (the `pgserver` wheel's binaries, listening on TCP) and the oVirt simulator (a process of
its own). HAProxy (Debian's package: a well-kept balancer with HTTP health checks) listens on 127.0.0.1 and
sends each request to a host whose `/readyz` answers, retrying on the other host a connection the dead
one refuses. Everything is made by `two_host_cluster()` and removed when it ends, even on an error or
Ctrl-C. Needs root, `ip`, `unshare` and `haproxy`; `missing()` says what is absent.

Used by tests/integration/test_two_host_failover.py and bench/bench_failover.py.
"""
from __future__ import annotations

import os
import pwd
import random
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import requests
from pgserver import _commands  # a test dependency: PostgreSQL's binaries, and the helpers pgserver runs them with
from pgserver.utils import ensure_folder_permissions, ensure_prefix_permissions, ensure_user_exists

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
ACCESS_KEY, SECRET_KEY = "AKFAILOVER", "failover-secret"
GATEWAY_PORT = 8080  # every host listens on its own address, so both use the same port
PG_USER = "pgserver"  # the system user pgserver runs PostgreSQL as when started by root


def missing() -> str | None:
    """Why a cluster cannot be made here (None if it can)."""
    if os.geteuid() != 0:
        return "network namespaces need root"
    for tool in ("ip", "unshare", "haproxy"):
        if shutil.which(tool) is None:
            return f"`{tool}` is not installed" + (" (apt-get install haproxy)" if tool == "haproxy" else "")
    probe = f"cgwprobe{os.getpid() % 100000}"
    made = subprocess.run(["ip", "netns", "add", probe], capture_output=True, text=True)
    if made.returncode != 0:
        return f"`ip netns add` fails here: {made.stderr.strip()}"
    subprocess.run(["ip", "netns", "del", probe], capture_output=True)
    return None


@dataclass
class Host:
    name: str           # also its host name, so its lease owners read "gw-a:<pid>:..."
    namespace: str
    address: str
    config: Path
    log: Path
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://{self.address}:{GATEWAY_PORT}"

    def kill(self) -> None:
        """`kill -9` the host's whole process group (gunicorn's arbiter and every worker) at once."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


@dataclass
class Cluster:
    hosts: list[Host]
    balancer_url: str
    simulator_url: str
    store_url: str
    lease_seconds: float
    work: Path
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def api_url(self) -> str:
        return f"{self.simulator_url}/ovirt-engine/api"


def _run(*args: str) -> None:
    subprocess.run(args, check=True, capture_output=True, text=True)


def _free_subnet() -> str:
    """A /24 under 10.231.0.0/16 that no interface here uses (several runs may be under way at once)."""
    used = subprocess.run(["ip", "-o", "-4", "addr"], capture_output=True, text=True).stdout
    for third in random.sample(range(1, 255), 254):
        prefix = f"10.231.{third}"
        if f" {prefix}." not in used:
            return prefix
    raise RuntimeError("no free /24 under 10.231.0.0/16")


def _free_port(address: str) -> int:
    with socket.socket() as s:
        s.bind((address, 0))
        return s.getsockname()[1]


def _wait(url: str, timeout: float, process: subprocess.Popen | None = None, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{what or url} exited with {process.returncode} before answering")
        try:
            if requests.get(url, timeout=2).status_code < 500:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{what or url} did not answer within {timeout:g} s")


def _start(args: list[str], log: Path, env: dict[str, str] | None = None) -> subprocess.Popen:
    with log.open("ab") as out:
        return subprocess.Popen(args, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
                                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)


def _stop(process: subprocess.Popen) -> None:
    """TERM the process group, then KILL what is left of it."""
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        except ProcessLookupError:
            pass


@contextmanager
def _network(prefix: str, tag: str, names: list[str]) -> Iterator[dict[str, tuple[str, str]]]:
    """A bridge holding <prefix>.1/24 and, per host, a namespace with a veth on it: name -> (namespace, address)."""
    bridge = f"cgwbr{tag}"
    made: list[list[str]] = []  # how to undo each step, newest last
    try:
        _run("ip", "link", "add", bridge, "type", "bridge")
        made.append(["ip", "link", "del", bridge])
        _run("ip", "addr", "add", f"{prefix}.1/24", "dev", bridge)
        _run("ip", "link", "set", bridge, "up")
        hosts: dict[str, tuple[str, str]] = {}
        for n, name in enumerate(names):
            namespace, outside, inside = f"cgw{tag}{name[-1]}", f"cgw{tag}{name[-1]}0", f"cgw{tag}{name[-1]}1"
            address = f"{prefix}.{n + 2}"
            _run("ip", "netns", "add", namespace)
            made.append(["ip", "netns", "del", namespace])  # takes the veth pair with it
            _run("ip", "netns", "exec", namespace, "ip", "link", "set", "lo", "up")
            _run("ip", "link", "add", outside, "type", "veth", "peer", "name", inside)
            made.append(["ip", "link", "del", outside])  # the pair, should it not have reached the namespace
            _run("ip", "link", "set", inside, "netns", namespace)
            _run("ip", "link", "set", outside, "master", bridge)
            _run("ip", "link", "set", outside, "up")
            _run("ip", "netns", "exec", namespace, "ip", "addr", "add", f"{address}/24", "dev", inside)
            _run("ip", "netns", "exec", namespace, "ip", "link", "set", inside, "up")
            hosts[name] = (namespace, address)
        yield hosts
    finally:
        for undo in reversed(made):
            subprocess.run(undo, capture_output=True)


@contextmanager
def _postgresql(address: str) -> Iterator[str]:
    """PostgreSQL from the pgserver wheel, listening on `address` over TCP; yields the store URL.

    As root, pgserver runs PostgreSQL as a user of its own: the same helpers make its files readable to it."""
    ensure_user_exists(PG_USER)
    data = Path(tempfile.mkdtemp(prefix="cloudgw-failover-pg-"))  # not under work: PG_USER must enter it
    ensure_prefix_permissions(data)
    ensure_prefix_permissions(_commands.POSTGRES_BIN_PATH)
    ensure_folder_permissions(_commands.POSTGRES_BIN_PATH, stat.S_IRGRP | stat.S_IROTH | stat.S_IXGRP | stat.S_IXOTH)
    ensure_folder_permissions(_commands.POSTGRES_BIN_PATH.parent / "lib", stat.S_IRGRP | stat.S_IROTH)
    user = pwd.getpwnam(PG_USER)
    os.chown(data, user.pw_uid, user.pw_gid)
    port = _free_port(address)
    pg_ctl = [str(_commands.POSTGRES_BIN_PATH / "pg_ctl"), "-D", str(data / "db")]
    try:
        subprocess.run([str(_commands.POSTGRES_BIN_PATH / "initdb"), "-D", str(data / "db"), "--auth=trust",
                        "--encoding=utf8", "-U", "postgres"], check=True, capture_output=True, user=PG_USER)
        with (data / "db" / "pg_hba.conf").open("a") as hba:
            hba.write(f"host all all {address.rsplit('.', 1)[0]}.0/24 trust\n")
        subprocess.run([*pg_ctl, "-w", "-t", "60", "-l", str(data / "log"), "-o",
                        f"-h {address} -p {port} -k {data} -c max_connections=200", "start"],
                       check=True, capture_output=True, user=PG_USER, stdin=subprocess.DEVNULL)
        yield f"postgresql+psycopg://postgres@{address}:{port}/postgres"
    finally:
        subprocess.run([*pg_ctl, "-m", "immediate", "stop"], capture_output=True, user=PG_USER)
        shutil.rmtree(data, ignore_errors=True)


def _haproxy_config(port: int, hosts: list[Host]) -> str:
    servers = "\n".join(f"    server {h.name} {h.address}:{GATEWAY_PORT} check" for h in hosts)
    return f"""global
    maxconn 512
defaults
    mode http
    timeout connect 1s
    timeout client 120s
    timeout server 120s
    # a connection refused (a dead host) is tried again on the other host: no request was sent yet.
    # A request the host had taken and died with is not repeated: RunInstances is not idempotent.
    retries 3
    retry-on conn-failure
    option redispatch 1
frontend ec2
    bind 127.0.0.1:{port}
    default_backend gateways
backend gateways
    balance roundrobin
    option httpchk GET /readyz
    http-response set-header X-Host %s
    # a dead host refuses connections at once (its checks fail fast, its requests go to the other host); a
    # busy one answers /readyz slowly, and is not taken out for that
    timeout check 5s
    default-server inter 1s fall 2 rise 2
{servers}
"""


@contextmanager
def two_host_cluster(*, vms: int = 50, speed: float = 20.0, lease_seconds: float = 5.0, workers: int = 1,
                     threads: int = 8, work: Path | None = None) -> Iterator[Cluster]:
    """Make the cluster (see the module's docstring), yield it running, and remove every part of it."""
    reason = missing()
    if reason:
        raise RuntimeError(reason)
    tag = f"{os.getpid() % 10000:04d}"
    prefix = _free_subnet()
    with ExitStack() as stack:
        if work is None:
            work = Path(tempfile.mkdtemp(prefix="cloudgw-failover-"))
            stack.callback(shutil.rmtree, work, True)
        work.mkdir(parents=True, exist_ok=True)
        network = stack.enter_context(_network(prefix, tag, ["gw-a", "gw-b"]))
        shared = f"{prefix}.1"
        store_url = stack.enter_context(_postgresql(shared))
        sim_port = _free_port(shared)
        simulator = _start([PYTHON, "-m", "drivers.ovirt.simulator", "--host", shared, "--port", str(sim_port),
                            "--speed", str(speed), "--vms", str(vms), "--control"], work / "simulator.log")
        stack.callback(_stop, simulator)
        simulator_url = f"http://{shared}:{sim_port}"
        _wait(f"{simulator_url}/ovirt-engine/api", 120, simulator, "the simulator")
        hosts = []
        for name, (namespace, address) in network.items():
            config = work / f"{name}.toml"
            config.write_text(
                f'[server]\nhost = "{address}"\nport = {GATEWAY_PORT}\ndata_dir = "{work / name}"\n'
                f'frontends = ["ec2"]\n\n[log]\nlevel = "warning"\n\n'
                f'[store]\nurl = "{store_url}"\nsecret_key_file = "{work / "secret.key"}"\n\n'
                f'[operations]\nlease_seconds = {lease_seconds}\npoll_seconds = 0.2\n\n'
                f'[[providers]]\nname = "lab"\nurl = "{simulator_url}/ovirt-engine/api"\n'
                'default_datacenter = "Default"\nregion_aliases = { "us-east-1" = "Default" }\n')
            hosts.append(Host(name, namespace, address, config, work / f"{name}.log"))
        subprocess.run([PYTHON, "-m", "gateway.cli", "credentials", "create", "--config", str(hosts[0].config),
                        "--user", "admin@internal", "--password", "admin", "--access-key", ACCESS_KEY,
                        "--secret-key", SECRET_KEY, "--provider", "lab"], cwd=ROOT, check=True, capture_output=True,
                       env={**os.environ, "PYTHONPATH": str(ROOT)})
        for host in hosts:
            # its own host name (UTS namespace), as a separate machine has; then gunicorn in its network namespace
            host.process = _start(["ip", "netns", "exec", host.namespace, "unshare", "--uts", "sh", "-c",
                                   f'hostname {host.name} && exec "$@"', "--", PYTHON, "-m", "gateway.cli", "serve",
                                   "--config", str(host.config)], host.log,
                                  {"CLOUDGW_WORKERS": str(workers), "CLOUDGW_THREADS": str(threads)})
            stack.callback(_stop, host.process)
        for host in hosts:
            _wait(f"{host.url}/readyz", 120, host.process, f"gateway {host.name}")
        lb_port = _free_port("127.0.0.1")
        lb_config = work / "haproxy.cfg"
        lb_config.write_text(_haproxy_config(lb_port, hosts))
        balancer = _start(["haproxy", "-db", "-f", str(lb_config)], work / "haproxy.log")
        stack.callback(_stop, balancer)
        _wait(f"http://127.0.0.1:{lb_port}/healthz", 30, balancer, "haproxy")
        yield Cluster(hosts, f"http://127.0.0.1:{lb_port}", simulator_url, store_url, lease_seconds, work)
