"""CIMI's machine delete and Deltacloud's instance destroy go through the driver's terminate, so they keep
what EC2 keeps: a volume attached to the machine or instance outlives it, available under its own id,
while its boot disk goes with it."""
from __future__ import annotations

import uuid

from .cimi_client import NS, CimiClient
from .deltacloud_http import Api


def test_deleting_a_cimi_machine_keeps_its_attached_volume(gateway) -> None:
    cimi = CimiClient(gateway, "json")
    tag = uuid.uuid4().hex[:6]
    response = cimi.post(cimi.collection_url("volumes"), {
        "resourceURI": NS + "/VolumeCreate", "name": f"kept-{tag}",
        "volumeTemplate": {"volumeConfig": {"capacity": 1024 * 1024}}})
    cimi.wait_job(response.headers["CIMI-Job-URI"])
    volume_url = response.headers["Location"]
    machine, job_url = cimi.create_machine(name=f"keeps-{tag}", template={
        "machineConfig": {"href": cimi.preferred_config()}, "machineImage": {"href": cimi.preferred_image()},
        "initialState": "STOPPED"})
    cimi.wait_job(job_url)
    response = cimi.post(machine["volumes"]["href"], {"resourceURI": NS + "/MachineVolume",
                                                      "initialLocation": "/dev/sdf", "volume": {"href": volume_url}})
    cimi.wait_job(response.headers["CIMI-Job-URI"])
    assert cimi.get(machine["volumes"]["href"])["count"] == 1

    cimi.delete_machine(machine["id"])
    cimi.wait_gone(machine["id"])
    kept = cimi.wait(volume_url, lambda v: v["state"] == "AVAILABLE")
    assert kept["id"] == volume_url and kept["name"] == f"kept-{tag}"
    cimi.request("DELETE", volume_url, expect=200)


def test_destroying_a_deltacloud_instance_keeps_its_attached_volume(gateway) -> None:
    api = Api(gateway.api_url, "xml", gateway.admin)
    image = next(i for i in api.list("images") if i["name"] != "Blank")
    instance = api.create("instances", "instance", {"image_id": image.id, "name": f"dc-keeps-{uuid.uuid4().hex[:6]}"})
    volume = api.create("storage_volumes", "storage_volume", {"capacity": "1", "name": "dc-kept"})
    volume = api.wait_for(volume.href, "storage_volume", "AVAILABLE")
    instance = api.wait_for(instance.href, "instance", "RUNNING")
    boot_id = instance["_element"].find("storage_volumes/storage_volume").get("id")
    api.act(volume, "attach", 202, data={"instance_id": instance.id, "device": "/dev/vdb"})
    assert api.show(volume.href, "storage_volume")["instance"] == instance.id

    api.act(instance, "destroy", 204)
    api.wait_gone(instance.href)
    kept = api.wait_for(volume.href, "storage_volume", "AVAILABLE")
    assert kept.id == volume.id and kept["instance"] in (None, {})
    api.wait_gone(f"{api.href('storage_volumes')}/{boot_id}")
    api.act(kept, "destroy", 204)
