"""What a client was told is kept: kill -9 the gateway right after it answers, start it again, read it back."""
from __future__ import annotations

from pathlib import Path

import boto3
from botocore.config import Config

from ..conftest import start_gateway

PUBLIC_KEY = ("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGJsdWVza3libHVlc2t5Ymx1ZXNreWJsdWVza3libHVl durability@test")


def ec2_client(url: str, access_key: str, secret_key: str):
    return boto3.client("ec2", endpoint_url=f"{url}/", region_name="us-east-1", aws_access_key_id=access_key,
                        aws_secret_access_key=secret_key, config=Config(retries={"max_attempts": 0}))


def test_writes_answered_before_a_kill_9_are_there_after_restart(tmp_path: Path) -> None:
    data = tmp_path / "data"
    first = start_gateway(data)
    try:
        ec2 = ec2_client(first.url, first.access_key, first.secret_key)
        ec2.import_key_pair(KeyName="kept", PublicKeyMaterial=PUBLIC_KEY.encode())
        created = ec2.create_key_pair(KeyName="kept-too", KeyType="rsa")
    finally:
        first.process.kill()  # SIGKILL straight after the answers: no clean shutdown, no flush
        first.process.wait()
    second = start_gateway(data)
    try:
        pairs = ec2_client(second.url, second.access_key, second.secret_key).describe_key_pairs()["KeyPairs"]
        by_name = {p["KeyName"]: p for p in pairs}
        assert {"kept", "kept-too"} <= set(by_name)
        assert by_name["kept-too"]["KeyFingerprint"] == created["KeyFingerprint"]
    finally:
        second.stop()
