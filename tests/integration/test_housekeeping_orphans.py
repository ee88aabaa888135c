"""Housekeeping against a real engine: a VM removed outside the gateway (through the engine's own API)
loses the tags and the EC2 record the store kept about it once it has been missing for the retention,
while a live VM keeps its own. The gateway runs `cloudgw serve` with a short retention and pace."""
from __future__ import annotations

import time
from pathlib import Path

import boto3
import pytest
import requests
from botocore.config import Config

from frontends.ec2.present import INSTANCE_RECORD
from gateway.store import Store, load_or_create_key

from ..conftest import start_gateway

CENTOS_AMI = "ami-7e000000000040008000000000000011"
PROVIDER = "simulator"  # the embedded default's provider name
ORPHAN_SECONDS = 2


def uuid_of(instance_id: str) -> str:
    h = instance_id.split("-", 1)[1]
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def wait_for(check, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, what
        time.sleep(0.2)


def test_a_vm_removed_in_the_engine_loses_its_tags_and_record_a_live_one_keeps_them(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLOUDGW_OPERATIONS_ORPHAN_SECONDS", str(ORPHAN_SECONDS))
    monkeypatch.setenv("CLOUDGW_OPERATIONS_HOUSEKEEPING_SECONDS", "0.5")
    gateway = start_gateway(tmp_path / "data")
    try:
        ec2 = boto3.client("ec2", endpoint_url=gateway.ec2_url, region_name="us-east-1",
                           aws_access_key_id=gateway.access_key, aws_secret_access_key=gateway.secret_key,
                           config=Config(retries={"max_attempts": 0}))
        launched = ec2.run_instances(ImageId=CENTOS_AMI, MinCount=2, MaxCount=2, InstanceType="o1.small",
                                     TagSpecifications=[{"ResourceType": "instance",
                                                         "Tags": [{"Key": "env", "Value": "dev"}]}])
        live, removed = (uuid_of(i["InstanceId"]) for i in launched["Instances"])
        ec2.get_waiter("instance_running").wait(InstanceIds=[i["InstanceId"] for i in launched["Instances"]],
                                                WaiterConfig={"Delay": 1, "MaxAttempts": 60})
        store = Store(f"sqlite:///{tmp_path / 'data' / 'cloudgw.db'}", load_or_create_key(tmp_path / "data" / "secret.key"))
        assert {live, removed} <= set(store.tags(PROVIDER))
        assert store.entity(INSTANCE_RECORD, PROVIDER, removed) is not None

        engine = requests.Session()
        engine.auth = ("admin@internal", "admin")
        engine.post(f"{gateway.engine_url}/vms/{removed}/stop", data="<action/>",
                    headers={"Content-Type": "application/xml"}, timeout=10).raise_for_status()
        wait_for(lambda: "<status>down</status>" in engine.get(f"{gateway.engine_url}/vms/{removed}", timeout=10).text,
                 30, "the VM did not stop")
        engine.delete(f"{gateway.engine_url}/vms/{removed}", timeout=10).raise_for_status()
        gone_at = time.monotonic()

        wait_for(lambda: removed not in store.tags(PROVIDER), 30, "the removed VM's tags were never purged")
        assert time.monotonic() - gone_at >= ORPHAN_SECONDS - 0.5  # kept for the retention first
        assert store.entity(INSTANCE_RECORD, PROVIDER, removed) is None
        assert store.tags(PROVIDER)[live] == {"env": "dev"}
        assert store.entity(INSTANCE_RECORD, PROVIDER, live) is not None
    finally:
        gateway.stop()
