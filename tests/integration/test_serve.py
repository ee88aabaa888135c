"""`cloudgw serve` as a real process on free ports: endpoints, health, readiness, clean stop; the CLI."""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests

from ..conftest import ROOT, start_gateway


def test_serve_starts_the_embedded_default_answers_and_stops_cleanly(tmp_path: Path) -> None:
    started = time.monotonic()
    gateway = start_gateway(tmp_path / "data")
    try:
        assert time.monotonic() - started < 30
        health = requests.get(f"{gateway.url}/healthz", timeout=5)
        assert health.status_code == 200 and health.json() == {"status": "ok"}
        assert health.headers["X-Request-Id"] == health.headers["x-amzn-RequestId"]
        echoed = requests.get(f"{gateway.url}/healthz", headers={"X-Request-Id": "trace-123"}, timeout=5)
        assert echoed.headers["X-Request-Id"] == "trace-123"
        forged = requests.get(f"{gateway.url}/healthz", headers={"X-Request-Id": "bad id; x=y"}, timeout=5)
        assert forged.headers["X-Request-Id"] != "bad id; x=y"
        ready = requests.get(f"{gateway.url}/readyz", timeout=10)
        assert ready.status_code == 200, ready.text
        assert ready.json() == {"status": "ready", "checks": {"store": "ok", "engine": "ok"}}
        banner = "".join(gateway.output)
        for expected in (f"{gateway.url}/ec2/", f"{gateway.url}/cimi/cloudEntryPoint", f"{gateway.url}/api",
                         "admin@internal / admin", "cloudgw-demo", "cloudgw-demo-secret",
                         f"{gateway.simulator_url}/ovirt-engine/api"):
            assert expected in banner
        unknown = requests.get(f"{gateway.url}/no/such/path", timeout=5)
        assert unknown.status_code == 404 and "Traceback" not in unknown.text
    finally:
        code = gateway.stop()
    assert code == 0
    time.sleep(0.2)
    assert "cloudgw stopped" in "".join(gateway.output)
    assert (tmp_path / "data" / "cloudgw.db").exists() and (tmp_path / "data" / "secret.key").exists()


def test_readiness_reports_an_unreachable_engine(tmp_path: Path) -> None:
    gateway = start_gateway(tmp_path / "data")
    try:
        assert gateway.simulator_control("faults", engine_down=True).status_code in (200, 201, 204)
        ready = requests.get(f"{gateway.url}/readyz", timeout=30)
        assert ready.status_code == 503
        assert ready.json()["checks"]["store"] == "ok"
        assert ready.json()["checks"]["engine"].startswith("unreachable")
    finally:
        gateway.stop()


def cli(*args: str, input: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "gateway.cli", *args], capture_output=True, text=True, cwd=ROOT,
                          input=input, timeout=60)


def test_credentials_create_list_delete(tmp_path: Path) -> None:
    data = str(tmp_path / "data")
    created = cli("credentials", "create", "--data-dir", data, "--user", "user@internal", "--password", "pw",
                  "--access-key", "AKCI", "--secret-key", "s3cret-value")
    assert created.returncode == 0, created.stderr
    assert "access key: AKCI" in created.stdout and "secret key: s3cret-value" in created.stdout
    generated = cli("credentials", "create", "--data-dir", data, "--user", "admin@internal", input="admin\nadmin\n")
    assert generated.returncode == 0, generated.stderr
    listed = cli("credentials", "list", "--data-dir", data)
    assert "AKCI\tuser@internal" in listed.stdout and "admin@internal" in listed.stdout
    assert "s3cret-value" not in listed.stdout
    duplicate = cli("credentials", "create", "--data-dir", data, "--user", "u", "--password", "p", "--access-key", "AKCI")
    assert duplicate.returncode == 1 and "exists already" in duplicate.stderr
    assert cli("credentials", "delete", "--data-dir", data, "AKCI").returncode == 0
    missing = cli("credentials", "delete", "--data-dir", data, "AKCI")
    assert missing.returncode == 1 and "no access key 'AKCI'" in missing.stderr


def test_serve_with_a_bad_setting_stops_with_one_line(tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text("[server]\nport = 'abc'\n")
    result = cli("serve", "--config", str(config))
    assert result.returncode == 1
    assert result.stderr.strip() == "Error: configuration: server.port: must be an integer from 1 to 65535, got 'abc'"


def test_serve_with_configured_engines_runs_under_gunicorn(tmp_path: Path) -> None:
    """Production mode: a configured engine (here a simulator we start) and gunicorn workers."""
    from drivers.ovirt.simulator.server import Simulator, serve_in_thread

    engine = serve_in_thread(Simulator(speed=20))
    config = tmp_path / "cloudgw.toml"
    config.write_text(f'[server]\ndata_dir = "{tmp_path / "data"}"\n\n'
                      f'[[providers]]\nname = "lab"\nurl = "{engine.api_url}"\ndefault_datacenter = "Default"\n')
    process = subprocess.Popen([sys.executable, "-m", "gateway.cli", "serve", "--config", str(config), "--port", "0"],
                               cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               env={**os.environ, "CLOUDGW_WORKERS": "2", "CLOUDGW_THREADS": "2"})
    try:
        listening = None
        deadline = time.monotonic() + 30
        while listening is None and time.monotonic() < deadline:
            line = process.stdout.readline()
            match = re.search(r"Listening at: (http://\S+)", line)
            listening = match.group(1) if match else None
        assert listening, "gunicorn did not say where it listens"
        ready = None
        while time.monotonic() < deadline:
            try:
                ready = requests.get(f"{listening}/readyz", timeout=5)
                break
            except requests.ConnectionError:
                time.sleep(0.1)
        assert ready is not None and ready.status_code == 200, ready and ready.text
        assert ready.json()["checks"] == {"store": "ok", "engine": "ok"}
        instances = requests.get(f"{listening}/api/realms?format=json", auth=("admin@internal", "admin"), timeout=10)
        assert instances.status_code == 200
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
        engine.shutdown()
    assert process.returncode == 0
