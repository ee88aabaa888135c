"""Golden shapes: the simulator's XML against real engine responses, type by type.

For every object type (and every nested structure inside it, e.g. `vm>display`), the element names
the simulator writes must be ones the real engine writes, in the real engine's order, and the
objects must carry `href`/`id` attributes as the real ones do. Values are not compared. The real
responses are the ManageIQ recordings in /work/shared/reference/ovirt-captures (read at test time).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests
from lxml import etree

from tests.simulator_fixtures import (
    ADMIN, CAPTURES, DC_DEFAULT, TEMPLATE_CENTOS_DEFAULT, advance, load_captures, running_simulator,
)

pytestmark = pytest.mark.skipif(not CAPTURES.is_dir() or not any(CAPTURES.glob("*.yml")),
                                reason=f"real engine captures not found in {CAPTURES}")

COLLECTIONS = {"vms": "vm", "templates": "template", "clusters": "cluster", "data_centers": "data_center",
               "hosts": "host", "storage_domains": "storage_domain", "networks": "network",
               "vnic_profiles": "vnic_profile", "disks": "disk", "nics": "nic", "reported_devices": "reported_device",
               "disk_attachments": "disk_attachment", "snapshots": "snapshot"}
TYPES = sorted(set(COLLECTIONS.values()))
SKIP = {"link", "actions"}
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

Shapes = dict[str, list[list[str]]]


def _sequence(el: Any) -> list[str]:
    seq: list[str] = []
    for child in el:
        if isinstance(child.tag, str) and (not seq or seq[-1] != child.tag):
            seq.append(child.tag)
    return seq


def _collect(el: Any, key: str, shapes: Shapes, attrs: dict[str, set[tuple[str, ...]]]) -> None:
    shapes.setdefault(key, []).append(_sequence(el))
    attrs.setdefault(key, set()).add(tuple(sorted(el.attrib)))
    for child in el:
        if not isinstance(child.tag, str) or child.tag in SKIP or len(child) == 0:
            continue
        if child.tag in COLLECTIONS and all(c.tag == COLLECTIONS[child.tag] for c in child):
            for item in child:             # an inlined collection (nic>reported_devices): items are types
                _collect(item, item.tag, shapes, attrs)
        elif child.tag in TYPES and key.split(">")[0] != child.tag and len(child) > 2:
            _collect(child, f"{key}>{child.tag}", shapes, attrs)
        else:
            _collect(child, f"{key}>{child.tag}", shapes, attrs)


def shapes_of(body: bytes, shapes: Shapes, attrs: dict[str, set[tuple[str, ...]]]) -> None:
    root = etree.fromstring(body)
    items = list(root) if root.tag in COLLECTIONS else [root]
    for item in items:
        if item.tag in TYPES:
            _collect(item, item.tag, shapes, attrs)


@pytest.fixture(scope="module")
def real() -> tuple[Shapes, dict[str, set[tuple[str, ...]]]]:
    shapes: Shapes = {}
    attrs: dict[str, set[tuple[str, ...]]] = {}
    for records in load_captures().values():
        for record in records:
            body = record.get(":body")
            if body and body.lstrip().startswith("<?xml") and "<api>" not in body:
                shapes_of(body.encode(), shapes, attrs)
    return shapes, attrs


@pytest.fixture(scope="module")
def simulated() -> Iterator[tuple[Shapes, dict[str, set[tuple[str, ...]]]]]:
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
        attrs: dict[str, set[tuple[str, ...]]] = {}
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
