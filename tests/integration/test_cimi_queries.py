"""CIMI collection queries over HTTP, in XML and JSON: $filter (the spec grammar, several combined with
and), count reflecting the filter, $first/$last after filtering, $select, $expand."""
from __future__ import annotations

import pytest

from tests.integration.cimi_client import CimiClient


@pytest.fixture(params=["xml", "json"])
def cimi(request: pytest.FixtureRequest, gateway) -> CimiClient:
    return CimiClient(gateway, request.param)


def _names(collection: dict) -> list[str]:
    return [e["name"] for e in collection.get("machineConfigurations", [])]


def test_filter_grammar_and_count(cimi: CimiClient) -> None:
    url = cimi.collection_url("machineConfigs")
    everything = cimi.get(url)
    assert everything["count"] >= 5
    one = cimi.get(url, **{"$filter": "name='Tiny'"})
    assert _names(one) == ["Tiny"] and one["count"] == 1
    others = cimi.get(url, **{"$filter": "name!='Tiny'"})
    assert "Tiny" not in _names(others) and others["count"] == everything["count"] - 1
    big = cimi.get(url, **{"$filter": "(cpu>=2 and memory>5000000) or name=\"Tiny\""})
    assert set(_names(big)) == {"Tiny", "Large", "XLarge"}
    flipped = cimi.get(url, **{"$filter": "2 <= cpu"})
    assert set(_names(flipped)) == {"Medium", "Large", "XLarge"}
    combined = cimi.parse(cimi.request(
        "GET", url, params=[("$filter", "cpu>=2"), ("$filter", "memory<5000000")], expect=200))
    assert _names(combined) == ["Medium"] and combined["count"] == 1


def test_first_and_last_page_after_the_filter(cimi: CimiClient) -> None:
    url = cimi.collection_url("machineConfigs")
    all_names = _names(cimi.get(url, **{"$filter": "cpu>=1"}))
    page = cimi.get(url, **{"$filter": "cpu>=1", "$first": "2", "$last": "3"})
    assert _names(page) == all_names[1:3]
    assert page["count"] == len(all_names)


def test_select_keeps_only_the_named_attributes(cimi: CimiClient) -> None:
    collection = cimi.get(cimi.collection_url("machineConfigs"), **{"$select": "name,cpu"})
    for entry in collection["machineConfigurations"]:
        assert set(entry) - {"resourceURI"} == {"name", "cpu"}


def test_property_filter_and_expand_on_machines(cimi: CimiClient) -> None:
    machine, job_url = cimi.create_machine(name=f"query-{cimi.fmt}", template={
        "machineConfig": {"href": cimi.preferred_config()}, "machineImage": {"href": cimi.preferred_image()},
        "initialState": "STOPPED"}, extra={"properties": {"suite": f"queries-{cimi.fmt}"}})
    try:
        cimi.wait_job(job_url)
        machines = cimi.collection_url("machines")
        found = cimi.get(machines, **{"$filter": f"property['suite']='queries-{cimi.fmt}'"})
        assert found["count"] == 1 and found["machines"][0]["id"] == machine["id"]
        none = cimi.get(machines, **{"$filter": f"property['suite']='queries-{cimi.fmt}' and state='STARTED'"})
        assert none["count"] == 0 and not none.get("machines")
        expanded = cimi.get(machine["id"], **{"$expand": "*"})
        assert expanded["disks"]["count"] == 1 and expanded["networkInterfaces"]["count"] >= 1
        only_disks = cimi.get(machine["id"], **{"$expand": "disks"})
        assert "count" in only_disks["disks"] and set(only_disks["volumes"]) == {"href"}
        plain = cimi.get(machine["id"])
        assert set(plain["disks"]) == {"href"}
    finally:
        cimi.delete_machine(machine["id"])
