"""Matrix parameters (`/api;driver=rhevm;provider=.../instances`, `/api/instances;image_id=ID`).

Deltacloud lets any path segment carry `;name=value` pairs: the `api` segment selects driver and provider
(what Aeolus sends), a collection segment carries create parameters (the `create_instance` link of an
image is `/api/instances;image_id=ID`). This WSGI middleware strips them from the path before routing
and keeps them, per segment, in the environ. It reads the raw request URI when the server gives one,
because PATH_INFO is already percent-decoded and an escaped provider URL (`http%3A%2F%2F...`) would
otherwise split into segments. Only paths under `/api` are touched.
"""
from __future__ import annotations

from typing import Any, Callable, Iterable
from urllib.parse import quote, unquote

ENVIRON_KEY = "cloudgw.deltacloud.matrix"
API_SEGMENT_KEY = "cloudgw.deltacloud.api_segment"
PREFIX = "api"

Matrix = dict[str, dict[str, str]]


def split_matrix(raw_path: str) -> tuple[str, Matrix, str]:
    """(clean path, {segment name: {param: value}}, raw text of the `api` segment's parameters).

    The clean path is a WSGI string (each byte of the decoded path as one Latin-1 character), which is
    what PATH_INFO must hold: Werkzeug turns it back into bytes and decodes those as UTF-8. Segment names
    and parameters are decoded as UTF-8 text.
    """
    matrix: Matrix = {}
    clean: list[str] = []
    api_suffix = ""
    for index, segment in enumerate(raw_path.split("/")):
        name, *pairs = segment.split(";")
        clean.append(unquote(name, encoding="latin-1"))
        if not pairs:
            continue
        params = matrix.setdefault(unquote(name), {})
        for pair in pairs:
            key, sep, value = pair.partition("=")
            if key and sep:
                params[unquote(key)] = unquote(value)
        if index == 1 and unquote(name) == PREFIX:
            api_suffix = ";" + ";".join(pairs)
    return "/".join(clean), matrix, api_suffix


def raw_path_of(environ: dict[str, Any]) -> str:
    """The request path as the client sent it (still percent-encoded), without the query string."""
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if raw:
        path = raw.split("?", 1)[0]
        if not path.startswith("/") and "://" in path:  # absolute-form request target
            path = "/" + path.split("://", 1)[1].partition("/")[2]
        script = environ.get("SCRIPT_NAME", "")
        return path[len(script):] if script and path.startswith(script) else path
    return quote(environ.get("PATH_INFO", ""), safe="/;=:@!$&'()*+,", encoding="latin-1")


class MatrixParams:
    """Wraps a WSGI app; under /api moves matrix parameters from the path into the environ."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path_info = environ.get("PATH_INFO", "")
        if path_info == "/" + PREFIX or path_info.startswith(("/" + PREFIX + "/", "/" + PREFIX + ";")):
            raw = raw_path_of(environ)
            if ";" in raw:
                clean, matrix, api_suffix = split_matrix(raw)
                if clean.split("/")[1:2] == [PREFIX]:
                    environ["PATH_INFO"] = clean
                    environ[ENVIRON_KEY] = matrix
                    environ[API_SEGMENT_KEY] = api_suffix
        return self.app(environ, start_response)
