"""URL routing shared by the REST frontends: a catch-all that really catches all.

Werkzeug's `path` converter is `[^/].*?`, and `.` does not match a newline: `/cimi/machines/%0A` escaped
every frontend's catch-all and reached Flask's routing error, answered in the app-wide fallback format
instead of the frontend's own. `anypath` is `path` with newlines included.
"""
from __future__ import annotations

from flask import Blueprint
from werkzeug.routing import PathConverter


class AnyPathConverter(PathConverter):
    regex = "[^/][\\s\\S]*?"


def use_any_path(bp: Blueprint) -> None:
    """Make `<anypath:...>` usable in `bp`'s rules (call before the blueprint is registered)."""
    bp.record_once(lambda state: state.app.url_map.converters.setdefault("anypath", AnyPathConverter))
