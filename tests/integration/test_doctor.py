"""`cloudgw doctor --config FILE`: checks each engine and the store and says in plain words what is wrong,
with a non-zero exit status when something is. Run against the simulator on a real port."""
from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.store import Store, load_or_create_key

from ..conftest import ROOT, free_port
from .ovirt_env import Engine, running_engine
from .tls_engine import tls_engine  # noqa: F401 (a fixture)


@pytest.fixture(scope="module")
def engine() -> Iterator[Engine]:
    with running_engine() as running:
        yield running


def doctor(tmp_path: Path, engine_url: str, *args: str, store: str = "",
           ca_file: Path | None = None) -> subprocess.CompletedProcess[str]:
    config = tmp_path / "cloudgw.toml"
    store_line = f'url = "{store}"\n' if store else ""
    ca_line = f'ca_file = "{ca_file}"\n' if ca_file else ""
    config.write_text(f'[server]\ndata_dir = "{tmp_path / "data"}"\n\n[store]\n{store_line}\n'
                      f'[engine]\nconnect_timeout = 2.0\nretries = 0\n\n'
                      f'[[providers]]\nname = "lab"\nurl = "{engine_url}"\ndefault_datacenter = "Default"\n{ca_line}')
    return subprocess.run([sys.executable, "-m", "gateway.cli", "doctor", "--config", str(config), *args],
                          capture_output=True, text=True, cwd=ROOT, timeout=60)


def test_a_healthy_engine_and_store(engine: Engine, tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'data' / 'cloudgw.db'}", load_or_create_key(tmp_path / "data" / "secret.key"))
    store.create_credential("admin@internal", "admin", access_key="AKLAB", secret_key="s", provider="lab")
    store.close()
    result = doctor(tmp_path, engine.url, "--user", "admin@internal", "--password", "admin")
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert f"engine lab ({engine.url})" in out
    assert "ok      reachable: 127.0.0.1:" in out
    assert "ok      credentials of admin@internal (--user): accepted" in out
    assert "ok      credentials of admin@internal (EC2 key AKLAB): accepted" in out
    assert "ok      API version: oVirt Engine 4." in out
    assert "schema version" in out and "reads the 1 stored EC2 keys" in out
    assert out.rstrip().endswith("no problems found")


def test_an_engine_nobody_listens_for(engine: Engine, tmp_path: Path) -> None:
    closed = f"http://127.0.0.1:{free_port()}/ovirt-engine/api"
    result = doctor(tmp_path, closed, "--user", "admin@internal", "--password", "admin")
    assert result.returncode == 1
    assert "PROBLEM reachable: cannot connect to 127.0.0.1:" in result.stdout
    assert "is the engine running and the provider's url right?" in result.stdout
    assert "1 problem found" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


def test_credentials_the_engine_refuses(engine: Engine, tmp_path: Path) -> None:
    result = doctor(tmp_path, engine.url, "--user", "admin@internal", "--password", "not-the-password")
    assert result.returncode == 1
    assert "PROBLEM credentials of admin@internal (--user): refused by the engine" in result.stdout
    assert "not-the-password" not in result.stdout + result.stderr


def test_a_store_that_cannot_be_opened(engine: Engine, tmp_path: Path) -> None:
    unreachable = f"postgresql+psycopg://cloudgw:db-secret@127.0.0.1:{free_port()}/cloudgw"
    result = doctor(tmp_path, engine.url, store=unreachable)
    assert result.returncode == 1
    assert "PROBLEM store: cannot open postgresql+psycopg://cloudgw:***@127.0.0.1:" in result.stdout
    assert "db-secret" not in result.stdout + result.stderr
    nonsense = doctor(tmp_path, engine.url, store="nosuchdb://somewhere/x")
    assert nonsense.returncode == 1
    assert "PROBLEM store: nosuchdb://somewhere/x is not a usable database URL" in nonsense.stdout


def test_an_engine_certificate_not_signed_by_a_trusted_ca(tls_engine: tuple[str, Path], tmp_path: Path) -> None:
    url, cert = tls_engine
    untrusted = doctor(tmp_path, url, "--user", "admin@internal", "--password", "admin")
    assert untrusted.returncode == 1
    assert "PROBLEM TLS: the certificate of 127.0.0.1:" in untrusted.stdout
    assert "set the provider's ca_file to the engine's CA certificate" in untrusted.stdout

    trusted = doctor(tmp_path, url, "--user", "admin@internal", "--password", "admin", ca_file=cert)
    assert trusted.returncode == 0, trusted.stdout
    assert "ok      TLS: certificate valid" in trusted.stdout
    assert "ok      API version: oVirt Engine 4." in trusted.stdout
