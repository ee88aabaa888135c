"""Reading the console's form fields: blanks are absent, text is checked before anything reaches the engine."""
from __future__ import annotations

import secrets

from flask import request, session

from gateway.errors import InvalidParameter, MissingParameter
from gateway.xmlsafe import require_writable

MAX_FIELD = 4096
ONCE_KEPT = 8  # forms open at once (several tabs) whose single-use values are still accepted


def form_once() -> str:
    """A single-use value for a form whose answer creates a secret (kept in the signed session)."""
    value = secrets.token_urlsafe(16)
    session["once"] = [*(session.get("once") or [])[-(ONCE_KEPT - 1):], value]
    return value


def spend_once() -> bool:
    """Whether the form's single-use value is fresh, spending it: False for a form sent again (a reload)."""
    value = request.form.get("once") or ""
    kept = list(session.get("once") or [])
    if value not in kept:
        return False
    kept.remove(value)
    session["once"] = kept
    return True


def field(name: str, *, required: bool = False, label: str | None = None, limit: int = MAX_FIELD) -> str | None:
    """A form field's text (stripped), None when blank; MissingParameter when required and blank."""
    value = (request.form.get(name) or "").strip()
    shown = label or name.replace("_", " ")
    if not value:
        if required:
            raise MissingParameter(f"Fill in '{shown}'.", parameter=name)
        return None
    if len(value) > limit:
        raise InvalidParameter(f"'{shown}' is limited to {limit} characters.", parameter=name)
    require_writable(value, shown)
    return value


def tags_text(text: str | None) -> dict[str, str]:
    """`key=value` lines (a bare `key` has an empty value) as a dict; a line without a key is refused."""
    tags: dict[str, str] = {}
    for number, line in enumerate((text or "").splitlines(), 1):
        line = line.strip()
        if not line:
            continue
        key, _, value = line.partition("=")
        if not key.strip():
            raise InvalidParameter(f"Tag line {number} has no key: write key=value.", parameter="tags")
        if len(key.strip()) > 128 or len(value.strip()) > 256:
            raise InvalidParameter(f"Tag line {number}: keys are limited to 128 characters, values to 256.",
                                   parameter="tags")
        tags[key.strip()] = value.strip()
    return tags


def gigabytes(name: str, label: str) -> float:
    text = field(name, required=True, label=label) or ""
    try:
        value = float(text)
    except ValueError:
        raise InvalidParameter(f"'{label}' must be a number of GB, not '{text[:50]}'.", parameter=name) from None
    if not value > 0 or value > 65536:
        raise InvalidParameter(f"'{label}' must be between 0 and 65536 GB.", parameter=name)
    return value
