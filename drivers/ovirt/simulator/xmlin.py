"""Reading request bodies: safe XML parsing and small helpers over the parsed tree.

The parser resolves no entities, loads no DTD and never touches the network, and bodies are
size-limited before parsing, so a hostile body cannot make the simulator read files or explode.
"""

from __future__ import annotations

from typing import Any

from lxml import etree

from .errors import ApiError, bad_request

MAX_BODY = 1024 * 1024

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                          huge_tree=False, remove_comments=True, remove_pis=True)

_TRUE = {"true", "t", "yes", "y", "1"}
_FALSE = {"false", "f", "no", "n", "0"}


def parse_body(data: bytes, expected: str | tuple[str, ...]) -> etree._Element:
    """Parse a request body whose root must be `expected` (or one of them)."""
    if len(data) > MAX_BODY:
        raise ApiError(413, "Request Entity Too Large", "The request body is too large")
    if not data.strip():
        raise bad_request("Incomplete parameters", "The request body is empty")
    try:
        root = etree.fromstring(data, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise bad_request("Invalid XML", str(exc)) from None
    if root.getroottree().docinfo.doctype:
        raise bad_request("Invalid XML", "Document type declarations are not allowed")
    names = (expected,) if isinstance(expected, str) else expected
    if root.tag not in names:
        raise bad_request("Invalid request", f"Expected <{names[0]}> but got <{root.tag}>")
    return root


def text(el: etree._Element | None, path: str) -> str | None:
    """The text of the child at `path` (slash-separated), or None when absent."""
    if el is None:
        return None
    node = el.find(path)
    if node is None:
        return None
    return (node.text or "").strip()


def raw_text(el: etree._Element | None, path: str) -> str | None:
    """Like `text`, but verbatim: free text (names, descriptions) keeps its whitespace, as in the engine."""
    if el is None:
        return None
    node = el.find(path)
    if node is None:
        return None
    return node.text or ""


def boolean(value: str | None, default: bool | None = None) -> bool | None:
    """Booleans as the engine parses them: t/true/y/yes/1 and f/false/n/no/0, any case."""
    if value is None or value == "":
        return default
    low = value.strip().lower()
    if low in _TRUE:
        return True
    if low in _FALSE:
        return False
    raise bad_request("Invalid value", f"{value} is not a valid boolean")


def integer(value: str | None, what: str) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(value)
    except ValueError:
        raise bad_request("Invalid value", f"{what}: {value} is not a valid integer") from None


def reference(el: etree._Element | None, tag: str) -> tuple[str | None, str | None] | None:
    """`(id, name)` of a reference such as `<cluster id="..."/>` or `<cluster><name>x</name></cluster>`."""
    if el is None:
        return None
    node = el.find(tag)
    if node is None:
        return None
    ref_id = node.get("id") or text(node, "id")
    name = text(node, "name")
    if not ref_id and not name:
        return None
    return ref_id or None, name or None


def to_tree(el: etree._Element) -> Any:
    """A leaf becomes its text; anything else a list of `(tag, subtree)` in document order."""
    children = [c for c in el if isinstance(c.tag, str)]
    if not children:
        return el.text or ""      # kept verbatim: custom scripts and keys are whitespace-sensitive
    return [(c.tag, to_tree(c)) for c in children]


def initialization(el: etree._Element | None) -> dict[str, Any] | None:
    """The `<initialization>` of a VM or a run-once `<vm>`, as a dict of its children."""
    if el is None:
        return None
    node = el.find("initialization")
    if node is None:
        return None
    return {c.tag: to_tree(c) for c in node if isinstance(c.tag, str)}
