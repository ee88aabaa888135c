"""What XML cannot carry, decided in one place: refused at input with the field named, escaped when echoed."""
from __future__ import annotations

import pytest
from lxml import etree

from gateway.errors import InvalidParameter, NotFound, echo
from gateway.xmlsafe import MAX_DEPTH, require_writable, require_writable_document
from gateway.xmltext import first_unwritable, writable

UNWRITABLE = ["\x00", "\x01", "\x08", "\x0b", "\x0c", "\x1b", "\x1f", "\ud800", "\udbff", "\udc00", "\udfff",
              "\ufffe", "\uffff"]
WRITABLE = ["\t", "\n", "\r", " ", "\x7f", "\x85", "\u2028", "\ufffd", "\U0001f600", "]]>", "&<>\"'"]


@pytest.mark.parametrize("char", UNWRITABLE)
def test_unwritable_characters_are_escaped_visibly_and_the_result_is_writable(char: str) -> None:
    text = f"a{char}b"
    assert first_unwritable(text) is not None
    escaped = writable(text)
    assert escaped.startswith("a\\") and escaped.endswith("b") and first_unwritable(escaped) is None
    element = etree.Element("message")
    element.text = escaped  # lxml refuses what XML cannot carry: this would raise
    escaped.encode("utf-8")


@pytest.mark.parametrize("char", WRITABLE)
def test_writable_characters_are_left_alone(char: str) -> None:
    assert writable(f"a{char}b") == f"a{char}b" and first_unwritable(char) is None


def test_echo_is_writable_and_bounded() -> None:
    assert echo("\x01") == "\\x01" and echo("\ud800x") == "\\ud800x"
    assert NotFound("image", "\x01").message == "The image '\\x01' does not exist"


def test_require_writable_names_the_field() -> None:
    assert require_writable("fine", "name") == "fine"
    with pytest.raises(InvalidParameter, match=r"'name' contains .*\\x01"):
        require_writable("a\x01", "name")


@pytest.mark.parametrize("document, field", [
    ({"name": "\ud800"}, "'name'"), ({"properties": {"owner": "\x1b"}}, "'properties.owner'"),
    ({"properties": {"\ud800": "v"}}, "'properties.\\\\ud800'"),
    ({"machineTemplate": {"machineImage": {"href": "\uffff"}}}, "'machineTemplate.machineImage.href'"),
    ({"disks": [{"capacity": 1}, {"format": "\x00"}]}, "'disks\\[1\\].format'"),
])
def test_a_document_is_checked_everywhere(document: dict, field: str) -> None:
    with pytest.raises(InvalidParameter, match=field):
        require_writable_document(document)


def test_a_document_nested_too_deep_is_refused_without_recursion() -> None:
    deep: dict = {}
    inner = deep
    for _ in range(MAX_DEPTH + 1):
        inner["a"] = {}
        inner = inner["a"]
    with pytest.raises(InvalidParameter, match="nested more than"):
        require_writable_document(deep)
    require_writable_document({"a": {"b": [1, 2.5, True, None, "x"]}})
