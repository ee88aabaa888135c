"""CIMI Meters on the embedded default, in XML and JSON: a running machine has one Meter per measured aspect,
whose samples are the engine's current reading under a load the test sets in the simulator; MeterConfigurations
describe the aspects; nothing can create, change or delete a Meter, and saying so is a CIMI error, never a 500;
a user sees only its own machines' Meters."""
from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime

import pytest
import requests

from tests.integration.cimi_client import ACTION, NS, CimiClient
from tests.integration.test_listing_engine_requests import engine_requests

ASPECTS = {"cpuUtilization", "memoryUsed", "memoryUtilization", "networkReceived", "networkTransmitted", "diskRead",
           "diskWritten", "networkReceivedTotal", "networkTransmittedTotal", "diskReadOperations",
           "diskWriteOperations"}
COUNTERS = {"networkReceivedTotal", "networkTransmittedTotal", "diskReadOperations", "diskWriteOperations"}
ASPECT_URI = "http://cloudgw.org/cimi/aspect/"
USER = ("user@internal", "user")
LOAD = {"cpu_percent": 42, "memory_used_percent": 50, "net_rx": 1500, "net_tx": 700, "disk_write": 6000,
        "disk_write_ops": 7}


@pytest.fixture(params=["xml", "json"])
def cimi(request: pytest.FixtureRequest, gateway) -> CimiClient:
    return CimiClient(gateway, request.param)


@pytest.fixture(scope="module")
def machine(gateway) -> Iterator[dict]:
    """A machine made through CIMI, running, with a load set on it in the simulator."""
    client = CimiClient(gateway, "json")
    made, job = client.create_machine(name=f"meters-{uuid.uuid4().hex[:6]}")
    client.wait_job(job)
    gateway.simulator_control("load", vm=made["id"].rsplit("/", 1)[1], **LOAD).raise_for_status()
    gateway.simulator_control("clock/advance", seconds=10).raise_for_status()  # the guest agent reports memory
    yield client.get(made["id"])
    client.delete_machine(made["id"])


def _key(meter: dict) -> str:
    return meter["id"].rsplit("/", 1)[1]


def _assert_cimi_error(response: requests.Response, fmt: str, status: int) -> None:
    """CIMI's error document in the negotiated format, never a stack trace."""
    if fmt == "json":
        assert response.json()["status"] == status
    else:
        assert response.text.lstrip().startswith("<?xml") and f'status="{status}"' in response.text
    assert "Traceback" not in response.text


def _samples(cimi: CimiClient, meter: dict) -> list[dict]:
    collection = cimi.get(meter["samples"]["href"])
    assert collection["count"] == len(collection.get("samples", []))
    return collection.get("samples", [])


def test_the_entry_point_links_meters_and_their_configurations(cimi: CimiClient) -> None:
    cep = cimi.cep()
    assert cep["meters"]["href"] == cep["baseURI"] + "meters"
    assert cep["meterConfigs"]["href"] == cep["baseURI"] + "meter_configurations"
    configs = cimi.get(cep["meterConfigs"]["href"])
    assert configs["resourceURI"] == NS + "/MeterConfigurationCollection" and not configs.get("operations")
    entries = configs["meterConfigurations"]
    assert {c["name"] for c in entries} == ASPECTS and configs["count"] == len(ASPECTS)
    cpu = cimi.get(next(c["id"] for c in entries if c["name"] == "cpuUtilization"))
    assert cpu["aspect"] == ASPECT_URI + "cpuUtilization" and cpu["units"] == "percent"
    assert cpu["timeScope"] == "Point" and str(cpu["isContinuous"]).lower() == "true"
    assert (cpu["minValue"], cpu["maxValue"]) == ("0", "100")
    assert {c["name"] for c in entries if c["timeScope"] == "StartupInterval"} == COUNTERS


def test_a_running_machine_has_a_meter_per_aspect_sampled_live(cimi: CimiClient, machine: dict) -> None:
    shown = cimi.get(machine["id"])
    meters = cimi.get(shown["meters"]["href"])
    assert meters["resourceURI"] == NS + "/MeterCollection" and not meters.get("operations")
    assert meters["count"] == len(ASPECTS) and {_key(m) for m in meters["meters"]} == ASPECTS
    for meter in meters["meters"]:
        assert meter["targetResource"]["href"] == machine["id"]
        assert meter["aspect"] == ASPECT_URI + _key(meter)
        assert not meter.get("operations")  # the engine measures on its own: no start, stop, edit or delete
        assert cimi.get(meter["id"])["id"] == meter["id"]
    values = {}
    for meter in meters["meters"]:
        samples = _samples(cimi, meter)
        assert len(samples) == 1, meter
        datetime.fromisoformat(samples[0]["timestamp"].replace("Z", "+00:00"))
        values[_key(meter)] = float(samples[0]["value"])
    assert values["cpuUtilization"] == pytest.approx(42)
    assert values["memoryUtilization"] == pytest.approx(50)
    assert values["memoryUsed"] == pytest.approx(machine["memory"] * 1024 / 2)
    assert values["networkReceived"] == 1500 and values["networkTransmitted"] == 700
    assert values["diskWritten"] == 6000 and values["diskRead"] == 0 and values["diskReadOperations"] == 0
    assert values["diskWriteOperations"] > 0 and values["networkReceivedTotal"] > 0
    memory = cimi.get(next(m["id"] for m in meters["meters"] if _key(m) == "memoryUsed"))
    assert memory["units"] == "bytes" and memory["maxValue"] == str(machine["memory"] * 1024)


