"""aws-cli (`aws --endpoint-url ... ec2 ... --output json`) against a gateway on its embedded default."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

AWS = str(Path(sys.executable).with_name("aws"))


@pytest.fixture(scope="module")
def aws(gateway: Any, tmp_path_factory: pytest.TempPathFactory) -> Any:
    home = tmp_path_factory.mktemp("awscli")
    (home / "config").write_text("")
    (home / "credentials").write_text("")
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(home), "AWS_ACCESS_KEY_ID": gateway.access_key,
           "AWS_SECRET_ACCESS_KEY": gateway.secret_key, "AWS_DEFAULT_REGION": "us-east-1",
           "AWS_CONFIG_FILE": str(home / "config"), "AWS_SHARED_CREDENTIALS_FILE": str(home / "credentials"),
           "AWS_EC2_METADATA_DISABLED": "true", "AWS_MAX_ATTEMPTS": "1"}

    def run(*args: str, check: bool = True) -> Any:
        done = subprocess.run([AWS, "--endpoint-url", gateway.ec2_url, "ec2", *args, "--output", "json"],
                              env=env, capture_output=True, text=True, timeout=120)
        if not check:
            return done
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout) if done.stdout.strip() else {}

    return run


def settle(aws: Any, state: str, *ids: str) -> None:
    """Poll until every instance is in `state`, then let `aws ec2 wait` confirm it (its first try then
    succeeds; its own 15-second polling interval would make the test slow)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        listed = aws("describe-instances", "--instance-ids", *ids)
        if {i["State"]["Name"] for r in listed["Reservations"] for i in r["Instances"]} == {state}:
            break
        time.sleep(0.5)
    aws("wait", f"instance-{state}", "--instance-ids", *ids)


def test_discovery(aws: Any) -> None:
    assert "us-east-1" in {r["RegionName"] for r in aws("describe-regions")["Regions"]}
    assert aws("describe-availability-zones")["AvailabilityZones"]
    types = aws("describe-instance-types", "--filters", "Name=instance-type,Values=o1.small")["InstanceTypes"]
    assert [t["InstanceType"] for t in types] == ["o1.small"]
    images = aws("describe-images", "--owners", "self", "--filters", "Name=name,Values=debian-*")["Images"]
    assert images and all(i["Name"].startswith("debian-") for i in images)


def test_lifecycle(aws: Any, tmp_path: Path) -> None:
    image = aws("describe-images", "--filters", "Name=name,Values=debian-*")["Images"][0]["ImageId"]
    aws("create-key-pair", "--key-name", "cli-key", "--key-type", "ed25519")
    user_data = tmp_path / "user-data.sh"
    user_data.write_text("#!/bin/sh\necho cli\n")
    run = aws("run-instances", "--image-id", image, "--count", "2", "--instance-type", "o1.small",
              "--key-name", "cli-key", "--user-data", f"file://{user_data}",
              "--tag-specifications", "ResourceType=instance,Tags=[{Key=Name,Value=cli-vm},{Key=via,Value=awscli}]")
    ids = [i["InstanceId"] for i in run["Instances"]]
    try:
        assert len(ids) == 2
        settle(aws, "running", *ids)
        listed = aws("describe-instances", "--filters", "Name=tag:via,Values=awscli",
                     "Name=instance-state-name,Values=running")
        assert sorted(i["InstanceId"] for r in listed["Reservations"] for i in r["Instances"]) == sorted(ids)
        paged = aws("describe-instances", "--page-size", "5")  # aws-cli follows every NextToken itself
        assert set(ids) <= {i["InstanceId"] for r in paged["Reservations"] for i in r["Instances"]}
        assert aws("describe-instance-status", "--instance-ids", *ids)["InstanceStatuses"]
        stopping = aws("stop-instances", "--instance-ids", ids[0])["StoppingInstances"]
        assert stopping[0]["PreviousState"]["Name"] == "running"
        settle(aws, "stopped", ids[0])
        aws("start-instances", "--instance-ids", ids[0])
        settle(aws, "running", ids[0])
        aws("reboot-instances", "--instance-ids", *ids)
        aws("create-tags", "--resources", ids[0], "--tags", "Key=stage,Value=test")
        tags = aws("describe-tags", "--filters", f"Name=resource-id,Values={ids[0]}")["Tags"]
        assert {"stage", "via"} <= {t["Key"] for t in tags}
    finally:
        terminating = aws("terminate-instances", "--instance-ids", *ids)["TerminatingInstances"]
        aws("delete-key-pair", "--key-name", "cli-key")
    assert {t["CurrentState"]["Code"] for t in terminating} == {32}
    settle(aws, "terminated", *ids)


def test_errors_reach_the_cli(aws: Any) -> None:
    done = aws("describe-instances", "--instance-ids", "i-" + "0" * 32, check=False)
    assert done.returncode != 0 and "InvalidInstanceID.NotFound" in done.stderr
    done = aws("describe-instances", "--instance-ids", "i-42", check=False)
    assert "InvalidInstanceID.Malformed" in done.stderr
    done = aws("stop-instances", "--instance-ids", "i-" + "0" * 32, "--dry-run", check=False)
    assert "InvalidInstanceID.NotFound" in done.stderr
    done = aws("describe-regions", "--dry-run", check=False)
    assert "DryRunOperation" in done.stderr
