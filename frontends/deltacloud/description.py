"""One description of a resource, rendered as Deltacloud XML or as its JSON.

Each collection module describes a resource once, as an `Entity` with a list of fields; every field
knows its XML form (from the server's haml views) and its JSON form (from the models' `to_hash`), so
the two formats cannot drift apart. JSON also carries the aliases older clients read (the PyPI client
0.9.1 wants `owner` and `owner_id`, a top-level `keyname`, the hardware-profile `property` list).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from lxml import etree


def text_of(value: Any) -> str:
    """How a scalar is written in XML (times in ISO 8601 UTC, booleans lower-case)."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def json_of(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    return value


class Field(Protocol):
    def to_xml(self, parent: etree._Element) -> None: ...

    def to_json(self, out: dict[str, Any]) -> None: ...


@dataclass
class Value:
    """`<name attrs>value</name>`; JSON `name: value` (and each alias). XML leaves out a None value."""

    name: str
    value: Any
    aliases: tuple[str, ...] = ()
    attrs: dict[str, Any] = field(default_factory=dict)
    cdata: bool = False
    in_json: bool = True

    def to_xml(self, parent: etree._Element) -> None:
        if self.value is None:
            return
        element = etree.SubElement(parent, self.name, {k: text_of(v) for k, v in self.attrs.items() if v is not None})
        element.text = etree.CDATA(text_of(self.value)) if self.cdata else text_of(self.value)

    def to_json(self, out: dict[str, Any]) -> None:
        if self.in_json:
            for key in (self.name, *self.aliases):
                out[key] = json_of(self.value)


@dataclass
class JsonOnly:
    """A JSON key with no XML counterpart (compatibility aliases)."""

    name: str
    value: Any

    def to_xml(self, parent: etree._Element) -> None:
        return None

    def to_json(self, out: dict[str, Any]) -> None:
        out[self.name] = json_of(self.value)


@dataclass
class Ref:
    """A reference to another resource: `<name id href .../>`; JSON `{id, href, rel, ...}`."""

    name: str
    id: str | None
    href: str | None
    extra: dict[str, Any] = field(default_factory=dict)

    def xml_attrs(self) -> dict[str, str]:
        attrs = {"href": self.href, "id": self.id, **self.extra}
        return {k: text_of(v) for k, v in attrs.items() if v is not None}

    def to_xml(self, parent: etree._Element) -> None:
        if self.id is not None:
            etree.SubElement(parent, self.name, self.xml_attrs())

    def json_value(self) -> dict[str, Any]:
        return {"id": self.id, "href": self.href, "rel": self.name, **self.extra}

    def to_json(self, out: dict[str, Any]) -> None:
        out[self.name] = self.json_value() if self.id is not None else None


@dataclass
class RefList:
    """`<storage_volumes><storage_volume id href/>...</storage_volumes>`; JSON a list of references."""

    name: str
    refs: list[Ref]

    def to_xml(self, parent: etree._Element) -> None:
        container = etree.SubElement(parent, self.name)
        for ref in self.refs:
            ref.to_xml(container)

    def to_json(self, out: dict[str, Any]) -> None:
        out[self.name] = [ref.json_value() for ref in self.refs]


@dataclass
class ActionLink:
    rel: str
    href: str
    method: str


@dataclass
class Actions:
    """`<actions><link rel href method/></actions>`; JSON `actions: [{rel, href, method}]`."""

    links: list[ActionLink]

    def to_xml(self, parent: etree._Element) -> None:
        container = etree.SubElement(parent, "actions")
        for link in self.links:
            etree.SubElement(container, "link", {"rel": link.rel, "href": link.href, "method": link.method})

    def to_json(self, out: dict[str, Any]) -> None:
        out["actions"] = [{"rel": a.rel, "href": a.href, "method": a.method} for a in self.links]


@dataclass
class Addresses:
    """`<public_addresses><address type="ipv4">...</address></public_addresses>`; JSON `[{type, address}]`."""

    name: str
    addresses: list[tuple[str, str]]

    def to_xml(self, parent: etree._Element) -> None:
        container = etree.SubElement(parent, self.name)
        for kind, value in self.addresses:
            etree.SubElement(container, "address", {"type": kind}).text = value

    def to_json(self, out: dict[str, Any]) -> None:
        out[self.name] = [{"type": kind, "address": value} for kind, value in self.addresses]


@dataclass
class Element:
    """A nested element built from fields (e.g. `<authentication type="key"><login>...`); JSON a dict."""

    name: str
    fields: list[Any]
    attrs: dict[str, Any] = field(default_factory=dict)

    def to_xml(self, parent: etree._Element) -> None:
        element = etree.SubElement(parent, self.name, {k: text_of(v) for k, v in self.attrs.items() if v is not None})
        for item in self.fields:
            item.to_xml(element)

    def to_json(self, out: dict[str, Any]) -> None:
        inner: dict[str, Any] = {k: json_of(v) for k, v in self.attrs.items()}
        for item in self.fields:
            item.to_json(inner)
        out[self.name] = inner


@dataclass
class Entity:
    """A resource: `<tag href id ...>fields</tag>`; JSON `{id, href, ...fields}`."""

    tag: str
    id: str
    href: str
    fields: list[Any]
    attrs: dict[str, Any] = field(default_factory=dict)

    def to_xml(self) -> etree._Element:
        attrs = {"href": self.href, "id": self.id, **{k: text_of(v) for k, v in self.attrs.items() if v is not None}}
        element = etree.Element(self.tag, attrs)
        for item in self.fields:
            item.to_xml(element)
        return element

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "href": self.href, **{k: json_of(v) for k, v in self.attrs.items()}}
        for item in self.fields:
            item.to_json(out)
        return out


def collection_xml(name: str, entities: list[Entity]) -> etree._Element:
    root = etree.Element(name)
    for entity in entities:
        root.append(entity.to_xml())
    return root


def xml_bytes(element: etree._Element) -> bytes:
    return etree.tostring(element, xml_declaration=True, encoding="UTF-8", pretty_print=True)
