"""CIMI machine scenarios (Deltacloud's CIMI plan parts 2, 3 and 5, machex 1-3), each in XML and JSON:
create from an image and a configuration, manipulate it (attributes, operations valid per state, stop,
start, restart with job and state polling), capture a stopped one, create one from a stored template with userData
and check the engine received it, edit it, delete it."""
from __future__ import annotations

import base64
import uuid
from datetime import datetime

import pytest
import requests
from lxml import etree

from tests.integration.cimi_client import ACTION, NS, CimiClient

MACHINE_STATES = {"CREATING", "STARTING", "STARTED", "STOPPING", "STOPPED", "SUSPENDING", "SUSPENDED", "PAUSED",
                  "DELETING", "ERROR"}


@pytest.fixture(params=["xml", "json"])
def cimi(request: pytest.FixtureRequest, gateway) -> CimiClient:
    return CimiClient(gateway, request.param)


def _rels(machine: dict) -> set[str]:
    return {o["rel"] for o in machine.get("operations", [])}


def test_machine_from_image_and_config_through_its_life(cimi: CimiClient, gateway) -> None:
    name = f"cimi-{cimi.fmt}-{uuid.uuid4().hex[:6]}"
    machine, job_url = cimi.create_machine(name=name)
    assert machine["name"] == name and machine["state"] in MACHINE_STATES
    assert machine["id"] == gateway.cimi_url.replace("cloudEntryPoint", "machines/") + machine["id"].rsplit("/", 1)[1]
    job = cimi.get(job_url)
    assert job["action"] == "add" and job["targetResource"]["href"] == machine["id"]
    cimi.wait_job(job_url)
    machine = cimi.get(machine["id"])
    try:
        # attributes (part 5.1)
        assert machine["state"] == "STARTED"
        assert machine["description"] == f"{name} made by a test"
        datetime.fromisoformat(machine["created"].replace("Z", "+00:00"))
        assert isinstance(machine["cpu"], int) and machine["memory"] == 512 * 1024
        assert machine["disks"]["href"].startswith(machine["id"]) and machine["volumes"]["href"].startswith(machine["id"])
        assert machine["machineImage"]["href"] == cimi.preferred_image()
        rels = _rels(machine)
        assert {ACTION + "stop", ACTION + "restart", "delete", "edit"} <= rels
        assert ACTION + "start" not in rels and ACTION + "capture" not in rels
        disks = cimi.get(machine["disks"]["href"])
        assert disks["count"] == 1 and disks["disks"][0]["capacity"] > 0
        nics = cimi.get(machine["networkInterfaces"]["href"])
        assert nics["count"] >= 1 and nics["machineNetworkInterfaces"][0]["macAddress"]

        # restart (machex 2), then stop and start (part 5.2/5.3), polling jobs and state
        cimi.act(machine, "restart")
        assert cimi.get(machine["id"])["state"] == "STARTED"
        stop_job = cimi.act(machine, "stop")
        assert stop_job["progress"] == 100 and stop_job["timeOfStatusChange"]
        machine = cimi.get(machine["id"])
        assert machine["state"] == "STOPPED"
        assert {ACTION + "start", ACTION + "capture", "delete"} <= _rels(machine)
        assert ACTION + "stop" not in _rels(machine) and ACTION + "restart" not in _rels(machine)
        cimi.act(machine, "start")
        assert cimi.get(machine["id"])["state"] == "STARTED"
    finally:
        cimi.delete_machine(machine["id"])
    cimi.request("GET", machine["id"], expect=404)


