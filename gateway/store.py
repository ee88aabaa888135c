"""Persistence for what oVirt has no home for (SQLAlchemy Core; SQLite by default, PostgreSQL shared).

EC2 credentials, key pairs, tags oVirt cannot hold, idempotency tokens, tombstones, durable operations
and CIMI-only entities. Secrets (EC2 secret keys, oVirt passwords, credentials carried by operations) are
encrypted at rest with Fernet under a key from the configuration. Every write is its own committed
transaction, so nothing answered to a client is lost if the process is killed right afterwards.
"""
from __future__ import annotations

import json
import logging
import os
import secrets
import tempfile
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import sqlalchemy as sa
from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from .errors import AlreadyExists, ConfigError, SecretsUnreadable
from .schema import (SCHEMA_VERSION, credentials_table, entities_table, key_pairs_table, meta_table, metadata,
                     metric_points_table, operations_table, tags_table, tokens_table, tombstones_table)

log = logging.getLogger("cloudgw.store")
UNREADABLE_LOG_SECONDS = 60.0
UNREADABLE_SECRETS = ("store.secret_key_file: {path} cannot decrypt the secrets stored in the store (was the key "
                      "file replaced?); every process sharing a store needs the same key")


class SecretExpired(ValueError):
    """A secret read with a time limit (`Store.decrypt(token, ttl)`) was written longer ago than that."""


@dataclass(frozen=True)
class StoredCredential:
    """An EC2 access key and the oVirt identity it acts as."""

    access_key: str
    secret_key: str
    username: str
    password: str
    provider: str | None
    description: str
    created: float

    def __repr__(self) -> str:
        return f"StoredCredential(access_key={self.access_key!r}, username={self.username!r})"


def load_or_create_key(path: Path) -> bytes:
    """The Fernet key at `path`, created (mode 0600) if absent; shared by every process of one gateway."""
    try:
        key = path.read_bytes().strip()
    except FileNotFoundError:
        key = _publish_new_key(path)
    try:
        Fernet(key)
    except ValueError:
        raise ConfigError(f"store.secret_key_file: {path} does not hold a valid key") from None
    return key


def _publish_new_key(path: Path) -> bytes:
    """A new key written whole beside `path`, then linked to it in one step: processes starting together on
    a fresh data directory (gunicorn's workers) either find no key or a whole one, never a half-written
    file, and all use the key of whichever linked first."""
    path.parent.mkdir(parents=True, exist_ok=True)
    key = Fernet.generate_key()
    fd, draft = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)  # mode 0600
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(key + b"\n")
        os.link(draft, path)
    except FileExistsError:  # another process linked its key first: use that one
        return path.read_bytes().strip()
    finally:
        os.unlink(draft)
    return key


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets readers run beside a writer; synchronous=NORMAL in WAL mode keeps every committed
    # transaction through a process kill (only a power loss can lose the last ones).
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


