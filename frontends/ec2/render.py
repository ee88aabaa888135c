"""One renderer: a boto3-shaped response dict -> EC2 XML, driven by the operation's output shape.

Element names are the model's locationNames, list entries are `<item>`, booleans lower-case,
timestamps `YYYY-MM-DDTHH:MM:SS.000Z`; None members are left out (botocore crashes on empty integer or
timestamp elements) and the top-level lists are always present, empty if need be. Actions never see XML.
Per-shape plans are computed once, so rendering a thousand instances is a loop of string appends: a
structure's members are resolved ahead to (kind, tags, emitter) and text, boolean and integer leaves
are written inline, since a function call per leaf would cost more than the leaf itself.
"""
from __future__ import annotations

import base64
import re
import threading
from datetime import datetime, timezone
from typing import Any, Callable

from botocore.model import Shape

from gateway.xmltext import UNWRITABLE, UNWRITABLE_CLASS

from .service import operation

DEFAULT_VERSION = "2016-11-15"
VERSION_PATTERN = re.compile(r"^\d{4}-\d{2}-\d{2}$")
NEEDS_CARE = re.compile(f"[&<>\"{UNWRITABLE_CLASS}]")
ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"})

Emit = Callable[[list[str], Any], None]
# A structure member's plan: (kind, open tag or whole `false` element, close tag or whole `true`
# element, emitter for nested kinds).
Member = tuple[int, str, str, "Emit | None"]
TEXT, FLAG, NUMBER, NESTED = range(4)
_plans: dict[str, Emit] = {}  # shape name -> complete plan; read without a lock
_building = threading.Lock()  # one build at a time, so two never publish different plans for a shape


class Rendered(dict):
    """A structure value whose XML content is already written (`xml`): a list of them is rendered by
    appending each as it is. Still a dict with the same members, for filters and paging to read."""

    __slots__ = ("xml",)

    def __init__(self, value: dict[str, Any], xml: str) -> None:
        super().__init__(value)
        self.xml = xml


def text(value: str) -> str:
    """XML character data: escaped, and without the control characters XML 1.0 cannot carry."""
    if NEEDS_CARE.search(value) is None:  # the common case: nothing to do
        return value
    if UNWRITABLE.search(value):
        value = UNWRITABLE.sub("", value)
    return value.translate(ESCAPES)


def timestamp(value: datetime | str) -> str:
    if isinstance(value, str):
        return value
    if value.tzinfo is not None:
        value = value.astimezone(timezone.utc).replace(tzinfo=None)
    if value.year >= 1000:  # isoformat is several times cheaper than strftime and agrees from year 1000
        return value.isoformat(timespec="milliseconds") + "Z"
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def _scalar_emitter(shape: Shape) -> Emit:
    kind = shape.type_name
    if kind == "boolean":
        return lambda out, v: out.append("true" if v else "false")
    if kind in ("integer", "long"):
        return lambda out, v: out.append(str(int(v)))
    if kind in ("float", "double"):
        return lambda out, v: out.append(repr(float(v)))
    if kind == "timestamp":
        return lambda out, v: out.append(timestamp(v))
    if kind == "blob":
        return lambda out, v: out.append(base64.b64encode(v).decode() if isinstance(v, bytes) else text(v))
    return lambda out, v: out.append(text(str(v)))


def emitter(shape: Shape) -> Emit:
    """The function that appends a value of `shape` (its content, not its own element) to `out`.

    Plans are built completely, for the shape and every shape it reaches, before any is published in
    `_plans`: a plan registered early (a structure's, before its members are resolved, so that a shape
    may contain itself) is visible only to the build that made it, never to a concurrent request.
    """
    plan = _plans.get(shape.name)
    if plan is not None:
        return plan
    with _building:
        plan = _plans.get(shape.name)
        if plan is None:
            built: dict[str, Emit] = {}
            plan = _build(shape, built)
            _plans.update(built)  # every plan in `built` is complete by now
    return plan


def _build(shape: Shape, built: dict[str, Emit]) -> Emit:
    plan = _plans.get(shape.name) or built.get(shape.name)
    if plan is not None:
        return plan
    kind = shape.type_name
    if kind == "structure":
        return _structure_emitter(shape, built)
    if kind == "list":
        return _list_emitter(shape, built)
    plan = built[shape.name] = _scalar_emitter(shape)
    return plan


