"""RunInstances and TerminateInstances ask the engine only what they must (issue 14: their latency under load).

Under twenty concurrent clients every engine request a launch or a termination makes costs it a wait for the
interpreter among busy threads, so neither repeats a question: a termination reads the instance once (its
state check is the one the durable operation records), and a launch of an image and instance type asked for
a moment ago only creates the VM. A gateway app without its operation worker (so that only the request's own
engine requests are counted) serves real HTTP to boto3, in front of a simulator whose clock stands still.
"""
from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests
import sqlalchemy as sa
from botocore.config import Config
from botocore.exceptions import ClientError
from werkzeug.serving import make_server

from gateway.app import create_app
from gateway.config import load

from .ovirt_env import CENTOS, DEBIAN, Engine, running_engine

ACCESS, SECRET = "AKLAUNCHCOUNT", "launch-count-secret"
CENTOS_AMI = "ami-" + CENTOS.replace("-", "")
DEBIAN_AMI = "ami-" + DEBIAN.replace("-", "")
ENGINE_ADMIN = ("admin@internal", "admin")


@pytest.fixture
def statements() -> list[str]:
    """The store's SQL statements run by requests (the lease heartbeat's are left out)."""
    return []


@pytest.fixture
def counted(tmp_path: Path, statements: list[str]) -> Iterator[tuple[Any, Engine]]:
    """(boto3 EC2 client, engine) of a gateway app without its operation worker, served on a free port."""
    with running_engine() as engine:
        config = tmp_path / "cloudgw.toml"
        config.write_text(f'[server]\ndata_dir = "{tmp_path / "data"}"\nfrontends = ["ec2"]\n\n'
                          f'[[providers]]\nname = "lab"\nurl = "{engine.url}"\ndefault_datacenter = "Default"\n'
                          'region_aliases = { "us-east-1" = "Default" }\n')
        app = create_app(load(config, environ={}), start_workers=False)
        gateway = app.extensions["cloudgw"]
        sa.event.listen(gateway.store.engine, "before_cursor_execute", lambda *args: statements.append(
            " ".join(args[2].split())) if threading.current_thread().name != "cloudgw-lease-heartbeat" else None)
        gateway.store.create_credential("admin@internal", "admin", access_key=ACCESS, secret_key=SECRET,
                                        provider="lab")
        server = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield boto3.client("ec2", endpoint_url=f"http://127.0.0.1:{server.server_port}/", region_name="us-east-1",
                               aws_access_key_id=ACCESS, aws_secret_access_key=SECRET,
                               config=Config(retries={"max_attempts": 0})), engine
        finally:
            server.shutdown()
            gateway.close()


def engine_requests(engine: Engine, call: Any) -> tuple[Any, dict[str, int]]:
    """What `call()` answered and the engine requests it made, by method and path template."""
    stats = f"{engine.handle.url}/__simulator__/stats"
    requests.delete(stats, timeout=10).raise_for_status()
    answer = call()
    return answer, requests.get(stats, timeout=10).json()["requests"]


def ids_decoded(instance_id: str) -> str:
    """The VM id of an EC2 instance id (`i-` and the UUID's 32 hex digits)."""
    digits = instance_id[2:]
    return f"{digits[:8]}-{digits[8:12]}-{digits[12:16]}-{digits[16:20]}-{digits[20:]}"


def remove_on_engine(engine: Engine, vm_id: str) -> None:
    """Remove a VM on the engine directly (another tool), its disks taken as copied, so its image may go."""
    engine.control(f"vms/{vm_id}/status", status="down")
    requests.delete(f"{engine.url}/vms/{vm_id}", auth=ENGINE_ADMIN, timeout=10).raise_for_status()


def launch(ec2: Any, image: str = CENTOS_AMI) -> str:
    reservation = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1, InstanceType="o1.tiny")
    return reservation["Instances"][0]["InstanceId"]


