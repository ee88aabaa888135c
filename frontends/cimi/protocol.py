"""The HTTP side of CIMI: format negotiation, `CIMI-Specification-Version`, and building responses.

`$format` overrides `Accept` (the spec says so); `Accept` is read with its q-values (werkzeug's parser;
between equal qualities the more specific type wins); like Deltacloud, a request that states no preference
gets XML, a bare `*/*` gets JSON. The version header may list several versions in order of preference; the
first one this gateway implements wins (a missing update number is a wildcard: `1.0` means any 1.0.x), and
a list naming none of them is a 400.
"""
from __future__ import annotations

from flask import Response, request
from werkzeug.datastructures import MIMEAccept
from werkzeug.http import parse_accept_header

from gateway.errors import InvalidParameter

from .render import JSON, MEDIA_TYPES, XML, Document, serialise

VERSION_HEADER = "CIMI-Specification-Version"
JOB_HEADER = "CIMI-Job-URI"
SUPPORTED_VERSIONS = ("1.0.1",)
DEFAULT_VERSION = SUPPORTED_VERSIONS[0]


class NotAcceptable(Exception):
    """Accept names no representation CIMI can produce (HTTP 406)."""


def negotiate_version(header: str | None) -> str:
    """The version to answer with for a client's `CIMI-Specification-Version` list."""
    if header is None or not header.strip():
        return DEFAULT_VERSION
    for wanted in (part.strip() for part in header.split(",")):
        if not wanted:
            continue
        wanted_parts = wanted.split(".")
        for version in SUPPORTED_VERSIONS:
            if version.split(".")[:len(wanted_parts)] == wanted_parts:
                return version
    raise InvalidParameter(f"{VERSION_HEADER} '{header[:100]}' names no supported version "
                           f"(supported: {', '.join(SUPPORTED_VERSIONS)})", parameter=VERSION_HEADER)


def response_format(format_param: str | None, accept: str | None) -> str:
    """'xml' or 'json' for the answer; NotAcceptable when neither may be sent."""
    if format_param:
        chosen = format_param.strip().lower()
        if chosen not in (XML, JSON):
            raise InvalidParameter(f"$format must be xml or json, got '{format_param[:40]}'", parameter="$format")
        return chosen
    if accept is None or not accept.strip():
        return XML
    best: tuple[float, str] | None = None
    # werkzeug parses by RFC 9110 (an invalid q drops its item) and lists more specific types first.
    for value, quality in parse_accept_header(accept, MIMEAccept):
        media = value.partition(";")[0].strip().lower()  # parameters other than q stay in the value
        if quality <= 0:
            continue
        if media in ("application/xml", "text/xml") or media.endswith("+xml"):
            candidate = XML
        elif media in ("application/json", "text/json") or media.endswith("+json"):
            candidate = JSON
        elif media in ("*/*", "application/*"):
            candidate = JSON
        elif media == "text/*":
            candidate = XML
        else:
            continue
        if best is None or quality > best[0]:
            best = (quality, candidate)
    if best is None:
        raise NotAcceptable(accept)
    return best[1]


def respond(document: Document | None, fmt: str, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A response with the document serialised in the negotiated format (or an empty body)."""
    if document is None:
        response = Response(b"", status=status)
    else:
        response = Response(serialise(document, fmt), status=status, content_type=MEDIA_TYPES[fmt])
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def query_values(name: str) -> list[str]:
    """Every value of a query parameter, accepting `$name` and plain `name` spellings."""
    return request.args.getlist(name) + request.args.getlist(name.lstrip("$"))


def query_value(name: str) -> str | None:
    values = query_values(name)
    return values[0] if values else None
