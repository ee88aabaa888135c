"""Strategies shared by the frontends' properties: the text a hostile or careless client sends."""
from __future__ import annotations

from urllib.parse import quote

from hypothesis import strategies as st

# Characters that broke writers or parsers somewhere: XML-illegal controls, lone surrogates, the two
# non-characters, XML and URL syntax, a Unicode digit, a non-Latin-1 letter.
NASTY = ["\x00", "\x01", "\x07", "\x1b", "\x7f", "\ud800", "\udfff", "\ufffe", "\uffff", "&", "<", "]]>", "'",
         '"', "%", ";", "/", "?", "#", "=", "\\", "\u00b2", "\u2603", "\u202e", "\t", " ", "\n"]

nasty = st.sampled_from(NASTY)
text = st.lists(st.one_of(st.characters(codec="utf-8"), nasty, nasty), max_size=8).map("".join)
words = st.one_of(st.sampled_from(["", "x", "web-1", "Default", "true", "0", "-1", "1e3"]), text)


def unwritable_text(surrogates: bool = True) -> st.SearchStrategy[str]:
    """Text holding at least one character XML cannot carry.

    Lone surrogates only reach a gateway inside JSON (`"\\ud800"`); in a form or URL they are invalid
    UTF-8, which Werkzeug keeps as the literal `%ED%A0%80`, a writable text.
    """
    bad = st.sampled_from(["\x00", "\x01", "\x1b", "\ufffe", "\uffff"] + (["\ud800", "\udfff"] if surrogates else []))
    return st.builds(lambda a, b, c: a + b + c, st.text(max_size=4), bad, st.text(max_size=4))


def path_segment(value: str) -> str:
    """`value` percent-encoded as bytes, lone surrogates as the invalid UTF-8 a careless encoder writes."""
    return quote(value.encode("utf-8", "surrogatepass"), safe="")


def header_value() -> st.SearchStrategy[str]:
    """What requests and http.client will send in a header: Latin-1, no CR or LF, no leading whitespace."""
    return st.text(st.characters(max_codepoint=255, exclude_characters="\r\n"), max_size=20).map(str.lstrip)
