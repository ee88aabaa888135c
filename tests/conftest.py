"""Shared fixtures: real processes on free ports.

`gateway` is one `cloudgw serve` process on its embedded default (the simulator with its control API,
transitions sped up), shared by the whole session: tests create their own resources and filter by id,
so they do not depend on one another.
"""
from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parent.parent
CLOUDGW = [sys.executable, "-m", "gateway.cli"]
DEMO_ACCESS_KEY, DEMO_SECRET_KEY = "cloudgw-demo", "cloudgw-demo-secret"
ADMIN = ("admin@internal", "admin")
# Fast enough for quick tests, slow enough that intermediate states (image_locked, powering_up) are seen.
SIMULATOR_SPEED = float(os.environ.get("CLOUDGW_TEST_SIMULATOR_SPEED", "20"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def drain(process: subprocess.Popen) -> list[str]:
    """Collect a process's output in a thread, so a full pipe never blocks it; returns the growing list."""
    lines: list[str] = []
    if process.stdout is not None:
        threading.Thread(target=lambda: lines.extend(process.stdout), daemon=True).start()
    return lines


def wait_until_healthy(url: str, process: subprocess.Popen, output: list[str], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            time.sleep(0.2)
            raise RuntimeError(f"process exited with {process.returncode}: {''.join(output)[-3000:]}")
        try:
            if requests.get(url, timeout=1).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} not healthy after {timeout}s")


@dataclass
class GatewayProcess:
    """A running `cloudgw serve`: its URLs and the demo credentials."""

    process: subprocess.Popen
    url: str
    simulator_url: str
    data_dir: Path
    output: list[str]
    access_key: str = DEMO_ACCESS_KEY
    secret_key: str = DEMO_SECRET_KEY
    admin: tuple[str, str] = ADMIN

    @property
    def ec2_url(self) -> str:
        return f"{self.url}/ec2/"

    @property
    def cimi_url(self) -> str:
        return f"{self.url}/cimi/cloudEntryPoint"

    @property
    def api_url(self) -> str:
        return f"{self.url}/api"

    @property
    def engine_url(self) -> str:
        return f"{self.simulator_url}/ovirt-engine/api"

    def simulator_control(self, path: str, **json: object) -> requests.Response:
        """POST to the simulator's control API (clock, faults)."""
        return requests.post(f"{self.simulator_url}/__simulator__/{path}", json=json, timeout=10)

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


def start_gateway(data_dir: Path, *extra: str, speed: float = SIMULATOR_SPEED, cloudgw: Sequence[str] = CLOUDGW,
                  cwd: Path = ROOT, settings: Mapping[str, str] | None = None) -> GatewayProcess:
    """Start `cloudgw serve` (`cloudgw` is the command, by default this checkout's) with the simulator's
    control API on, in `cwd`; wait until healthy.

    Both ports are 0: the process picks free ones and the banner says which, so parallel starts never race.
    `settings` are CLOUDGW_* environment overrides. The metric sampler is off unless they turn it on: its
    engine requests every minute would land in the tests that count a request's engine requests.
    """
    env = {"CLOUDGW_CLOUDWATCH_SAMPLING": "false", **os.environ, "PYTHONUNBUFFERED": "1", **(settings or {})}
    process = subprocess.Popen(
        [*cloudgw, "serve", "--port", "0", "--simulator-port", "0", "--data-dir", str(data_dir),
         "--simulator-speed", str(speed), "--simulator-control", *extra],
        cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    output = drain(process)
    try:
        url = _banner_value(process, output, r"cloudgw listening on (http://\S+)")
        simulator_api = _banner_value(process, output, r"oVirt simulator \(embedded default\): (http://\S+)")
        gateway = GatewayProcess(process, url, simulator_api.removesuffix("/ovirt-engine/api"), data_dir, output)
        wait_until_healthy(f"{gateway.url}/healthz", process, output)
    except Exception:
        process.kill()
        process.wait()
        raise
    return gateway


def _banner_value(process: subprocess.Popen, output: list[str], pattern: str, timeout: float = 30.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for line in list(output):
            match = re.search(pattern, line)
            if match:
                return match.group(1)
        if process.poll() is not None:
            time.sleep(0.2)
            raise RuntimeError(f"process exited with {process.returncode}: {''.join(output)[-3000:]}")
        time.sleep(0.05)
    raise RuntimeError(f"no line matching {pattern!r} after {timeout}s: {''.join(output)[-3000:]}")


@pytest.fixture(scope="session")
def gateway(tmp_path_factory: pytest.TempPathFactory):
    """One shared gateway on its embedded default for the whole test session."""
    handle = start_gateway(tmp_path_factory.mktemp("gateway-data"))
    yield handle
    handle.stop()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The longest tests first (those given a longer timeout: the real Terraform and Ansible runs, the
    two-host failover), so under `make test` (--dist loadfile --no-loadscope-reorder) each starts while
    other workers take the many short files, instead of all starting last and running on alone."""
    def allowed(item: pytest.Item) -> float:
        marker = item.get_closest_marker("timeout")
        return float(marker.args[0]) if marker and marker.args else 0.0

    items.sort(key=lambda item: -allowed(item))  # stable: every other test keeps its order
