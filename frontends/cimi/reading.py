"""Request bodies read leniently into the same JSON-shaped dicts the renderers use.

Clients of CIMI (Deltacloud's conformance suite above all) send sloppy bodies: no namespace, lower-case
roots (`<machineImageCreate>`), `XxxCreate` or plain `Xxx` roots, whitespace around values, JSON without
`resourceURI`, `text/xml`, media types with parameters. All of that is accepted; malformed documents, a
root of the wrong type, DTDs and entities are refused with a 400 that says what is wrong, and so is a
body nested absurdly deep or holding text XML cannot carry (a control character, a lone surrogate): the
whole body is checked here, when it is read, so nothing that could not be rendered back is ever stored
or sent to the engine.

Typed access stays with the small readers below rather than marshmallow schemas: the leniency above
(XML gives every value as text, an href may be a bare string, properties a map or a key/value list) would
need a custom field per reader, and the one check that must precede every side effect is the generic
document check, which covers bodies no schema would describe (Actions, edits, MachineVolumes) as well.
"""
from __future__ import annotations

import json
from typing import Any

from lxml import etree

from gateway.errors import InvalidParameter, echo
from gateway.userdata import decode_user_data
from gateway.xmlsafe import MAX_DEPTH, parse_xml, require_writable_document

from .schema import NAMESPACE, OBJECT, OBJECTS, OPERATIONS, PROPERTIES, ResourceType, resource_type

XML_MEDIA_TYPES = ("application/xml", "text/xml")
JSON_MEDIA_TYPES = ("application/json", "text/json")


class UnsupportedMediaType(Exception):
    """The body's Content-Type is neither XML nor JSON (HTTP 415)."""


def media_type(content_type: str | None) -> str:
    """`application/xml; charset=utf-8` -> `application/xml` (parameters and case ignored)."""
    return (content_type or "").split(";", 1)[0].strip().lower()


def body_format(content_type: str | None, body: bytes) -> str | None:
    """'xml' or 'json' for a body, None when there is no body; UnsupportedMediaType otherwise.

    Without a Content-Type the first character decides, as curl users often forget the header.
    """
    kind = media_type(content_type)
    if kind in XML_MEDIA_TYPES or kind.endswith("+xml"):
        return "xml"
    if kind in JSON_MEDIA_TYPES or kind.endswith("+json"):
        return "json"
    if not body.strip():
        return None
    if kind in ("", "application/octet-stream", "application/x-www-form-urlencoded"):
        first = body.lstrip()[:1]
        if first == b"<":
            return "xml"
        if first in (b"{", b"["):
            return "json"
    raise UnsupportedMediaType(kind or "(none)")


def read_body(body: bytes, fmt: str, accepted: tuple[str, ...], max_bytes: int) -> tuple[str, dict[str, Any]]:
    """(type name, content) of a body whose root must be one of `accepted` type names.

    `XxxCreate` and `Xxx` roots are both taken as what the route accepts: the first accepted name
    that matches, ignoring case and a `Create` suffix.
    """
    if fmt == "xml":
        root = parse_xml(body, max_bytes)
        root_name = etree.QName(root).localname
        namespace = etree.QName(root).namespace
        if namespace not in (None, NAMESPACE):
            raise InvalidParameter(f"The XML root element is in namespace '{namespace}', not the CIMI namespace "
                                   f"{NAMESPACE}")
        type_name = _accepted_type(root_name, accepted)
        content = element_content(root, resource_type(type_name))
        require_writable_document(content)
        return type_name, content
    if len(body) > max_bytes:
        raise InvalidParameter(f"The JSON body is larger than {max_bytes} bytes")
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidParameter(f"Malformed JSON: {exc}") from None
    except RecursionError:
        raise InvalidParameter(f"The JSON body is nested more than {MAX_DEPTH} levels deep") from None
    if not isinstance(document, dict):
        raise InvalidParameter("The JSON body must be an object")
    require_writable_document(document)
    uri = document.get("resourceURI")
    if uri is None:
        type_name = accepted[0]
    elif isinstance(uri, str):
        type_name = _accepted_type(uri.strip().rstrip("/").rsplit("/", 1)[-1], accepted)
    else:
        raise InvalidParameter("resourceURI must be a string")
    return type_name, {k: v for k, v in document.items() if k != "resourceURI"}


