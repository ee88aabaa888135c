"""Signature verification: SigV4 (Authorization header or presigned query) and SigV2 (libcloud).

Every request is re-signed with the secret the credential store holds for its access key and compared
in constant time; its date must lie within the configured skew (5 minutes, as AWS). What comes back is
the stored credential (the oVirt identity it acts as) and the region of the SigV4 credential scope,
which selects the data center. Errors carry the codes AWS uses, so clients report them as they would.

The Query API's parameters are the body, so the payload hash in the canonical request is always the
hash of the body received: an `X-Amz-Content-SHA256` header that disagrees, `UNSIGNED-PAYLOAD` or a
streaming payload is `SignatureDoesNotMatch` (a presigned URL may sign `UNSIGNED-PAYLOAD` only with an
empty body, as its parameters are then all in the signed query). The credential scope must name the
service addressed (`ec2`, or `sts`). A SigV2 request carries `Timestamp` or `Expires`, never both (AWS's
Query API reference), and an `Expires` at most as far ahead as a SigV4 presigned URL may live (7 days).
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import posixpath
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Callable, Mapping, Sequence
from urllib.parse import quote, unquote_plus

from gateway.store import StoredCredential

from .errors import Ec2Error

ALGORITHM = "AWS4-HMAC-SHA256"
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
STREAMING_PAYLOAD_PREFIX = "STREAMING-"  # STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, ...
MAX_PRESIGN_SECONDS = 7 * 24 * 3600
AUTH_FIELD = re.compile(r"(\w+)=([^,\s]*)")

Lookup = Callable[[str], StoredCredential | None]


@dataclass(frozen=True)
class SignedRequest:
    """What verification needs to know about an HTTP request, independent of the web framework."""

    method: str
    path: str
    query: Sequence[tuple[str, str]]  # decoded pairs of the query string, in order
    headers: Mapping[str, str]  # case-insensitive mapping (werkzeug's Headers)
    body: bytes
    params: Mapping[str, str]  # query and form parameters merged (SigV2 signs these)


@dataclass(frozen=True)
class Verified:
    credential: StoredCredential
    region: str | None
    version: str  # "4" or "2"


def auth_failure(message: str) -> Ec2Error:
    return Ec2Error("AuthFailure", message, 401)


def expired(message: str) -> Ec2Error:
    return Ec2Error("RequestExpired", message, 400)


def mismatch(reason: str = "") -> Ec2Error:
    message = ("The request signature we calculated does not match the signature you provided. Check your AWS "
               "Secret Access Key and signing method.")
    return Ec2Error("SignatureDoesNotMatch", f"{message} {reason}" if reason else message, 403)


def wrong_service(service: str) -> Ec2Error:
    """AWS's answer to a credential scope naming another service."""
    return Ec2Error("SignatureDoesNotMatch", f"Credential should be scoped to correct service: '{service}'. ", 403)


def unknown_key(access_key: str) -> Ec2Error:
    return Ec2Error("InvalidClientTokenId", "The security token included in the request is invalid "
                    f"(unknown access key '{access_key[:64]}').", 401)


def _hmac(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode(), hashlib.sha256).digest()


def _quote(text: str) -> str:
    return quote(text, safe="-_.~")


def canonical_query(pairs: Sequence[tuple[str, str]], exclude: str | None = None) -> str:
    encoded = sorted((_quote(k), _quote(v)) for k, v in pairs if k != exclude)
    return "&".join(f"{k}={v}" for k, v in encoded)


def canonical_path(path: str) -> str:
    normalized = posixpath.normpath(path) if path not in ("", "/") else "/"
    if path.endswith("/") and not normalized.endswith("/"):
        normalized += "/"
    return quote(normalized, safe="/~")


def _canonical_headers(headers: Mapping[str, str], names: list[str]) -> str:
    lines = []
    for name in names:
        getall = getattr(headers, "getlist", None)
        values = getall(name) if getall else [headers.get(name, "")]
        if not values or values == [None]:
            raise auth_failure(f"The signed header '{name}' is missing from the request")
        lines.append(f"{name}:{','.join(' '.join(str(v).split()) for v in values)}\n")
    return "".join(lines)


def signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    key = _hmac(("AWS4" + secret).encode(), date)
    key = _hmac(key, region)
    key = _hmac(key, service)
    return _hmac(key, "aws4_request")


def sigv4_signature(secret: str, request: SignedRequest, *, amz_date: str, scope: str, signed_headers: list[str],
                    payload_hash: str, exclude_query: str | None = None) -> str:
    """The hex SigV4 signature of a request (the same computation the client made)."""
    canonical = "\n".join((request.method.upper(), canonical_path(request.path),
                           canonical_query(request.query, exclude_query),
                           _canonical_headers(request.headers, signed_headers), ";".join(signed_headers),
                           payload_hash))
    string_to_sign = "\n".join((ALGORITHM, amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()))
    date, region, service, _ = scope.split("/", 3)
    return hmac.new(signing_key(secret, date, region, service), string_to_sign.encode(),
                    hashlib.sha256).hexdigest()


