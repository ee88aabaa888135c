"""The HTTP side: a CloudWatch request is verified (SigV4, service `monitoring`), parsed, run and rendered.

Order as on AWS: authenticate, then find the operation, parse its parameters by the model, build the scope
(the signature's region selects the data center, as for EC2), run it, answer in the request's protocol.
Signatures are checked exactly as EC2's (same access keys, same skew, same codes), errors written in
CloudWatch's format; nothing a client sends produces a stack trace.
"""
from __future__ import annotations

import logging
import zlib
from typing import Any
from urllib.parse import parse_qsl

from flask import Response, g, request
from werkzeug.exceptions import HTTPException

from frontends.ec2 import signing, sts
from frontends.ec2.endpoint import flat_params, scope_for, signed_request
from frontends.ec2.errors import Ec2Error
from gateway import request_stats
from gateway.app import current_gateway
from gateway.errors import GatewayError
from gateway.xmlsafe import require_writable

from . import wire
from .actions import ACTIONS
from .call import Call
from .errors import CloudWatchError, from_gateway

log = logging.getLogger("cloudgw.cloudwatch")
AWS_PATHS = ("/", "/ec2", "/ec2/")
MAX_REGION = 255  # what an alarm's region column holds
# Headers that choose the operation or how the body is read: botocore signs them whenever it sends them, and
# an unsigned one would let a captured request be replayed as another operation within the clock skew.
MUST_BE_SIGNED = ("x-amz-target", "smithy-protocol", "content-encoding")


def intercept() -> Response | None:
    """Flask `before_request`: answer CloudWatch's requests here; leave every other request alone."""
    path = request.path
    if path not in AWS_PATHS and not wire.CBOR_PATH.match(path):
        return None
    service = sts.scope_service(request.headers, request.args)
    if not wire.addressed_here(path, request.headers, _routing_params(service), service):
        return None
    return handle()


def _routing_params(signed_service: str | None) -> dict[str, str]:
    """What tells an unsigned or SigV2 Query request's service: the query string and, for a POSTed form, the
    form (cached raw, so the signature still reads the body as sent)."""
    params = dict(request.args.items())
    if (signed_service is None and request.method == "POST" and request.mimetype == "application/x-www-form-urlencoded"
            and not request.headers.get("Content-Encoding")):
        form = parse_qsl(request.get_data(cache=True).decode("utf-8", errors="replace"), keep_blank_values=True)
        params = {**dict(form), **params}
    return params


def handle() -> Response:
    request_id = getattr(g, "request_id", "")
    protocol = wire.QUERY
    try:
        protocol = wire.protocol_of(request.path, request.headers)
        signed_body = request.get_data(cache=True)  # before the form is read, or the signed body is lost
        body = _decompressed(signed_body, current_gateway().config.max_body_bytes)
        params = _query_params(body) if protocol == wire.QUERY else {}
        if request.method != "POST" and protocol != wire.QUERY:
            raise CloudWatchError("InvalidAction", f"{protocol} requests must be POSTed", 405)
        gateway = current_gateway()
        verified = signing.verify(signed_request(params, signed_body), gateway.store.credential,
                                  skew=gateway.config.signature_skew_seconds, service="monitoring")
        request_stats.note_identity(verified.credential.access_key)
        _require_signed(verified)
        if len(verified.region or "") > MAX_REGION:
            raise CloudWatchError("InvalidParameterValue", f"The region of the signature's scope must have at most "
                                  f"{MAX_REGION} characters.")
        name = wire.operation_name(protocol, request.path, request.headers, params)
        wire.known_operation(name)
        action = ACTIONS.get(name)
        if action is None:
            raise CloudWatchError("InvalidAction", f"The operation {name} is not supported by this gateway.")
        request_stats.name_action("cloudwatch", name)
        parsed = wire.decode_input(protocol, name, body, params)
        _require_writable(parsed)
        scope = scope_for(verified)
        call = Call(action=name, params=parsed, scope=scope, driver=gateway.driver_for(scope.provider),
                    gateway=gateway, region=verified.region or scope.datacenter or "",
                    access_key=verified.credential.access_key, request_id=request_id)
        return _response(wire.encode_output(protocol, name, action(call), request_id))
    except CloudWatchError as exc:
        return _error(protocol, exc)
    except Ec2Error as exc:  # the shared signature checks speak EC2's exception; the codes are AWS's own
        return _error(protocol, CloudWatchError(exc.code, exc.message, exc.status, retry_after=exc.retry_after))
    except GatewayError as exc:
        return _error(protocol, from_gateway(exc))
    except HTTPException as exc:
        return _error(protocol, CloudWatchError("InvalidRequest", exc.description or exc.name, exc.code or 400))
    except Exception:
        log.exception("CloudWatch request failed", extra={"request_id": request_id})
        return _error(protocol, CloudWatchError("InternalFailure", "An internal error has occurred", 500))


