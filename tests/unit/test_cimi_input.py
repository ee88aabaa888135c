"""Lenient input, strict refusal: what real CIMI clients send is read; malformed, hostile or mistyped
bodies are 400 with a message; other media types 415."""
from __future__ import annotations

import base64

import pytest

from frontends.cimi.reading import (UnsupportedMediaType, body_format, integer, properties, read_body, text,
                                    user_data)
from gateway.errors import InvalidParameter

LIMIT = 1 << 20


def test_xml_without_namespace_lower_case_root_and_whitespace() -> None:
    body = (b"<machineImageCreate><name> img </name><type> IMAGE </type>"
            b"<imageLocation> http://gw/cimi/machines/1 </imageLocation></machineImageCreate>")
    type_name, content = read_body(body, "xml", ("MachineImage",), LIMIT)
    assert type_name == "MachineImage"
    assert content == {"name": "img", "type": "IMAGE", "imageLocation": "http://gw/cimi/machines/1"}


def test_create_roots_and_plain_roots_are_both_accepted() -> None:
    for root in (b"MachineTemplate", b"MachineTemplateCreate", b"machinetemplatecreate"):
        body = b"<%s xmlns='http://schemas.dmtf.org/cimi/1'><name>t</name></%s>" % (root, root)
        assert read_body(body, "xml", ("MachineTemplate",), LIMIT)[0] == "MachineTemplate"


def test_machine_create_nested_template_properties_and_refs() -> None:
    body = (b"<MachineCreate><name>m</name><property key='a'> 1 </property><property key='b'>2</property>"
            b"<machineTemplate><machineConfig href=' http://gw/cimi/machine_configurations/x '/>"
            b"<machineImage href='http://gw/cimi/machine_images/y'/><userData>aGk=</userData>"
            b"<volume href='http://gw/cimi/volumes/v'><initialLocation>/dev/sdb</initialLocation></volume>"
            b"</machineTemplate></MachineCreate>")
    _, content = read_body(body, "xml", ("MachineCreate",), LIMIT)
    assert content["properties"] == {"a": "1", "b": "2"}
    template = content["machineTemplate"]
    assert template["machineConfig"] == {"href": "http://gw/cimi/machine_configurations/x"}
    assert template["volumes"] == [{"href": "http://gw/cimi/volumes/v", "initialLocation": "/dev/sdb"}]
    assert user_data(template) == b"hi"


def test_json_without_resource_uri_and_with_one() -> None:
    assert read_body(b'{"name": "v"}', "json", ("VolumeCreate",), LIMIT) == ("VolumeCreate", {"name": "v"})
    body = b'{"resourceURI": "http://schemas.dmtf.org/cimi/1/MachineImageCreate", "name": "i"}'
    assert read_body(body, "json", ("MachineImage",), LIMIT) == ("MachineImage", {"name": "i"})


@pytest.mark.parametrize("body, fmt, words", [
    (b"<MachineCreate><name>x</MachineCreate>", "xml", "malformed xml"),
    (b"{'name': 1}", "json", "malformed json"),
    (b"[1, 2]", "json", "must be an object"),
    (b"<VolumeCreate/>", "xml", "expected a machinecreate"),
    (b'{"resourceURI": "http://schemas.dmtf.org/cimi/1/Volume"}', "json", "expected a machinecreate"),
    (b"<MachineCreate xmlns='urn:other'/>", "xml", "namespace"),
    (b"<!DOCTYPE x [<!ENTITY e 'boom'>]><MachineCreate><name>&e;</name></MachineCreate>", "xml", ""),
])
def test_bad_bodies_are_refused(body: bytes, fmt: str, words: str) -> None:
    with pytest.raises(InvalidParameter) as caught:
        read_body(body, fmt, ("MachineCreate",), LIMIT)
    assert words in caught.value.message.lower()


def test_oversized_bodies_are_refused() -> None:
    with pytest.raises(InvalidParameter):
        read_body(b'{"name": "' + b"x" * 2000 + b'"}', "json", ("MachineCreate",), 1000)
    with pytest.raises(InvalidParameter):
        read_body(b"<MachineCreate>" + b"x" * 2000 + b"</MachineCreate>", "xml", ("MachineCreate",), 1000)


def test_media_types() -> None:
    assert body_format("application/xml; charset=utf-8", b"<a/>") == "xml"
    assert body_format("Text/XML", b"<a/>") == "xml"
    assert body_format("application/json;charset=UTF-8", b"{}") == "json"
    assert body_format(None, b"") is None
    assert body_format(None, b"  <a/>") == "xml"
    with pytest.raises(UnsupportedMediaType):
        body_format("text/plain", b"name=x")


def test_typed_values() -> None:
    assert integer({"capacity": " 1024 "}, "capacity") == 1024
    assert integer({"capacity": 7}, "capacity") == 7
    with pytest.raises(InvalidParameter):
        integer({"capacity": "lots"}, "capacity")
    with pytest.raises(InvalidParameter):
        integer({"capacity": "-1"}, "capacity")
    assert text({"name": "  x "}, "name") == "x"
    with pytest.raises(InvalidParameter):
        text({"name": {"a": 1}}, "name")
    assert properties({"properties": [{"key": "a", "value": "1"}]}) == {"a": "1"}
    with pytest.raises(InvalidParameter):
        properties({"properties": {"a": {"b": 1}}})
    wrapped = base64.encodebytes(b"#!/bin/sh\necho hi\n" * 10).decode()
    assert user_data({"userData": wrapped}) == b"#!/bin/sh\necho hi\n" * 10
    with pytest.raises(InvalidParameter):
        user_data({"userData": "not base64!"})
