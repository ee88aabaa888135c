"""A MachineVolume's `deleteOnTerminate` property, in XML and JSON over real HTTP: given when the volume is
attached (default false, as EC2's AttachVolume), changed by an edit (PUT), read by the machine's delete (the
volume outlives the machine or goes with it), refused with a CIMI 400 naming it when it is neither true nor
false, with nothing attached or changed; and, on a gateway killed with -9, still there after the restart."""
from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests

from drivers.ovirt.simulator.server import ServerHandle, Simulator, serve_in_thread
from tests.engine_holds import engine_frozen
from tests.integration.cimi_client import MEDIA, NS, CimiClient

from .gateway_process import start


@pytest.fixture(params=["xml", "json"])
def cimi(request: pytest.FixtureRequest, gateway) -> CimiClient:
    return CimiClient(gateway, request.param)


def new_volume(cimi: CimiClient, name: str) -> str:
    response = cimi.post(cimi.collection_url("volumes"), {
        "resourceURI": NS + "/VolumeCreate", "name": f"{name}-{uuid.uuid4().hex[:6]}",
        "volumeTemplate": {"volumeConfig": {"capacity": 1024 * 1024}}})
    cimi.wait_job(response.headers["CIMI-Job-URI"])
    return response.headers["Location"]


def stopped_machine(cimi: CimiClient, name: str, *, wait: bool = True) -> dict[str, Any]:
    machine, job_url = cimi.create_machine(name=f"{name}-{uuid.uuid4().hex[:6]}", template={
        "machineConfig": {"href": cimi.preferred_config()}, "machineImage": {"href": cimi.preferred_image()},
        "initialState": "STOPPED"})
    if wait:
        cimi.wait_job(job_url)
    return machine


def attach(cimi: CimiClient, machine: dict[str, Any], volume_url: str, device: str,
           delete: str | None = None, expect: int | tuple[int, ...] = 201) -> requests.Response:
    body: dict[str, Any] = {"resourceURI": NS + "/MachineVolume", "initialLocation": device,
                            "volume": {"href": volume_url}}
    if delete is not None:
        body["properties"] = {"deleteOnTerminate": delete}
    return cimi.post(machine["volumes"]["href"], body, expect=expect)


def flag(machine_volume: dict[str, Any]) -> str:
    return machine_volume["properties"]["deleteOnTerminate"]


def edit(cimi: CimiClient, machine_volume_url: str, body: dict[str, Any], expect: int = 200) -> requests.Response:
    return cimi.request("PUT", machine_volume_url, {"resourceURI": NS + "/MachineVolume", **body}, expect=expect)


def assert_cimi_400(cimi: CimiClient, response: requests.Response, words: str) -> None:
    assert response.status_code == 400 and response.headers["Content-Type"] == MEDIA[cimi.fmt], response.text
    assert "Traceback" not in response.text
    message = response.json()["message"] if cimi.fmt == "json" else response.text
    assert words in message, message


def delete_machine_and_check(cimi: CimiClient, machine: dict[str, Any], kept: list[str], gone: list[str]) -> None:
    cimi.delete_machine(machine["id"])
    cimi.wait_gone(machine["id"])
    for volume_url in kept:
        assert cimi.wait(volume_url, lambda v: v["state"] == "AVAILABLE")["id"] == volume_url
        cimi.request("DELETE", volume_url, expect=200)
    for volume_url in gone:
        cimi.wait_gone(volume_url)


