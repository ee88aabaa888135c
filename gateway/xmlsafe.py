"""XML from clients parsed safely (no entities, no DTDs, no network, bounded size), and client text
refused at input when XML could not carry it back (gateway/xmltext.py says which characters)."""
from __future__ import annotations

from typing import Any

from lxml import etree

from .errors import InvalidParameter, echo
from .xmltext import first_unwritable

MAX_DEPTH = 32  # nesting of a client's JSON or XML document; CIMI's deepest real body is 4 levels

DEFAULT_MAX_BYTES = 1024 * 1024


def _parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
                           huge_tree=False, remove_comments=True, remove_pis=True)


def parse_xml(data: bytes | str, max_bytes: int = DEFAULT_MAX_BYTES) -> etree._Element:
    """The root element of a client's XML body; InvalidParameter for malformed, oversized or DTD-bearing XML."""
    raw = data.encode() if isinstance(data, str) else data
    if len(raw) > max_bytes:
        raise InvalidParameter(f"The XML body is larger than {max_bytes} bytes")
    try:
        root = etree.fromstring(raw, _parser())
    except etree.XMLSyntaxError as exc:
        raise InvalidParameter(f"Malformed XML: {exc.msg}") from None
    if root is None:
        raise InvalidParameter("The XML body is empty")
    tree = root.getroottree()
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        raise InvalidParameter("XML with a document type declaration is not accepted")
    return root


def require_writable(value: str, field: str) -> str:
    """`value` unchanged, or InvalidParameter naming `field` when it holds a character XML cannot carry.

    Checked when a request is read, before any side effect: what is stored or sent to the engine is
    always something every answer (XML or JSON) can render back.
    """
    bad = first_unwritable(value)
    if bad is not None:
        raise InvalidParameter(f"'{echo(field, 100)}' contains a character that cannot be represented ({bad}): "
                               "control characters other than tab, CR and LF, lone surrogates, U+FFFE and "
                               "U+FFFF are not accepted", parameter=echo(field, 100))
    return value


def require_writable_document(document: Any, max_depth: int = MAX_DEPTH) -> None:
    """Every key and text of a parsed document (dicts, lists, scalars) writable, nesting at most `max_depth`.

    Iterative, so a hostile depth cannot exhaust the stack here; the error names the field's path
    (`machineTemplate.machineImage.href`, `properties.owner`).
    """
    pending: list[tuple[Any, str, int]] = [(document, "", 0)]
    while pending:
        value, path, depth = pending.pop()
        if depth > max_depth:
            raise InvalidParameter(f"The document is nested more than {max_depth} levels deep")
        if isinstance(value, dict):
            for key, item in value.items():
                name = f"{path}.{key}" if path else str(key)
                if isinstance(key, str):
                    require_writable(key, name)
                pending.append((item, name, depth + 1))
        elif isinstance(value, list):
            pending.extend((item, f"{path}[{index}]", depth + 1) for index, item in enumerate(value))
        elif isinstance(value, str):
            require_writable(value, path or "body")
