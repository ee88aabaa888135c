"""CIMI and Deltacloud offer what the engine accepts in its current state, in XML and JSON: a rebooting
machine offers no restart; a machine whose disks are copied, a volume being created and an image being made
take their action once the lock is gone (202 with a Job); a machine being captured reads CAPTURING; a
deleted image is gone at once; and the name a client asked for is the name every frontend shows.

The simulator's control API holds a VM in a status or freezes the engine's clock, so that a lock lasts
until the test lets it go.
"""
from __future__ import annotations

import uuid

import pytest

from tests.engine_holds import engine_frozen, hold

from .cimi_client import ACTION, NS, CimiClient
from .deltacloud_http import Api


@pytest.fixture(params=["xml", "json"])
def cimi(request: pytest.FixtureRequest, gateway) -> CimiClient:
    return CimiClient(gateway, request.param)


@pytest.fixture
def deltacloud(cimi: CimiClient, gateway) -> Api:
    return Api(gateway.api_url, cimi.fmt, gateway.admin)


def rels(resource: dict) -> set[str]:
    return {o["rel"] for o in resource.get("operations", [])}


def uuid_of(href: str) -> str:
    return href.rsplit("/", 1)[1]


def stopped_machine(cimi: CimiClient, name: str) -> tuple[dict, str]:
    return cimi.create_machine(name=name, template={"machineConfig": {"href": cimi.preferred_config()},
                                                    "machineImage": {"href": cimi.preferred_image()},
                                                    "initialState": "STOPPED"})


def test_a_rebooting_machine_offers_only_what_the_engine_accepts(cimi: CimiClient, deltacloud: Api,
                                                                 gateway) -> None:
    machine, job = cimi.create_machine(name=f"reboot-{uuid.uuid4().hex[:6]}")
    cimi.wait_job(job)
    vm_id = uuid_of(machine["id"])
    try:
        hold(gateway, vm_id, "reboot_in_progress")
        machine = cimi.get(machine["id"])
        assert machine["state"] == "STARTED"
        assert {ACTION + "stop", "delete"} <= rels(machine)
        assert ACTION + "restart" not in rels(machine) and ACTION + "suspend" not in rels(machine)
        cimi.post(f"{machine['id']}/restart", {"resourceURI": NS + "/Action", "action": ACTION + "restart"},
                  expect=409)
        instance = deltacloud.show(f"{gateway.api_url}/instances/{vm_id}", "instance")
        assert instance["state"] == "RUNNING" and sorted(instance.actions) == ["destroy", "stop"]
        deltacloud.checked("POST", f"{gateway.api_url}/instances/{vm_id}/reboot", 405)
    finally:
        hold(gateway, vm_id, "up")
        cimi.delete_machine(machine["id"])


def test_start_a_machine_whose_disks_are_being_copied(cimi: CimiClient, deltacloud: Api, gateway) -> None:
    """The engine refuses to run an image_locked VM; CIMI offers start and does it once the copy is done."""
    with engine_frozen(gateway):
        machine, _ = stopped_machine(cimi, f"copying-{uuid.uuid4().hex[:6]}")
        machine = cimi.get(machine["id"])
        assert machine["state"] == "CREATING"
        assert rels(machine) >= {ACTION + "start", "delete"} and ACTION + "stop" not in rels(machine)
        instance = deltacloud.show(f"{gateway.api_url}/instances/{uuid_of(machine['id'])}", "instance")
        assert sorted(instance.actions) == ["destroy", "start"]
        response = cimi.post(cimi.operation(machine, ACTION + "start"),
                             {"resourceURI": NS + "/Action", "action": ACTION + "start"}, expect=202)
        assert cimi.parse(response)["state"] == "RUNNING"
    try:
        cimi.wait_job(response.headers["CIMI-Job-URI"])
        assert cimi.get(machine["id"])["state"] == "STARTED"
    finally:
        cimi.delete_machine(machine["id"])


def test_a_machine_being_captured_and_its_image(cimi: CimiClient, deltacloud: Api, gateway) -> None:
    """While a template is made of it the VM is image_locked: CAPTURING; the image being made can be deleted
    (202: done once made); an image deleted is gone at once (404), not DELETING."""
    machine, job = stopped_machine(cimi, f"captured-{uuid.uuid4().hex[:6]}")
    cimi.wait_job(job)
    capture = {"resourceURI": NS + "/MachineImageCreate", "type": "IMAGE", "imageLocation": machine["id"]}
    try:
        with engine_frozen(gateway):
            first = cimi.parse(cimi.post(cimi.collection_url("machineImages"),
                                         {**capture, "name": f"first-{uuid.uuid4().hex[:6]}"}))
            assert cimi.get(machine["id"])["state"] == "CAPTURING"
            first = cimi.get(first["id"])
            assert first["state"] == "CREATING" and rels(first) == {"delete"}
            image = deltacloud.show(f"{gateway.api_url}/images/{uuid_of(first['id'])}", "image")
            assert sorted(image.actions) == ["destroy_image"]
            response = cimi.request("DELETE", first["id"], expect=202)
        cimi.wait_job(response.headers["CIMI-Job-URI"])
        cimi.request("GET", first["id"], expect=404)
        assert cimi.wait(machine["id"], lambda m: m["state"] == "STOPPED")

        second_response = cimi.post(cimi.collection_url("machineImages"),
                                    {**capture, "name": f"second-{uuid.uuid4().hex[:6]}"})
        cimi.wait_job(second_response.headers["CIMI-Job-URI"])
        second = cimi.get(cimi.parse(second_response)["id"])
        assert second["state"] == "AVAILABLE"
        response = cimi.request("DELETE", cimi.operation(second, "delete"), expect=200)
        cimi.request("GET", second["id"], expect=404)
        deltacloud.checked("GET", f"{gateway.api_url}/images/{uuid_of(second['id'])}", 404)
        cimi.wait_job(response.headers["CIMI-Job-URI"])
    finally:
        cimi.delete_machine(machine["id"])