def test_samples_follow_the_load_and_expand_inline(cimi: CimiClient, gateway, machine: dict) -> None:
    vm = machine["id"].rsplit("/", 1)[1]
    gateway.simulator_control("load", vm=vm, **{**LOAD, "cpu_percent": 77}).raise_for_status()
    try:
        listed = cimi.get(cimi.collection_url("meters"), **{"$expand": "samples"})
        mine = {_key(m): m for m in listed["meters"] if m["targetResource"]["href"] == machine["id"]}
        assert set(mine) == ASPECTS
        assert float(mine["cpuUtilization"]["samples"]["samples"][0]["value"]) == pytest.approx(77)
        inline = cimi.get(machine["id"] + "/meters", **{"$expand": "samples"})
        cpu = next(m for m in inline["meters"] if _key(m) == "cpuUtilization")
        assert cpu["samples"]["count"] == 1 and float(cpu["samples"]["samples"][0]["value"]) == pytest.approx(77)
        expanded = cimi.get(machine["id"], **{"$expand": "meters"})
        assert expanded["meters"]["count"] == len(ASPECTS)
    finally:
        gateway.simulator_control("load", vm=vm, **LOAD).raise_for_status()


@pytest.fixture(scope="module")
def stopped(gateway) -> Iterator[dict]:
    """A machine made through CIMI in the STOPPED state."""
    client = CimiClient(gateway, "json")
    made, job = client.create_machine(name=f"meters-down-{uuid.uuid4().hex[:6]}", template={
        "machineConfig": {"href": client.preferred_config()}, "machineImage": {"href": client.preferred_image()},
        "initialState": "STOPPED"})
    client.wait_job(job)
    yield client.get(made["id"])
    client.delete_machine(made["id"])


def test_a_machine_that_does_not_run_has_no_meters(cimi: CimiClient, stopped: dict) -> None:
    assert stopped["state"] == "STOPPED"
    assert cimi.get(stopped["id"] + "/meters")["count"] == 0
    meter = cimi.collection_url("meters") + f"/{stopped['id'].rsplit('/', 1)[1]}/cpuUtilization"
    for url in (meter, meter + "/samples"):
        gone = cimi.request("GET", url, expect=404)
        assert "does not run" in gone.text
    assert stopped["id"] not in {m["targetResource"]["href"] for m in cimi.entries("meters")}


def test_meters_cannot_be_made_changed_or_removed_and_bad_input_is_a_cimi_error(cimi: CimiClient,
                                                                                 machine: dict) -> None:
    meters = cimi.collection_url("meters")
    made = cimi.request("POST", meters, {"resourceURI": NS + "/MeterCreate", "name": "mine"}, expect=405)
    assert made.headers["Allow"] == "GET" and "cannot be created" in made.text
    cpu = f"{meters}/{machine['id'].rsplit('/', 1)[1]}/cpuUtilization"
    for method in ("PUT", "DELETE"):
        refused = cimi.request(method, cpu, expect=405)
        assert "GET" in refused.headers["Allow"]
    cimi.request("POST", cpu + "/stop", {"resourceURI": NS + "/Action", "action": ACTION + "stop"},
                 expect=(404, 405))
    for url in (f"{meters}/{machine['id'].rsplit('/', 1)[1]}/temperature", f"{meters}/{uuid.uuid4()}/cpuUtilization",
                f"{meters}/not-a-machine/cpuUtilization/samples", cimi.collection_url("meterConfigs") + "/disk",
                f"{meters}/{uuid.uuid4()}/cpuUtilization/samples"):
        _assert_cimi_error(cimi.request("GET", url, expect=404), cimi.fmt, 404)
    for query in ({"$filter": "aspect="}, {"$first": "x"}, {"$filter": "units='percent' and"}):
        _assert_cimi_error(cimi.request("GET", meters, expect=400, params=query), cimi.fmt, 400)
    selected = cimi.get(meters, **{"$filter": f"aspect='{ASPECT_URI}cpuUtilization'", "$select": "targetResource"})
    assert selected["count"] >= 1 and all(set(m) <= {"resourceURI", "targetResource", "id"}
                                          for m in selected["meters"])


