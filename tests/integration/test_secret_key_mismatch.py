"""A host whose secret key is not the one its store's secrets were written with (a replaced or forgotten
`store.secret_key_file`): every command says so in one line naming the setting, start-up refuses, and a
request that still meets such a secret gets a 503 in its protocol, never a 500 or a stack trace.
Also: `cloudgw config check` never prints the store's password."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import boto3
import pytest
from botocore.config import Config as BotoConfig
from botocore.exceptions import ClientError
from cryptography.fernet import Fernet

from gateway.operations import OperationRunner
from gateway.store import Store, load_or_create_key

from ..conftest import ROOT, free_port, start_gateway
from .operation_worker import JournalKind

REPLACED = "cannot decrypt the secrets stored in the store (was the key file replaced?)"


def cloudgw(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "gateway.cli", *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=timeout)


def one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    """The command failed with exactly one line on stderr (no stack trace); that line."""
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


@pytest.fixture
def replaced_key(tmp_path: Path) -> Path:
    """A data dir whose store holds an EC2 key and an operation's credentials written with a key that has
    since been replaced by another."""
    data = tmp_path / "data"
    store = Store(f"sqlite:///{data / 'cloudgw.db'}", load_or_create_key(data / "secret.key"))
    store.create_credential("admin@internal", "admin", access_key="AKOLD", secret_key="old-secret")
    runner = OperationRunner(store)
    runner.register(JournalKind(tmp_path / "journal.txt"))
    runner.submit("test.journal", secret={"password": "admin"})
    store.close()
    (data / "secret.key").write_bytes(Fernet.generate_key() + b"\n")
    return data


def test_credential_and_operation_commands_say_the_key_is_wrong_in_one_line(replaced_key: Path) -> None:
    key_file = replaced_key / "secret.key"
    for command in (["credentials", "list"], ["operations", "list"],
                    ["credentials", "create", "--user", "admin@internal", "--password", "admin"]):
        line = one_line_error(cloudgw(*command, "--data-dir", str(replaced_key)))
        assert line == f"Error: configuration: store.secret_key_file: {key_file} {REPLACED}; every process " \
                       "sharing a store needs the same key", command
    # deleting reads no secret: it is how keys are recreated after a key change (docs/operations.md, Keys)
    deleted = cloudgw("credentials", "delete", "--data-dir", str(replaced_key), "AKOLD")
    assert deleted.returncode == 0 and deleted.stdout.strip() == "deleted AKOLD", deleted.stderr


def test_the_embedded_default_refuses_to_start_with_one_line(replaced_key: Path) -> None:
    result = cloudgw("serve", "--data-dir", str(replaced_key), "--port", "0", "--simulator-port", "0")
    line = one_line_error(result)
    assert line.startswith("Error: configuration: store.secret_key_file: ") and REPLACED in line


def test_a_production_start_refuses_before_gunicorn_starts_any_worker(replaced_key: Path, tmp_path: Path) -> None:
    config = tmp_path / "cloudgw.toml"
    config.write_text(f'[server]\ndata_dir = "{replaced_key}"\nport = {free_port()}\n\n[[providers]]\nname = "lab"\n'
                      f'url = "http://127.0.0.1:{free_port()}/ovirt-engine/api"\ndefault_datacenter = "Default"\n')
    result = cloudgw("serve", "--config", str(config))
    line = one_line_error(result)
    assert line == (f"Error: configuration: store.secret_key_file: {replaced_key / 'secret.key'} {REPLACED}; "
                    "every process sharing a store needs the same key")
    assert "Booting worker" not in result.stdout + result.stderr


def test_a_request_meeting_a_secret_this_host_cannot_read_is_a_503(tmp_path: Path) -> None:
    """The start-up check passed, then another host with another key wrote a credential into the shared
    store: its EC2 requests are `Unavailable` (503, Retry-After), where they were `InternalError` (500)."""
    gateway = start_gateway(tmp_path / "data")
    try:
        stranger = Store(f"sqlite:///{tmp_path / 'data' / 'cloudgw.db'}", Fernet.generate_key())
        stranger.create_credential("admin@internal", "admin", access_key="AKSTRANGER", secret_key="stranger-secret")
        stranger.close()
        ec2 = boto3.client("ec2", endpoint_url=f"{gateway.url}/", region_name="us-east-1",
                           aws_access_key_id="AKSTRANGER", aws_secret_access_key="stranger-secret",
                           config=BotoConfig(retries={"max_attempts": 0}))
        with pytest.raises(ClientError) as raised:
            ec2.describe_regions()
        error = raised.value.response
        assert error["ResponseMetadata"]["HTTPStatusCode"] == 503
        assert error["Error"]["Code"] == "Unavailable"
        assert "secret key does not match its store" in error["Error"]["Message"]
        assert error["ResponseMetadata"]["HTTPHeaders"]["retry-after"] == "30"
    finally:
        gateway.stop()
    output = "".join(gateway.output)
    assert "store.secret_key_file: this host's key " + REPLACED in output
    assert "Traceback" not in output


def test_config_check_hides_the_store_password(tmp_path: Path) -> None:
    config = tmp_path / "cloudgw.toml"
    config.write_text('[store]\nurl = "postgresql+psycopg://cloudgw:db-secret@db.example.com/cloudgw"\n')
    result = cloudgw("config", "check", "--config", str(config))
    assert result.returncode == 0, result.stderr
    assert "  store: postgresql+psycopg://cloudgw:***@db.example.com/cloudgw" in result.stdout.splitlines()
    assert "db-secret" not in result.stdout + result.stderr


def test_a_store_that_does_not_answer_is_one_line_too(tmp_path: Path) -> None:
    config = tmp_path / "cloudgw.toml"
    config.write_text(f'[store]\nurl = "postgresql+psycopg://cloudgw:db-secret@127.0.0.1:{free_port()}/cloudgw"\n'
                      f'secret_key_file = "{tmp_path / "secret.key"}"\n')
    line = one_line_error(cloudgw("credentials", "list", "--config", str(config)))
    assert line.startswith("Error: store: cannot use postgresql+psycopg://cloudgw:***@127.0.0.1:")
    assert "db-secret" not in line
