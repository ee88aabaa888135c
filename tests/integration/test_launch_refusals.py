"""A launch the client got wrong, or a launch repeated with its ClientToken, changes nothing: over real HTTP
on each frontend, the engine's objects and every row of the gateway's store (operations included, with
their states) are the same after the answer as before it.

Launches are durable operations; they used to be recorded before the image was looked up, so a 4xx left a
failed `ovirt.run` behind, and every replay of a ClientToken left MaxCount failed ones (issue 10).
"""
from __future__ import annotations

import sqlite3
import uuid
from typing import Any

import pytest
import requests
from botocore.exceptions import ClientError

from tests.clients.ec2_helpers import ec2_client, ec2_error, error_code, signed_post
from tests.gateway_state import settled, snapshot
from tests.integration.cimi_client import NS, CimiClient

UNKNOWN_AMI = "ami-7e00000000004000800000000000dead"
UNKNOWN_IMAGE = "7e000000-0000-4000-8000-00000000dead"
# Every row of the tables a launch could touch, operations with their state and step.
TABLES = {"operations": "id, kind, state, step, target, last_error", "idempotency_tokens": "owner, token, result",
          "tags": "owner, resource_id, key, value", "entities": "kind, owner, id", "tombstones": "place, resource_id"}


def state(gateway: Any) -> dict[str, Any]:
    """The engine's objects and the gateway's listings (snapshot) and the store's rows."""
    database = sqlite3.connect(f"file:{gateway.data_dir / 'cloudgw.db'}?mode=ro", uri=True, timeout=10)
    try:
        rows = {table: frozenset(database.execute(f"SELECT {columns} FROM {table}"))
                for table, columns in TABLES.items()}
    finally:
        database.close()
    return {**snapshot(gateway), **rows}


def test_ec2_run_instances_with_an_unknown_image_changes_nothing(gateway) -> None:
    before = settled(lambda: state(gateway))
    with pytest.raises(ClientError) as refused:  # boto3 sends a ClientToken of its own
        ec2_client(gateway, retries=0).run_instances(ImageId=UNKNOWN_AMI, MinCount=1, MaxCount=2)
    assert error_code(refused.value) == "InvalidAMIID.NotFound"
    untokened = signed_post(gateway, f"Action=RunInstances&Version=2016-11-15&ImageId={UNKNOWN_AMI}"
                                     "&MinCount=1&MaxCount=1")
    assert untokened.status_code == 400 and ec2_error(untokened) == "InvalidAMIID.NotFound", untokened.text
    image = next(i["ImageId"] for i in ec2_client(gateway).describe_images()["Images"] if i.get("Name") != "Blank")
    with pytest.raises(ClientError):  # user data oVirt cannot carry (not UTF-8 text), found by the driver
        ec2_client(gateway, retries=0).run_instances(ImageId=image, MinCount=1, MaxCount=1, UserData=b"\xff\xfe")
    assert state(gateway) == before


@pytest.mark.parametrize("form", [{"image_id": "bogus"}, {"image_id": UNKNOWN_IMAGE},
                                  {"hwp_id": "no-such-profile"}, {"realm_id": "no-such-realm"},
                                  {"user_data": "/w=="}])  # base64 of a byte that is not UTF-8
def test_deltacloud_create_instance_refused_changes_nothing(gateway, form: dict[str, str]) -> None:
    images = requests.get(f"{gateway.api_url}/images", auth=gateway.admin, timeout=30,
                          headers={"Accept": "application/json"}).json()["images"]
    form = {"image_id": next(i["id"] for i in images if i["name"] != "Blank"), **form}
    before = settled(lambda: state(gateway))
    answer = requests.post(f"{gateway.api_url}/instances", data=form, auth=gateway.admin, timeout=60,
                           headers={"Accept": "application/xml"})
    assert 400 <= answer.status_code < 500, answer.text
    assert state(gateway) == before


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_cimi_create_machine_with_an_unknown_image_changes_nothing(gateway, fmt: str) -> None:
    cimi = CimiClient(gateway, fmt)
    create = {"resourceURI": NS + "/MachineCreate", "name": "refused", "machineTemplate": {
        "machineConfig": {"href": cimi.preferred_config()},
        "machineImage": {"href": cimi.collection_url("machineImages") + "/" + UNKNOWN_IMAGE}}}
    before = settled(lambda: state(gateway))
    answer = cimi.request("POST", cimi.collection_url("machines"), create)
    assert 400 <= answer.status_code < 500, answer.text
    assert state(gateway) == before


def test_a_client_token_replay_writes_nothing(gateway) -> None:
    ec2 = ec2_client(gateway, retries=0)
    image = next(i["ImageId"] for i in ec2.describe_images()["Images"] if i.get("Name") != "Blank")
    launch = dict(ImageId=image, MinCount=1, MaxCount=3, ClientToken=f"replay-{uuid.uuid4().hex}")
    first = ec2.run_instances(**launch)
    made = [i["InstanceId"] for i in first["Instances"]]
    try:
        ec2.get_waiter("instance_running").wait(InstanceIds=made, WaiterConfig={"Delay": 1, "MaxAttempts": 60})
        before = settled(lambda: state(gateway))
        assert not [row for row in before["operations"] if row[2] in ("pending", "running")]
        for _ in range(3):  # botocore's retries, a Terraform or Ansible re-run
            again = ec2.run_instances(**launch)
            assert again["ReservationId"] == first["ReservationId"]
            assert [i["InstanceId"] for i in again["Instances"]] == made
        assert state(gateway) == before
    finally:
        ec2.terminate_instances(InstanceIds=made)