def _structure_emitter(shape: Shape, built: dict[str, Emit]) -> Emit:
    members: dict[str, Member] = {}
    needs_care = NEEDS_CARE.search

    def emit_structure(out: list[str], value: dict[str, Any]) -> None:
        append = out.append
        for key, item in value.items():
            if item is None:
                continue
            kind, first, second, emit = members[key]
            if kind == TEXT:
                append(first)
                if item.__class__ is not str:
                    item = str(item)
                append(item if needs_care(item) is None else text(item))
                append(second)
            elif kind == NESTED:
                append(first)
                emit(out, item)  # type: ignore[misc]
                append(second)
            elif kind == FLAG:
                append(second if item else first)
            else:
                append(first)
                append(str(int(item)))
                append(second)

    built[shape.name] = emit_structure  # before the members: a shape may contain itself
    for member_name, member in shape.members.items():
        members[member_name] = _member_plan(member_name, member, built)
    return emit_structure


def _member_plan(member_name: str, member: Shape, built: dict[str, Emit]) -> Member:
    xml_name = member.serialization.get("name", member_name)
    open_tag, close_tag = f"<{xml_name}>", f"</{xml_name}>"
    kind = member.type_name
    if kind == "string":
        return TEXT, open_tag, close_tag, None
    if kind == "boolean":
        return FLAG, f"{open_tag}false{close_tag}", f"{open_tag}true{close_tag}", None
    if kind in ("integer", "long"):
        return NUMBER, open_tag, close_tag, None
    return NESTED, open_tag, close_tag, _build(member, built)


def _list_emitter(shape: Shape, built: dict[str, Emit]) -> Emit:
    item_name = shape.member.serialization.get("name", "member")
    open_item, close_item = f"<{item_name}>", f"</{item_name}>"
    member_shape = shape.member
    needs_care = NEEDS_CARE.search

    if member_shape.type_name == "string":
        def emit_texts(out: list[str], value: list[Any]) -> None:
            append = out.append
            for item in value:
                append(open_item)
                append(item if needs_care(item) is None else text(item))
                append(close_item)

        built[shape.name] = emit_texts
        return emit_texts

    emit_member: list[Emit] = []  # filled below: the member shape may contain this list

    def emit_list(out: list[str], value: list[Any]) -> None:
        emit = emit_member[0]
        append = out.append
        for item in value:
            append(open_item)
            if item.__class__ is Rendered:
                append(item.xml)
            else:
                emit(out, item)
            append(close_item)

    built[shape.name] = emit_list
    emit_member.append(_build(member_shape, built))
    return emit_list


def render_value(shape: Shape, value: Any) -> str:
    """The XML content of one value of `shape` (without its own element), as a response would carry it."""
    out: list[str] = []
    emitter(shape)(out, value)
    return "".join(out)


def namespace(version: str | None) -> str:
    return f"http://ec2.amazonaws.com/doc/{version if version and VERSION_PATTERN.match(version) else DEFAULT_VERSION}/"


def render_response(action: str, result: dict[str, Any], request_id: str, version: str | None) -> bytes:
    """`<{Action}Response xmlns=...><requestId/>...</{Action}Response>` for a result dict of that action."""
    root = f"{action}Response"
    out = [f'<?xml version="1.0" encoding="UTF-8"?>\n<{root} xmlns="{namespace(version)}">',
           f"<requestId>{text(request_id)}</requestId>"]
    shape = operation(action).output_shape
    if shape is None:
        out.append("<return>true</return>")
    else:
        emitter(shape)(out, result)
        for member_name, member in shape.members.items():
            if member.type_name == "list" and result.get(member_name) is None:
                xml_name = member.serialization.get("name", member_name)
                out.append(f"<{xml_name}/>")
    out.append(f"</{root}>")
    return "".join(out).encode()


def render_error(code: str, message: str, request_id: str) -> bytes:
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>{text(code)}</Code>'
            f"<Message>{text(message)}</Message></Error></Errors><RequestID>{text(request_id)}</RequestID>"
            f"</Response>").encode()
