"""GetMetricData's metric math, the simple part of it: arithmetic and SUM/AVG/MIN/MAX over time series.

Supported: numbers, the ids of other queries, `+ - * /`, parentheses, unary minus, `METRICS()` (every
MetricStat query's series, or `METRICS("text")`: those whose label contains the text), `[a, b, ...]`,
and SUM, AVG, MIN, MAX of such a list (one value per timestamp, over the series that have one there).
Between two series an operator applies at the timestamps both have; a division by zero leaves that
timestamp out. Anything else (other functions, SEARCH, IF, FILL, ...) is refused with a message that says
what is supported: a clear refusal is better than a wrong graph.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from .errors import invalid_value

Series = dict[float, float]  # timestamp (epoch seconds) -> value
Value = float | Series | list[Series]
TOKEN = re.compile(r"\s*(?:(?P<number>\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)"
                   r"|(?P<name>[A-Za-z_][A-Za-z0-9_]*)|(?P<string>\"[^\"]*\"|'[^']*')|(?P<op>[-+*/(),\[\]]))")
MAX_LENGTH = 2048  # the model's limit for an Expression
FUNCTIONS = ("SUM", "AVG", "MIN", "MAX", "METRICS")
SUPPORTED = ("+ - * / with numbers and query ids, parentheses, METRICS(), [id, ...], and SUM, AVG, MIN, MAX "
             "of a list of series")


@dataclass(frozen=True)
class Token:
    kind: str
    text: str


def tokens(expression: str) -> list[Token]:
    found, position = [], 0
    text = expression.rstrip()
    while position < len(text):
        match = TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise refused(expression, f"unexpected text at position {position + 1}")
        kind = match.lastgroup or "op"
        found.append(Token(kind, match.group(kind)))
        position = match.end()
    return found


def refused(expression: str, why: str) -> Exception:
    return invalid_value(f"The expression {expression[:200]!r} is not supported by this gateway ({why}); "
                         f"supported: {SUPPORTED}.")


class Evaluator:
    """Evaluates one expression against the series of the other queries (by id) and their labels."""

    def __init__(self, expression: str, series: Mapping[str, Series], labels: Mapping[str, str],
                 stat_ids: list[str]) -> None:
        self.expression = expression
        self.series = series
        self.labels = labels
        self.stat_ids = stat_ids
        self.items = tokens(expression)
        self.position = 0

    def evaluate(self) -> Series:
        if not self.items:
            raise refused(self.expression, "it is empty")
        if len(self.expression) > MAX_LENGTH:
            raise invalid_value(f"An expression may be at most {MAX_LENGTH} characters long.")
        try:
            value = self._sum()
        except RecursionError:
            raise refused(self.expression, "it nests too deeply") from None
        if self.position != len(self.items):
            raise refused(self.expression, f"unexpected {self.items[self.position].text!r}")
        if not isinstance(value, dict):
            raise refused(self.expression, "it must yield one time series")
        return value

    # --- grammar: sum := product (('+'|'-') product)*; product := unary (('*'|'/') unary)* ----------
    def _peek(self) -> Token | None:
        return self.items[self.position] if self.position < len(self.items) else None

    def _take(self, text: str) -> bool:
        token = self._peek()
        if token is not None and token.kind == "op" and token.text == text:
            self.position += 1
            return True
        return False

    def _expect(self, text: str) -> None:
        if not self._take(text):
            raise refused(self.expression, f"{text!r} expected")

    def _sum(self) -> Value:
        value = self._product()
        while True:
            if self._take("+"):
                value = combine(value, self._product(), lambda a, b: a + b, self.expression)
            elif self._take("-"):
                value = combine(value, self._product(), lambda a, b: a - b, self.expression)
            else:
                return value

    def _product(self) -> Value:
        value = self._unary()
        while True:
            if self._take("*"):
                value = combine(value, self._unary(), lambda a, b: a * b, self.expression)
            elif self._take("/"):
                value = combine(value, self._unary(), divide, self.expression)
            else:
                return value

    def _unary(self) -> Value:
        if self._take("-"):
            return combine(-1.0, self._unary(), lambda a, b: a * b, self.expression)
        return self._atom()

    def _atom(self) -> Value:
        token = self._peek()
        if token is None:
            raise refused(self.expression, "it ends too early")
        self.position += 1
        if token.kind == "number":
            return float(token.text)
        if token.kind == "op" and token.text == "(":
            value = self._sum()
            self._expect(")")
            return value
        if token.kind == "op" and token.text == "[":
            return self._list()
        if token.kind == "name":
            if self._take("("):
                return self._function(token.text)
            if token.text not in self.series:
                raise invalid_value(f"The expression {self.expression[:200]!r} names {token.text[:64]!r}, which is "
                                    "not the Id of another query of this request.")
            return self.series[token.text]
        raise refused(self.expression, f"unexpected {token.text!r}")

    def _list(self) -> list[Series]:
        found: list[Series] = []
        if self._take("]"):
            return found
        while True:
            value = self._sum()
            if isinstance(value, float):
                raise refused(self.expression, "a list holds time series, not numbers")
            found.extend(value if isinstance(value, list) else [value])
            if self._take("]"):
                return found
            self._expect(",")

    def _function(self, name: str) -> Value:
        if name not in FUNCTIONS:
            raise refused(self.expression, f"the function {name[:64]} is not")
        if name == "METRICS":
            token = self._peek()
            text = None
            if token is not None and token.kind == "string":
                text = token.text[1:-1]
                self.position += 1
            self._expect(")")
            return [self.series[i] for i in self.stat_ids if text is None or text in self.labels.get(i, "")]
        argument = self._sum()
        self._expect(")")
        members = argument if isinstance(argument, list) else [argument] if isinstance(argument, dict) else None
        if members is None:
            raise refused(self.expression, f"{name} takes time series")
        return reduce_series(name, members)


def divide(a: float, b: float) -> float | None:
    return None if b == 0 else a / b


def combine(left: Value, right: Value, op: Callable[[float, float], float | None], expression: str) -> Value:
    """`left op right` for numbers, series (at their common timestamps) and lists of series."""
    if isinstance(left, list) or isinstance(right, list):
        if isinstance(left, list) and isinstance(right, list):
            raise refused(expression, "an operator between two lists of series")
        if isinstance(left, list):
            return [combine(item, right, op, expression) for item in left]  # type: ignore[misc]
        return [combine(left, item, op, expression) for item in right]  # type: ignore[misc]
    if isinstance(left, float) and isinstance(right, float):
        result = op(left, right)
        if result is None:
            raise invalid_value(f"The expression {expression[:200]!r} divides by zero.")
        return result
    if isinstance(left, float):
        return _series({t: op(left, v) for t, v in right.items()})  # type: ignore[union-attr]
    if isinstance(right, float):
        return _series({t: op(v, right) for t, v in left.items()})
    return _series({t: op(v, right[t]) for t, v in left.items() if t in right})


def _series(values: dict[float, float | None]) -> Series:
    return {t: v for t, v in values.items() if v is not None}


def reduce_series(name: str, members: list[Series]) -> Series:
    """SUM, AVG, MIN or MAX at each timestamp over the series that have a value there."""
    at: dict[float, list[float]] = {}
    for member in members:
        for t, v in member.items():
            at.setdefault(t, []).append(v)
    pick: Callable[[list[float]], float] = {"SUM": sum, "MIN": min, "MAX": max,
                                            "AVG": lambda vs: sum(vs) / len(vs)}[name]
    return {t: pick(vs) for t, vs in at.items()}
