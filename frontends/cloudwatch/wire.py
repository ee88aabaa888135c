"""CloudWatch's three wire protocols, told apart by the request's headers, as its model lists them.

- Smithy RPC v2 CBOR: `POST /service/GraniteServiceVersion20100801/operation/<Op>`, header
  `smithy-protocol: rpc-v2-cbor`, a CBOR body; the answer is CBOR (timestamps as tag 1, epoch seconds).
- awsJson 1.0: `POST /` with `X-Amz-Target: GraniteServiceVersion20100801.<Op>` and a JSON body;
  timestamps as epoch seconds.
- awsQuery: `Action=<Op>&Version=2010-08-01` as a form (or query string); the answer is XML
  (`<OpResponse><OpResult>...</OpResult><ResponseMetadata/>`, lists as `<member>`).

Errors in JSON and CBOR carry the model's error shape in `__type` and, since the service is
`awsQueryCompatible`, the Query code in the `x-amzn-query-error` header (`InvalidParameterValue;Sender`):
botocore reports that code whichever protocol it spoke. Query errors are `<ErrorResponse>` documents.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Mapping

import cbor2
from botocore.model import Shape

from frontends.ec2.render import text, timestamp

from .errors import CloudWatchError
from .service import API_VERSION, error_shapes, namespace, operation, service_model, target_prefix
from .shapes import from_document, from_query, params_tree, to_document

CBOR, JSON, QUERY = "smithy-rpc-v2-cbor", "json", "query"
CBOR_PATH = re.compile(r"^/service/GraniteServiceVersion20100801/operation/([^/]*)$")
OPERATION_NAME = re.compile(r"^[A-Z][A-Za-z]{0,63}$")
CONTENT_TYPES = {CBOR: "application/cbor", JSON: "application/x-amz-json-1.0", QUERY: "text/xml"}


@dataclass(frozen=True)
class Answer:
    body: bytes
    status: int = 200
    content_type: str = "text/xml"
    headers: dict[str, str] = field(default_factory=dict)


def protocol_of(path: str, headers: Mapping[str, str]) -> str:
    """Which protocol a CloudWatch request speaks: the CBOR path, a JSON target header, else Query."""
    if CBOR_PATH.match(path) or headers.get("smithy-protocol", "").lower() == "rpc-v2-cbor":
        return CBOR
    if headers.get("X-Amz-Target", "").startswith(f"{target_prefix()}."):
        return JSON
    return QUERY


def addressed_here(path: str, headers: Mapping[str, str], query: Mapping[str, str], signed_service: str | None) -> bool:
    """True for a CloudWatch request: its SigV4 scope names `monitoring`, or (unsigned or SigV2) its path,
    target header or Query `Version` is CloudWatch's. Reads no body (the signature needs it intact)."""
    if signed_service is not None:
        return signed_service == "monitoring"
    return bool(CBOR_PATH.match(path) or headers.get("X-Amz-Target", "").startswith(f"{target_prefix()}.")
                or query.get("Version") == API_VERSION)


def operation_name(protocol: str, path: str, headers: Mapping[str, str], params: Mapping[str, str]) -> str:
    if protocol == CBOR:
        match = CBOR_PATH.match(path)
        name = match.group(1) if match else ""
    elif protocol == JSON:
        name = headers.get("X-Amz-Target", "").partition(".")[2]
    else:
        name = params.get("Action", "")
    if not name:
        raise CloudWatchError("MissingAction", "The request must name an operation (Action)")
    if not OPERATION_NAME.match(name):
        raise CloudWatchError("InvalidAction", f"The action {name[:64]!r} is not valid for this web service.")
    return name


def decode_input(protocol: str, name: str, body: bytes, params: Mapping[str, str]) -> dict[str, Any]:
    """The operation's parameters, parsed and typed by its input shape."""
    shape = operation(name).input_shape
    if protocol == QUERY:
        return from_query(shape, params_tree(params)) if shape is not None else {}
    if not body.strip():
        document: Any = {}
    elif protocol == JSON:
        try:
            document = json.loads(body, parse_constant=_not_json)
        except (ValueError, UnicodeDecodeError, RecursionError):
            raise CloudWatchError("SerializationException", "The request body is not valid JSON") from None
    else:
        try:
            document = cbor2.loads(body)
        except (cbor2.CBORDecodeError, ValueError, TypeError, OverflowError, RecursionError):
            raise CloudWatchError("SerializationException", "The request body is not valid CBOR") from None
    return from_document(shape, document) if shape is not None else {}


def _not_json(word: str) -> Any:
    """Python's json reads Infinity and NaN, which JSON has not: a request carrying them is malformed."""
    raise ValueError(f"{word} is not JSON")


