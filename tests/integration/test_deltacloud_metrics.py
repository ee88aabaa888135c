"""Deltacloud's `metrics` collection (API 1.1.3) on the embedded default: one metric per running instance,
shown with its measures read live from the engine, in XML and JSON; and the common collection and member
tests of Deltacloud's own suite (tests/deltacloud/common_tests_collections.rb, run by metrics_test.rb), which
skipped against the gateway for want of the collection."""
from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import requests
from lxml import etree

from .deltacloud_http import Api, Resource

FORMATS = ("xml", "json")


@pytest.fixture(scope="module")
def running(gateway) -> Iterator[Resource]:
    """An instance launched through Deltacloud and running, with a load set on it in the simulator."""
    api = Api(gateway.api_url, "xml", gateway.admin)
    image = next(i for i in api.list("images") if i["name"] != "Blank")
    created = api.create("instances", "instance", {"image_id": image.id, "name": f"metrics-{uuid.uuid4().hex[:6]}"})
    instance = api.wait_for(created.href, "instance", "RUNNING")
    gateway.simulator_control("load", vm=instance.id, cpu_percent=42, net_rx=1500, disk_write=6000,
                              disk_write_ops=7).raise_for_status()
    yield instance
    requests.post(f"{created.href}/stop", auth=gateway.admin, timeout=30)


def get(gateway, path: str, fmt: str = "xml", auth: bool = True) -> requests.Response:
    headers = {"Accept": "application/json" if fmt == "json" else "application/xml"}
    return requests.get(f"{gateway.api_url}/{path}".rstrip("/"), headers=headers,
                        auth=gateway.admin if auth else None, timeout=30)


def test_the_suites_common_collection_and_member_tests_pass_for_metrics(gateway, running: Resource) -> None:
    entry = etree.fromstring(get(gateway, "").content)
    assert entry.find("link[@rel='metrics']") is not None  # advertised: the suite's tests no longer skip
    listed = get(gateway, "metrics")
    assert listed.status_code == 200 and listed.headers["Content-Type"] == "application/xml"
    assert listed.headers.get("ETag")
    as_json = get(gateway, "metrics", "json")
    assert as_json.headers["Content-Type"] == "application/json" and as_json.json()["metrics"]
    assert get(gateway, "metrics", auth=False).status_code == 401
    root = etree.fromstring(listed.content)
    assert root.tag == "metrics"
    members = root.findall("metric")
    assert running.id in [m.get("id") for m in members]
    for member in members:
        assert member.get("href").startswith("http") and member.get("href").endswith(member.get("id"))
        assert member.findtext("name")
        shown = requests.get(member.get("href"), auth=gateway.admin, timeout=30)
        assert shown.status_code == 200
        assert etree.fromstring(shown.content).findtext("name") == member.findtext("name")


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_metric_shows_the_instances_measures_read_live(gateway, running: Resource, fmt: str) -> None:
    shown = get(gateway, f"metrics/{running.id}", fmt)
    assert shown.status_code == 200
    if fmt == "xml":
        metric = etree.fromstring(shown.content)
        assert metric.tag == "metric" and metric.findtext("entity") == running.id
        samples = {p.tag: {s.get("name"): s.get("value") for s in p.findall("sample/property")}
                   for p in metric.find("properties")}
    else:
        metric = shown.json()["metric"]
        assert metric["id"] == running.id and metric["entity"] == running.id
        samples = {p["name"]: {k: str(v) for k, v in p["values"][0].items()} for p in metric["properties"]
                   if p["values"]}  # memory is empty until the guest agent reports it
    assert float(samples["CPUUtilization"]["average"]) == pytest.approx(42)
    assert samples["CPUUtilization"]["unit"] == "Percent"
    assert float(samples["NetworkIn"]["average"]) == 1500 and samples["NetworkIn"]["unit"] == "Bytes/Second"
    assert float(samples["DiskWriteBytes"]["maximum"]) == 6000
    # The engine counts disk operations since the VM started and measures no rate: one reading makes none.
    assert "DiskWriteOps" not in samples and "DiskReadOps" not in samples
    assert samples["CPUUtilization"]["timestamp"]


def test_a_metric_is_shown_from_one_engine_request(gateway, running: Resource) -> None:
    get(gateway, f"metrics/{running.id}")  # the data center's description cached
    requests.delete(f"{gateway.simulator_url}/__simulator__/stats", timeout=10).raise_for_status()
    assert get(gateway, f"metrics/{running.id}").status_code == 200
    asked = requests.get(f"{gateway.simulator_url}/__simulator__/stats", timeout=10).json()["requests"]
    assert asked.get("GET /vms/<id>") == 1 and "GET /vms" not in asked, asked


def test_a_migrating_instance_is_listed_and_shown_as_it_runs(gateway, running: Resource) -> None:
    gateway.simulator_control(f"vms/{running.id}/status", status="migrating").raise_for_status()
    try:
        assert running.id in [m.get("id") for m in etree.fromstring(get(gateway, "metrics").content)]
        assert get(gateway, f"metrics/{running.id}").status_code == 200
    finally:
        gateway.simulator_control(f"vms/{running.id}/status", status="up").raise_for_status()


def test_an_instance_that_does_not_run_has_no_metric(gateway, running: Resource) -> None:
    api = Api(gateway.api_url, "xml", gateway.admin)
    image = next(i for i in api.list("images") if i["name"] != "Blank")
    created = api.create("instances", "instance", {"image_id": image.id, "name": f"stopped-{uuid.uuid4().hex[:6]}"})
    api.wait_for(created.href, "instance", "RUNNING")
    requests.post(f"{created.href}/stop", auth=gateway.admin, timeout=30).raise_for_status()
    api.wait_for(created.href, "instance", "STOPPED")
    assert created.id not in [m.get("id") for m in etree.fromstring(get(gateway, "metrics").content)]
    stopped = get(gateway, f"metrics/{created.id}")
    assert stopped.status_code == 404
    assert b"<" in stopped.content  # Deltacloud's error document, not a stack trace
    assert get(gateway, f"metrics/{uuid.uuid4()}").status_code == 404  # nor one that does not exist
    requests.delete(created.href, auth=gateway.admin, timeout=30)
