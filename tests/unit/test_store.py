"""The store: round trips of everything it keeps, secrets encrypted at rest, and schema versions."""
from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import sqlalchemy as sa

from gateway.errors import AlreadyExists, BackendUnavailable, ConfigError, SecretsUnreadable
from gateway.schema import SCHEMA_VERSION
from gateway.store import Store, load_or_create_key


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(f"sqlite:///{tmp_path / 'cloudgw.db'}", load_or_create_key(tmp_path / "secret.key"))


def test_credentials_round_trip_and_secrets_are_encrypted_at_rest(store: Store, tmp_path: Path) -> None:
    created = store.create_credential("admin@internal", "engine-password", access_key="AKTEST",
                                      secret_key="very-secret-key", provider="lab", description="ci")
    assert created.secret_key == "very-secret-key"
    again = store.credential("AKTEST")
    assert again is not None
    assert (again.username, again.password, again.secret_key, again.provider) == (
        "admin@internal", "engine-password", "very-secret-key", "lab")
    raw = (tmp_path / "cloudgw.db").read_bytes() + b"".join(p.read_bytes() for p in tmp_path.glob("cloudgw.db-*"))
    assert b"AKTEST" in raw
    assert b"very-secret-key" not in raw and b"engine-password" not in raw
    assert "very-secret-key" not in repr(again)


def test_generated_credentials_are_unique_and_deletable(store: Store) -> None:
    a = store.create_credential("u@internal", "p")
    b = store.create_credential("u@internal", "p")
    assert a.access_key != b.access_key and a.secret_key != b.secret_key
    assert [c.access_key for c in store.credentials()] == [a.access_key, b.access_key]
    with pytest.raises(AlreadyExists):
        store.create_credential("u@internal", "p", access_key=a.access_key)
    assert store.delete_credential(a.access_key) is True
    assert store.delete_credential(a.access_key) is False
    assert store.credential(a.access_key) is None


def test_another_key_cannot_read_the_secrets(tmp_path: Path, store: Store) -> None:
    """A request meeting such a secret is a 503-class error in its protocol (the gateway is unavailable on
    this host), not an exception no frontend knows, which became EC2's 500 InternalError with a trace."""
    store.create_credential("u@internal", "p", access_key="AK1")
    other = Store(store.url, load_or_create_key(tmp_path / "other.key"))
    with pytest.raises(SecretsUnreadable) as raised:
        other.credential("AK1")
    assert isinstance(raised.value, BackendUnavailable) and raised.value.status == 503
    assert "secret key does not match its store" in raised.value.message


def test_the_start_up_check_tells_whether_the_key_reads_the_stored_secrets(tmp_path: Path, store: Store) -> None:
    other = Store(store.url, load_or_create_key(tmp_path / "other.key"))
    assert store.secrets_readable() and other.secrets_readable()  # nothing stored yet: any key will do
    store.create_credential("u@internal", "p", access_key="AK1")
    assert store.secrets_readable() and not other.secrets_readable()
    with pytest.raises(ConfigError, match=r"^store.secret_key_file: .*other.key cannot decrypt the secrets"):
        other.check_secrets(tmp_path / "other.key")
    store.check_secrets(tmp_path / "secret.key")


