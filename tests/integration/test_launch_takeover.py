"""A RunInstances whose gateway is killed after the engine made the VM and before the client got its
answer: two gateway processes share one store, the first is killed with -9 at that moment (the
simulator holds the engine's answer to the create), and the client retries with the same ClientToken
on the survivor. The survivor takes the launch over when its lease expires: the retry answers the
instance the engine made (started, not left down and unclaimed), as EC2 answers a repeated token."""
from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from drivers.ovirt.simulator.server import Simulator, serve_in_thread
from gateway.config import load
from gateway.store import Store

from .gateway_process import start

CENTOS_AMI = "ami-7e000000000040008000000000000011"
LEASE, CONNECT, READ = 2.0, 1.0, 8.0  # a launch's lease outlasts the create request by connect + read timeouts


def ec2_client(url: str):
    return boto3.client("ec2", endpoint_url=f"{url}/", region_name="us-east-1", aws_access_key_id="AKTAKEOVER",
                        aws_secret_access_key="takeover-secret",
                        config=Config(retries={"max_attempts": 0}, read_timeout=60))


@pytest.fixture
def two_gateways(tmp_path: Path) -> Iterator[tuple[Simulator, subprocess.Popen, str, str]]:
    simulator = Simulator(speed=20)
    engine = serve_in_thread(simulator)
    config = tmp_path / "cloudgw.toml"
    config.write_text(f'[server]\ndata_dir = "{tmp_path / "data"}"\n\n'
                      f'[engine]\nconnect_timeout = {CONNECT}\nread_timeout = {READ}\n\n'
                      f'[operations]\nlease_seconds = {LEASE}\npoll_seconds = 0.2\n\n'
                      f'[[providers]]\nname = "lab"\nurl = "{engine.api_url}"\ndefault_datacenter = "Default"\n'
                      'region_aliases = { "us-east-1" = "Default" }\n')
    Store.from_config(load(config)).create_credential("admin@internal", "admin", access_key="AKTAKEOVER",
                                                      secret_key="takeover-secret", provider="lab")
    first, first_url = start(config)
    survivor, survivor_url = start(config)
    try:
        yield simulator, first, first_url, survivor_url
    finally:
        for process in (first, survivor):
            process.kill()
            process.wait()
        simulator.faults.clear()
        engine.shutdown()


def test_a_retry_on_the_survivor_answers_the_instance_of_a_launch_whose_gateway_was_killed(two_gateways) -> None:
    simulator, first, first_url, survivor_url = two_gateways
    survivor = ec2_client(survivor_url)
    # the engine makes the VM and keeps its answer back longer than the first gateway can wait for it
    simulator.faults.configure({"hold": {"path": r"/vms$", "method": "POST", "seconds": 15, "count": 1}})
    launch = dict(ImageId=CENTOS_AMI, MinCount=1, MaxCount=1, InstanceType="o1.small", ClientToken="killed-launch")
    threading.Thread(target=lambda: _ignore_errors(ec2_client(first_url).run_instances, **launch),
                     daemon=True).start()
    deadline = time.monotonic() + 30
    made: list[str] = []
    while not made and time.monotonic() < deadline:  # the engine made the VM; its answer is held back
        made = [i["InstanceId"] for r in survivor.describe_instances()["Reservations"] for i in r["Instances"]]
        time.sleep(0.05)
    assert len(made) == 1
    first.kill()  # -9 before the first gateway had the engine's answer
    first.wait()

    killed_at = time.monotonic()
    answer = None
    while answer is None and time.monotonic() - killed_at < 40:
        try:
            answer = survivor.run_instances(**launch)
        except ClientError as exc:
            assert exc.response["Error"]["Code"] == "Unavailable", exc.response
            time.sleep(0.5)
    assert answer is not None, "the retry was still answered 503 after 40 s"
    waited = time.monotonic() - killed_at
    assert waited < LEASE + CONNECT + READ + 10  # the lease, one poll, one engine round: not hundreds of seconds
    assert [i["InstanceId"] for i in answer["Instances"]] == made
    again = survivor.run_instances(**launch)
    assert again["ReservationId"] == answer["ReservationId"]
    assert [i["InstanceId"] for i in again["Instances"]] == made
    survivor.get_waiter("instance_running").wait(InstanceIds=made, WaiterConfig={"Delay": 1, "MaxAttempts": 60})
    described = survivor.describe_instances(InstanceIds=made)["Reservations"]
    assert described[0]["ReservationId"] == answer["ReservationId"]


def _ignore_errors(call, **kwargs) -> None:
    try:
        call(**kwargs)
    except Exception:  # the gateway it talks to is killed mid-request
        pass
