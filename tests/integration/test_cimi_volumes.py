"""CIMI part 4 (add a volume to a machine), in XML and JSON: a volume created from a stored
VolumeConfiguration by reference and one inline (with the whitespace Deltacloud's suite sends), attached
to a machine as a MachineVolume, detached, and deleted through the operations the answers advertise."""
from __future__ import annotations

import uuid

import pytest

from tests.integration.cimi_client import NS, CimiClient


@pytest.fixture(params=["xml", "json"])
def cimi(request: pytest.FixtureRequest, gateway) -> CimiClient:
    return CimiClient(gateway, request.param)


def _create_volume(cimi: CimiClient, body: dict) -> dict:
    volumes_url = cimi.collection_url("volumes")
    assert cimi.operation(cimi.get(volumes_url), "add") == volumes_url
    response = cimi.post(volumes_url, body)
    volume = cimi.parse(response)
    assert response.headers["Location"] == volume["id"] and volume["resourceURI"] == NS + "/Volume"
    cimi.wait_job(response.headers["CIMI-Job-URI"])
    return cimi.get(volume["id"])


def test_volume_by_reference_and_inline_attached_detached_deleted(cimi: CimiClient) -> None:
    tag = f"{cimi.fmt}-{uuid.uuid4().hex[:6]}"
    configs_url = cimi.collection_url("volumeConfigs")
    response = cimi.post(configs_url, {"resourceURI": NS + "/VolumeConfigurationCreate", "name": f"cfg-{tag}",
                                       "format": "ext3", "capacity": 1024 * 1024})
    config = cimi.get(response.headers["Location"])
    assert config["capacity"] == 1024 * 1024

    by_reference = _create_volume(cimi, {"resourceURI": NS + "/VolumeCreate", "name": f"byref-{tag}",
                                         "description": "from a stored configuration",
                                         "volumeTemplate": {"volumeConfig": {"href": config["id"]}}})
    assert by_reference["capacity"] == 1024 * 1024 and by_reference["state"] == "AVAILABLE"
    inline_body = {"name": f"inline-{tag}", "description": "inline capacity",  # no resourceURI, as clients do
                   "volumeTemplate": {"volumeConfig": {"type": NS + "/mapped", "capacity": " 2048 "}}}
    inline = _create_volume(cimi, inline_body)
    assert inline["capacity"] == 2048 and inline["name"] == f"inline-{tag}"

    machine, job_url = cimi.create_machine(name=f"vol-{tag}", template={
        "machineConfig": {"href": cimi.preferred_config()}, "machineImage": {"href": cimi.preferred_image()},
        "initialState": "STOPPED"})
    try:
        cimi.wait_job(job_url)
        machine_volumes = cimi.get(machine["volumes"]["href"])
        add = cimi.operation(machine_volumes, "add")
        assert add == machine["volumes"]["href"] and machine_volumes["count"] == 0
        response = cimi.post(add, {"resourceURI": NS + "/MachineVolume", "initialLocation": "/dev/sdf",
                                   "volume": {"href": by_reference["id"]}})
        attached = cimi.parse(response)
        assert response.headers["Location"] == attached["id"] and attached["volume"]["href"] == by_reference["id"]
        cimi.wait_job(response.headers["CIMI-Job-URI"])
        attached = cimi.get(attached["id"])
        assert attached["operations"][0]["rel"] == "delete"
        listed = cimi.get(machine["volumes"]["href"])
        assert listed["count"] == 1 and listed["machineVolumes"][0]["volume"]["href"] == by_reference["id"]
        expanded = cimi.get(machine["id"], **{"$expand": "volumes"})
        assert expanded["volumes"]["count"] == 1

        response = cimi.request("DELETE", cimi.operation(attached, "delete"), expect=200)
        cimi.wait_job(response.headers["CIMI-Job-URI"])
        assert cimi.get(machine["volumes"]["href"])["count"] == 0
    finally:
        cimi.delete_machine(machine["id"])
    for volume in (by_reference, inline):
        response = cimi.request("DELETE", cimi.operation(volume, "delete"), expect=200)
        cimi.wait_job(response.headers["CIMI-Job-URI"])
        cimi.request("GET", volume["id"], expect=404)
    cimi.request("DELETE", config["id"], expect=200)


def test_volume_from_a_stored_volume_template(cimi: CimiClient) -> None:
    response = cimi.post(cimi.collection_url("volumeTemplates"), {
        "resourceURI": NS + "/VolumeTemplate", "name": f"vt-{cimi.fmt}",
        "volumeConfig": {"capacity": 4096}})
    template = cimi.get(response.headers["Location"])
    volume = _create_volume(cimi, {"resourceURI": NS + "/VolumeCreate", "name": f"from-vt-{cimi.fmt}",
                                   "volumeTemplate": {"href": template["id"]}})
    assert volume["capacity"] == 4096
    cimi.request("DELETE", volume["id"], expect=200)
    cimi.request("DELETE", template["id"], expect=200)


def test_volume_image_of_a_volume_and_a_volume_made_from_it(cimi: CimiClient) -> None:
    """A VolumeImage captured from a volume (imageLocation), then a Volume whose volumeTemplate names it: a
    copy at least its size; both deleted through their advertised operations."""
    source = _create_volume(cimi, {"resourceURI": NS + "/VolumeCreate", "name": f"vi-src-{cimi.fmt}",
                                   "volumeTemplate": {"volumeConfig": {"capacity": 1024 * 1024}}})
    images_url = cimi.collection_url("volumeImages")
    assert cimi.operation(cimi.get(images_url), "add") == images_url
    response = cimi.post(images_url, {"resourceURI": NS + "/VolumeImage", "name": f"vi-{cimi.fmt}",
                                      "imageLocation": {"href": source["id"]}})
    image = cimi.parse(response)
    assert response.headers["Location"] == image["id"] and image["resourceURI"] == NS + "/VolumeImage"
    assert image["imageLocation"]["href"] == source["id"]
    cimi.wait_job(response.headers["CIMI-Job-URI"])
    assert cimi.get(image["id"])["state"] == "AVAILABLE"
    assert image["id"] in {i["id"] for i in cimi.entries("volumeImages")}

    copy = _create_volume(cimi, {"resourceURI": NS + "/VolumeCreate", "name": f"vi-copy-{cimi.fmt}",
                                 "volumeTemplate": {"volumeImage": {"href": image["id"]}}})
    assert copy["capacity"] == 1024 * 1024 and copy["state"] == "AVAILABLE" and copy["id"] != source["id"]
    cimi.post(cimi.collection_url("volumes"), {"resourceURI": NS + "/VolumeCreate", "name": "nowhere",
                                               "volumeTemplate": {"volumeImage": {"href": images_url + "/none"}}},
              expect=404)
    response = cimi.request("DELETE", cimi.operation(cimi.get(image["id"]), "delete"), expect=200)
    cimi.wait_job(response.headers["CIMI-Job-URI"])
    cimi.request("GET", image["id"], expect=404)
    for volume in (copy, source):
        cimi.request("DELETE", volume["id"], expect=200)