def _parse_amz_date(value: str) -> datetime:
    try:
        return datetime.strptime(value, "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc)
    except ValueError:
        raise auth_failure(f"X-Amz-Date '{value[:40]}' is not of the form YYYYMMDDTHHMMSSZ") from None


def _check_skew(when: datetime, now: datetime, skew: int) -> None:
    if abs((now - when).total_seconds()) > skew:
        raise expired(f"Request has expired: its date {when:%Y%m%dT%H%M%SZ} is more than {skew} seconds "
                      f"away from the server's {now:%Y%m%dT%H%M%SZ}.")


def _split_credential(credential: str, service: str) -> tuple[str, str, str, str]:
    """(access key, scope, date, region) from `AKID/20260101/region/ec2/aws4_request`, whose service
    must be `service`."""
    parts = credential.split("/")
    if len(parts) != 5 or parts[4] != "aws4_request" or not parts[0]:
        raise auth_failure("Credential must be <access key>/<date>/<region>/<service>/aws4_request")
    if parts[3] != service:
        raise wrong_service(service)
    return parts[0], "/".join(parts[1:]), parts[1], parts[2]


def body_hash(request: SignedRequest) -> str:
    """The payload hash of the canonical request: the body received, whatever the client claims.

    A claimed `X-Amz-Content-SHA256` must be that same hash; an unsigned or streaming payload would leave
    the parameters (the body) unsigned, so it is refused.
    """
    actual = hashlib.sha256(request.body).hexdigest()
    claimed = request.headers.get("X-Amz-Content-SHA256")
    if claimed is None or claimed == actual:
        return actual
    if claimed == UNSIGNED_PAYLOAD or claimed.startswith(STREAMING_PAYLOAD_PREFIX):
        raise mismatch(f"The Query API does not accept the payload hash '{claimed[:64]}': its parameters are the "
                       "body, which must be signed.")
    raise mismatch("The X-Amz-Content-SHA256 header does not match the body received.")


def _lookup(lookup: Lookup, access_key: str) -> StoredCredential:
    stored = lookup(access_key)
    if stored is None:
        raise unknown_key(access_key)
    return stored


def verify_v4_header(request: SignedRequest, lookup: Lookup, now: datetime, skew: int, service: str) -> Verified:
    header = request.headers.get("Authorization", "")
    algorithm, _, rest = header.partition(" ")
    if algorithm != ALGORITHM:
        raise auth_failure(f"Unsupported authorization algorithm '{algorithm[:40]}'")
    fields = dict(AUTH_FIELD.findall(rest))
    if not {"Credential", "SignedHeaders", "Signature"} <= fields.keys():
        raise auth_failure("Authorization header requires Credential, SignedHeaders and Signature")
    access_key, scope, date, region = _split_credential(fields["Credential"], service)
    amz_date = request.headers.get("X-Amz-Date")
    if not amz_date:
        raise auth_failure("Authorization header requires the X-Amz-Date header")
    when = _parse_amz_date(amz_date)
    if amz_date[:8] != date:
        raise auth_failure("The credential scope's date does not match X-Amz-Date")
    signed = fields["SignedHeaders"].lower().split(";")
    if "host" not in signed:
        raise auth_failure("The host header must be signed")
    stored = _lookup(lookup, access_key)
    _check_skew(when, now, skew)
    expected = sigv4_signature(stored.secret_key, request, amz_date=amz_date, scope=scope, signed_headers=signed,
                               payload_hash=body_hash(request))
    if not hmac.compare_digest(expected, fields["Signature"]):
        raise mismatch()
    return Verified(stored, region, "4")


def verify_v4_query(request: SignedRequest, lookup: Lookup, now: datetime, skew: int, service: str) -> Verified:
    query = dict(request.query)
    if query.get("X-Amz-Algorithm") != ALGORITHM:
        raise auth_failure("Unsupported X-Amz-Algorithm")
    for name in ("X-Amz-Credential", "X-Amz-Date", "X-Amz-SignedHeaders", "X-Amz-Signature"):
        if not query.get(name):
            raise auth_failure(f"A presigned request requires {name}")
    access_key, scope, date, region = _split_credential(query["X-Amz-Credential"], service)
    amz_date = query["X-Amz-Date"]
    when = _parse_amz_date(amz_date)
    if amz_date[:8] != date:
        raise auth_failure("The credential scope's date does not match X-Amz-Date")
    try:
        lifetime = int(query.get("X-Amz-Expires", "3600"))
    except ValueError:
        raise auth_failure("X-Amz-Expires must be a number of seconds") from None
    if not 0 < lifetime <= MAX_PRESIGN_SECONDS:
        raise auth_failure(f"X-Amz-Expires must be from 1 to {MAX_PRESIGN_SECONDS} seconds")
    signed = query["X-Amz-SignedHeaders"].lower().split(";")
    if "host" not in signed:
        raise auth_failure("The host header must be signed")
    stored = _lookup(lookup, access_key)
    if when - now > timedelta(seconds=skew):
        raise expired("Request is not yet valid: its X-Amz-Date lies in the future")
    if now > when + timedelta(seconds=lifetime):
        raise expired(f"Request has expired: it was valid until {when + timedelta(seconds=lifetime):%Y%m%dT%H%M%SZ}")
    # botocore presigns UNSIGNED-PAYLOAD over https; harmless only when there is no body to leave unsigned
    payloads = (body_hash(request), UNSIGNED_PAYLOAD) if not request.body else (body_hash(request),)
    for payload in payloads:
        expected = sigv4_signature(stored.secret_key, request, amz_date=amz_date, scope=scope, signed_headers=signed,
                                   payload_hash=payload, exclude_query="X-Amz-Signature")
        if hmac.compare_digest(expected, query["X-Amz-Signature"]):
            return Verified(stored, region, "4")
    raise mismatch()


def sigv2_signature(secret: str, method: str, host: str, path: str, params: Mapping[str, str], digest: str) -> str:
    string_to_sign = "\n".join((method.upper(), host.lower(), path or "/",
                                canonical_query(list(params.items()), exclude="Signature")))
    algorithm = hashlib.sha1 if digest == "HmacSHA1" else hashlib.sha256
    return base64.b64encode(hmac.new(secret.encode(), string_to_sign.encode(), algorithm).digest()).decode()


def _parse_iso(value: str, name: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise auth_failure(f"{name} '{value[:40]}' is not an ISO 8601 time") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def verify_v2(request: SignedRequest, lookup: Lookup, now: datetime, skew: int) -> Verified:
    params = request.params
    digest = params.get("SignatureMethod", "HmacSHA256")
    if digest not in ("HmacSHA256", "HmacSHA1"):
        raise auth_failure(f"Unsupported SignatureMethod '{digest[:40]}'")
    if not params.get("AWSAccessKeyId") or not params.get("Signature"):
        raise auth_failure("Signature version 2 requires AWSAccessKeyId and Signature")
    stored = _lookup(lookup, params["AWSAccessKeyId"])
    if params.get("Expires") and params.get("Timestamp"):
        raise auth_failure("Requests must include either Timestamp or Expires, but cannot contain both")
    if params.get("Expires"):
        expires = _parse_iso(params["Expires"], "Expires")
        if now > expires:
            raise expired("Request has expired: its Expires time has passed")
        if expires - now > timedelta(seconds=MAX_PRESIGN_SECONDS + skew):
            raise expired(f"Request signature is too far in the future: Expires may lie at most "
                          f"{MAX_PRESIGN_SECONDS // 86400} days ahead")
    elif params.get("Timestamp"):
        _check_skew(_parse_iso(params["Timestamp"], "Timestamp"), now, skew)
    else:
        raise auth_failure("Signature version 2 requires Timestamp or Expires")
    expected = sigv2_signature(stored.secret_key, request.method, request.headers.get("Host", ""), request.path,
                               params, digest)
    if not hmac.compare_digest(expected.encode(), params["Signature"].encode()):
        raise mismatch()
    return Verified(stored, None, "2")


def verify(request: SignedRequest, lookup: Lookup, *, skew: int, service: str = "ec2",
           now: datetime | None = None) -> Verified:
    """Verify whichever signature the request carries, for `service` (the one a SigV4 scope must name);
    Ec2Error (AuthFailure & co.) if it fails."""
    now = now or datetime.now(timezone.utc)
    if request.headers.get("Authorization"):
        return verify_v4_header(request, lookup, now, skew, service)
    if any(name == "X-Amz-Signature" for name, _ in request.query):
        return verify_v4_query(request, lookup, now, skew, service)
    if request.params.get("SignatureVersion") == "2" or "Signature" in request.params:
        if request.params.get("SignatureVersion", "2") != "2":
            raise auth_failure("Only signature versions 2 and 4 are supported")
        return verify_v2(request, lookup, now, skew)
    raise Ec2Error("MissingAuthenticationToken", "Request is missing Authentication Token", 401)


def decoded_query(raw: bytes) -> list[tuple[str, str]]:
    """Query pairs decoded exactly as the parameters the actions read (werkzeug: '+' is a space).

    The signature must cover the values the request is served with: were '+' kept as a plus here while
    the action reads a space, a signed `KeyName=a%2Bb` could be replayed as `KeyName=a+b`, a different
    name under the same signature. SigV4 clients encode a space as %20 and a plus as %2B, never '+'.
    """
    pairs = []
    for part in raw.decode("latin-1").split("&"):
        if not part:
            continue
        key, _, value = part.partition("=")
        pairs.append((unquote_plus(key, encoding="utf-8", errors="replace"),
                      unquote_plus(value, encoding="utf-8", errors="replace")))
    return pairs