def test_counters_grow_with_the_machines_running_time(cimi: CimiClient, gateway, machine: dict) -> None:
    """Read twice ten simulated seconds apart, on a frozen clock: the totals grew by rate x 10, exactly."""
    vm = machine["id"].rsplit("/", 1)[1]
    meters = cimi.collection_url("meters")
    read = lambda key: float(cimi.get(f"{meters}/{vm}/{key}/samples")["samples"][0]["value"])  # noqa: E731
    gateway.simulator_control("clock", frozen=True).raise_for_status()
    try:
        before = {key: read(key) for key in COUNTERS}
        gateway.simulator_control("clock/advance", seconds=10).raise_for_status()
        after = {key: read(key) for key in COUNTERS}
    finally:
        gateway.simulator_control("clock", frozen=False).raise_for_status()
    assert {key: after[key] - before[key] for key in COUNTERS} == {
        "networkReceivedTotal": 1500 * 10, "networkTransmittedTotal": 700 * 10, "diskReadOperations": 0,
        "diskWriteOperations": 7 * 10}
    assert cimi.get(f"{meters}/{vm}/diskWriteOperations")["timeScope"] == "StartupInterval"


def test_memory_has_no_sample_until_the_guest_agent_reports_it(cimi: CimiClient, gateway, stopped: dict) -> None:
    """A VM the engine says is up, whose guest agent has not reported: CPU is measured, memory is unknown (no
    sample rather than a made-up zero)."""
    vm = stopped["id"].rsplit("/", 1)[1]
    gateway.simulator_control(f"vms/{vm}/status", status="up").raise_for_status()
    try:
        meters = {_key(m): m for m in cimi.get(stopped["id"] + "/meters")["meters"]}
        assert set(meters) == ASPECTS
        assert len(_samples(cimi, meters["cpuUtilization"])) == 1
        assert _samples(cimi, meters["memoryUsed"]) == [] and _samples(cimi, meters["memoryUtilization"]) == []
    finally:
        gateway.simulator_control(f"vms/{vm}/status", status="down").raise_for_status()


def test_a_user_sees_only_its_own_machines_meters(gateway, machine: dict) -> None:
    user = CimiClient(gateway, "json", auth=USER)
    admins = machine["id"].rsplit("/", 1)[1]
    assert machine["id"] not in {m["targetResource"]["href"] for m in user.entries("meters")}
    meter = f"{user.collection_url('meters')}/{admins}/cpuUtilization"
    user.request("GET", meter, expect=404)
    user.request("GET", meter + "/samples", expect=404)
    user.request("GET", machine["id"] + "/meters", expect=404)
    own, job = user.create_machine(name=f"meters-user-{uuid.uuid4().hex[:6]}")
    try:
        user.wait_job(job)
        listed = {m["targetResource"]["href"] for m in user.entries("meters")}
        assert own["id"] in listed and machine["id"] not in listed
        assert listed <= {m["id"] for m in user.entries("machines")}
        samples = user.get(f"{user.collection_url('meters')}/{own['id'].rsplit('/', 1)[1]}/cpuUtilization/samples")
        assert samples["count"] == 1
        user_level = CimiClient(gateway, "xml", auth=USER)  # oVirt's user-level API (`Filter: true`)
        user_level.session.headers["X-Deltacloud-Provider"] = f"{gateway.engine_url};Default;user"
        through_filter = {m["targetResource"]["href"] for m in user_level.entries("meters")}
        assert own["id"] in through_filter and machine["id"] not in through_filter
        user_level.request("GET", meter, expect=404)
    finally:
        user.delete_machine(own["id"])
    assert requests.get(meter, auth=USER, headers={"Accept": "application/json"}, timeout=30).status_code == 404


def test_listing_every_meter_with_its_samples_costs_two_engine_requests_however_many_machines_run(
        gateway, machine: dict) -> None:
    """The machines once and every running machine's statistics once: no request per machine or per meter."""
    cimi = CimiClient(gateway, "json")
    url = cimi.collection_url("meters")
    listing = lambda: cimi.get(url, **{"$expand": "samples"})  # noqa: E731
    running = lambda: {m["targetResource"]["href"] for m in listing()["meters"]}  # noqa: E731
    before = running()
    alone = engine_requests(gateway.simulator_url, listing)
    samples = f"{url}/{machine['id'].rsplit('/', 1)[1]}/cpuUtilization/samples"
    one = engine_requests(gateway.simulator_url, lambda: cimi.get(samples))
    assert sum(one.values()) == 1, one  # a meter's samples: the machine with its statistics, in one request
    other, job = cimi.create_machine(name=f"meters-more-{uuid.uuid4().hex[:6]}")
    try:
        cimi.wait_job(job)
        assert running() == before | {other["id"]}
        assert engine_requests(gateway.simulator_url, listing) == alone == {"GET /vms": 2}
    finally:
        cimi.delete_machine(other["id"])