def encode_output(protocol: str, name: str, result: dict[str, Any], request_id: str) -> Answer:
    shape = operation(name).output_shape
    if protocol == QUERY:
        return Answer(_query_response(name, shape, result, request_id), content_type=CONTENT_TYPES[QUERY])
    document = to_document(shape, result, binary=protocol == CBOR) if shape is not None else {}
    return _document_answer(protocol, document, 200, {})


def encode_error(protocol: str, error: CloudWatchError, request_id: str) -> Answer:
    fault = "Receiver" if error.status >= 500 else "Sender"
    headers = {"Retry-After": str(error.retry_after)} if error.retry_after is not None else {}
    if protocol == QUERY:
        body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<ErrorResponse xmlns="{namespace()}"><Error>'
                f"<Type>{fault}</Type><Code>{text(error.code)}</Code><Message>{text(error.message)}</Message>"
                f"</Error><RequestId>{text(request_id)}</RequestId></ErrorResponse>").encode()
        return Answer(body, error.status, CONTENT_TYPES[QUERY], headers)
    shape_name = error_shapes().get(error.code, error.code)
    headers["x-amzn-query-error"] = f"{error.code};{fault}"
    document = {"__type": f"com.amazonaws.cloudwatch#{shape_name}", "message": error.message}
    return _document_answer(protocol, document, error.status, headers)


def _document_answer(protocol: str, document: Any, status: int, headers: dict[str, str]) -> Answer:
    if protocol == CBOR:
        headers = {**headers, "smithy-protocol": "rpc-v2-cbor"}
        return Answer(cbor2.dumps(document, datetime_as_timestamp=True, timezone=timezone.utc), status,
                      CONTENT_TYPES[CBOR], headers)
    # allow_nan=False: Infinity and NaN are not JSON, and no client parses them; a non-finite answer is a bug
    return Answer(json.dumps(document, separators=(",", ":"), allow_nan=False).encode(), status,
                  CONTENT_TYPES[JSON], headers)


# --- awsQuery XML -----------------------------------------------------------------------------------
def _query_response(name: str, shape: Shape | None, result: dict[str, Any], request_id: str) -> bytes:
    out = [f'<?xml version="1.0" encoding="UTF-8"?>\n<{name}Response xmlns="{namespace()}">']
    if shape is not None:
        wrapper = operation(name).output_shape.serialization.get("resultWrapper", f"{name}Result")
        out.append(f"<{wrapper}>")
        _xml_members(out, shape, result)
        out.append(f"</{wrapper}>")
    out.append(f"<ResponseMetadata><RequestId>{text(request_id)}</RequestId></ResponseMetadata></{name}Response>")
    return "".join(out).encode()


def _xml_members(out: list[str], shape: Shape, value: dict[str, Any]) -> None:
    for member_name, member in shape.members.items():
        item = value.get(member_name)
        if item is None:
            continue
        tag = member.serialization.get("name", member_name)
        if member.type_name == "list" and member.serialization.get("flattened"):
            for entry in item:
                _xml_element(out, tag, member.member, entry)
        else:
            _xml_element(out, tag, member, item)


def _xml_element(out: list[str], tag: str, shape: Shape, value: Any) -> None:
    out.append(f"<{tag}>")
    kind = shape.type_name
    if kind == "structure":
        _xml_members(out, shape, value)
    elif kind == "list":
        inner = shape.member.serialization.get("name", "member")
        for entry in value:
            _xml_element(out, inner, shape.member, entry)
    elif kind == "map":
        for key, item in value.items():
            out.append("<entry>")
            _xml_element(out, shape.key.serialization.get("name", "key"), shape.key, key)
            _xml_element(out, shape.value.serialization.get("name", "value"), shape.value, item)
            out.append("</entry>")
    elif kind == "boolean":
        out.append("true" if value else "false")
    elif kind == "timestamp":
        out.append(timestamp(value if isinstance(value, datetime)
                             else datetime.fromtimestamp(float(value), timezone.utc)))
    elif kind in ("float", "double"):
        out.append(repr(float(value)))
    elif kind in ("integer", "long"):
        out.append(str(int(value)))
    else:
        out.append(text(str(value)))
    out.append(f"</{tag}>")


def known_operation(name: str) -> None:
    """InvalidAction unless the model has the operation (every name reaches the model only after this)."""
    if name not in service_model().operation_names:
        raise CloudWatchError("InvalidAction", f"The action {name[:64]} is not valid for this web service.")


__all__ = ["Answer", "CBOR", "JSON", "QUERY", "addressed_here", "decode_input", "encode_error", "encode_output",
           "known_operation", "operation_name", "protocol_of"]