def _require_signed(verified: signing.Verified) -> None:
    """IncompleteSignature if a header that selects the operation or decodes the body is not signed."""
    present = [name for name in MUST_BE_SIGNED if name in request.headers]
    if not present:
        return
    signed: set[str] = set()
    if verified.version == "4":
        listed = request.args.get("X-Amz-SignedHeaders")
        if listed is None:
            fields = request.headers.get("Authorization", "").partition(" ")[2]
            listed = next((part.strip().partition("=")[2] for part in fields.split(",")
                           if part.strip().startswith("SignedHeaders=")), "")
        signed = {name.strip().lower() for name in listed.split(";")}
    unsigned = [name for name in present if name not in signed]
    if unsigned:
        raise CloudWatchError("IncompleteSignature", f"The header(s) {', '.join(unsigned)} must be signed "
                              "(listed in SignedHeaders).", 403)


def _decompressed(body: bytes, limit: int) -> bytes:
    """The body as sent before compression: botocore gzips PutMetricData bodies over 10 KB
    (`Content-Encoding: gzip`, the model's requestcompression trait); inflated at most to `limit` bytes."""
    if request.headers.get("Content-Encoding", "").strip().lower() != "gzip":
        return body
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        plain = inflater.decompress(body, limit + 1)
    except zlib.error:
        raise CloudWatchError("SerializationException", "The gzip-encoded request body is corrupt") from None
    if len(plain) > limit or inflater.unconsumed_tail:
        raise CloudWatchError("RequestEntityTooLarge", f"The request body inflates to more than {limit} bytes", 413)
    if not inflater.eof:  # cut short: the missing part (and the checksum) might change what was meant
        raise CloudWatchError("SerializationException", "The gzip-encoded request body is truncated")
    return plain


def _query_params(body: bytes) -> dict[str, str]:
    """Query parameters: the query string's, then the form's (read from the inflated body if compressed)."""
    if request.headers.get("Content-Encoding", "").strip().lower() != "gzip":
        return flat_params()
    params = {key: request.args.get(key, "") for key in request.args}
    params.update(parse_qsl(body.decode("utf-8", errors="replace"), keep_blank_values=True))
    return params


def _require_writable(value: Any, name: str = "a parameter") -> None:
    """Text that XML cannot carry (control characters) is refused before anything is stored."""
    if isinstance(value, str):
        require_writable(value, name)
    elif isinstance(value, dict):
        for key, item in value.items():
            _require_writable(item, str(key))
    elif isinstance(value, list):
        for item in value:
            _require_writable(item, name)


def _response(answer: wire.Answer) -> Response:
    response = Response(answer.body, status=answer.status, content_type=answer.content_type)
    for key, value in answer.headers.items():
        response.headers[key] = value
    return response


def _error(protocol: str, exc: CloudWatchError) -> Response:
    return _response(wire.encode_error(protocol, exc, getattr(g, "request_id", "")))
