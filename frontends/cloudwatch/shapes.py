"""Request values checked and typed by the operation's input shape, whatever protocol carried them.

JSON and CBOR bodies arrive as decoded documents; Query parameters as flat text (`Dimensions.member.1.Name`).
Both become the dict boto3 would have built: member names as the model spells them, types from the
declared shape (never guessed from the text), required members checked, unknown members ignored as AWS
does. A value of the wrong type is InvalidParameterValue naming the parameter; nothing reaches an
action that its shape does not allow.
"""
from __future__ import annotations

import base64
import binascii
import math
import re
from datetime import datetime, timezone
from typing import Any, Mapping

from botocore.model import Shape

from .errors import invalid_value, missing

INTEGER = re.compile(r"[+-]?[0-9]{1,19}")
NUMBER = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]{1,3})?")
LIST_INDEX = re.compile(r"[0-9]{1,5}")
MAX_LIST_INDEX = 10_000
AUTH_PARAMETERS = frozenset({"Action", "Version", "AWSAccessKeyId", "Signature", "SignatureMethod",
                             "SignatureVersion", "Timestamp", "X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date",
                             "X-Amz-Expires", "X-Amz-SignedHeaders", "X-Amz-Signature", "X-Amz-Security-Token"})


def _name(prefix: str, member: str) -> str:
    return f"{prefix}.{member}" if prefix else member


INTEGER_RANGES = {"integer": (-2 ** 31, 2 ** 31 - 1), "long": (-2 ** 63, 2 ** 63 - 1)}  # Smithy's int32, int64


def _constrained(shape: Shape, value: Any, name: str) -> Any:
    """`value` if it keeps the model's constraints (length or size min/max, enum, integer range), as AWS
    validates them before any action runs; the store's columns are sized by the same numbers."""
    meta = shape.metadata
    if isinstance(value, str | list):
        what = "length" if isinstance(value, str) else "number of members"
        if "min" in meta and len(value) < meta["min"]:
            raise invalid_value(f"The parameter {name} must have a {what} of at least {meta['min']}.")
        if "max" in meta and len(value) > meta["max"]:
            raise invalid_value(f"The parameter {name} must have a {what} of at most {meta['max']}.")
        if isinstance(value, str) and meta.get("enum") and value not in meta["enum"]:
            raise invalid_value(f"The value {value[:100]} for parameter {name} is invalid: it must be one of "
                                f"{', '.join(meta['enum'])[:1000]}.")
    elif isinstance(value, int) and not isinstance(value, bool) and shape.type_name in INTEGER_RANGES:
        low, high = INTEGER_RANGES[shape.type_name]
        low, high = max(low, meta.get("min", low)), min(high, meta.get("max", high))
        if not low <= value <= high:
            raise invalid_value(f"The parameter {name} must be from {low} to {high}.")
    return value


def _check_required(shape: Shape, found: Mapping[str, Any], prefix: str) -> None:
    for required in shape.required_members:
        if found.get(required) is None:
            raise missing(_name(prefix, required))


# --- documents (JSON, CBOR) -------------------------------------------------------------------------
def from_document(shape: Shape | None, value: Any, prefix: str = "") -> Any:
    """`value` (decoded JSON or CBOR) as `shape` declares it; InvalidParameterValue where it is not."""
    if shape is None:
        return {}
    kind = shape.type_name
    shown = prefix or "the request body"
    if kind == "structure":
        if not isinstance(value, dict):
            raise invalid_value(f"{shown} must be an object")
        result = {name: from_document(member, value[name], _name(prefix, name))
                  for name, member in shape.members.items() if value.get(name) is not None}
        _check_required(shape, result, prefix)
        return result
    if kind == "list":
        if not isinstance(value, list):
            raise invalid_value(f"{shown} must be a list")
        return _constrained(shape, [from_document(shape.member, item, f"{prefix}.{index}")
                                    for index, item in enumerate(value, 1)], shown)
    if kind == "map":
        if not isinstance(value, dict):
            raise invalid_value(f"{shown} must be a map")
        return {from_document(shape.key, key, prefix): from_document(shape.value, item, f"{prefix}.{key}")
                for key, item in value.items()}
    return _constrained(shape, _document_scalar(kind, value, shown), shown)


def _document_scalar(kind: str, value: Any, name: str) -> Any:
    if kind == "string":
        if not isinstance(value, str):
            raise invalid_value(f"{name} must be a string")
        return value
    if kind == "boolean":
        if not isinstance(value, bool):
            raise invalid_value(f"{name} must be true or false")
        return value
    if kind in ("integer", "long"):  # a float that is infinite or NaN, or a CBOR bignum, is no int here
        if isinstance(value, bool) or not isinstance(value, int | float) or (
                isinstance(value, float) and (not math.isfinite(value) or value != int(value))):
            raise invalid_value(f"{name} must be an integer")
        return int(value)
    if kind in ("float", "double"):
        try:
            number = float(value) if isinstance(value, int | float) and not isinstance(value, bool) else math.nan
        except OverflowError:  # an integer of hundreds of digits (JSON, a CBOR bignum)
            number = math.nan
        if not math.isfinite(number):
            raise invalid_value(f"{name} must be a finite number")
        return number
    if kind == "timestamp":
        return _timestamp(value, name)
    if kind == "blob":
        if isinstance(value, bytes):
            return value
        if isinstance(value, str):
            try:
                return base64.b64decode(value, validate=True)
            except (binascii.Error, ValueError):
                raise invalid_value(f"{name} is not valid base64") from None
        raise invalid_value(f"{name} must be binary data")
    return value


