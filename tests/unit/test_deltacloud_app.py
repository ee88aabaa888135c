"""The Deltacloud frontend's rendering and error mapping with a small in-test driver (no engine):
what is advertised follows the driver's capabilities, one description gives both formats, and gateway
errors become Deltacloud's codes (412 for what the driver cannot do, 502, 504, never a stack trace)."""
from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest
from lxml import etree

import gateway.driver as driver_registry
from gateway.app import create_app
from gateway.config import Config, ProviderConfig
from gateway.driver import Driver
from gateway.errors import AuthFailure, BackendError, BackendTimeout, NotFound
from gateway.model import Address, HardwareProfile, Instance, InstanceState, Realm, VolumeAttachment
from gateway.scope import Scope

AUTH = {"Authorization": "Basic YWRtaW46YWRtaW4="}  # admin:admin
INSTANCE = Instance(
    id="i1", name="web", state=InstanceState.RUNNING, image_id="img1", realm_id="r1", hardware_profile_id="hwp1",
    memory_bytes=2048 << 20, cpus=2, owner="admin", key_name="k1",
    launch_time=datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone.utc),
    addresses=[Address("ipv4", "192.0.2.10", private=False), Address("ipv4", "10.0.0.5"),
               Address("hostname", "web.example"), Address("mac", "56:6f:00:00:00:01")],
    attachments=[VolumeAttachment("v1", "i1", device="/dev/vda", bootable=True)])


class SmallDriver(Driver):
    """Lists realms and instances, sizes by one profile, starts nothing; fails on request for the tests."""

    name = "small"
    failure: Exception | None = None

    def validate_credentials(self, scope: Scope) -> None:
        if scope.credentials.password != "admin":
            raise AuthFailure("The engine refused the credentials")

    def realms(self, scope: Scope) -> list[Realm]:
        if SmallDriver.failure is not None:
            raise SmallDriver.failure
        return [Realm("r1", "Default", "dc1", "Default")]

    def hardware_profiles(self, scope: Scope) -> list[HardwareProfile]:
        return [HardwareProfile("hwp1", "Small", 2048 << 20, 2)]

    def instances(self, scope, ids=None, *, realm_id=None, image_id=None, states=None) -> list[Instance]:
        return [INSTANCE]

    def instance(self, scope: Scope, instance_id: str) -> Instance:
        if instance_id != INSTANCE.id:
            raise NotFound("instance", instance_id)
        return INSTANCE


@pytest.fixture()
def client(tmp_path, monkeypatch):
    monkeypatch.setitem(driver_registry.DRIVERS, "small", f"{__name__}:SmallDriver")
    SmallDriver.failure = None
    config = Config(data_dir=str(tmp_path), frontends=("deltacloud",), default_provider="e1",
                    providers=(ProviderConfig("e1", "https://engine.example/ovirt-engine/api", driver="small",
                                              default_datacenter="Default"),))
    app = create_app(config, start_workers=False)
    yield app.test_client()
    app.extensions["cloudgw"].close()


def test_only_what_the_driver_can_do_is_advertised(client) -> None:
    doc = client.get("/api", headers={"Accept": "application/json"}).get_json()["api"]
    links = {link["rel"]: link for link in doc["links"]}
    assert set(links) == {"drivers", "realms", "hardware_profiles", "instances", "instance_states"}
    assert [f[0]["name"] for f in links["instances"]["features"]] == ["realm_filter"]  # no create: no user_data
    assert doc["driver"] == "small" and doc["provider"] == "https://engine.example/ovirt-engine/api;Default"


