"""Several gateway processes sharing one store: on a SQLite file and on a real PostgreSQL server.

Each backend gets the same checks: the store's round trip, and two worker processes draining one queue
of durable operations in which every step must run exactly once (the lease makes each operation run in
one process at a time).
"""
from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from gateway.errors import AlreadyExists
from gateway.operations import DONE, OperationRunner
from gateway.schema import entities_table
from gateway.store import Store, load_or_create_key

from .operation_worker import JournalKind

ROOT = Path(__file__).resolve().parents[2]
WORKER = Path(__file__).with_name("operation_worker.py")


@pytest.fixture(scope="module")
def postgresql() -> Iterator[tuple[object, Path]]:
    import pgserver  # a test dependency: a missing one is an error, never a skip

    # Not under pytest's basetemp: as root, pgserver runs PostgreSQL as its own user, which cannot enter
    # the 0700 /tmp/pytest-of-root (any concurrent pytest run resets it to 0700).
    directory = Path(tempfile.mkdtemp(prefix="cloudgw-pgdata-"))
    server = pgserver.get_server(directory, cleanup_mode="stop")
    yield server, directory
    server.cleanup()
    shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'shared.db'}"
    server, directory = request.getfixturevalue("postgresql")
    database = f"cloudgw_{uuid.uuid4().hex[:12]}"
    server.psql(f"CREATE DATABASE {database};")
    return f"postgresql+psycopg://postgres:@/{database}?host={directory}"


def test_the_store_round_trips_on_every_backend(store_url: str, tmp_path: Path) -> None:
    store = Store(store_url, load_or_create_key(tmp_path / "secret.key"))
    store.create_credential("admin@internal", "pw", access_key="AK1", secret_key="sk")
    assert store.credential("AK1").password == "pw"
    store.add_key_pair("lab|a", "k", key_id="key-1", key_type="rsa", fingerprint="f", public_key="ssh-rsa AAA")
    with pytest.raises(AlreadyExists):
        store.add_key_pair("lab|a", "k", key_id="key-2", key_type="rsa", fingerprint="f", public_key="ssh-rsa AAA")
    store.set_tags("lab", "instance", ["vm1"], {"env": "dev"})
    store.set_tags("lab", "instance", ["vm1"], {"env": "prod"})
    assert store.tags("lab") == {"vm1": {"env": "prod"}}
    assert store.claim_token("o", "t", "fp", {"r": 1}) is None
    assert store.claim_token("o", "t", "fp", {"r": 2})["result"] == {"r": 1}
    store.add_tombstone("lab|Default", "vm1", "instance", {"name": "web"})
    assert [t["resource_id"] for t in store.tombstones("lab|Default", "instance", 60)] == ["vm1"]
    store.put_entity("k", "o", "e1", {"a": 1})
    store.put_entity("k", "o", "e1", {"a": 2})
    assert store.entity("k", "o", "e1") == {"a": 2}
    Store(store_url, load_or_create_key(tmp_path / "secret.key"))  # a second process: schema found, not redone


def test_two_processes_run_each_step_of_each_operation_exactly_once(store_url: str, tmp_path: Path) -> None:
    key, journal = tmp_path / "secret.key", tmp_path / "journal.txt"
    runner = OperationRunner(Store(store_url, load_or_create_key(key)))
    runner.register(JournalKind(journal))
    submitted = [runner.submit("test.journal", data={"sleep": 0.01}).id for _ in range(30)]
    workers = [subprocess.Popen([sys.executable, str(WORKER), store_url, str(key), str(journal), "30"], cwd=ROOT,
                                stdout=subprocess.PIPE, text=True, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
               for _ in range(2)]
    try:
        for worker in workers:
            assert worker.stdout.readline().strip() == "ready"
        deadline = time.monotonic() + 60
        while not all(runner.get(op).state == DONE for op in submitted):
            assert time.monotonic() < deadline, "operations did not finish"
            time.sleep(0.1)
    finally:
        for worker in workers:
            worker.kill()
            worker.wait()
    runs = Counter((op, step) for op, step, _pid, *_ in (line.split() for line in journal.read_text().splitlines()))
    assert set(runs) == {(op, step) for op in submitted for step in JournalKind.steps}
    assert set(runs.values()) == {1}, [k for k, n in runs.items() if n > 1]


def test_two_hosts_putting_the_same_entity_at_once_both_succeed(postgresql: tuple[object, Path],
                                                                tmp_path: Path) -> None:
    """Two hosts record the same new disk at once (its creation time, kept in an entity): the one whose INSERT
    waited on the other's uncommitted row must not fail with a duplicate key (a 500 to its client, or a step
    retried) but leave its own data. Deterministic: the other host's transaction is held open until this
    one's statement is seen waiting on it."""
    server, directory = postgresql
    database = f"cloudgw_{uuid.uuid4().hex[:12]}"
    server.psql(f"CREATE DATABASE {database};")
    url = f"postgresql+psycopg://postgres:@/{database}?host={directory}"
    store = Store(url, load_or_create_key(tmp_path / "secret.key"))
    other_host, watcher = sa.create_engine(url), sa.create_engine(url)
    errors: list[Exception] = []

    def put() -> None:
        try:
            store.put_entity("ovirt.disk", "lab|Default", "disk-1", {"id": "disk-1", "by": "this host"})
        except Exception as exc:  # noqa: BLE001  (what the test looks for)
            errors.append(exc)

    with other_host.begin() as conn:
        conn.execute(entities_table.insert().values(kind="ovirt.disk", owner="lab|Default", id="disk-1",
                                                    data='{"id": "disk-1", "by": "the other host"}', created=0,
                                                    updated=0))
        putting = threading.Thread(target=put)
        putting.start()
        deadline = time.monotonic() + 10
        while True:
            with watcher.connect() as watch:
                if watch.execute(sa.text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                                         "AND wait_event_type = 'Lock'")).scalar():
                    break
            assert time.monotonic() < deadline and putting.is_alive(), "this host's statement never waited"
            time.sleep(0.02)
    putting.join(10)
    other_host.dispose()
    watcher.dispose()
    assert errors == []
    assert store.entity("ovirt.disk", "lab|Default", "disk-1") == {"id": "disk-1", "by": "this host"}
