"""Golden shapes: the simulator's XML against real engine responses, type by type.

For every object type (and every nested structure inside it, e.g. `vm>display`), the element names
the simulator writes must be ones the real engine writes, in the real engine's order, and the
objects must carry `href`/`id` attributes as the real ones do. Values are not compared. The real
engine's shapes come from tests/golden/engine_shapes.json, extracted from ManageIQ's recordings of real
engines by tests/golden/extract_facts.py.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from lxml import etree

from tests.golden.shapes import TYPES, Attributes, Shapes, shapes_of
from tests.simulator_fixtures import ADMIN, DC_DEFAULT, TEMPLATE_CENTOS_DEFAULT, advance, running_simulator

ENGINE_SHAPES = Path(__file__).resolve().parents[1] / "golden" / "engine_shapes.json"
# Elements the 4.5+ model defines that the 2019 recordings predate or did not happen to contain.
NEWER_THAN_CAPTURES: dict[str, set[str]] = {
    "vm": {"stop_reason", "instance_type"},
    "disk_attachment": set(),
}

# Elements the captures always hold that the simulator legitimately may not: dropped from the 4.6 model
# (the official SDK no longer knows them), or state-dependent (a VM never started has no stop_time).
NOT_ALWAYS: dict[str, set[str]] = {
    "host": {"transparent_hugepages"},
    "vm": {"stop_time"},
}


@pytest.fixture(scope="module")
def real() -> tuple[Shapes, Attributes]:
    facts = json.loads(ENGINE_SHAPES.read_text(encoding="utf-8"))["types"]
    return ({key: [list(seq) for seq in fact["sequences"]] for key, fact in facts.items()},
            {key: {tuple(a) for a in fact["attributes"]} for key, fact in facts.items()})


@pytest.fixture(scope="module")
def simulated() -> Iterator[tuple[Shapes, Attributes]]:
    """Shapes from a simulator holding a running VM (with IPs, a snapshot, a cloud-init config) and a
    stopped one."""
    with running_simulator(frozen=True) as (sim, handle):
        s = requests.Session()
        s.auth = ADMIN
        api = handle.api_url

        def add(name: str) -> str:
            body = (f"<vm><name>{name}</name><cluster><name>Default</name></cluster>"
                    f"<template id='{TEMPLATE_CENTOS_DEFAULT}'/></vm>")
            response = s.post(f"{api}/vms", data=body, headers={"Content-Type": "application/xml"})
            assert response.status_code == 202, response.text
            return etree.fromstring(response.content).get("id")

        up, down = add("golden-up"), add("golden-down")
        advance(handle, 60)
        start = ("<action><use_cloud_init>true</use_cloud_init><vm><initialization><custom_script>#cloud-config"
                 "</custom_script><user_name>root</user_name></initialization></vm></action>")
        for vm_id in (up, down):
            assert s.post(f"{api}/vms/{vm_id}/start", data=start).status_code == 200
        advance(handle, 60)
        assert s.post(f"{api}/vms/{down}/stop", data="<action/>").status_code == 200
        s.post(f"{api}/vms/{up}/snapshots", data="<snapshot><description>s1</description></snapshot>")
        advance(handle, 60)
        shapes: Shapes = {}
        attrs: Attributes = {}
        paths = ["vms", f"vms/{up}", "templates", "clusters", "datacenters", "hosts", "storagedomains",
                 f"datacenters/{DC_DEFAULT}/storagedomains", "networks", "vnicprofiles", "disks",
                 f"templates/{TEMPLATE_CENTOS_DEFAULT}/diskattachments"]
        for vm_id in (up, down):
            paths += [f"vms/{vm_id}/nics", f"vms/{vm_id}/reporteddevices", f"vms/{vm_id}/snapshots",
                      f"vms/{vm_id}/diskattachments"]
        for path in paths:
            response = s.get(f"{api}/{path}")
            assert response.status_code == 200, path
            shapes_of(response.content, shapes, attrs)
        yield shapes, attrs


def _order(sequences: list[list[str]]) -> set[tuple[str, str]]:
    return {(a, b) for seq in sequences for i, a in enumerate(seq) for b in seq[i + 1:]}


@pytest.mark.parametrize("type_name", TYPES)
def test_element_names_and_order_match_the_real_engine(type_name: str, real: Any, simulated: Any) -> None:
    real_shapes, _ = real
    sim_shapes, _ = simulated
    keys = [k for k in sim_shapes if k == type_name or k.startswith(type_name + ">")]
    assert type_name in sim_shapes, f"the simulator served no {type_name}"
    assert type_name in real_shapes, f"the captures hold no {type_name}"
    problems: list[str] = []
    for key in keys:
        if key not in real_shapes:
            continue            # a structure the recordings never contain (e.g. a cloud-init config)
        known = {name for seq in real_shapes[key] for name in seq}
        allowed = known | NEWER_THAN_CAPTURES.get(key, set())
        real_order = _order(real_shapes[key])
        for seq in sim_shapes[key]:
            unknown = [name for name in seq if name not in allowed]
            if unknown:
                problems.append(f"{key}: elements the real engine does not write: {unknown}")
            for a, b in _order([seq]):
                if (b, a) in real_order and (a, b) not in real_order:
                    problems.append(f"{key}: <{a}> before <{b}>, the real engine writes them the other way")
    assert not problems, "\n".join(sorted(set(problems)))


@pytest.mark.parametrize("type_name", TYPES)
def test_elements_the_real_engine_always_writes_are_present(type_name: str, real: Any, simulated: Any) -> None:
    real_shapes, _ = real
    sim_shapes, _ = simulated
    always = set.intersection(*(set(seq) for seq in real_shapes[type_name]))
    for seq in sim_shapes[type_name]:
        missing = always - set(seq) - {"link", "actions"} - NOT_ALWAYS.get(type_name, set())
        assert not missing, f"{type_name} lacks {sorted(missing)} (always written by the real engine)"


@pytest.mark.parametrize("type_name", TYPES)
def test_objects_carry_href_and_id_as_the_real_engine(type_name: str, real: Any, simulated: Any) -> None:
    _, real_attrs = real
    _, sim_attrs = simulated
    assert sim_attrs[type_name] <= real_attrs[type_name], (
        f"{type_name}: simulator attributes {sim_attrs[type_name]} vs real {real_attrs[type_name]}")
