"""Scenarios a Deltacloud user runs, in XML and JSON, following only the links the API serves:
an instance's whole life, keys, volumes attached and detached, snapshots, an image captured."""
from __future__ import annotations

import base64
import time
import uuid

import pytest

from .deltacloud_http import Api, Resource

ADDRESS_TYPES = {"ipv4", "ipv6", "mac", "hostname"}


@pytest.fixture(params=["xml", "json"])
def api(request: pytest.FixtureRequest, gateway) -> Api:
    return Api(gateway.api_url, request.param, gateway.admin)


def cloud_image(api: Api) -> Resource:
    return next(i for i in api.list("images") if i["name"] != "Blank")


def profile_named(api: Api, name: str) -> Resource:
    return next(p for p in api.list("hardware_profiles") if p["name"] == name)


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def launch(api: Api, **extra: str) -> Resource:
    """POST to the instances collection from the entry point, as a form."""
    image = cloud_image(api)
    return api.create("instances", "instance", {"image_id": image.id, "name": unique("dc"), **extra})


def launch_from_image_link(api: Api) -> Resource:
    """Follow an image's create_instance link (`/api/instances;image_id=ID`, a matrix parameter)."""
    image = cloud_image(api)
    response = api.act(image, "create_instance", 201, data={"name": unique("dc")})
    created = api.parse_one(response, "instance")
    assert created["image"] == image.id and response.headers["Location"] == created.href
    return created


def test_instance_lifecycle_through_action_links(api: Api) -> None:
    key = api.create("keys", "key", {"name": unique("dc-key")})
    realm = api.list("realms")[0]
    small = profile_named(api, "Small")
    created = launch(api, realm_id=realm.id, hwp_id=small.id, keyname=key.id,
                     user_data=base64.encodebytes(b"#cloud-config\nhostname: dc\n").decode())
    assert created["state"] in ("PENDING", "RUNNING")
    assert (created["realm"], created["hardware_profile"], created["keyname"]) == (realm.id, small.id, key.id)
    assert set(created.actions) <= {"destroy", "stop", "reboot"}

    running = api.wait_for(created.href, "instance", "RUNNING")
    assert set(running.actions) == {"stop", "reboot", "destroy"}
    assert running.actions["destroy"] == (created.href, "delete")
    assert [i.id for i in api.list("instances", state="RUNNING") if i.id == created.id] == [created.id]
    assert created.id not in {i.id for i in api.list("instances", state="STOPPED")}
    assert created.id in {i.id for i in api.list("instances", realm_id=realm.id, image_id=created["image"])}
    deadline = time.monotonic() + 20
    while not any(kind == "ipv4" for kind, _ in running.addresses) and time.monotonic() < deadline:
        time.sleep(0.3)
        running = api.show(created.href, "instance")
    assert {kind for kind, _ in running.addresses} <= ADDRESS_TYPES
    assert {"ipv4", "mac"} <= {kind for kind, _ in running.addresses}

    # start is not advertised while running; asking anyway is 405
    refused = api.call("POST", f"{created.href}/start")
    assert refused.status_code == 405

    stopping = api.parse_one(api.act(running, "stop", 202), "instance", wrapped=False)
    assert stopping.id == created.id
    stopped = api.wait_for(created.href, "instance", "STOPPED")
    assert {"start", "destroy"} <= set(stopped.actions) and "stop" not in stopped.actions

    api.act(stopped, "start", 202)
    running = api.wait_for(created.href, "instance", "RUNNING")
    rebooted = api.parse_one(api.act(running, "reboot", 202), "instance", wrapped=False)
    assert rebooted.id == created.id
    running = api.wait_for(created.href, "instance", "RUNNING")

    api.act(running, "destroy", 204)
    api.wait_gone(created.href)
    assert created.id not in {i.id for i in api.list("instances")}
    api.act(key, "destroy", 204)