def test_a_volume_attached_with_false_outlives_the_machine_and_one_with_true_goes(cimi: CimiClient) -> None:
    kept, deleted = new_volume(cimi, "dot-false"), new_volume(cimi, "dot-true")
    machine = stopped_machine(cimi, "dot-attach")
    response = attach(cimi, machine, kept, "/dev/sdf", "false")
    assert flag(cimi.parse(response)) == "false"
    cimi.wait_job(response.headers["CIMI-Job-URI"])
    response = attach(cimi, machine, deleted, "/dev/sdg", "true")
    answered = cimi.parse(response)
    assert flag(answered) == "true"
    cimi.wait_job(response.headers["CIMI-Job-URI"])

    shown = cimi.get(answered["id"])
    assert flag(shown) == "true" and cimi.operation(shown, "edit") == answered["id"]
    if cimi.fmt == "xml":  # the CIMI way to write a property, read raw rather than through the test's parser
        raw = cimi.request("GET", answered["id"], expect=200).text
        assert '<property key="deleteOnTerminate">true</property>' in raw, raw
    listed = {v["volume"]["href"]: flag(v) for v in cimi.get(machine["volumes"]["href"])["machineVolumes"]}
    assert listed == {kept: "false", deleted: "true"}
    expanded = cimi.get(machine["id"], **{"$expand": "volumes"})["volumes"]["machineVolumes"]
    assert {v["volume"]["href"]: flag(v) for v in expanded} == listed

    delete_machine_and_check(cimi, machine, kept=[kept], gone=[deleted])


def ec2_delete_on_termination(gateway: Any, volume_url: str) -> bool:
    """What EC2's DescribeVolumes says of the CIMI volume's one attachment."""
    ec2 = boto3.client("ec2", endpoint_url=gateway.ec2_url, region_name="us-east-1",
                       aws_access_key_id=gateway.access_key, aws_secret_access_key=gateway.secret_key)
    volume_id = "vol-" + volume_url.rsplit("/", 1)[-1].replace("-", "")
    (attachment,) = ec2.describe_volumes(VolumeIds=[volume_id])["Volumes"][0]["Attachments"]
    return attachment["DeleteOnTermination"]


def test_the_default_is_false_and_an_edit_flips_it_both_ways(cimi: CimiClient, gateway) -> None:
    flipped_to_true, flipped_to_false = new_volume(cimi, "dot-on"), new_volume(cimi, "dot-off")
    machine = stopped_machine(cimi, "dot-edit")
    response = attach(cimi, machine, flipped_to_true, "/dev/sdf")  # no property: false, as EC2's AttachVolume
    to_true = cimi.parse(response)
    assert flag(to_true) == "false"
    cimi.wait_job(response.headers["CIMI-Job-URI"])
    response = attach(cimi, machine, flipped_to_false, "/dev/sdg", "true")
    to_false = cimi.parse(response)
    cimi.wait_job(response.headers["CIMI-Job-URI"])

    # the whole resource as read, with the property changed (what a client does with `edit`)
    whole = {k: v for k, v in cimi.get(to_true["id"]).items() if k not in ("resourceURI", "operations")}
    response = edit(cimi, cimi.operation(to_true, "edit"), {**whole, "properties": {"deleteOnTerminate": "true"}})
    edited = cimi.parse(response)
    assert flag(edited) == "true" and flag(cimi.get(to_true["id"])) == "true"
    edit(cimi, to_false["id"], {"properties": {"deleteOnTerminate": "false"}})
    assert flag(cimi.get(to_false["id"])) == "false"
    assert ec2_delete_on_termination(gateway, flipped_to_true) is True  # one record, whichever frontend asks
    assert ec2_delete_on_termination(gateway, flipped_to_false) is False

    delete_machine_and_check(cimi, machine, kept=[flipped_to_false], gone=[flipped_to_true])


def test_a_volume_attached_while_the_machine_is_locked_keeps_its_flag(cimi: CimiClient, gateway) -> None:
    """Attached once the machine's disks are copied (202 and a Job): the flag asked for is recorded then."""
    volume_url = new_volume(cimi, "dot-later")
    with engine_frozen(gateway):
        machine = stopped_machine(cimi, "dot-locked", wait=False)
        response = attach(cimi, machine, volume_url, "/dev/sdf", "true", expect=202)
        assert flag(cimi.parse(response)) == "true"
    cimi.wait_job(response.headers["CIMI-Job-URI"])
    assert flag(cimi.get(response.headers["Location"])) == "true"
    delete_machine_and_check(cimi, machine, kept=[], gone=[volume_url])


