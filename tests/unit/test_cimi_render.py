"""Serialisation both ways: the same resource in XML and JSON from the one description (namespace,
element order, singular array elements, properties, references, collections, expanded links)."""
from __future__ import annotations

import json

from lxml import etree

from frontends.cimi.reading import element_content
from frontends.cimi.render import collection, resource, to_json, to_xml
from frontends.cimi.schema import NAMESPACE, entries_key, resource_type

NS = "{%s}" % NAMESPACE
MACHINE = {
    "id": "http://gw/cimi/machines/1", "name": "m1", "created": "2024-01-01T00:00:00.000Z",
    "properties": {"owner": "me"}, "state": "STARTED", "cpu": 2, "memory": 2097152,
    "disks": {"href": "http://gw/cimi/machines/1/disks"}, "cpuArch": "x86_64",
    "volumes": {"href": "http://gw/cimi/machines/1/volumes"},
    "machineImage": {"href": "http://gw/cimi/machine_images/img"},
    "operations": [{"rel": "edit", "href": "http://gw/cimi/machines/1"},
                   {"rel": NAMESPACE + "/action/stop", "href": "http://gw/cimi/machines/1/stop"}],
}


def test_json_carries_resource_uri_and_keeps_the_shape() -> None:
    document = json.loads(to_json(resource("Machine", MACHINE)))
    assert document["resourceURI"] == NAMESPACE + "/Machine"
    assert {k: v for k, v in document.items() if k != "resourceURI"} == MACHINE


def test_xml_uses_the_namespace_spec_order_and_singular_elements() -> None:
    root = etree.fromstring(to_xml(resource("Machine", MACHINE)))
    assert root.tag == NS + "Machine" and root.nsmap[None] == NAMESPACE
    names = [etree.QName(c).localname for c in root]
    assert names == ["id", "name", "created", "property", "state", "cpu", "memory", "disks", "cpuArch", "volumes",
                     "machineImage", "operation", "operation"]
    assert root.find(NS + "property").get("key") == "owner"
    assert root.find(NS + "disks").get("href") == MACHINE["disks"]["href"]
    assert [o.get("rel") for o in root.findall(NS + "operation")] == ["edit", NAMESPACE + "/action/stop"]


def test_xml_reads_back_into_the_json_shape() -> None:
    root = etree.fromstring(to_xml(resource("Machine", MACHINE)))
    content = element_content(root, resource_type("Machine"))
    expected = {k: (str(v) if isinstance(v, int) else v) for k, v in MACHINE.items()}
    assert content == expected


def test_collections_in_both_serialisations() -> None:
    entries = [{"id": "http://gw/cimi/machine_configurations/a", "name": "a", "cpu": 1,
                "disks": [{"capacity": 1024}, {"capacity": 2048}]}]
    document = collection("MachineConfiguration", "http://gw/cimi/machine_configurations", entries,
                          operations=[{"rel": "add", "href": "http://gw/cimi/machine_configurations"}])
    as_json = json.loads(to_json(document))
    assert as_json["resourceURI"] == NAMESPACE + "/MachineConfigurationCollection"
    assert as_json["count"] == 1 and as_json["machineConfigurations"][0]["resourceURI"].endswith("/MachineConfiguration")
    root = etree.fromstring(to_xml(document))
    assert root.tag == NS + "Collection" and root.get("resourceURI") == as_json["resourceURI"]
    assert [etree.QName(c).localname for c in root] == ["id", "count", "MachineConfiguration", "operation"]
    entry = root.find(NS + "MachineConfiguration")
    assert [d.findtext(NS + "capacity") for d in entry.findall(NS + "disk")] == ["1024", "2048"]


def test_expanded_link_is_an_inline_collection() -> None:
    expanded = dict(MACHINE, disks={"href": MACHINE["disks"]["href"], "id": MACHINE["disks"]["href"], "count": 1,
                                    "disks": [{"id": MACHINE["disks"]["href"] + "/d1", "capacity": 10}]})
    as_json = json.loads(to_json(resource("Machine", expanded)))
    assert as_json["disks"]["resourceURI"] == NAMESPACE + "/DiskCollection"
    assert as_json["disks"]["disks"][0]["resourceURI"] == NAMESPACE + "/Disk"
    disks = etree.fromstring(to_xml(resource("Machine", expanded))).find(NS + "disks")
    assert disks.get("href") == MACHINE["disks"]["href"] and disks.get("resourceURI") is None
    assert disks.findtext(NS + "count") == "1" and disks.find(NS + "Disk").findtext(NS + "capacity") == "10"


def test_booleans_and_entry_keys() -> None:
    root = etree.fromstring(to_xml(resource("Volume", {"id": "v", "bootable": False, "capacity": 1})))
    assert root.findtext(NS + "bootable") == "false"
    assert entries_key("MachineConfiguration") == "machineConfigurations"
    assert entries_key("ResourceMetadata") == "resourceMetadata"


def test_xml_escapes_values_and_drops_what_xml_cannot_carry() -> None:
    hostile = {"id": 'http://gw/cimi/machines/1?a=1&b="2"', "name": "<b>&amp;\x01\x1f</b>",
               "properties": {"k<&\"": "v\r\n"}, "state": "STARTED"}
    root = etree.fromstring(to_xml(resource("Machine", hostile)))
    assert root.findtext(NS + "id") == hostile["id"]
    assert root.findtext(NS + "name") == "<b>&amp;</b>"
    prop = root.find(NS + "property")
    assert prop.get("key") == 'k<&"' and prop.text == "v\r\n"
