"""What an operator sees of a running gateway: one log line per request (text and JSON) naming its action,
identity, provider, data center, status, time and engine requests; and Prometheus metrics at /metrics,
scraped over HTTP after requests through every frontend, off unless enabled."""
from __future__ import annotations

import base64
import json
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import boto3
import pytest
import requests
from botocore.config import Config as BotoConfig
from prometheus_client.parser import text_string_to_metric_families

from ..conftest import (ADMIN, DEMO_ACCESS_KEY, DEMO_SECRET_KEY, ROOT, GatewayProcess, drain, start_gateway,
                        wait_until_healthy)

CENTOS_AMI = "ami-7e000000000040008000000000000011"


def ec2(url: str):
    return boto3.client("ec2", endpoint_url=f"{url}/", region_name="us-east-1", aws_access_key_id=DEMO_ACCESS_KEY,
                        aws_secret_access_key=DEMO_SECRET_KEY, config=BotoConfig(retries={"max_attempts": 0}))


def scrape(url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of /metrics, parsed by prometheus_client's own parser: (name, labels) -> value."""
    response = requests.get(f"{url}/metrics", timeout=10)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("text/plain")
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(response.text) for sample in family.samples}


def value(samples: dict, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def total(samples: dict, name: str, **labels: str) -> float:
    """The sum over every sample of `name` whose labels include `labels`."""
    return sum(v for (n, have), v in samples.items() if n == name and set(labels.items()) <= set(have))


def request_lines(gateway: GatewayProcess, request_id: str) -> list[str]:
    return [line for line in list(gateway.output) if request_id in line]


def wait_for_line(gateway: GatewayProcess, request_id: str) -> str:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        found = request_lines(gateway, request_id)
        if found:
            return found[-1]
        time.sleep(0.05)
    raise AssertionError(f"no log line for request {request_id}")


@pytest.fixture(scope="module")
def observed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayProcess]:
    """A gateway with metrics on and JSON logs."""
    base = tmp_path_factory.mktemp("observed")
    config = base / "cloudgw.toml"
    config.write_text('[metrics]\nenabled = true\n\n[log]\nformat = "json"\n')
    handle = start_gateway(base / "data", "--config", str(config))
    yield handle
    handle.stop()


def test_each_frontend_logs_one_json_line_naming_action_identity_provider_and_engine_work(
        observed: GatewayProcess) -> None:
    rid = f"obs-{uuid.uuid4().hex[:12]}"
    client = ec2(observed.url)
    client.meta.events.register("before-send.ec2.*", lambda request, **_: request.headers.__setitem__(
        "X-Request-Id", f"{rid}-ec2"))
    client.describe_instances()
    requests.get(f"{observed.url}/cimi/machines", auth=ADMIN, headers={"Accept": "application/json",
                                                                        "X-Request-Id": f"{rid}-cimi"}, timeout=30)
    requests.get(f"{observed.url}/api/instances?format=json", auth=ADMIN,
                 headers={"X-Request-Id": f"{rid}-dc"}, timeout=30)
    requests.get(f"{observed.url}/api/instances?format=json", auth=("admin@internal", "wrong"),
                 headers={"X-Request-Id": f"{rid}-bad"}, timeout=30)

    lines = {name: json.loads(wait_for_line(observed, f"{rid}-{name}")) for name in ("ec2", "cimi", "dc", "bad")}
    assert len(request_lines(observed, f"{rid}-ec2")) == 1  # one line per request
    ec2_line, cimi_line, dc_line, bad_line = lines["ec2"], lines["cimi"], lines["dc"], lines["bad"]
    assert (ec2_line["frontend"], ec2_line["action"], ec2_line["identity"], ec2_line["status"]) == (
        "ec2", "DescribeInstances", DEMO_ACCESS_KEY, 200)
    assert (cimi_line["frontend"], cimi_line["action"], cimi_line["identity"]) == (
        "cimi", "machines.list", "admin@internal")
    assert (dc_line["frontend"], dc_line["action"], dc_line["method"], dc_line["path"]) == (
        "deltacloud", "instances.list", "GET", "/api/instances")
    for line in (ec2_line, cimi_line, dc_line):
        assert (line["provider"], line["datacenter"], line["level"], line["logger"]) == (
            "simulator", "Default", "info", "cloudgw.request")
        assert line["engine_requests"] >= 1 and 0 < line["engine_ms"] <= line["duration_ms"]
        assert line["request_id"].startswith(rid)
    assert bad_line["status"] == 401 and bad_line["identity"] == "admin@internal"

    logged = "".join(line for line in observed.output if line.startswith("{"))  # not the banner's demo key
    basic = [base64.b64encode(f"admin@internal:{password}".encode()).decode() for password in ("admin", "wrong")]
    for secret in (DEMO_SECRET_KEY, "Signature", "Authorization", "Bearer", *basic):
        assert secret not in logged


