"""What a refused request must leave unchanged: the engine's objects and the gateway's stored entities.

`snapshot(gateway)` waits for the gateway's operations in flight to end, then reads, over real HTTP, the
ids of the simulator's VMs, disks and templates and the gateway's listings of what only it keeps (key
pairs, CIMI volume configurations, volume templates, machine templates, credentials). Two snapshots compare equal when nothing was created or removed.
"""
from __future__ import annotations

import sqlite3
import time
from typing import Any, Callable, TypeVar

import requests
from lxml import etree

from tests.clients.ec2_helpers import signed_post

T = TypeVar("T")
ENGINE_COLLECTIONS = ("vms", "disks", "templates")
CIMI_COLLECTIONS = ("credentials", "volume_configurations", "volume_templates", "machine_templates")


def engine_ids(gateway: Any, collection: str) -> frozenset[str]:
    response = requests.get(f"{gateway.engine_url}/{collection}", auth=gateway.admin, timeout=30,
                            headers={"Accept": "application/xml"})
    response.raise_for_status()
    return frozenset(e.get("id") for e in etree.fromstring(response.content) if isinstance(e.tag, str))


def cimi_ids(gateway: Any, collection: str) -> frozenset[str]:
    """Every id in a CIMI collection; the listing itself must answer 200 in both formats."""
    url = f"{gateway.url}/cimi/{collection}"
    ids: set[str] = set()
    for media in ("application/json", "application/xml"):
        response = requests.get(url, auth=gateway.admin, headers={"Accept": media}, timeout=30)
        assert response.status_code == 200, f"GET {url} ({media}): {response.status_code} {response.text[:300]}"
    document = requests.get(url, auth=gateway.admin, headers={"Accept": "application/json"}, timeout=30).json()
    for key, value in document.items():
        if isinstance(value, list) and key != "operations":
            ids.update(entry["id"] for entry in value)
    return frozenset(ids)


def ec2_key_names(gateway: Any) -> frozenset[str]:
    response = signed_post(gateway, "Action=DescribeKeyPairs&Version=2016-11-15")
    assert response.status_code == 200, response.text[:300]
    root = etree.fromstring(response.content)
    return frozenset(e.text or "" for e in root.iter("{*}keyName"))


def operations_in_flight(gateway: Any, horizon: float) -> int:
    """Durable operations of the gateway not yet ended and due before `horizon` (a time.time())."""
    database = sqlite3.connect(f"file:{gateway.data_dir / 'cloudgw.db'}?mode=ro", uri=True, timeout=10)
    try:
        return database.execute("SELECT count(*) FROM operations WHERE state IN ('pending', 'running') "
                                "AND due_at < ?", (horizon,)).fetchone()[0]
    finally:
        database.close()


def quiet(gateway: Any, timeout: float = 45.0) -> None:
    """Wait (at most `timeout`) until the operations earlier requests started have ended: a termination
    finishing in the background removes a VM and writes a tombstone, which is not the doing of the
    request a test is judging. An operation due later than that is left to run when it will."""
    deadline = time.monotonic() + timeout
    horizon = time.time() + timeout
    while operations_in_flight(gateway, horizon) and time.monotonic() < deadline:
        time.sleep(0.2)


def snapshot(gateway: Any) -> dict[str, frozenset[str]]:
    quiet(gateway)
    state = {f"engine {c}": engine_ids(gateway, c) for c in ENGINE_COLLECTIONS}
    state.update({f"cimi {c}": cimi_ids(gateway, c) for c in CIMI_COLLECTIONS})
    state["ec2 key pairs"] = ec2_key_names(gateway)
    return state


def settled(read: Callable[[], T], timeout: float = 60.0, interval: float = 0.5) -> T:
    """`read()` once two readings `interval` apart agree: the session's engine is shared, and what earlier
    tests started (removals, launches) finishes in the background; a refused request is judged against a
    world that has stopped moving."""
    deadline = time.monotonic() + timeout
    previous = read()
    while time.monotonic() < deadline:
        time.sleep(interval)
        current = read()
        if current == previous:
            return current
        previous = current
    raise AssertionError(f"the gateway's state kept changing for {timeout:.0f} s")
