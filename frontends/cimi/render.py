"""Serialisation of resources and collections in XML and JSON, from the one description in schema.py.

Input is a resource dict in its JSON shape (what the resource modules build). JSON output adds
`resourceURI` to every object that is a resource; XML output puts every element in the CIMI namespace,
in the spec's order, with singular element names for arrays and `<property key>` for properties.
"""
from __future__ import annotations

import json
from typing import Any

from lxml import etree

from .schema import (BOOL, LINK, NAMESPACE, OBJECT, OBJECTS, OPERATIONS, PROPERTIES, ResourceType, entries_key,
                     resource_type, resource_uri)

XML, JSON = "xml", "json"
MEDIA_TYPES = {XML: "application/xml", JSON: "application/json"}
_NS = "{%s}" % NAMESPACE


class Document:
    """A resource or a collection ready to serialise: its type name and JSON-shaped content."""

    def __init__(self, type_name: str, content: dict[str, Any], *, collection_of: str | None = None) -> None:
        self.type_name = type_name
        self.content = content
        self.collection_of = collection_of


def resource(type_name: str, content: dict[str, Any]) -> Document:
    return Document(type_name, content)


def collection(entry_type: str, collection_id: str, entries: list[dict[str, Any]], *, count: int | None = None,
               operations: list[dict[str, str]] | None = None) -> Document:
    """A `XxxCollection`: id, count, entries (each a resource dict), and its operations (`add`)."""
    content: dict[str, Any] = {"id": collection_id, "count": len(entries) if count is None else count,
                               entries_key(entry_type): entries}
    if operations:
        content["operations"] = operations
    return Document(entry_type + "Collection", content, collection_of=entry_type)


def serialise(document: Document, fmt: str) -> bytes:
    return to_xml(document) if fmt == XML else to_json(document)


# --- JSON ---------------------------------------------------------------------------------------------
def to_json(document: Document) -> bytes:
    return json.dumps(json_object(document), ensure_ascii=False, separators=(",", ":")).encode()


def json_object(document: Document) -> dict[str, Any]:
    if document.collection_of is not None:
        return _json_collection(document.collection_of, document.content)
    return _json_resource(document.type_name, document.content)


def _json_resource(type_name: str, content: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"resourceURI": resource_uri(type_name)}
    rtype = resource_type(type_name)
    for key, value in content.items():
        spec = rtype.by_name.get(key)
        if spec is not None and spec.kind == LINK and isinstance(value, dict) and "count" in value:
            out[key] = _json_collection(spec.type, value)
        else:
            out[key] = value
    return out


def _json_collection(entry_type: str, content: dict[str, Any]) -> dict[str, Any]:
    key = entries_key(entry_type)
    out: dict[str, Any] = {"resourceURI": resource_uri(entry_type + "Collection")}
    for name, value in content.items():
        out[name] = [_json_resource(entry_type, e) for e in value] if name == key else value
    return out


# --- XML ----------------------------------------------------------------------------------------------
def to_xml(document: Document) -> bytes:
    return etree.tostring(xml_element(document), xml_declaration=True, encoding="UTF-8")


def xml_element(document: Document) -> etree._Element:
    if document.collection_of is not None:
        root = etree.Element(_NS + "Collection", nsmap={None: NAMESPACE})
        _fill_collection(root, document.collection_of, document.content)
        return root
    root = etree.Element(_NS + document.type_name, nsmap={None: NAMESPACE})
    root.set("resourceURI", resource_uri(document.type_name))
    _fill(root, resource_type(document.type_name), document.content)
    return root


def _fill_collection(element: etree._Element, entry_type: str, content: dict[str, Any]) -> None:
    element.set("resourceURI", resource_uri(entry_type + "Collection"))
    if "href" in content:
        element.set("href", content["href"])
    for name in ("id", "count"):
        if name in content:
            etree.SubElement(element, _NS + name).text = _text(content[name])
    entry_schema = resource_type(entry_type)
    for entry in content.get(entries_key(entry_type), ()):
        _fill(etree.SubElement(element, _NS + entry_type), entry_schema, entry)
    for operation in content.get("operations", ()):
        _operation(element, operation)


def _fill(element: etree._Element, rtype: ResourceType, content: dict[str, Any]) -> None:
    """Attributes first (href, ...), then children in the schema's order; undeclared keys before operations."""
    for key in rtype.xml_attributes:
        value = content.get(key)
        if value is not None:
            element.set(key, _text(value))
    declared = [f for f in rtype.fields if f.name in content and f.name not in rtype.xml_attributes]
    extra = [k for k in content if k not in rtype.by_name and k not in rtype.xml_attributes]
    operations = [f for f in declared if f.kind == OPERATIONS]
    for spec in [f for f in declared if f.kind != OPERATIONS]:
        _child(element, spec.name, spec.element, spec.kind, spec.type, content[spec.name])
    for key in extra:
        value = content[key]
        kind = OBJECT if isinstance(value, dict) else OBJECTS if isinstance(value, list) else ""
        _child(element, key, key, kind, "", value)
    for spec in operations:
        for operation in content[spec.name]:
            _operation(element, operation)


def _child(parent: etree._Element, name: str, element_name: str, kind: str, nested: str, value: Any) -> None:
    if value is None:
        return
    if kind == PROPERTIES:
        for key, text in value.items():
            prop = etree.SubElement(parent, _NS + "property", key=str(key))
            prop.text = _text(text)
    elif kind == LINK:
        link = etree.SubElement(parent, _NS + element_name)
        if "count" in value:
            _fill_collection(link, nested, value)
            del link.attrib["resourceURI"]
        else:
            link.set("href", value["href"])
    elif kind == OBJECT:
        _fill(etree.SubElement(parent, _NS + element_name), resource_type(nested), value)
    elif kind == OBJECTS:
        singular = element_name[:-1] if element_name == name and element_name.endswith("s") else element_name
        for item in value:
            if isinstance(item, dict):
                _fill(etree.SubElement(parent, _NS + singular), resource_type(nested), item)
            else:
                etree.SubElement(parent, _NS + singular).text = _text(item)
    else:
        etree.SubElement(parent, _NS + element_name).text = _text(value)


def _operation(parent: etree._Element, operation: dict[str, str]) -> None:
    etree.SubElement(parent, _NS + "operation", rel=operation["rel"], href=operation["href"])


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def is_bool_field(rtype: ResourceType, name: str) -> bool:
    spec = rtype.by_name.get(name)
    return spec is not None and spec.kind == BOOL
