"""Which characters XML 1.0 can carry, in one place: what input validation refuses and echo escapes.

XML 1.0 has no way to write C0 control characters other than tab, CR and LF (not even as character
references), U+FFFE, U+FFFF, or a lone UTF-16 surrogate (which JSON's `"\\ud800"` lets a client send and
which no UTF-8 encoder can write). Text holding one breaks every XML writer and every UTF-8 encoder.
"""
from __future__ import annotations

import re

UNWRITABLE_CLASS = "\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff"  # inside [...]: writers add their own
UNWRITABLE = re.compile(f"[{UNWRITABLE_CLASS}]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def writable(text: str) -> str:
    """`text` with each character XML cannot carry spelled as a visible escape (`\\x01`, `\\ud800`).

    For text that quotes a client (error messages): the client sees what it sent, and no writer fails.
    """
    return text if UNWRITABLE.search(text) is None else UNWRITABLE.sub(_escape, text)


def first_unwritable(text: str) -> str | None:
    """The first character of `text` that XML cannot carry, escaped as `writable` spells it; None if none."""
    match = UNWRITABLE.search(text)
    return None if match is None else _escape(match)