def test_bad_values_are_refused_and_change_nothing(cimi: CimiClient) -> None:
    volume_url, other_url = new_volume(cimi, "dot-bad"), new_volume(cimi, "dot-other")
    machine = stopped_machine(cimi, "dot-bad")
    try:
        for bad in ("maybe", "yes", ""):
            response = attach(cimi, machine, volume_url, "/dev/sdf", bad, expect=400)
            assert_cimi_400(cimi, response, "deleteOnTerminate")
        response = cimi.post(machine["volumes"]["href"], {
            "resourceURI": NS + "/MachineVolume", "volume": {"href": volume_url},
            "properties": {"deleteOnTerminate": "true", "colour": "blue"}}, expect=400)
        assert_cimi_400(cimi, response, "colour")
        assert cimi.get(machine["volumes"]["href"])["count"] == 0
        assert cimi.get(volume_url)["state"] == "AVAILABLE"

        response = attach(cimi, machine, volume_url, "/dev/sdf", "true")
        cimi.wait_job(response.headers["CIMI-Job-URI"])
        attached_url = response.headers["Location"]
        response = edit(cimi, attached_url, {"properties": {"deleteOnTerminate": "sometimes"}}, expect=400)
        assert_cimi_400(cimi, response, "deleteOnTerminate")
        response = edit(cimi, attached_url, {"initialLocation": "/dev/sdz",
                                             "properties": {"deleteOnTerminate": "false"}}, expect=400)
        assert_cimi_400(cimi, response, "initialLocation")
        response = edit(cimi, attached_url, {"volume": {"href": other_url},
                                             "properties": {"deleteOnTerminate": "false"}}, expect=400)
        assert_cimi_400(cimi, response, "volume")
        assert flag(cimi.get(attached_url)) == "true"
    finally:
        delete_machine_and_check(cimi, machine, kept=[other_url], gone=[])
    cimi.wait_gone(volume_url)  # still true after the refused edits: deleted with the machine


@pytest.fixture
def engine_and_config(tmp_path: Path) -> Iterator[tuple[Simulator, Path]]:
    simulator = Simulator(speed=20)
    engine: ServerHandle = serve_in_thread(simulator)
    config = tmp_path / "cloudgw.toml"
    config.write_text(f'[server]\ndata_dir = "{tmp_path / "data"}"\n\n'
                      '[operations]\nlease_seconds = 2\npoll_seconds = 0.2\n\n'
                      f'[[providers]]\nname = "lab"\nurl = "{engine.api_url}"\ndefault_datacenter = "Default"\n')
    try:
        yield simulator, config
    finally:
        simulator.faults.clear()
        engine.shutdown()


class RestartedGateway:
    """What CimiClient needs of a gateway: its CEP and the engine's user."""

    admin = ("admin@internal", "admin")

    def __init__(self, url: str) -> None:
        self.cimi_url = f"{url}/cimi/cloudEntryPoint"


def test_an_edited_flag_holds_after_a_kill_9(engine_and_config) -> None:
    simulator, config = engine_and_config
    first, url = start(config)
    try:
        cimi = CimiClient(RestartedGateway(url), "json")
        volume_url = new_volume(cimi, "dot-restart")
        machine = stopped_machine(cimi, "dot-restart")
        response = attach(cimi, machine, volume_url, "/dev/sdf")
        cimi.wait_job(response.headers["CIMI-Job-URI"])
        attached_url = response.headers["Location"]
        edit(cimi, attached_url, {"properties": {"deleteOnTerminate": "true"}})
    finally:
        first.kill()  # -9 straight after the answer
        first.wait()
    second, url = start(config)
    try:
        cimi = CimiClient(RestartedGateway(url), "json")
        machine_url = machine["id"].replace(machine["id"].split("/cimi/")[0], url)
        attached_url = attached_url.replace(attached_url.split("/cimi/")[0], url)
        volume_url = volume_url.replace(volume_url.split("/cimi/")[0], url)
        assert flag(cimi.get(attached_url)) == "true"
        delete_machine_and_check(cimi, cimi.get(machine_url), kept=[], gone=[volume_url])
    finally:
        second.kill()
        second.wait()