def test_terminating_reads_the_instance_once(counted: tuple[Any, Engine], statements: list[str]) -> None:
    """One engine request, and the store records of that instance alone (its key name, its disks' device names
    and fates, its EC2 record), not every one the gateway keeps: eight statements."""
    ec2, engine = counted
    instance_id = launch(ec2)
    launch(ec2)  # another instance, with records of its own
    statements.clear()
    answer, seen = engine_requests(engine, lambda: ec2.terminate_instances(InstanceIds=[instance_id]))
    assert len(statements) <= 8, "\n".join(statements)
    records = [s for s in statements if s.startswith("SELECT entities.data FROM entities")]
    assert len(records) == 4 and all("entities.id IN" in s for s in records), "\n".join(records)
    change = answer["TerminatingInstances"][0]
    assert change["InstanceId"] == instance_id and change["CurrentState"]["Name"] == "shutting-down"
    assert seen == {"GET /vms/<id>": 1}, seen
    again = ec2.terminate_instances(InstanceIds=[instance_id])["TerminatingInstances"][0]  # joins the one under way
    assert again["PreviousState"]["Name"] == again["CurrentState"]["Name"] == "shutting-down"


def test_a_second_launch_of_the_same_image_only_creates(counted: tuple[Any, Engine]) -> None:
    ec2, engine = counted
    first, seen_first = engine_requests(engine, lambda: launch(ec2))
    assert seen_first.get("GET /instancetypes/<id>") == 1 and seen_first.get("POST /vms") == 1, seen_first
    second, seen = engine_requests(engine, lambda: launch(ec2))
    assert second != first
    assert seen == {"POST /vms": 1}, seen
    described = ec2.describe_instances(InstanceIds=[second])["Reservations"][0]["Instances"][0]
    assert described["ImageId"] == CENTOS_AMI and described["InstanceType"] == "o1.tiny"


def test_an_image_removed_behind_the_gateway_is_refused_as_before(counted: tuple[Any, Engine]) -> None:
    """The image known from a launch a moment ago, then removed on the engine directly (another tool): the
    engine refuses the create and the launch answers what it answered without the reuse."""
    ec2, engine = counted
    remove_on_engine(engine, ids_decoded(launch(ec2, DEBIAN_AMI)))
    requests.delete(f"{engine.url}/templates/{DEBIAN}", auth=ENGINE_ADMIN, timeout=10).raise_for_status()
    engine.control("clock/advance", seconds=600)  # the engine finishes removing the image
    with pytest.raises(ClientError) as refused:
        launch(ec2, DEBIAN_AMI)
    assert refused.value.response["Error"]["Code"] == "InvalidAMIID.NotFound", refused.value.response


def test_an_image_deregistered_through_the_gateway_is_refused_at_once(counted: tuple[Any, Engine]) -> None:
    ec2, engine = counted
    remove_on_engine(engine, ids_decoded(launch(ec2, DEBIAN_AMI)))
    ec2.deregister_image(ImageId=DEBIAN_AMI)  # the engine removes it (its clock stands still: it stays locked)
    refused, seen = engine_requests(engine, lambda: pytest.raises(ClientError, launch, ec2, DEBIAN_AMI))
    assert refused.value.response["Error"]["Code"] == "IncorrectInstanceState", refused.value.response
    assert "POST /vms" not in seen, seen


def test_a_launch_records_itself_in_few_store_statements(counted: tuple[Any, Engine], statements: list[str]) -> None:
    """A launch without a client token is recorded with what its steps need at once (not recorded, then renewed
    with it); a renewal is not read back; the new instance's EC2 record is written without being read first,
    and the reservation reads that record alone. Five statements without a token (the access key, the launch,
    its outcome, the EC2 record, the reservation's records), ten with one (boto3 always sends one)."""
    ec2, _ = counted
    launch(ec2)
    for token, most in (("", 5), (None, 10)):
        statements.clear()
        extra = {} if token is None else {"ClientToken": token}
        reservation = ec2.run_instances(ImageId=CENTOS_AMI, MinCount=1, MaxCount=1, InstanceType="o1.tiny", **extra)
        assert len(statements) <= most, "\n".join(statements)
        instance_id = reservation["Instances"][0]["InstanceId"]
        described = ec2.describe_instances(InstanceIds=[instance_id])["Reservations"][0]
        assert described["ReservationId"] == reservation["ReservationId"]
        assert described["Instances"][0]["State"]["Name"] == "pending"
