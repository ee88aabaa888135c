"""Serialisation of resources and collections in XML and JSON, from the one description in schema.py.

Input is a resource dict in its JSON shape (what the resource modules build). JSON output adds
`resourceURI` to every object that is a resource; XML output puts every element in the CIMI namespace,
in the spec's order, with singular element names for arrays and `<property key>` for properties.
"""
from __future__ import annotations

import json
import re
from typing import Any

from gateway.xmltext import UNWRITABLE, UNWRITABLE_CLASS

from .schema import (LINK, NAMESPACE, OBJECT, OBJECTS, OPERATIONS, PROPERTIES, ResourceType, entries_key,
                     resource_type, resource_uri)

XML, JSON = "xml", "json"
MEDIA_TYPES = {XML: "application/xml", JSON: "application/json"}


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
    """UTF-8 JSON; a lone surrogate (kept by a store from before input was checked) is written as an
    escape rather than failing the whole listing."""
    content = json_object(document)
    try:
        return json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode()
    except UnicodeEncodeError:
        return json.dumps(content, ensure_ascii=True, separators=(",", ":")).encode()


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
# Written as text rather than built as an lxml tree: a listing of 1,000 machines is ~5x faster this way,
# which keeps XML on a par with JSON. Text and attribute values are escaped, and characters XML cannot
# carry at all (gateway/xmltext.py) are dropped, so no value from the engine or the store can break it.
_ATTRIBUTE_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "\n": "&#10;",
                                    "\r": "&#13;", "\t": "&#9;"})
_TEXT_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;"})


def to_xml(document: Document) -> bytes:
    out: list[str] = ["<?xml version='1.0' encoding='UTF-8'?>\n"]
    if document.collection_of is not None:
        _collection(out, "Collection", document.collection_of, document.content, True)
    else:
        rtype = resource_type(document.type_name)
        _element(out, document.type_name, rtype, document.content,
                 f' xmlns="{NAMESPACE}" resourceURI="{resource_uri(document.type_name)}"')
    return "".join(out).encode()


_NEEDS_TEXT_WORK = re.compile(f"[&<>\r{UNWRITABLE_CLASS}]")
_NEEDS_ATTRIBUTE_WORK = re.compile(f"[&<>\"\n\r\t{UNWRITABLE_CLASS}]")


def _text(value: Any) -> str:
    if value is True or value is False:
        return "true" if value else "false"
    text = str(value)
    if _NEEDS_TEXT_WORK.search(text) is None:  # the common case, and the cheap one
        return text
    return UNWRITABLE.sub("", text).translate(_TEXT_ESCAPES)


def _attribute(value: Any) -> str:
    if value is True or value is False:
        return "true" if value else "false"
    text = str(value)
    if _NEEDS_ATTRIBUTE_WORK.search(text) is None:
        return text
    return UNWRITABLE.sub("", text).translate(_ATTRIBUTE_ESCAPES)


def _collection(out: list[str], tag: str, entry_type: str, content: dict[str, Any], root: bool) -> None:
    """`<Collection resourceURI>` at the root; an expanded link inside a resource keeps only its href."""
    head = f' xmlns="{NAMESPACE}" resourceURI="{resource_uri(entry_type + "Collection")}"' if root else ""
    if "href" in content:
        head += f' href="{_attribute(content["href"])}"'
    out.append(f"<{tag}{head}>")
    for name in ("id", "count"):
        if name in content:
            out.append(f"<{name}>{_text(content[name])}</{name}>")
    entry_schema = resource_type(entry_type)
    for entry in content.get(entries_key(entry_type), ()):
        _element(out, entry_type, entry_schema, entry, "")
    for operation in content.get("operations", ()):
        _operation(out, operation)
    out.append(f"</{tag}>")


def _element(out: list[str], tag: str, rtype: ResourceType, content: dict[str, Any], head: str) -> None:
    """Attributes first (href, ...), then children in the schema's order; undeclared keys before operations."""
    attributes = rtype.xml_attributes
    for key in attributes:
        value = content.get(key)
        if value is not None:
            head += f' {key}="{_attribute(value)}"'
    out.append(f"<{tag}{head}>")
    operations = None
    for spec in rtype.fields:
        name = spec.name
        if name not in content or name in attributes:
            continue
        if spec.kind == OPERATIONS:
            operations = content[name]
            continue
        _child(out, name, spec.element, spec.kind, spec.type, content[name])
    for key, value in content.items():
        if key in rtype.by_name or key in attributes:
            continue
        kind = OBJECT if isinstance(value, dict) else OBJECTS if isinstance(value, list) else ""
        _child(out, key, key, kind, "", value)
    for operation in operations or ():
        _operation(out, operation)
    out.append(f"</{tag}>")


def _child(out: list[str], name: str, element_name: str, kind: str, nested: str, value: Any) -> None:
    if value is None:
        return
    if kind == PROPERTIES:
        for key, text in value.items():
            out.append(f'<property key="{_attribute(key)}">{_text(text)}</property>')
    elif kind == LINK:
        if "count" in value:
            _collection(out, element_name, nested, value, False)
        else:
            out.append(f'<{element_name} href="{_attribute(value["href"])}"/>')
    elif kind == OBJECT:
        _element(out, element_name, resource_type(nested), value, "")
    elif kind == OBJECTS:
        singular = element_name[:-1] if element_name == name and element_name.endswith("s") else element_name
        nested_type = resource_type(nested)
        for item in value:
            if isinstance(item, dict):
                _element(out, singular, nested_type, item, "")
            else:
                out.append(f"<{singular}>{_text(item)}</{singular}>")
    else:
        out.append(f"<{element_name}>{_text(value)}</{element_name}>")


def _operation(out: list[str], operation: dict[str, str]) -> None:
    out.append(f'<operation rel="{_attribute(operation["rel"])}" href="{_attribute(operation["href"])}"/>')