class Store:
    """The gateway's database. One instance per process; thread safe (a pooled engine)."""

    def __init__(self, url: str, key: bytes, clock: Any = time.time) -> None:
        self.url = url
        self.clock = clock
        self._fernet = Fernet(key)
        self._unreadable_logged = float("-inf")
        self._followers: dict[str, set[str]] = {}  # tombstone kind -> entity kinds that expire with it
        self.resource_records: dict[str, set[str]] = {}  # resource type -> entity kinds kept per resource
        if url.startswith("sqlite"):
            path = sa.engine.make_url(url).database
            if path and path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            self.engine: Engine = sa.create_engine(url, connect_args={"timeout": 10, "check_same_thread": False})
            sa.event.listen(self.engine, "connect", _sqlite_pragmas)
        else:
            self.engine = sa.create_engine(url, pool_pre_ping=True)
        self._migrate()

    @classmethod
    def from_config(cls, config: Any) -> "Store":
        return cls(config.effective_store_url, load_or_create_key(config.effective_secret_key_file))

    # --- plumbing ---------------------------------------------------------------------------------
    @contextmanager
    def begin(self) -> Iterator[Connection]:
        with self.engine.begin() as conn:
            yield conn

    def _migrate(self) -> None:
        """Create the tables, or check that the database's schema version is one this code knows.

        Several processes starting together on a fresh database (gunicorn's workers) race to create the
        tables: a loser's CREATE fails because the winner's table exists. Looking again then finds them all.
        """
        for attempt in range(3):
            try:
                self._create_or_check()
                return
            except sa.exc.DatabaseError:
                if attempt == 2:
                    raise
                time.sleep(0.1 * (attempt + 1))

    def _create_or_check(self) -> None:
        with self.begin() as conn:
            metadata.create_all(conn)
            for index in metric_points_table.indexes:  # create_all adds no index to a table made before it
                index.create(conn, checkfirst=True)
            row = conn.execute(sa.select(meta_table.c.value).where(meta_table.c.key == "schema_version")).first()
            if row is None:
                try:
                    conn.execute(meta_table.insert().values(key="schema_version", value=str(SCHEMA_VERSION)))
                except IntegrityError:
                    pass
            elif int(row[0]) > SCHEMA_VERSION:
                raise ConfigError(f"store.url: the database has schema version {row[0]}, newer than this "
                                  f"cloudgw knows ({SCHEMA_VERSION}); upgrade cloudgw")

    def ping(self) -> None:
        with self.engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))

    def counts(self) -> dict[str, int]:
        """How many idempotency tokens and tombstones the store keeps (cheap COUNTs, for metrics)."""
        with self.engine.connect() as conn:
            return {name: conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
                    for name, table in (("idempotency_tokens", tokens_table), ("tombstones", tombstones_table))}

    def close(self) -> None:
        self.engine.dispose()

    def encrypt(self, text: str) -> str:
        return self._fernet.encrypt(text.encode()).decode()

    def decrypt(self, token: str, ttl: int | None = None) -> str:
        """The secret in `token`; SecretsUnreadable (a 503 to clients, one log line) when this key cannot;
        with `ttl`, SecretExpired for a token written more than `ttl` seconds ago (by the store's clock)."""
        try:
            if ttl is None:
                return self._fernet.decrypt(token.encode()).decode()
            return self._fernet.decrypt_at_time(token.encode(), ttl, int(self.clock())).decode()
        except InvalidToken:
            if ttl is not None:
                try:
                    self._fernet.decrypt(token.encode())
                except InvalidToken:
                    pass
                else:
                    raise SecretExpired(f"the secret is older than {ttl} s") from None
            if self.clock() - self._unreadable_logged >= UNREADABLE_LOG_SECONDS:  # not once per request
                self._unreadable_logged = self.clock()
                log.error("%s", UNREADABLE_SECRETS.format(path="this host's key"))
            raise SecretsUnreadable() from None

    def secrets_readable(self) -> bool:
        """Whether this store's key decrypts what the store holds. Every secret is written with the one key,
        so one stored EC2 key and one operation's credentials (the newest of each) tell."""
        with self.engine.connect() as conn:
            credential = conn.execute(sa.select(credentials_table.c.password_enc)
                                      .order_by(credentials_table.c.created.desc()).limit(1)).scalar()
            operation = conn.execute(sa.select(operations_table.c.secret_enc)
                                     .where(operations_table.c.secret_enc.is_not(None))
                                     .order_by(operations_table.c.created.desc()).limit(1)).scalar()
        samples = [token for token in (credential, operation) if token]
        try:
            for token in samples:
                self._fernet.decrypt(token.encode())
        except InvalidToken:
            return False
        return True

    def check_secrets(self, key_file: Path | str) -> None:
        """ConfigError naming `store.secret_key_file` when this key cannot read the stored secrets: the
        gateway refuses to start rather than answer every EC2 request with an error."""
        if not self.secrets_readable():
            raise ConfigError(UNREADABLE_SECRETS.format(path=key_file))

    # --- EC2 credentials --------------------------------------------------------------------------
    def create_credential(self, username: str, password: str, *, access_key: str | None = None,
                          secret_key: str | None = None, provider: str | None = None,
                          description: str = "") -> StoredCredential:
        """Add an access key (generated unless given) mapped to an oVirt identity; returns it with its secret."""
        access_key = access_key or "AKCG" + secrets.token_hex(8).upper()
        secret_key = secret_key or secrets.token_urlsafe(30)
        created = self.clock()
        try:
            with self.begin() as conn:
                conn.execute(credentials_table.insert().values(
                    access_key=access_key, secret_enc=self.encrypt(secret_key), username=username,
                    password_enc=self.encrypt(password), provider=provider, description=description,
                    created=created))
        except IntegrityError:
            raise AlreadyExists("access key", access_key) from None
        return StoredCredential(access_key, secret_key, username, password, provider, description, created)

    def credential(self, access_key: str) -> StoredCredential | None:
        with self.engine.connect() as conn:
            row = conn.execute(credentials_table.select().where(credentials_table.c.access_key == access_key)).first()
        return None if row is None else self._credential(row)

    def credentials(self) -> list[StoredCredential]:
        with self.engine.connect() as conn:
            rows = conn.execute(credentials_table.select().order_by(credentials_table.c.created)).all()
        return [self._credential(r) for r in rows]

    def delete_credential(self, access_key: str) -> bool:
        with self.begin() as conn:
            result = conn.execute(credentials_table.delete().where(credentials_table.c.access_key == access_key))
        return result.rowcount > 0

    def _credential(self, row: Any) -> StoredCredential:
        return StoredCredential(row.access_key, self.decrypt(row.secret_enc), row.username,
                                self.decrypt(row.password_enc), row.provider, row.description, row.created)

    # --- key pairs --------------------------------------------------------------------------------
    def add_key_pair(self, owner: str, name: str, *, key_id: str, key_type: str, fingerprint: str,
                     public_key: str) -> float:
        """Store a public key under (owner, name); AlreadyExists if the name is taken. Returns its time."""
        created = self.clock()
        try:
            with self.begin() as conn:
                conn.execute(key_pairs_table.insert().values(
                    owner=owner, name=name, id=key_id, key_type=key_type, fingerprint=fingerprint,
                    public_key=public_key, created=created))
        except IntegrityError:
            raise AlreadyExists("key pair", name) from None
        return created

    def key_pairs(self, owner: str) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            rows = conn.execute(key_pairs_table.select().where(key_pairs_table.c.owner == owner)
                                .order_by(key_pairs_table.c.name)).all()
        return [dict(r._mapping) for r in rows]

    def delete_key_pair(self, owner: str, name: str) -> bool:
        with self.begin() as conn:
            result = conn.execute(key_pairs_table.delete().where(
                (key_pairs_table.c.owner == owner) & (key_pairs_table.c.name == name)))
        return result.rowcount > 0

    # --- tags -------------------------------------------------------------------------------------
    def set_tags(self, owner: str, resource_type: str, resource_ids: Iterable[str], tags: dict[str, str]) -> None:
        """Create or overwrite tags on resources, all in one transaction."""
        with self.begin() as conn:
            for resource_id in resource_ids:
                for key, value in tags.items():
                    match = ((tags_table.c.owner == owner) & (tags_table.c.resource_id == resource_id)
                             & (tags_table.c.key == key))
                    updated = conn.execute(tags_table.update().where(match).values(value=value))
                    if updated.rowcount == 0:
                        conn.execute(tags_table.insert().values(owner=owner, resource_id=resource_id, key=key,
                                                                resource_type=resource_type, value=value))

    def delete_tags(self, owner: str, resource_ids: Iterable[str], tags: dict[str, str | None] | None = None) -> None:
        """Delete tags; a None value deletes the key whatever its value, no `tags` deletes them all."""
        with self.begin() as conn:
            for resource_id in resource_ids:
                where = (tags_table.c.owner == owner) & (tags_table.c.resource_id == resource_id)
                if tags is None:
                    conn.execute(tags_table.delete().where(where))
                    continue
                for key, value in tags.items():
                    match = where & (tags_table.c.key == key)
                    if value is not None:
                        match = match & (tags_table.c.value == value)
                    conn.execute(tags_table.delete().where(match))

    def tags(self, owner: str, resource_ids: Iterable[str] | None = None) -> dict[str, dict[str, str]]:
        """resource id -> {key: value}, for the given resources (or all of the owner's)."""
        query = sa.select(tags_table.c.resource_id, tags_table.c.key, tags_table.c.value).where(
            tags_table.c.owner == owner)
        if resource_ids is not None:
            query = query.where(tags_table.c.resource_id.in_(list(resource_ids)))
        result: dict[str, dict[str, str]] = {}
        with self.engine.connect() as conn:
            for resource_id, key, value in conn.execute(query):
                result.setdefault(resource_id, {})[key] = value
        return result

    def tagged_resources(self, owner: str) -> dict[str, str]:
        """resource id -> resource type, of every resource the owner keeps tags on."""
        query = sa.select(tags_table.c.resource_id, tags_table.c.resource_type).where(
            tags_table.c.owner == owner).distinct()
        with self.engine.connect() as conn:
            return {resource_id: resource_type for resource_id, resource_type in conn.execute(query)}

    # --- what the store keeps about one backend resource -------------------------------------------
    def keep_records(self, resource_type: str, entity_kind: str) -> None:
        """Entities of `entity_kind`, keyed by a resource's id, are records about resources of that type (EC2's
        instance record, the driver's key names): housekeeping removes them with the resource's tags once
        the engine no longer has it."""
        self.resource_records.setdefault(resource_type, set()).add(entity_kind)

    def entity_ids(self, kind: str, owner: str) -> list[str]:
        with self.engine.connect() as conn:
            return [r[0] for r in conn.execute(sa.select(entities_table.c.id).where(
                (entities_table.c.kind == kind) & (entities_table.c.owner == owner)))]

    def forget_resource(self, owner: str, resource_id: str) -> None:
        """Drop the tags and the records the owner keeps about a resource, in one transaction."""
        kinds = sorted(set().union(*self.resource_records.values())) if self.resource_records else []
        with self.begin() as conn:
            conn.execute(tags_table.delete().where(
                (tags_table.c.owner == owner) & (tags_table.c.resource_id == resource_id)))
            if kinds:
                conn.execute(entities_table.delete().where(
                    entities_table.c.kind.in_(kinds) & (entities_table.c.owner == owner)
                    & (entities_table.c.id == resource_id)))

    # --- idempotency tokens -----------------------------------------------------------------------
    def claim_token(self, owner: str, token: str, fingerprint: str, result: dict[str, Any]) -> dict[str, Any] | None:
        """Record `result` under the token; if the token was used before, return what it recorded instead.

        The returned dict carries the stored `fingerprint` so callers can refuse a reused token with
        different parameters (as EC2 does with IdempotentParameterMismatch).
        """
        try:
            with self.begin() as conn:
                conn.execute(tokens_table.insert().values(owner=owner, token=token, fingerprint=fingerprint,
                                                          result=json.dumps(result), created=self.clock()))
            return None
        except IntegrityError:
            return self.token(owner, token)

    def token(self, owner: str, token: str) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            row = conn.execute(tokens_table.select().where(
                (tokens_table.c.owner == owner) & (tokens_table.c.token == token))).first()
        return None if row is None else {"fingerprint": row.fingerprint, "result": json.loads(row.result)}

    def update_token(self, owner: str, token: str, result: dict[str, Any]) -> None:
        with self.begin() as conn:
            conn.execute(tokens_table.update().where(
                (tokens_table.c.owner == owner) & (tokens_table.c.token == token)).values(result=json.dumps(result)))

    def tokens_before(self, cutoff: float) -> list[dict[str, Any]]:
        """Tokens recorded before `cutoff`: {'owner', 'token', 'result'} (housekeeping purges them)."""
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(tokens_table.c.owner, tokens_table.c.token, tokens_table.c.result)
                                .where(tokens_table.c.created < cutoff)).all()
        return [{"owner": r.owner, "token": r.token, "result": json.loads(r.result)} for r in rows]

    def forget_token(self, owner: str, token: str) -> None:
        with self.begin() as conn:
            conn.execute(tokens_table.delete().where(
                (tokens_table.c.owner == owner) & (tokens_table.c.token == token)))

    # --- tombstones -------------------------------------------------------------------------------
    def add_tombstone(self, place: str, resource_id: str, kind: str, data: dict[str, Any]) -> None:
        """Remember a deleted resource (e.g. a terminated instance) under a place (engine + data center)."""
        with self.begin() as conn:
            conn.execute(tombstones_table.delete().where(
                (tombstones_table.c.place == place) & (tombstones_table.c.resource_id == resource_id)))
            conn.execute(tombstones_table.insert().values(place=place, resource_id=resource_id, kind=kind,
                                                          data=json.dumps(data), deleted_at=self.clock()))

    def tombstones(self, place: str, kind: str, max_age: float) -> list[dict[str, Any]]:
        """Tombstones younger than max_age seconds, newest first: {'resource_id', 'data', 'deleted_at'}."""
        since = self.clock() - max_age
        with self.engine.connect() as conn:
            rows = conn.execute(tombstones_table.select().where(
                (tombstones_table.c.place == place) & (tombstones_table.c.kind == kind)
                & (tombstones_table.c.deleted_at >= since)).order_by(tombstones_table.c.deleted_at.desc())).all()
        return [{"resource_id": r.resource_id, "data": json.loads(r.data), "deleted_at": r.deleted_at} for r in rows]

    def tombstoned(self, kind: str) -> set[str]:
        """Ids of every resource of `kind` that has a tombstone, in any place."""
        with self.engine.connect() as conn:
            return {r[0] for r in conn.execute(sa.select(tombstones_table.c.resource_id).where(
                tombstones_table.c.kind == kind))}

    def remove_tombstone(self, place: str, resource_id: str) -> None:
        with self.begin() as conn:
            conn.execute(tombstones_table.delete().where(
                (tombstones_table.c.place == place) & (tombstones_table.c.resource_id == resource_id)))

    def follow_tombstones(self, tombstone_kind: str, entity_kind: str) -> None:
        """Have entities of `entity_kind` whose id is a resource's id go when the resource's tombstone does.

        A frontend keeps records about backend resources (EC2's per-instance record) that must outlive the
        resource while its tombstone shows it (a terminated instance keeps its launch index), and no
        longer: they are removed with the expired tombstone, in the same transaction. Resource ids are
        backend UUIDs, so the records of other places (data centers, engines) are never touched.
        """
        self._followers.setdefault(tombstone_kind, set()).add(entity_kind)

    def purge_tombstones(self, max_age: float) -> int:
        """Remove tombstones older than max_age seconds, and the entities that follow them; returns how many
        tombstones went."""
        cutoff = self.clock() - max_age
        expired = tombstones_table.c.deleted_at < cutoff
        with self.begin() as conn:
            if self._followers:
                gone: dict[str, list[str]] = {}
                for kind, resource_id in conn.execute(sa.select(tombstones_table.c.kind,
                                                                tombstones_table.c.resource_id).where(expired)):
                    gone.setdefault(kind, []).append(resource_id)
                for kind, resource_ids in gone.items():
                    followers = sorted(self._followers.get(kind, ()))
                    for start in range(0, len(resource_ids) if followers else 0, 500):
                        conn.execute(entities_table.delete().where(
                            entities_table.c.kind.in_(followers)
                            & entities_table.c.id.in_(resource_ids[start:start + 500])))
            result = conn.execute(tombstones_table.delete().where(expired))
        return result.rowcount

    # --- gateway-only entities (CIMI machine templates, credentials, ...) -------------------------
    def put_entity(self, kind: str, owner: str, entity_id: str, data: dict[str, Any]) -> None:
        """Create or replace an entity in one statement (INSERT ... ON CONFLICT DO UPDATE): two processes
        putting the same one at once (two hosts recording a new disk) both succeed, the later one's data
        standing; an UPDATE-then-INSERT lost that race on PostgreSQL with a duplicate key."""
        now = self.clock()
        # the store runs on SQLite or PostgreSQL, whose INSERTs both take ON CONFLICT
        insert = (postgresql_insert if self.engine.dialect.name == "postgresql" else sqlite_insert)(entities_table)
        upsert = insert.values(kind=kind, owner=owner, id=entity_id, data=json.dumps(data), created=now,
                               updated=now).on_conflict_do_update(
            index_elements=[entities_table.c.kind, entities_table.c.owner, entities_table.c.id],
            set_={"data": insert.excluded.data, "updated": insert.excluded.updated})
        with self.begin() as conn:
            conn.execute(upsert)

    def add_entities(self, kind: str, owner: str, items: dict[str, dict[str, Any]]) -> None:
        """Create the entities not there yet, in one transaction (INSERT ... ON CONFLICT DO NOTHING: what is
        there stands, also against a concurrent writer). One commit, not one each: a first listing of a
        thousand undated disks wrote a thousand transactions, and every listing racing it wrote them again."""
        if not items:
            return
        now = self.clock()
        insert = (postgresql_insert if self.engine.dialect.name == "postgresql" else sqlite_insert)(entities_table)
        rows = [{"kind": kind, "owner": owner, "id": entity_id, "data": json.dumps(data), "created": now,
                 "updated": now} for entity_id, data in items.items()]
        with self.begin() as conn:
            for start in range(0, len(rows), 500):
                conn.execute(insert.on_conflict_do_nothing(
                    index_elements=[entities_table.c.kind, entities_table.c.owner, entities_table.c.id]),
                    rows[start:start + 500])

    def delete_entities(self, kind: str, owner: str, entity_ids: Iterable[str]) -> int:
        """Remove these entities in one transaction; how many there were."""
        ids, removed = sorted(set(entity_ids)), 0
        if not ids:
            return 0
        with self.begin() as conn:
            for start in range(0, len(ids), 500):
                removed += conn.execute(entities_table.delete().where(
                    (entities_table.c.kind == kind) & (entities_table.c.owner == owner)
                    & entities_table.c.id.in_(ids[start:start + 500]))).rowcount
        return removed

    def entity(self, kind: str, owner: str, entity_id: str) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(entities_table.c.data).where(
                (entities_table.c.kind == kind) & (entities_table.c.owner == owner)
                & (entities_table.c.id == entity_id))).first()
        return None if row is None else json.loads(row[0])

    def entities(self, kind: str, owner: str, ids: Iterable[str] | None = None) -> list[dict[str, Any]]:
        """The owner's entities of `kind`, oldest first; only those of `ids` when given (a request about a few
        resources reads their records, not every record kept)."""
        query = sa.select(entities_table.c.data).where(
            (entities_table.c.kind == kind) & (entities_table.c.owner == owner))
        if ids is not None:
            query = query.where(entities_table.c.id.in_(sorted(set(ids))))
        with self.engine.connect() as conn:
            rows = conn.execute(query.order_by(entities_table.c.created)).all()
        return [json.loads(r[0]) for r in rows]

    def changed_since(self, kind: str, owner: str, since: float) -> dict[str, float]:
        """id -> when it was last written, of the entities of `kind` written at or after `since`."""
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(entities_table.c.id, entities_table.c.updated).where(
                (entities_table.c.kind == kind) & (entities_table.c.owner == owner)
                & (entities_table.c.updated >= since))).all()
        return {r.id: r.updated for r in rows}

    def purge_entities(self, kind: str, max_age: float, expired: Callable[[dict[str, Any]], bool]) -> int:
        """Remove the entities of `kind` unchanged for max_age seconds that `expired(data)` says are done.

        Only entities not written since the cutoff are read, so a pass costs little; one updated meanwhile
        (its `updated` moved) is kept. Returns how many went.
        """
        cutoff = self.clock() - max_age
        stale = (entities_table.c.kind == kind) & (entities_table.c.updated < cutoff)
        removed = 0
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(entities_table.c.owner, entities_table.c.id, entities_table.c.data)
                                .where(stale)).all()
        doomed = [(r.owner, r.id) for r in rows if expired(json.loads(r.data))]
        for start in range(0, len(doomed), 200):
            with self.begin() as conn:
                for owner, entity_id in doomed[start:start + 200]:
                    removed += conn.execute(entities_table.delete().where(
                        stale & (entities_table.c.owner == owner) & (entities_table.c.id == entity_id))).rowcount
        return removed

    def delete_entity(self, kind: str, owner: str, entity_id: str) -> bool:
        with self.begin() as conn:
            result = conn.execute(entities_table.delete().where(
                (entities_table.c.kind == kind) & (entities_table.c.owner == owner)
                & (entities_table.c.id == entity_id)))
        return result.rowcount > 0