def test_keys_return_the_private_key_once(api: Api) -> None:
    name = unique("dc-key")
    created = api.create("keys", "key", {"name": name})
    assert created.id == name and created["fingerprint"]
    pem = created["pem_rsa_key"] if api.fmt == "json" else created["pem"]
    assert pem.startswith("-----BEGIN")
    shown = api.show(created.href, "key")
    assert shown["fingerprint"] == created["fingerprint"]
    assert (shown["pem_rsa_key"] if api.fmt == "json" else shown["pem"]) is None
    assert name in {k.id for k in api.list("keys")}
    again = api.call("POST", api.href("keys"), data={"name": name})
    assert again.status_code == 409
    api.act(shown, "destroy", 204)
    assert api.call("GET", created.href).status_code == 404
    assert api.call("DELETE", created.href).status_code == 404


def test_keys_import_a_public_key(api: Api) -> None:
    source = api.create("keys", "key", {"name": unique("dc-src")})
    public_key = source["public_key"]
    imported = api.create("keys", "key", {"name": unique("dc-imported"), "public_key": public_key})
    assert imported["public_key"] == public_key
    assert (imported["pem_rsa_key"] if api.fmt == "json" else imported["pem"]) is None
    for key in (source, imported):
        api.act(key, "destroy", 204)


def test_new_volume_attached_snapshotted_detached_and_destroyed(api: Api) -> None:
    instance = api.wait_for(launch(api).href, "instance", "RUNNING")  # its disks copied: attached at once
    volume = api.create("storage_volumes", "storage_volume", {"capacity": "1", "name": unique("dc-vol")})
    assert float(volume["capacity"]) == 1.0
    volume = api.wait_for(volume.href, "storage_volume", "AVAILABLE")
    assert set(volume.actions) == {"attach", "destroy"}

    loose = api.create("storage_snapshots", "storage_snapshot", {"volume_id": volume.id, "description": "loose"})
    assert loose["instance"] in (None, {}) and loose["storage_volume"] == volume.id  # a copy of a volume of none
    loose = api.wait_for(loose.href, "storage_snapshot", "AVAILABLE")
    restored = api.create("storage_volumes", "storage_volume", {"snapshot_id": loose.id, "name": unique("dc-copy")})
    restored = api.wait_for(restored.href, "storage_volume", "AVAILABLE")
    assert float(restored["capacity"]) == 1.0
    api.act(restored, "destroy", 204)
    api.checked("DELETE", loose.href, 204)
    api.wait_gone(loose.href)

    attached = api.parse_one(api.act(volume, "attach", 202, data={"instance_id": instance.id, "device": "/dev/vdb"}),
                             "storage_volume")
    assert attached["instance"] == instance.id
    volume = api.show(volume.href, "storage_volume")
    assert volume["instance"] == instance.id and set(volume.actions) == {"detach"}
    shown = api.show(instance.href, "instance")
    listed = shown["storage_volumes"]
    ids = ({v.get("id") for v in listed} if api.fmt == "json"
           else {v.get("id") for v in shown["_element"].find("storage_volumes")})
    assert volume.id in ids

    snapshot = api.create("storage_snapshots", "storage_snapshot", {"volume_id": volume.id})
    assert snapshot["instance"] == instance.id and snapshot["state"] in ("PENDING", "AVAILABLE")
    assert snapshot.id in {s.id for s in api.list("storage_snapshots")}
    # the engine refuses to remove a snapshot it is still creating (409): wait until it is AVAILABLE
    snapshot = api.wait_for(snapshot.href, "storage_snapshot", "AVAILABLE")
    covered = ({v.get("id") for v in snapshot["storage_volumes"]} if api.fmt == "json"
               else {v.get("id") for v in snapshot["_element"].find("storage_volumes")})
    assert covered == {volume.id}  # that volume alone, not every disk of the instance
    restored = api.create("storage_volumes", "storage_volume", {"snapshot_id": snapshot.id, "name": unique("dc-copy")})
    restored = api.wait_for(restored.href, "storage_volume", "AVAILABLE")
    assert float(restored["capacity"]) == 1.0  # a copy of the volume, not of the instance's 10 GiB root disk
    api.act(restored, "destroy", 204)
    api.checked("DELETE", snapshot.href, 204)
    # the engine refuses to detach a disk a snapshot still holds (400): wait until the removal is done
    api.wait_gone(snapshot.href)

    # the engine cannot hot-unplug a disk while the VM is still launching (409): detach from a running one
    api.wait_for(instance.href, "instance", "RUNNING")
    api.act(volume, "detach", 202)
    volume = api.wait_for(volume.href, "storage_volume", "AVAILABLE")
    assert volume["instance"] in (None, {}) and "attach" in volume.actions
    api.act(volume, "destroy", 204)
    going = api.call("GET", volume.href)  # the engine deletes the disk's image before the disk
    if going.status_code == 200:
        going = api.parse_one(going, "storage_volume")
        assert going["state"] == "DELETING" and not going.actions
    api.wait_gone(volume.href)
    api.act(api.show(instance.href, "instance"), "destroy", 204)


