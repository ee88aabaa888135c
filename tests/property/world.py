"""The invariants every generated request is held to, and what they are checked against.

- no 500 (501 and the engine's 502/503/504 are answers, not failures);
- the answer is in the frontend's own format (its error body for every error);
- no traceback in the gateway's output while the request ran;
- a 4xx changed nothing: the engine's VMs, disks and templates and the gateway store's rows are the
  same before and after it (a cheap snapshot per mutating request: simulator ids over HTTP, the
  store's SQLite file read-only), and at the end of each property the gateway's own listings of
  key pairs, credentials, volume configurations and templates still answer in both formats.
Whatever a generated request legitimately created (a 2xx) is removed when the property ends.
"""
from __future__ import annotations

import sqlite3
import time
from typing import Any

import requests
from lxml import etree

from tests.clients.ec2_helpers import signed_post
from tests.gateway_state import quiet, settled, snapshot

ALLOWED_5XX = (501, 502, 503, 504)
# Store rows a refused request must not touch: (table, columns compared, which rows). Lease and progress
# columns of operations and jobs move on their own, so only their ids count; housekeeping's marks of what the
# engine no longer lists are written by its own thread, whenever it runs.
STORE_ROWS = (("key_pairs", "owner, name, public_key", ""), ("tags", "owner, resource_id, key, value", ""),
              ("entities", "kind, owner, id, CASE WHEN kind LIKE '%job%' THEN '' ELSE data END",
               " WHERE kind NOT LIKE 'housekeeping.%'"),
              ("idempotency_tokens", "owner, token", ""), ("operations", "id", ""), ("credentials", "access_key", ""),
              ("tombstones", "place, resource_id", ""))


class World:
    def __init__(self, gateway: Any) -> None:
        self.gateway = gateway
        self.engine = requests.Session()
        self.engine.auth = gateway.admin
        self.engine.headers["Accept"] = "application/xml"
        self.log_cursor = len(gateway.output)
        self.initial: dict[str, frozenset[str]] = {}
        self.requests = 0

    # --- snapshots ------------------------------------------------------------------------------------
    def quick(self) -> dict[str, frozenset]:
        """Engine ids and store rows: cheap enough to take around every mutating request."""
        quiet(self.gateway)
        state: dict[str, frozenset] = {}
        for collection in ("vms", "disks", "templates"):
            answer = self.engine.get(f"{self.gateway.engine_url}/{collection}", timeout=30)
            answer.raise_for_status()
            state[f"engine {collection}"] = frozenset(
                e.get("id") for e in etree.fromstring(answer.content) if isinstance(e.tag, str))
        database = sqlite3.connect(f"file:{self.gateway.data_dir / 'cloudgw.db'}?mode=ro", uri=True, timeout=10)
        try:
            tables = {row[0] for row in database.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            for table, columns, rows in STORE_ROWS:
                if table in tables:
                    state[f"store {table}"] = frozenset(database.execute(f"SELECT {columns} FROM {table}{rows}"))
        finally:
            database.close()
        return state

    def settle(self, timeout: float = 30.0) -> None:
        """Wait until what earlier tests left running (removals, jobs) has finished: two equal snapshots."""
        settled(self.quick, timeout)
        self.initial = snapshot(self.gateway)
        self.log_cursor = len(self.gateway.output)

    # --- the invariants -------------------------------------------------------------------------------
    def check_log(self, what: str) -> None:
        lines = self.gateway.output[self.log_cursor:]
        self.log_cursor += len(lines)
        text = "".join(lines)
        assert "Traceback" not in text, f"{what}: the gateway logged a traceback:\n{text[-4000:]}"

    def check_status(self, response: requests.Response, what: str) -> None:
        self.requests += 1
        assert response.status_code < 500 or response.status_code in ALLOWED_5XX, \
            f"{what}: {response.status_code} {response.text[:600]}"

    def unchanged(self, before: dict[str, frozenset], response: requests.Response, what: str) -> None:
        """After a 4xx, nothing may differ from `before`."""
        if 400 <= response.status_code < 500:
            after = self.quick()
            changed = {k: (sorted(map(str, after[k] - before[k]))[:5], sorted(map(str, before[k] - after[k]))[:5])
                       for k in before if after.get(k) != before[k]}
            assert not changed, f"{what}: refused with {response.status_code} but changed (added, removed) {changed}"

    # --- the end of a property ---------------------------------------------------------------------------
    def finish(self) -> None:
        """Listings still answer in both formats; what generated requests created is removed."""
        time.sleep(0.2)  # the output drain thread is asynchronous
        self.check_log("after the property")
        final = snapshot(self.gateway)
        for key, ids in final.items():
            for created in ids - self.initial.get(key, frozenset()):
                self._remove(key, created)

    def _remove(self, key: str, created: str) -> None:
        kind, _, collection = key.partition(" ")
        if kind == "cimi":
            requests.delete(created, auth=self.gateway.admin, timeout=30)
        elif key == "ec2 key pairs":
            signed_post(self.gateway, f"Action=DeleteKeyPair&Version=2016-11-15&KeyName={requests.utils.quote(created)}")
        elif collection == "disks":
            self.engine.delete(f"{self.gateway.engine_url}/disks/{created}", timeout=30)
        else:
            raise AssertionError(f"a generated request created {key} {created}, which no property should")