def test_a_volume_being_created_is_deleted_once_made(cimi: CimiClient, deltacloud: Api, gateway) -> None:
    body = {"resourceURI": NS + "/VolumeCreate", "name": f"young-{uuid.uuid4().hex[:6]}",
            "volumeTemplate": {"volumeConfig": {"capacity": 1024 * 1024}}}
    with engine_frozen(gateway):
        volume = cimi.parse(cimi.post(cimi.collection_url("volumes"), body))
        volume = cimi.get(volume["id"])
        assert volume["state"] == "CREATING" and rels(volume) == {"delete"}
        response = cimi.request("DELETE", cimi.operation(volume, "delete"), expect=202)
        assert cimi.parse(response)["state"] == "RUNNING"
        deleting = cimi.get(volume["id"])
        assert deleting["state"] == "DELETING" and not rels(deleting)

        other = deltacloud.create("storage_volumes", "storage_volume", {"capacity": "1"})
        assert other["state"] == "PENDING" and "destroy" in other.actions
        deltacloud.act(other, "destroy", 202)
    cimi.wait_job(response.headers["CIMI-Job-URI"])
    cimi.request("GET", volume["id"], expect=404)
    deltacloud.wait_gone(other.href)


def test_a_volume_attached_to_a_machine_being_created_is_attached_once_made(cimi: CimiClient, gateway) -> None:
    volume_body = {"resourceURI": NS + "/VolumeCreate", "name": f"data-{uuid.uuid4().hex[:6]}",
                   "volumeTemplate": {"volumeConfig": {"capacity": 1024 * 1024}}}
    response = cimi.post(cimi.collection_url("volumes"), volume_body)
    cimi.wait_job(response.headers["CIMI-Job-URI"])
    volume = cimi.parse(response)
    with engine_frozen(gateway):
        machine, _ = stopped_machine(cimi, f"attach-early-{uuid.uuid4().hex[:6]}")
        volumes_url = cimi.get(machine["id"])["volumes"]["href"]
        add = cimi.operation(cimi.get(volumes_url), "add")
        assert add == volumes_url
        response = cimi.post(add, {"resourceURI": NS + "/MachineVolume", "initialLocation": "/dev/sdf",
                                   "volume": {"href": volume["id"]}}, expect=202)
        assert response.headers["Location"] == cimi.parse(response)["id"]
    try:
        cimi.wait_job(response.headers["CIMI-Job-URI"])
        listed = cimi.get(volumes_url)
        assert listed["count"] == 1 and listed["machineVolumes"][0]["volume"]["href"] == volume["id"]
    finally:
        cimi.delete_machine(machine["id"])
        cimi.wait(volume["id"], lambda v: v["state"] == "AVAILABLE")  # kept by the termination
        cimi.request("DELETE", volume["id"], expect=200)


def test_the_name_asked_for_is_the_name_shown(cimi: CimiClient, deltacloud: Api, gateway) -> None:
    """oVirt takes only letters, digits, '.', '_' and '-' in a VM name: the VM gets the nearest such name,
    and every frontend shows the one asked for."""
    asked = f"cimi_machine_initial:STARTED {uuid.uuid4().hex[:4]}"
    machine, job = cimi.create_machine(name=asked)
    try:
        assert machine["name"] == asked
        cimi.wait_job(job)
        assert cimi.get(machine["id"])["name"] == asked
        instance = deltacloud.show(f"{gateway.api_url}/instances/{uuid_of(machine['id'])}", "instance")
        assert instance["name"] == asked
        renamed = f"Mäschine nº {uuid.uuid4().hex[:4]}"
        cimi.request("PUT", machine["id"], {"resourceURI": NS + "/Machine", "name": renamed}, expect=200)
        assert cimi.get(machine["id"])["name"] == renamed
        assert deltacloud.show(instance.href, "instance")["name"] == renamed
    finally:
        cimi.delete_machine(machine["id"])

    image = next(i for i in deltacloud.list("images") if i["name"] == "debian-12")
    launched = deltacloud.create("instances", "instance", {"image_id": image.id, "name": "web server #1"})
    try:
        assert launched["name"] == "web server #1"
        assert cimi.get(cimi.collection_url("machines") + "/" + launched.id)["name"] == "web server #1"
    finally:
        cimi.delete_machine(cimi.collection_url("machines") + "/" + launched.id)