def test_boot_volume_detached_snapshotted_and_attached_again(api: Api) -> None:
    instance = api.wait_for(launch_from_image_link(api).href, "instance", "RUNNING")
    boot_id = instance["storage_volumes"][0]["id"] if api.fmt == "json" else \
        instance["_element"].find("storage_volumes/storage_volume").get("id")
    volume = api.show(f"{api.href('storage_volumes')}/{boot_id}", "storage_volume")
    assert volume["instance"] == instance.id and set(volume.actions) == {"detach"}

    snapshot = api.create("storage_snapshots", "storage_snapshot", {"volume_id": volume.id, "description": "dc"})
    assert snapshot["instance"] == instance.id and snapshot["storage_volume"] == volume.id
    snapshot = api.wait_for(snapshot.href, "storage_snapshot", "AVAILABLE")
    assert snapshot.id in {s.id for s in api.list("storage_snapshots")}
    api.checked("DELETE", snapshot.href, 204)

    api.act(instance, "stop", 202)
    api.wait_for(instance.href, "instance", "STOPPED")
    api.act(volume, "detach", 202)
    volume = api.wait_for(volume.href, "storage_volume", "AVAILABLE")
    assert volume["instance"] in (None, {}) and set(volume.actions) == {"attach", "destroy"}
    shown = api.show(instance.href, "instance")
    assert not (shown["storage_volumes"] if api.fmt == "json" else list(shown["_element"].find("storage_volumes")))

    attached = api.parse_one(api.act(volume, "attach", 202, data={"instance_id": instance.id}), "storage_volume")
    assert attached["instance"] == instance.id and "detach" in attached.actions
    api.act(api.show(instance.href, "instance"), "destroy", 204)
    api.wait_gone(instance.href)


def test_image_captured_from_a_stopped_instance_and_destroyed(gateway) -> None:
    api = Api(gateway.api_url, "json", gateway.admin)
    instance = api.wait_for(launch(api).href, "instance", "RUNNING")
    api.act(instance, "stop", 202)
    stopped = api.wait_for(instance.href, "instance", "STOPPED")
    name = unique("dc-image")
    response = api.act(stopped, "create_image", 201, data={"name": name})
    image = api.parse_one(response, "image")
    assert image["name"] == name and response.headers["Location"] == image.href
    image = api.wait_for(image.href, "image", "AVAILABLE", timeout=60)
    api.act(image, "destroy_image", 204)
    going = api.call("GET", image.href)  # the engine removes the template's disks first
    if going.status_code == 200:
        going = api.parse_one(going, "image")
        assert going["state"] == "DELETING" and not going.actions
    api.wait_gone(image.href)
    api.act(api.show(instance.href, "instance"), "destroy", 204)


def test_keys_belong_to_the_identity_that_made_them(gateway) -> None:
    admin = Api(gateway.api_url, "json", gateway.admin)
    user = Api(gateway.api_url, "json", ("user@internal", "user"))
    key = admin.create("keys", "key", {"name": unique("dc-mine")})
    assert key.id not in {k.id for k in user.list("keys")}
    assert user.call("GET", key.href).status_code == 404
    assert user.call("DELETE", key.href).status_code == 404
    admin.act(admin.show(key.href, "key"), "destroy", 204)
