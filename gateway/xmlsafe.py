"""XML from clients parsed safely: no entities, no DTDs, no network, bounded size."""
from __future__ import annotations

from lxml import etree

from .errors import InvalidParameter

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