def test_an_instance_renders_the_same_facts_in_xml_and_json(client) -> None:
    xml = etree.fromstring(client.get("/api/instances/i1", headers=AUTH).data)
    body = client.get("/api/instances/i1?format=json", headers=AUTH).get_json()["instance"]
    base = "http://localhost/api"
    assert (xml.get("id"), xml.get("href")) == (body["id"], body["href"]) == ("i1", f"{base}/instances/i1")
    assert xml.findtext("state") == body["state"] == "RUNNING"
    assert xml.findtext("owner_id") == body["owner_id"] == body["owner"] == "admin"
    assert xml.find("image").get("id") == body["image"]["id"] == "img1"
    assert xml.find("hardware_profile").get("id") == body["hardware_profile"]["id"] == "hwp1"
    assert {p.get("name"): p.get("value") for p in xml.findall("hardware_profile/property")} == \
        body["hardware_profile"]["properties"] == {"memory": "2048", "cpu": "2", "architecture": "x86_64"}
    # the driver cannot act, so no action link is offered even though RUNNING allows stop/reboot/destroy
    assert xml.find("actions") is not None and len(xml.find("actions")) == 0 and body["actions"] == []
    xml_addresses = [(a.get("type"), a.text) for a in xml.findall("public_addresses/address")]
    assert xml_addresses == [(a["type"], a["address"]) for a in body["public_addresses"]] == [
        ("ipv4", "192.0.2.10"), ("ipv4", "10.0.0.5"), ("hostname", "web.example"), ("mac", "56:6f:00:00:00:01")]
    assert [a["address"] for a in body["private_addresses"]] == ["10.0.0.5", "web.example"]
    assert xml.findtext("authentication/login/keyname") == body["keyname"] == body["authentication"]["keyname"]
    assert xml.find("storage_volumes/storage_volume").get("device") == body["storage_volumes"][0]["device"]
    assert xml.findtext("launch_time") == body["create_time"] == "2024-01-02T03:04:05+00:00"


def test_an_action_the_driver_cannot_do_is_412(client) -> None:
    response = client.post("/api/instances/i1/stop", headers={**AUTH, "Accept": "application/json"})
    assert response.status_code == 412
    assert response.get_json() == {"code": 412, "message": "The provider cannot stop instance",
                                   "error": "Deltacloud::Exceptions::NotSupported"}
    assert client.post("/api/instances/i1/start", headers=AUTH).status_code == 405  # the state forbids it first
    assert client.get("/api/images", headers=AUTH).status_code == 412


@pytest.mark.parametrize("failure, status", [(BackendError("The engine answered 418"), 502),
                                             (BackendTimeout("The engine did not answer within 1 s"), 504),
                                             (RuntimeError("boom"), 500)])
def test_engine_failures_map_to_deltacloud_codes_without_traces(client, failure, status) -> None:
    SmallDriver.failure = failure
    response = client.get("/api/realms", headers=AUTH)
    root = etree.fromstring(response.data)
    assert response.status_code == status and root.tag == "error" and root.get("status") == str(status)
    assert root.find("backend").get("driver") == "small"
    assert root.get("url") == "/api/realms" and root.findtext("code") == str(status)
    assert "Traceback" not in response.get_data(as_text=True) and "boom" not in response.get_data(as_text=True)


def test_credentials_are_demanded_only_where_the_engine_is_needed(client) -> None:
    assert client.get("/api/instance_states").status_code == 200
    assert client.get("/api/hardware_profiles").status_code == 401
    assert client.get("/api?force_auth=1", headers={"Authorization": "Basic YWRtaW46bm8="}).status_code == 401
    assert client.get("/api?force_auth=1", headers=AUTH).status_code == 200


def test_json_error_and_xml_error_carry_the_same_message(client) -> None:
    as_json = client.get("/api/instances/nope", headers={**AUTH, "Accept": "application/json"})
    as_xml = client.get("/api/instances/nope", headers=AUTH)
    assert as_json.status_code == as_xml.status_code == 404
    assert json.loads(as_json.data)["message"] == etree.fromstring(as_xml.data).findtext("message") == \
        "The instance 'nope' does not exist"


@pytest.mark.parametrize("capacity", ["1e300", "65537"])
def test_a_volume_too_large_is_400_not_an_overflow(client, capacity) -> None:
    response = client.post("/api/storage_volumes", data={"capacity": capacity},
                           headers={**AUTH, "Accept": "application/json"})
    assert response.status_code == 400
    assert response.get_json()["message"] == f"'capacity' must be at most 65536 GB, got '{capacity}'"


def test_a_wrong_password_learns_nothing_about_key_names(client) -> None:
    form = {"image_id": "img1", "keyname": "nosuch"}
    wrong = client.post("/api/instances", data=form, headers={"Authorization": "Basic YWRtaW46bm8="})
    assert wrong.status_code == 401
    right = client.post("/api/instances", data=form, headers={**AUTH, "Accept": "application/json"})
    assert right.status_code == 400 and right.get_json()["message"] == "The key 'nosuch' does not exist"
