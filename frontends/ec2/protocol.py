"""Query parameters -> the request dict boto3 would have built, parsed by the operation's input shape.

`Filter.2.Value.3=x`, `TagSpecification.1.Tag.2.Key=k` and `Placement.AvailabilityZone=z` become the
nested lists and structures of the model; types come from the declared shape, never from the text
(a tag value "0123" stays a string; ec2-api's guessing turned it into 83). Every list element is read,
in numeric order. Unknown parameters are ignored, as the authentication ones are. A malformed name
(an empty segment such as `ResourceId.=x`) or a list index that is not ASCII digits (`InstanceId.²`,
which `str.isdigit` accepts and `int` refuses) is InvalidParameterValue, whatever the action.
"""
from __future__ import annotations

import math
import re
from datetime import datetime, timezone
from typing import Any, Mapping

from botocore.model import Shape

from gateway.errors import InvalidParameter, echo
from gateway.userdata import decode_base64

from .errors import Ec2Error, invalid_value, missing
from .service import operation

AUTH_PARAMETERS = frozenset({"Action", "Version", "AWSAccessKeyId", "Signature", "SignatureMethod",
                             "SignatureVersion", "Timestamp", "Expires", "X-Amz-Algorithm", "X-Amz-Credential",
                             "X-Amz-Date", "X-Amz-Expires", "X-Amz-SignedHeaders", "X-Amz-Signature",
                             "X-Amz-Security-Token"})
MAX_LIST_INDEX = 10_000
LIST_INDEX = re.compile(r"[0-9]{1,5}")  # ASCII only: int() also reads other scripts' digits
INTEGER = re.compile(r"[+-]?[0-9]{1,19}")
NUMBER = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]{1,3})?")

Tree = dict[str, Any]  # wire-name segment -> Tree, plus "" -> the scalar text given for that exact name


def params_tree(flat: Mapping[str, str]) -> Tree:
    """Split dotted names into a tree: {'Filter': {'1': {'Name': {'': 'x'}, ...}}}."""
    root: Tree = {}
    for name, value in flat.items():
        if name in AUTH_PARAMETERS:
            continue
        parts = name.split(".")
        if "" in parts:  # "" is where a node keeps its own text; `ResourceId.=x` would overwrite it
            raise invalid_value(f"The parameter name {echo(name)} is malformed: it has an empty part")
        node = root
        for part in parts:
            node = node.setdefault(part, {})
        node[""] = value
    return root


def wire_name(member: Shape, member_name: str) -> str:
    """The EC2 protocol's input name of a member (queryName, else capitalized locationName, else its name)."""
    serialization = member.serialization
    if "queryName" in serialization:
        return serialization["queryName"]
    if "name" in serialization:
        name = serialization["name"]
        return name[0].upper() + name[1:]
    return member_name


def _path(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def _structure(shape: Shape, node: Tree, prefix: str) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for member_name, member in shape.members.items():
        wire = wire_name(member, member_name)
        child = node.get(wire)
        if child is not None:
            result[member_name] = _value(member, child, _path(prefix, wire))
    return result


def _list(shape: Shape, node: Tree, prefix: str) -> list[Any]:
    indexed: list[tuple[int, Tree]] = []
    for key, child in node.items():
        if key == "":
            continue
        if not LIST_INDEX.fullmatch(key) or not 0 < int(key) <= MAX_LIST_INDEX:
            raise invalid_value(f"Invalid list index in parameter {echo(f'{prefix}.{key}')}")
        indexed.append((int(key), child))
    if not indexed and "" in node:  # `InstanceId=i-...` without an index: a one-element list
        indexed.append((1, {"": node[""]}))
    indexed.sort(key=lambda pair: pair[0])
    return [_value(shape.member, child, f"{prefix}.{index}") for index, child in indexed]


def _scalar(shape: Shape, text: str, name: str) -> Any:
    kind = shape.type_name
    if kind == "string":
        return text
    if kind in ("integer", "long"):
        if not INTEGER.fullmatch(text.strip()):
            raise invalid_value(f"Value ({echo(text, 100)}) for parameter {name} is invalid. Expected an integer.")
        return int(text.strip(), 10)
    if kind == "boolean":
        lowered = text.strip().lower()
        if lowered not in ("true", "false"):
            raise invalid_value(f"Value ({text[:100]}) for parameter {name} is invalid. Expected true or false.")
        return lowered == "true"
    if kind in ("float", "double"):
        number = float(text.strip()) if NUMBER.fullmatch(text.strip()) else math.nan  # no "nan", "inf", "١"
        if not math.isfinite(number):
            raise invalid_value(f"Value ({echo(text, 100)}) for parameter {name} is invalid. Expected a number.")
        return number
    if kind == "blob":
        try:
            return decode_base64(text, name)
        except InvalidParameter:
            raise invalid_value(f"Value for parameter {name} is not valid base64.") from None
    if kind == "timestamp":
        try:
            when = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
            return when if when.tzinfo else when.replace(tzinfo=timezone.utc)  # comparable with aware times
        except ValueError:
            raise invalid_value(f"Value ({text[:100]}) for parameter {name} is not a valid timestamp.") from None
    return text


def _value(shape: Shape, node: Tree, name: str) -> Any:
    kind = shape.type_name
    if kind == "structure":
        return _structure(shape, node, name)
    if kind == "list":
        return _list(shape, node, name)
    if kind == "map":
        raise invalid_value(f"Parameter {echo(name)} is not supported")
    if "" not in node:
        raise invalid_value(f"Parameter {echo(name)} needs a value, not sub-parameters")
    return _scalar(shape, node[""], name)


def parse_params(action: str, flat: Mapping[str, str]) -> dict[str, Any]:
    """The request dict of `action` (member names as boto3 uses them), required members checked."""
    shape = operation(action).input_shape
    if shape is None:
        return {}
    params = _structure(shape, params_tree(flat), "")
    for required in shape.required_members:
        if required not in params:
            raise missing(wire_name(shape.members[required], required))
    return params


__all__ = ["Ec2Error", "parse_params", "params_tree", "wire_name"]
