"""What a refused request must leave unchanged: the engine's objects and the gateway's stored entities.

`snapshot(gateway)` reads, over real HTTP, the ids of the simulator's VMs, disks and templates and the
gateway's listings of what only it keeps (key pairs, CIMI volume configurations, volume templates,
machine templates, credentials). Two snapshots compare equal when nothing was created or removed.
"""
from __future__ import annotations

from typing import Any

import requests
from lxml import etree

from tests.clients.ec2_helpers import signed_post

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


def snapshot(gateway: Any) -> dict[str, frozenset[str]]:
    state = {f"engine {c}": engine_ids(gateway, c) for c in ENGINE_COLLECTIONS}
    state.update({f"cimi {c}": cimi_ids(gateway, c) for c in CIMI_COLLECTIONS})
    state["ec2 key pairs"] = ec2_key_names(gateway)
    return state
