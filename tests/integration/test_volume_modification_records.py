"""What the store keeps of a ModifyVolume (`ec2.volume_modification`) is one region's and goes with its volume.

A gateway (`cloudgw serve`, housekeeping at a short retention and pace) grows two volumes in `us-east-1`
(the data center Default): `barcelona` lists neither; DeleteVolume drops one's record at once; the other,
removed through the engine's own API, loses its record to housekeeping once missing for the retention.
Both used to show `failed` for ever, in every region of the engine.
"""
from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests
from botocore.config import Config

from frontends.ec2.actions.volume_modifications import MODIFICATION_RECORD
from gateway.store import Store, load_or_create_key

from ..conftest import start_gateway

PROVIDER = "simulator"  # the embedded default's provider name
ORPHAN_SECONDS = 2


def client(gateway: Any, region: str) -> Any:
    return boto3.client("ec2", endpoint_url=gateway.ec2_url, region_name=region, aws_access_key_id=gateway.access_key,
                        aws_secret_access_key=gateway.secret_key, config=Config(retries={"max_attempts": 0}))


def wait_for(check: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, what
        time.sleep(0.2)


def disk_id(volume_id: str) -> str:
    return str(uuid.UUID(volume_id.removeprefix("vol-")))


def listed(ec2: Any) -> dict[str, str]:
    """volume id -> state of every modification DescribeVolumesModifications lists in the client's region."""
    return {m["VolumeId"]: m["ModificationState"] for m in ec2.describe_volumes_modifications()["VolumesModifications"]}


def test_modifications_are_listed_in_their_region_only_and_go_with_their_volume(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLOUDGW_OPERATIONS_ORPHAN_SECONDS", str(ORPHAN_SECONDS))
    monkeypatch.setenv("CLOUDGW_OPERATIONS_HOUSEKEEPING_SECONDS", "0.5")
    gateway = start_gateway(tmp_path / "data")
    try:
        ec2, barcelona = client(gateway, "us-east-1"), client(gateway, "barcelona")
        zone = ec2.describe_availability_zones()["AvailabilityZones"][0]["ZoneName"]
        deleted, removed = (ec2.create_volume(Size=1, AvailabilityZone=zone)["VolumeId"] for _ in range(2))
        ec2.get_waiter("volume_available").wait(VolumeIds=[deleted, removed], WaiterConfig={"Delay": 0.5})
        for volume_id in (deleted, removed):
            ec2.modify_volume(VolumeId=volume_id, Size=2)
        wait_for(lambda: listed(ec2) == {deleted: "completed", removed: "completed"}, 30, "never completed")
        assert listed(barcelona) == {}  # another data center of the same engine

        ec2.delete_volume(VolumeId=deleted)
        assert deleted not in listed(ec2)
        store = Store(f"sqlite:///{tmp_path / 'data' / 'cloudgw.db'}", load_or_create_key(tmp_path / "data" / "secret.key"))
        assert store.entity(MODIFICATION_RECORD, PROVIDER, disk_id(deleted)) is None

        requests.delete(f"{gateway.engine_url}/disks/{disk_id(removed)}", auth=("admin@internal", "admin"),
                        timeout=10).raise_for_status()
        wait_for(lambda: removed not in listed(ec2), 30, "the record of a volume removed in the engine stayed")
        assert store.entity(MODIFICATION_RECORD, PROVIDER, disk_id(removed)) is None
    finally:
        gateway.stop()
