"""Collection queries: `$filter` (the spec grammar), `$select`, `$expand`, `$first`/`$last`.

The filter grammar (DSP0263 4.1.6.1, as transcribed by StratusLab):

    Filter   ::= AndExpr ('or' Filter)*          AndExpr ::= Comp ('and' AndExpr)*
    Comp     ::= Attribute Op Value | Value Op Attribute | PropExpr | '(' Filter ')'
    Op       ::= '<' | '<=' | '=' | '>=' | '>' | '!='
    Value    ::= IntValue | DateValue | StringValue | BoolValue
    PropExpr ::= 'property[' StringValue ']' Op StringValue

Attributes may be nested with `/` (`machineConfig/href`). Several `$filter` parameters combine with
`and`. Evaluation runs over the JSON-shaped resource dicts, so XML and JSON answers always agree.
Parsing and evaluation recurse, so a filter's nesting and its number of comparisons are bounded (a 400
beyond, far past what any client writes) rather than left to end in a RecursionError.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable, Union

from gateway.errors import InvalidParameter, echo

MAX_DEPTH = 32  # parentheses within parentheses
MAX_COMPARISONS = 200  # over every $filter of a request

_TOKEN = re.compile(r"""
    (?P<space>\s+)
  | (?P<lparen>\()
  | (?P<rparen>\))
  | (?P<op><=|>=|!=|=|<|>)
  | (?P<string>'(?:[^'\\]|\\.|'')*'|"(?:[^"\\]|\\.)*")
  | (?P<date>\d{4}-\d{1,2}-\d{1,2}(?:T\d{1,2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2}))?)
  | (?P<int>-?\d+)
  | (?P<prop>property\s*\[\s*(?:'(?:[^'\\]|\\.|'')*'|"(?:[^"\\]|\\.)*")\s*\])
  | (?P<word>[A-Za-z_][A-Za-z0-9_/.:-]*)
""", re.VERBOSE)


@dataclass(frozen=True)
class Token:
    kind: str
    text: str
    position: int


@dataclass(frozen=True)
class Attribute:
    path: tuple[str, ...]


@dataclass(frozen=True)
class Property:
    key: str


@dataclass(frozen=True)
class Literal:
    value: Any  # str, int, bool or datetime


@dataclass(frozen=True)
class Comparison:
    left: Union[Attribute, Property, Literal]
    op: str
    right: Union[Attribute, Property, Literal]


@dataclass(frozen=True)
class BoolOp:
    op: str  # "and" / "or"
    left: "Expr"
    right: "Expr"


Expr = Union[Comparison, BoolOp]


def _unquote(text: str) -> str:
    quote = text[0]
    inner = text[1:-1]
    if quote == "'":
        inner = inner.replace("''", "'")
    return re.sub(r"\\(.)", r"\1", inner)


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    position = 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:
            raise InvalidParameter(f"$filter: unexpected character at {position + 1}: '{text[position:position + 10]}'",
                                   parameter="$filter")
        kind = match.lastgroup or ""
        if kind != "space":
            tokens.append(Token(kind, match.group(), position))
        position = match.end()
    return tokens


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.index = 0
        self.depth = 0
        self.comparisons = 0

    def fail(self, message: str) -> InvalidParameter:
        where = self.tokens[self.index].position + 1 if self.index < len(self.tokens) else len(self.text) + 1
        return InvalidParameter(f"$filter: {message} at {where} in '{echo(self.text)}'", parameter="$filter")

    def peek(self) -> Token | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def keyword(self, word: str) -> bool:
        token = self.peek()
        if token is not None and token.kind == "word" and token.text.lower() == word:
            self.index += 1
            return True
        return False

    def parse(self) -> Expr:
        if not self.tokens:
            raise self.fail("empty filter")
        expr = self.filter()
        if self.peek() is not None:
            raise self.fail(f"unexpected '{echo(self.peek().text)}'")  # type: ignore[union-attr]
        return expr

    def filter(self) -> Expr:
        expr = self.and_expr()
        while self.keyword("or"):
            expr = BoolOp("or", expr, self.and_expr())
        return expr

    def and_expr(self) -> Expr:
        expr = self.comparison()
        while self.keyword("and"):
            expr = BoolOp("and", expr, self.comparison())
        return expr

    def comparison(self) -> Expr:
        token = self.peek()
        if token is not None and token.kind == "lparen":
            if self.depth == MAX_DEPTH:
                raise self.fail(f"more than {MAX_DEPTH} nested parentheses")
            self.index += 1
            self.depth += 1
            expr = self.filter()
            closing = self.peek()
            if closing is None or closing.kind != "rparen":
                raise self.fail("missing ')'")
            self.index += 1
            self.depth -= 1
            return expr
        self.comparisons += 1
        if self.comparisons > MAX_COMPARISONS:
            raise self.fail(f"more than {MAX_COMPARISONS} comparisons")
        left = self.operand()
        op = self.peek()
        if op is None or op.kind != "op":
            raise self.fail("expected a comparison operator")
        self.index += 1
        right = self.operand()
        if isinstance(left, Literal) and isinstance(right, Literal):
            raise self.fail("a comparison needs an attribute")
        if isinstance(left, Property) or isinstance(right, Property):
            value = right if isinstance(left, Property) else left
            if not isinstance(value, Literal) or not isinstance(value.value, str):
                raise self.fail("property[...] compares with a string")
        return Comparison(left, op.text, right)

    def operand(self) -> Union[Attribute, Property, Literal]:
        token = self.peek()
        if token is None:
            raise self.fail("unexpected end")
        self.index += 1
        if token.kind == "string":
            return Literal(_unquote(token.text))
        if token.kind == "int":
            return Literal(int(token.text))
        if token.kind == "date":
            return Literal(_parse_date(token.text))
        if token.kind == "prop":
            quoted = token.text[token.text.index("[") + 1:token.text.rindex("]")].strip()
            return Property(_unquote(quoted))
        if token.kind == "word":
            if token.text.lower() in ("true", "false"):
                return Literal(token.text.lower() == "true")
            if token.text.lower() in ("and", "or"):
                self.index -= 1
                raise self.fail(f"unexpected '{echo(token.text)}'")
            return Attribute(tuple(token.text.split("/")))
        self.index -= 1
        raise self.fail(f"unexpected '{echo(token.text)}'")


def _parse_date(text: str) -> datetime:
    normalized = text.replace("Z", "+00:00")
    try:
        moment = datetime.fromisoformat(normalized)
    except ValueError:
        raise InvalidParameter(f"$filter: '{echo(text)}' is not a date", parameter="$filter") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def parse_filter(text: str) -> Expr:
    return _Parser(text).parse()


def parse_filters(texts: list[str]) -> Expr | None:
    """Several `$filter` parameters combine with `and` (MAX_COMPARISONS counts over all of them)."""
    result: Expr | None = None
    comparisons = 0
    for text in texts:
        parser = _Parser(text)
        expr = parser.parse()
        comparisons += parser.comparisons
        if comparisons > MAX_COMPARISONS:
            raise InvalidParameter(f"$filter: more than {MAX_COMPARISONS} comparisons in all", parameter="$filter")
        result = expr if result is None else BoolOp("and", result, expr)
    return result


# --- evaluation ---------------------------------------------------------------------------------------------
_MISSING = object()


def _resolve(operand: Union[Attribute, Property, Literal], entry: dict[str, Any]) -> Any:
    if isinstance(operand, Literal):
        return operand.value
    if isinstance(operand, Property):
        return (entry.get("properties") or {}).get(operand.key, _MISSING)
    value: Any = entry
    for part in operand.path:
        if isinstance(value, dict) and part in value:
            value = value[part]
        else:
            return _MISSING
    return value


def _coerce(value: Any, like: Any) -> Any:
    """The attribute's value in the literal's type, so `memory>1024` and `created>2012-01-01` compare."""
    if isinstance(like, bool):
        return value if isinstance(value, bool) else str(value).lower() == "true"
    if isinstance(like, int):
        try:
            return int(value)
        except (TypeError, ValueError):
            return _MISSING
    if isinstance(like, datetime):
        try:
            return _parse_date(str(value))
        except InvalidParameter:
            return _MISSING
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict) and "href" in value:  # `machineConfig='…'` compares the reference
        return value["href"]
    return value if isinstance(value, str) else str(value)


_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "=": lambda a, b: a == b, "!=": lambda a, b: a != b, "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b, ">": lambda a, b: a > b, ">=": lambda a, b: a >= b,
}
_FLIPPED = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "=": "=", "!=": "!="}


def matches(expr: Expr, entry: dict[str, Any]) -> bool:
    if isinstance(expr, BoolOp):
        if expr.op == "and":
            return matches(expr.left, entry) and matches(expr.right, entry)
        return matches(expr.left, entry) or matches(expr.right, entry)
    left, op, right = expr.left, expr.op, expr.right
    if isinstance(left, Literal):  # `Value Op Attribute`: turn it round
        left, op, right = right, _FLIPPED[op], left
    actual = _resolve(left, entry)
    wanted = _resolve(right, entry)
    if actual is _MISSING or wanted is _MISSING:
        return op == "!=" and not (actual is _MISSING and wanted is _MISSING)
    actual = _coerce(actual, wanted)
    if actual is _MISSING:
        return op == "!="
    try:
        return _OPS[op](actual, wanted)
    except TypeError:
        return False


# --- $select, $expand, $first/$last ---------------------------------------------------------------------------
def names(values: list[str]) -> set[str] | None:
    """Comma-separated names from every occurrence of a parameter; None when absent, {'*'} for all."""
    result: set[str] = set()
    for value in values:
        result.update(part.strip() for part in value.split(",") if part.strip())
    return result or None


def select(entry: dict[str, Any], selected: set[str] | None) -> dict[str, Any]:
    """Only the selected attributes (`attr[n]` and `attr[n-m]` select the attribute whole)."""
    if not selected or "*" in selected:
        return entry
    wanted = {name.split("[", 1)[0] for name in selected}
    return {key: value for key, value in entry.items() if key in wanted}


def page(items: list[Any], first: str | None, last: str | None) -> list[Any]:
    """1-based inclusive `$first`/`$last`, applied after filtering."""
    def bound(name: str, value: str | None) -> int | None:
        if value is None or value.strip() == "":
            return None
        try:
            number = int(value.strip())
        except ValueError:
            raise InvalidParameter(f"{name} must be a positive integer, got '{echo(value)}'", parameter=name) from None
        if number < 1:
            raise InvalidParameter(f"{name} must be a positive integer, got '{echo(value)}'", parameter=name)
        return number

    start, end = bound("$first", first), bound("$last", last)
    if start is not None and end is not None and end < start:
        return []
    return items[(start or 1) - 1:end]