def test_capture_a_stopped_machine(cimi: CimiClient, gateway) -> None:
    machine, job_url = cimi.create_machine(name=f"capture-{cimi.fmt}",
                                           template={"machineConfig": {"href": cimi.preferred_config()},
                                                     "machineImage": {"href": cimi.preferred_image()},
                                                     "initialState": "STOPPED"})
    try:
        cimi.wait_job(job_url)
        machine = cimi.get(machine["id"])
        capture_href = cimi.operation(machine, ACTION + "capture")
        assert capture_href == cimi.collection_url("machineImages")
        body = {"resourceURI": NS + "/MachineImageCreate", "name": f"{machine['name']}-image",
                "description": "captured", "type": " IMAGE ", "imageLocation": f" {machine['id']} "}
        gateway.simulator_control("clock", frozen=True)  # the engine's copy waits while the machine is read
        try:
            response = cimi.post(capture_href, body)
            assert cimi.get(machine["id"])["state"] == "CAPTURING"
        finally:
            gateway.simulator_control("clock", frozen=False)
        image = cimi.parse(response)
        assert response.headers["Location"] == image["id"] and image["type"] == "IMAGE" and image["state"]
        cimi.wait_job(response.headers["CIMI-Job-URI"])
        image = cimi.get(image["id"])
        assert image["state"] == "AVAILABLE"
        response = cimi.request("DELETE", cimi.operation(image, "delete"), expect=200)
        job_url = response.headers["CIMI-Job-URI"]
        assert cimi.get(job_url)["action"] == "delete"
        # the engine keeps the template locked until its disks are removed: shown as DELETING, nothing to do
        # with it, until it is gone
        cimi.wait_gone(image["id"], while_visible=lambda i: i["state"] == "DELETING" and "operations" not in i)
        assert cimi.wait_job(job_url)["targetResource"]["href"] == image["id"]
    finally:
        cimi.delete_machine(machine["id"])


def test_machine_from_stored_template_receives_user_data(cimi: CimiClient, gateway) -> None:
    payload = b"#cloud-config\nruncmd:\n  - echo made-by-cimi\n"
    template = {"resourceURI": NS + "/MachineTemplate", "name": f"tpl-{cimi.fmt}", "description": "stored",
                "properties": {"foo": "bar"}, "initialState": "STOPPED",
                "machineConfig": {"href": cimi.preferred_config()}, "machineImage": {"href": cimi.preferred_image()},
                "userData": base64.b64encode(payload).decode()}
    templates_url = cimi.collection_url("machineTemplates")
    assert cimi.operation(cimi.get(templates_url), "add") == templates_url
    response = cimi.post(templates_url, template)
    stored = cimi.get(response.headers["Location"])
    assert stored["machineConfig"]["href"] == cimi.preferred_config()
    assert stored["machineImage"]["href"] == cimi.preferred_image() and stored["properties"] == {"foo": "bar"}
    assert cimi.get(templates_url)["count"] >= 1

    machine, job_url = cimi.create_machine(name=f"from-tpl-{cimi.fmt}", template={"href": stored["id"]})
    try:
        cimi.wait_job(job_url)
        machine = cimi.get(machine["id"])
        assert machine["state"] == "STOPPED"  # the template's initialState
        vm_id = machine["id"].rsplit("/", 1)[1]
        vm = requests.get(f"{gateway.engine_url}/vms/{vm_id}", params={"all_content": "true"}, auth=gateway.admin,
                          headers={"Accept": "application/xml", "Version": "4"}, timeout=10)
        assert vm.status_code == 200
        script = etree.fromstring(vm.content).findtext("initialization/custom_script")
        assert script == payload.decode()
    finally:
        cimi.delete_machine(machine["id"])
        cimi.request("DELETE", stored["id"], expect=200)
    cimi.request("GET", stored["id"], expect=404)


def test_edit_machine_attributes_with_select(cimi: CimiClient) -> None:
    machine, job_url = cimi.create_machine(name=f"edit-{cimi.fmt}",
                                           template={"machineConfig": {"href": cimi.preferred_config()},
                                                     "machineImage": {"href": cimi.preferred_image()},
                                                     "initialState": "STOPPED"},
                                           extra={"properties": {"team": "blue"}})
    try:
        cimi.wait_job(job_url)
        assert cimi.get(machine["id"])["properties"] == {"team": "blue"}
        edit = cimi.operation(cimi.get(machine["id"]), "edit")
        body = {"resourceURI": NS + "/Machine", "name": "ignored", "description": "edited",
                "properties": {"team": "red", "tier": "web"}}
        cimi.request("PUT", edit + "?$select=description,properties", body, expect=200)
        edited = cimi.get(machine["id"])
        assert edited["name"] == machine["name"]
        assert edited["description"] == "edited" and edited["properties"] == {"team": "red", "tier": "web"}
    finally:
        cimi.delete_machine(machine["id"])