def _accepted_type(given: str, accepted: tuple[str, ...]) -> str:
    wanted = given.strip().lower()
    base = wanted[:-len("create")] if wanted.endswith("create") else wanted
    for name in accepted:
        lowered = name.lower()
        if wanted == lowered or base == lowered or base + "create" == lowered:
            return name
    raise InvalidParameter(f"Expected a {' or '.join(accepted)} document, got '{echo(given)}'")


def element_content(element: etree._Element, rtype: ResourceType) -> dict[str, Any]:
    """A dict in JSON shape from an XML element, guided (not limited) by the type's description."""
    content: dict[str, Any] = {}
    for key, value in element.attrib.items():
        if etree.QName(key).namespace is None and key != "resourceURI":
            content[key] = value.strip()
    for child in element:
        if not isinstance(child.tag, str):
            continue
        local = etree.QName(child).localname
        spec = rtype.by_element.get(local.lower()) or rtype.by_name.get(local)
        if spec is not None and spec.kind == PROPERTIES:
            key = child.get("key") or child.get("name")
            if key is None:
                raise InvalidParameter("A <property> element needs a 'key' attribute")
            content.setdefault("properties", {})[key.strip()] = (child.text or "").strip()
        elif spec is not None and spec.kind in (OBJECTS, OPERATIONS):
            nested_type = resource_type("Operation" if spec.kind == OPERATIONS else spec.type)
            content.setdefault(spec.name, []).append(_value(child, nested_type))
        elif spec is not None:
            nested = resource_type(spec.type) if spec.kind == OBJECT else resource_type("")
            content[spec.name] = _value(child, nested)
        else:
            content[local] = _value(child, resource_type(""))
    return content


def _value(element: etree._Element, rtype: ResourceType) -> Any:
    if len(element) or element.attrib:
        return element_content(element, rtype)
    return (element.text or "").strip()


# --- typed access to what was read ---------------------------------------------------------------------
def text(content: dict[str, Any], key: str, default: str | None = None) -> str | None:
    value = content.get(key)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise InvalidParameter(f"'{key}' must be a text value", parameter=key)
    return str(value).strip()


def integer(content: dict[str, Any], key: str) -> int | None:
    value = content.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise InvalidParameter(f"'{key}' must be an integer", parameter=key)
    try:
        number = int(str(value).strip())
    except ValueError:
        raise InvalidParameter(f"'{key}' must be an integer, got '{echo(value)}'", parameter=key) from None
    if number < 0:
        raise InvalidParameter(f"'{key}' must not be negative", parameter=key)
    return number


def boolean(content: dict[str, Any], key: str) -> bool | None:
    value = content.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return value
    lowered = str(value).strip().lower()
    if lowered in ("true", "1"):
        return True
    if lowered in ("false", "0"):
        return False
    raise InvalidParameter(f"'{key}' must be true or false, got '{echo(value)}'", parameter=key)


def nested(content: dict[str, Any], key: str) -> dict[str, Any] | None:
    """A nested object (a reference `{href}` and/or inline attributes); a bare string is taken as an href."""
    value = content.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return {"href": value.strip()}
    if not isinstance(value, dict):
        raise InvalidParameter(f"'{key}' must be an object or a reference", parameter=key)
    return value


def properties(content: dict[str, Any]) -> dict[str, str] | None:
    value = content.get("properties")
    if value is None:
        return None
    if isinstance(value, list):  # [{"key": k, "value": v}] as some JSON clients send
        pairs = {}
        for item in value:
            if not isinstance(item, dict) or "key" not in item:
                raise InvalidParameter("'properties' must map keys to values")
            pairs[str(item["key"])] = str(item.get("value", ""))
        return pairs
    if not isinstance(value, dict) or any(isinstance(v, dict | list) for v in value.values()):
        raise InvalidParameter("'properties' must map keys to text values")
    return {str(k).strip(): "" if v is None else str(v).strip() for k, v in value.items()}


def user_data(content: dict[str, Any]) -> bytes | None:
    """The base64 `userData` decoded (whitespace and line breaks allowed); 400 when it is not base64."""
    value = text(content, "userData")
    if not value:
        return None
    return decode_user_data(value, "userData", line_breaks=True)