def test_key_file_is_private_and_reused(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "secret.key"
    key = load_or_create_key(path)
    assert load_or_create_key(path) == key
    assert path.stat().st_mode & 0o777 == 0o600
    path.write_text("not a key")
    with pytest.raises(ConfigError, match="does not hold a valid key"):
        load_or_create_key(path)


def test_key_pairs_are_per_owner_and_names_unique(store: Store) -> None:
    store.add_key_pair("lab|a", "k1", key_id="key-1", key_type="rsa", fingerprint="f1", public_key="ssh-rsa AAA")
    store.add_key_pair("lab|b", "k1", key_id="key-2", key_type="rsa", fingerprint="f2", public_key="ssh-rsa BBB")
    with pytest.raises(AlreadyExists):
        store.add_key_pair("lab|a", "k1", key_id="key-3", key_type="rsa", fingerprint="f", public_key="x")
    assert [k["id"] for k in store.key_pairs("lab|a")] == ["key-1"]
    assert store.delete_key_pair("lab|a", "k1") and not store.key_pairs("lab|a")
    assert len(store.key_pairs("lab|b")) == 1


def test_tags_set_overwrite_and_delete(store: Store) -> None:
    store.set_tags("lab", "instance", ["vm1", "vm2"], {"env": "dev", "team": "a"})
    store.set_tags("lab", "instance", ["vm1"], {"env": "prod"})
    assert store.tags("lab") == {"vm1": {"env": "prod", "team": "a"}, "vm2": {"env": "dev", "team": "a"}}
    store.delete_tags("lab", ["vm1"], {"env": "dev"})  # value does not match: kept
    assert store.tags("lab", ["vm1"]) == {"vm1": {"env": "prod", "team": "a"}}
    store.delete_tags("lab", ["vm1"], {"env": None})
    store.delete_tags("lab", ["vm2"])
    assert store.tags("lab") == {"vm1": {"team": "a"}}


def test_idempotency_tokens_return_the_first_result(store: Store) -> None:
    assert store.claim_token("o", "tok", "fp1", {"reservation": "r-1"}) is None
    assert store.claim_token("o", "tok", "fp2", {"reservation": "r-2"}) == {
        "fingerprint": "fp1", "result": {"reservation": "r-1"}}
    store.update_token("o", "tok", {"reservation": "r-1", "instances": ["i-1"]})
    assert store.token("o", "tok")["result"]["instances"] == ["i-1"]
    store.forget_token("o", "tok")
    assert store.token("o", "tok") is None


def test_tombstones_expire(tmp_path: Path) -> None:
    now = [1000.0]
    store = Store(f"sqlite:///{tmp_path / 'db'}", load_or_create_key(tmp_path / "k"), clock=lambda: now[0])
    store.add_tombstone("lab|Default", "vm1", "instance", {"name": "web"})
    now[0] += 10
    store.add_tombstone("lab|Default", "vm2", "instance", {"name": "db"})
    assert [t["resource_id"] for t in store.tombstones("lab|Default", "instance", 3600)] == ["vm2", "vm1"]
    now[0] += 3595
    assert [t["data"] for t in store.tombstones("lab|Default", "instance", 3600)] == [{"name": "db"}]
    assert store.purge_tombstones(3600) == 1


def test_entities_round_trip(store: Store) -> None:
    store.put_entity("machine_template", "o", "t1", {"name": "small"})
    store.put_entity("machine_template", "o", "t1", {"name": "smaller"})
    store.put_entity("machine_template", "o", "t2", {"name": "big"})
    assert store.entity("machine_template", "o", "t1") == {"name": "smaller"}
    assert [e["name"] for e in store.entities("machine_template", "o")] == ["smaller", "big"]
    assert store.entities("machine_template", "someone-else") == []
    assert store.delete_entity("machine_template", "o", "t1") and store.entity("machine_template", "o", "t1") is None


def test_sqlite_runs_in_wal_mode(store: Store, tmp_path: Path) -> None:
    store.ping()
    with sqlite3.connect(tmp_path / "cloudgw.db") as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_a_newer_schema_is_refused(store: Store, tmp_path: Path) -> None:
    with store.engine.begin() as conn:
        conn.execute(sa.text("UPDATE meta SET value = :v WHERE key = 'schema_version'"), {"v": SCHEMA_VERSION + 1})
    with pytest.raises(ConfigError, match="newer than this cloudgw knows"):
        Store(store.url, load_or_create_key(tmp_path / "secret.key"))


def test_a_write_survives_kill_9_right_after_it_is_answered(tmp_path: Path) -> None:
    """A process writes, says so, and is killed at once: the write is there for the next process."""
    script = textwrap.dedent(f"""
        import sys, time
        from pathlib import Path
        from gateway.store import Store, load_or_create_key
        store = Store("sqlite:///{tmp_path / 'db'}", load_or_create_key(Path("{tmp_path / 'k'}")))
        for i in range(20):
            store.create_credential("u@internal", "p", access_key=f"AK{{i}}")
            print(f"wrote AK{{i}}", flush=True)
        time.sleep(60)
    """)
    process = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True,
                               cwd=Path(__file__).resolve().parents[2])
    try:
        lines = [process.stdout.readline() for _ in range(20)]
    finally:
        process.kill()
        process.wait()
    assert lines[-1].strip() == "wrote AK19"
    store = Store(f"sqlite:///{tmp_path / 'db'}", load_or_create_key(tmp_path / "k"))
    assert [c.access_key for c in store.credentials()] == [f"AK{i}" for i in range(20)]


def test_processes_creating_the_key_together_all_read_one_whole_key(tmp_path: Path) -> None:
    """Workers starting on a fresh data directory race to create the key: none may read a half-written file."""
    script = textwrap.dedent("""
        import sys
        from pathlib import Path
        from gateway.store import load_or_create_key
        print(load_or_create_key(Path(sys.argv[1])).decode())
    """)
    for round_ in range(3):
        path = tmp_path / f"round{round_}" / "secret.key"
        processes = [subprocess.Popen([sys.executable, "-c", script, str(path)], stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, text=True, cwd=Path(__file__).resolve().parents[2])
                     for _ in range(8)]
        results = [p.communicate(timeout=60) for p in processes]
        assert all(p.returncode == 0 for p in processes), [err for _, err in results]
        assert {out.strip() for out, _ in results} == {path.read_text().strip()}
        assert sorted(f.name for f in path.parent.iterdir()) == ["secret.key"]  # no draft left behind


def test_entities_added_in_one_transaction_never_replace_what_is_kept(store: Store) -> None:
    commits = []
    sa.event.listen(store.engine, "commit", lambda conn: commits.append(1))
    store.put_entity("k", "o", "kept", {"v": "first"})
    commits.clear()
    store.add_entities("k", "o", {"kept": {"v": "second"}, **{f"new-{n}": {"v": n} for n in range(1200)}})
    assert len(commits) == 1  # a thousand undated disks used to be a thousand transactions
    assert store.entity("k", "o", "kept") == {"v": "first"}
    assert len(store.entities("k", "o")) == 1201
    assert store.delete_entities("k", "o", [f"new-{n}" for n in range(1200)] + ["absent"]) == 1200
    assert [e["v"] for e in store.entities("k", "o")] == ["first"]