def test_metrics_count_requests_engine_exchanges_operations_and_tokens(observed: GatewayProcess) -> None:
    before = scrape(observed.url)
    client = ec2(observed.url)
    client.describe_instances()
    client.describe_instances()
    token = f"obs-{uuid.uuid4().hex[:12]}"
    client.run_instances(ImageId=CENTOS_AMI, InstanceType="o1.tiny", MinCount=1, MaxCount=1, ClientToken=token)
    assert requests.get(f"{observed.url}/cimi/machines", auth=ADMIN, headers={"Accept": "application/json"},
                        timeout=30).status_code == 200
    assert requests.get(f"{observed.url}/api/instances?format=json", auth=ADMIN, timeout=30).status_code == 200
    assert requests.get(f"{observed.url}/api/instances/no-such-vm?format=json", auth=ADMIN,
                        timeout=30).status_code == 404
    after = scrape(observed.url)

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert moved("cloudgw_requests_total", frontend="ec2", action="DescribeInstances", status="200") == 2
    assert moved("cloudgw_requests_total", frontend="ec2", action="RunInstances", status="200") == 1
    assert moved("cloudgw_requests_total", frontend="cimi", action="machines.list", status="200") == 1
    assert moved("cloudgw_requests_total", frontend="deltacloud", action="instances.list", status="200") == 1
    assert moved("cloudgw_requests_total", frontend="deltacloud", action="instances.get", status="404") == 1
    assert moved("cloudgw_request_duration_seconds_count", frontend="ec2", action="DescribeInstances") == 2
    assert moved("cloudgw_request_duration_seconds_bucket", frontend="ec2", action="DescribeInstances",
                 le="+Inf") == 2
    engine_before = total(before, "cloudgw_engine_requests_total")
    engine_after = total(after, "cloudgw_engine_requests_total")
    assert engine_after - engine_before >= 6  # each of the six requests above asked the engine at least once
    assert total(after, "cloudgw_engine_requests_total", method="GET", status="200") > 0
    assert total(after, "cloudgw_engine_request_duration_seconds_count", method="POST") >= 1  # the VM's creation
    assert total(after, "cloudgw_operations", kind="ovirt.run") >= 1
    assert value(after, "cloudgw_idempotency_tokens") - value(before, "cloudgw_idempotency_tokens") == 1
    assert value(after, "cloudgw_store_up") == 1
    for gauge in ("cloudgw_operations_queue_depth", "cloudgw_operations_oldest_age_seconds", "cloudgw_tombstones"):
        assert (gauge, ()) in after


def test_text_log_lines_carry_the_same_fields_and_metrics_are_off_by_default(gateway: GatewayProcess) -> None:
    rid = f"txt-{uuid.uuid4().hex[:12]}"
    answer = requests.get(f"{gateway.url}/api/realms?format=json", auth=ADMIN, headers={"X-Request-Id": rid},
                          timeout=30)
    assert answer.status_code == 200
    line = wait_for_line(gateway, rid)
    assert f"INFO cloudgw.request [{rid}]: GET /api/realms 200 " in line
    for field in ("frontend=deltacloud", "action=realms.list", "identity=admin@internal", "provider=simulator",
                  "datacenter=Default", "engine_requests="):
        assert field in line
    assert requests.get(f"{gateway.url}/metrics", timeout=10).status_code == 404


def test_under_gunicorn_any_worker_reports_the_requests_of_all_workers(tmp_path: Path) -> None:
    """Production mode: two gunicorn workers count into PROMETHEUS_MULTIPROC_DIR; every scrape sums both."""
    from drivers.ovirt.simulator.server import Simulator, serve_in_thread

    engine = serve_in_thread(Simulator(speed=20))
    config = tmp_path / "cloudgw.toml"
    config.write_text(f'[server]\ndata_dir = "{tmp_path / "data"}"\n\n[metrics]\nenabled = true\n\n'
                      f'[[providers]]\nname = "lab"\nurl = "{engine.api_url}"\ndefault_datacenter = "Default"\n')
    env = {k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"}
    process = subprocess.Popen([sys.executable, "-m", "gateway.cli", "serve", "--config", str(config), "--port", "0"],
                               cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               env={**env, "CLOUDGW_WORKERS": "2", "CLOUDGW_THREADS": "1"})
    output = drain(process)
    try:
        url = None
        deadline = time.monotonic() + 60
        while url is None and time.monotonic() < deadline:
            found = [m.group(1) for m in map(re.compile(r"Listening at: (http://\S+)").search, list(output)) if m]
            url = found[0] if found else None
            time.sleep(0.1)
        assert url, "gunicorn did not say where it listens"
        booted = lambda: sum("Booting worker" in line for line in list(output)) >= 2  # noqa: E731
        while not booted() and time.monotonic() < deadline:
            time.sleep(0.1)
        wait_until_healthy(f"{url}/healthz", process, output)

        def realms(_: int) -> int:
            return requests.get(f"{url}/api/realms?format=json", auth=ADMIN, timeout=30).status_code

        with ThreadPoolExecutor(max_workers=6) as pool:  # concurrent, so both workers answer some
            assert set(pool.map(realms, range(24))) == {200}
        counts = {value(scrape(url), "cloudgw_requests_total", frontend="deltacloud", action="realms.list",
                        status="200") for _ in range(8)}
        assert counts == {24.0}
        realm_lines = lambda: [line for line in list(output) if "/api/realms" in line]  # noqa: E731
        settle = time.monotonic() + 10
        while len(realm_lines()) < 24 and time.monotonic() < settle:  # stderr arrives through a pipe
            time.sleep(0.05)
        logged = realm_lines()
        assert len(logged) == 24 and all("cloudgw.request" in line and "action=realms.list" in line for line in logged)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
        engine.shutdown()
    assert process.returncode == 0
