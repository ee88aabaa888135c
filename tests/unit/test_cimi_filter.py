"""The $filter grammar: parsing (precedence, parentheses, literals, property[...]) and evaluation over
JSON-shaped resources; and $select / $first/$last."""
from __future__ import annotations

import pytest

from frontends.cimi.query import BoolOp, Comparison, matches, page, parse_filter, parse_filters, select
from gateway.errors import InvalidParameter

MACHINE = {"name": "web-1", "state": "STARTED", "cpu": 2, "memory": 2097152, "created": "2024-05-01T10:00:00.000Z",
           "properties": {"team": "blue", "it's": "quoted"}, "machineConfig": {"href": "http://x/cimi/mc/Small"}}


@pytest.mark.parametrize("text, expected", [
    ("name='web-1'", True),
    ('name="web-1"', True),
    ("name!='web-1'", False),
    ("cpu>=2 and memory<3000000", True),
    ("cpu>2 or state='STARTED'", True),
    ("cpu>2 or state='STOPPED'", False),
    ("(cpu=1 or cpu=2) and name='web-1'", True),
    ("cpu=1 or cpu=2 and name='other'", False),  # and binds tighter than or
    ("2 = cpu", True),
    ("3 > cpu", True),
    ("property['team']='blue'", True),
    ("property[\"team\"]!='blue'", False),
    ("property['it''s']='quoted'", True),
    ("property['missing']='x'", False),
    ("created>2024-01-01", True),
    ("created<2024-05-01T09:00:00Z", False),
    ("machineConfig/href='http://x/cimi/mc/Small'", True),
    ("nosuch='x'", False),
    ("nosuch!='x'", True),
    ("name='web-1' AND cpu=2", True),
])
def test_filter_evaluation(text: str, expected: bool) -> None:
    assert matches(parse_filter(text), MACHINE) is expected


def test_and_binds_tighter_than_or() -> None:
    expr = parse_filter("a=1 or b=2 and c=3")
    assert isinstance(expr, BoolOp) and expr.op == "or"
    assert isinstance(expr.right, BoolOp) and expr.right.op == "and"
    assert isinstance(expr.left, Comparison)


def test_several_filters_combine_with_and() -> None:
    expr = parse_filters(["cpu=2", "name='other'"])
    assert matches(expr, MACHINE) is False
    assert parse_filters([]) is None


@pytest.mark.parametrize("text", ["", "name=", "name 'x'", "(name='x'", "name='x')", "'a'='b'", "name='x' and",
                                  "property['k']=3", "name=='x'", "name='unterminated", "name ~ 'x'"])
def test_malformed_filters_are_400(text: str) -> None:
    with pytest.raises(InvalidParameter) as caught:
        parse_filter(text)
    assert "$filter" in caught.value.message


def test_select_keeps_named_attributes_and_ignores_index_suffix() -> None:
    assert select(MACHINE, {"name", "cpu"}) == {"name": "web-1", "cpu": 2}
    assert select(MACHINE, {"properties[0]"}) == {"properties": MACHINE["properties"]}
    assert select(MACHINE, {"*"}) is MACHINE
    assert select(MACHINE, None) is MACHINE


def test_first_and_last_are_one_based_and_inclusive() -> None:
    items = list("abcdef")
    assert page(items, "2", "4") == ["b", "c", "d"]
    assert page(items, None, "2") == ["a", "b"]
    assert page(items, "5", None) == ["e", "f"]
    assert page(items, "4", "2") == []
    for bad in ("0", "-1", "x"):
        with pytest.raises(InvalidParameter):
            page(items, bad, None)


def test_filters_too_deep_or_too_long_are_400_not_a_recursion_error() -> None:
    deep = "(" * 400 + "cpu=2" + ")" * 400
    long_chain = " and ".join(["cpu=2"] * 3000)
    for text in (deep, long_chain):
        with pytest.raises(InvalidParameter) as caught:
            parse_filter(text)
        assert "$filter" in caught.value.message
    with pytest.raises(InvalidParameter):
        parse_filters([" and ".join(["cpu=2"] * 150)] * 2)
    nested = "(" * 30 + " and ".join(["cpu=2"] * 150) + ")" * 30
    assert matches(parse_filters([nested]), MACHINE) is True
