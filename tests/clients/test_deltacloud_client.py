"""The `deltacloud` 0.9.1 client from PyPI (JSON, Basic auth) against a gateway on its embedded default.

What the library can do on Python 3 works end to end: credentials check, realms, images, hardware profiles
with their properties, keys, instances, and an instance created, driven through its action links and
destroyed. Two calls are broken in the library itself on Python 3, whatever the server answers, and are
pinned here so a fixed release would be noticed: `instances(id=...)` calls `urllib.quote_plus` (moved to
`urllib.parse` in Python 3) and `Instance.login` / `authentication_type` read an undefined name.
"""
from __future__ import annotations

import base64
import time
import uuid

import pytest
import requests

deltacloud = pytest.importorskip("deltacloud")


@pytest.fixture(scope="module")
def client(gateway) -> "deltacloud.Deltacloud":
    return deltacloud.Deltacloud(gateway.api_url, *gateway.admin)


def refreshed_until(instance, state: str, timeout: float = 45.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        instance.refresh()
        if instance.state == state:
            return instance
        time.sleep(0.25)
    raise AssertionError(f"instance {instance.id} did not reach {state} (last {instance.state})")


def test_credentials_are_checked_with_force_auth(client, gateway) -> None:
    assert client.valid_credentials()
    assert not deltacloud.Deltacloud(gateway.api_url, "admin@internal", "wrong").valid_credentials()


def test_catalogues_are_readable(client) -> None:
    realms = client.realms()
    assert [(r.name, r.state) for r in realms] == [("Default", "AVAILABLE")]
    images = client.images()
    assert "Blank" in {i.name for i in images}
    assert all(i.state == "AVAILABLE" and i.owner and i.architecture == "x86_64" for i in images)
    profiles = {p.name: p for p in client.hardware_profiles()}
    small = {prop.name: prop for prop in profiles["Small"].properties}
    assert (small["memory"].kind, small["memory"].value, small["memory"].unit) == ("fixed", 2048, "MB")
    flexible = {prop.name: prop for prop in profiles["flexible"].properties}
    assert flexible["memory"].kind == "range" and flexible["memory"].range_min == 512
    assert flexible["architecture"].enums == ["x86_64"]


def test_keys_are_listed_with_their_fingerprints(client, gateway) -> None:
    name = f"pyclient-{uuid.uuid4().hex[:8]}"
    created = requests.post(f"{gateway.api_url}/keys", data={"name": name}, auth=gateway.admin,
                            headers={"Accept": "application/json"}, timeout=30).json()["key"]
    try:
        keys = {k.id: k for k in client.keys()}
        assert keys[name].fingerprint == created["fingerprint"] and keys[name].pem is None
    finally:
        requests.delete(created["href"], auth=gateway.admin, timeout=30)


def test_an_instance_is_created_driven_by_its_links_and_destroyed(client, gateway) -> None:
    key = f"pyclient-{uuid.uuid4().hex[:8]}"
    requests.post(f"{gateway.api_url}/keys", data={"name": key}, auth=gateway.admin, timeout=30).raise_for_status()
    image = next(i for i in client.images() if i.name != "Blank")
    realm = client.realms()[0]
    small = next(p for p in client.hardware_profiles() if p.name == "Small")
    instance = client.create_instance(image.id, {
        "name": f"pyclient-{uuid.uuid4().hex[:6]}", "realm_id": realm.id, "hwp_id": small.id, "keyname": key,
        "user_data": base64.b64encode(b"#cloud-config\n").decode()})
    assert instance.id and instance.state in ("PENDING", "RUNNING")
    assert instance.owner_id == "admin@internal" and instance.key_name == key
    assert instance.id in {i.id for i in client.instances()}

    refreshed_until(instance, "RUNNING")
    assert set(instance.actions()) == {"stop", "reboot", "destroy"}
    assert not instance.start()  # not offered while running: the client refuses without a request
    assert instance.stop()
    refreshed_until(instance, "STOPPED")
    assert instance.start()
    refreshed_until(instance, "RUNNING")
    assert instance.reboot()
    refreshed_until(instance, "RUNNING")
    assert instance.destroy()
    deadline = time.monotonic() + 45
    while instance.id in {i.id for i in client.instances()}:
        assert time.monotonic() < deadline
        time.sleep(0.25)
    requests.delete(f"{gateway.api_url}/keys/{key}", auth=gateway.admin, timeout=30)


def test_library_calls_broken_on_python3(client) -> None:
    """Library bugs, not the server's: these fail before (or without) any request."""
    with pytest.raises(AttributeError, match="quote_plus"):
        client.instances(id="any")
    instance = deltacloud.Instance(client, {"id": "any", "authentication": {"login": {}}})
    with pytest.raises(NameError):
        instance.login
    with pytest.raises(NameError):
        instance.authentication_type