def _timestamp(value: Any, name: str) -> datetime:
    """Epoch seconds (JSON, CBOR), a CBOR tag-1 datetime, or ISO 8601 text (Query) -> an aware UTC datetime."""
    try:
        if isinstance(value, datetime):
            return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return datetime.fromtimestamp(value, timezone.utc)
        if isinstance(value, str):
            text = value.strip()
            if NUMBER.fullmatch(text):
                return datetime.fromtimestamp(float(text), timezone.utc)
            when = datetime.fromisoformat(text.replace("Z", "+00:00"))
            return when if when.tzinfo else when.replace(tzinfo=timezone.utc)
    except (ValueError, OverflowError, OSError):
        pass
    raise invalid_value(f"{name} is not a valid timestamp")


# --- Query parameters -------------------------------------------------------------------------------
Tree = dict[str, Any]  # name segment -> Tree, plus "" -> the text given for that exact name


def params_tree(flat: Mapping[str, str]) -> Tree:
    root: Tree = {}
    for name, value in flat.items():
        if name in AUTH_PARAMETERS:
            continue
        parts = name.split(".")
        if "" in parts:
            raise invalid_value(f"The parameter name {name[:100]} is malformed: it has an empty part")
        node = root
        for part in parts:
            node = node.setdefault(part, {})
        node[""] = value
    return root


def _indexed(node: Tree, prefix: str) -> list[tuple[int, Tree]]:
    found = []
    for key, child in node.items():
        if key == "":
            continue
        if not LIST_INDEX.fullmatch(key) or not 0 < int(key) <= MAX_LIST_INDEX:
            raise invalid_value(f"Invalid list index in parameter {prefix[:100]}.{key[:20]}")
        found.append((int(key), child))
    return sorted(found, key=lambda pair: pair[0])


def from_query(shape: Shape | None, node: Tree, prefix: str = "") -> Any:
    """A Query request's parameter tree as `shape` declares it (awsQuery: lists as `.member.N`, maps as
    `.entry.N.key`/`.value`, flattened ones without the extra level)."""
    if shape is None:
        return {}
    kind = shape.type_name
    if kind == "structure":
        result = {}
        for name, member in shape.members.items():
            wire = member.serialization.get("name", name)
            child = node.get(wire)
            if child is not None:
                result[name] = from_query(member, child, _name(prefix, wire))
        _check_required(shape, result, prefix)
        return result
    if kind == "list":
        if not shape.serialization.get("flattened"):
            inner = shape.member.serialization.get("name", "member")
            if set(node) - {"", inner}:
                raise invalid_value(f"Parameter {prefix[:100]} is a list: name its entries {prefix[:100]}.{inner}.N")
            node = node.get(inner, {})
            prefix = f"{prefix}.{inner}"
        return _constrained(shape, [from_query(shape.member, child, f"{prefix}.{index}")
                                    for index, child in _indexed(node, prefix)], prefix)
    if kind == "map":
        if not shape.serialization.get("flattened"):
            node, prefix = node.get("entry", {}), f"{prefix}.entry"
        key_name = shape.key.serialization.get("name", "key")
        value_name = shape.value.serialization.get("name", "value")
        result_map = {}
        for index, child in _indexed(node, prefix):
            if key_name not in child or value_name not in child:
                raise invalid_value(f"Parameter {prefix[:100]}.{index} needs a {key_name} and a {value_name}")
            result_map[from_query(shape.key, child[key_name], f"{prefix}.{index}.{key_name}")] = from_query(
                shape.value, child[value_name], f"{prefix}.{index}.{value_name}")
        return result_map
    if "" not in node:
        raise invalid_value(f"Parameter {prefix[:100]} needs a value, not sub-parameters")
    return _constrained(shape, _query_scalar(kind, node[""], prefix), prefix)


def _query_scalar(kind: str, text: str, name: str) -> Any:
    if kind == "boolean":
        lowered = text.strip().lower()
        if lowered not in ("true", "false"):
            raise invalid_value(f"Value ({text[:100]}) for parameter {name} is invalid. Expected true or false.")
        return lowered == "true"
    if kind in ("integer", "long"):
        if not INTEGER.fullmatch(text.strip()):
            raise invalid_value(f"Value ({text[:100]}) for parameter {name} is invalid. Expected an integer.")
        return int(text.strip(), 10)
    if kind in ("float", "double"):
        number = float(text.strip()) if NUMBER.fullmatch(text.strip()) else math.nan
        if not math.isfinite(number):
            raise invalid_value(f"Value ({text[:100]}) for parameter {name} is invalid. Expected a number.")
        return number
    if kind == "timestamp":
        return _timestamp(text, name)
    if kind == "blob":
        return _document_scalar("blob", text, name)
    return text


# --- answers ----------------------------------------------------------------------------------------
def epoch(value: datetime | float) -> float:
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=timezone.utc)).timestamp()
    return float(value)


def to_document(shape: Shape, value: Any, *, binary: bool) -> Any:
    """An answer value for JSON (`binary` False: timestamps as epoch seconds, blobs base64) or CBOR
    (timestamps as datetimes, written as tag 1; blobs as bytes). None members are left out."""
    kind = shape.type_name
    if kind == "structure":
        return {name: to_document(shape.members[name], item, binary=binary)
                for name, item in value.items() if item is not None and name in shape.members}
    if kind == "list":
        return [to_document(shape.member, item, binary=binary) for item in value]
    if kind == "map":
        return {key: to_document(shape.value, item, binary=binary) for key, item in value.items()}
    if kind == "timestamp":
        seconds = epoch(value)
        return datetime.fromtimestamp(seconds, timezone.utc) if binary else seconds
    if kind == "blob":
        data = value if isinstance(value, bytes) else str(value).encode()
        return data if binary else base64.b64encode(data).decode()
    if kind in ("float", "double"):
        return float(value)
    if kind in ("integer", "long"):
        return int(value)
    return value
