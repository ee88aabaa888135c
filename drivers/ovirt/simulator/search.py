"""The subset of the engine's search language that clients use.

`name=web* AND status=up sortby name desc page 2`: conditions joined by AND (OR is accepted too),
operators `=`, `!=`, `<`, `>`, `<=`, `>=`, `*` wildcards, quoted values, `sortby <field> [asc|desc]`
and `page N`. Matching is case-insensitive unless `case_sensitive=true`, as in the engine (whose code
defaults to false, whatever its javadoc says). Each collection says which fields it knows; an unknown
field is a 400, as the engine's search parser answers.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from .errors import ApiError

Getter = Callable[[Any], "Iterable[str] | str | int | FreeText | None"]

_TOKEN = re.compile(r'\s*(?:(?P<q>"[^"]*")|(?P<op>!=|<=|>=|=|<|>)|(?P<word>[^\s=!<>"]+))')
_OPERATORS = ("!=", "<=", ">=", "=", "<", ">")


@dataclass(slots=True)
class FreeText:
    """The text fields of a cross-referenced object (`Disks: storage=x` is `Storage` free text): the
    engine matches them as `ILIKE '%x%'` over every text column, so a value matches anywhere inside."""

    values: tuple[str, ...]


@dataclass(slots=True)
class Condition:
    field: str
    op: str
    value: str


@dataclass(slots=True)
class Query:
    """Disjunction of conjunctions: `groups[i]` are ANDed, groups are ORed."""

    groups: list[list[Condition]] = field(default_factory=list)
    sort_field: str | None = None
    descending: bool = False
    page: int | None = None


def _search_error(query: str) -> ApiError:
    return ApiError(400, "Operation Failed", f"[Cannot search. Syntax error in query: {query}]")


def parse(text: str) -> Query:
    tokens: list[tuple[str, str]] = []
    pos = 0
    body = text.strip()
    # An optional "Vms:"-style prefix, as the engine's own UI writes queries.
    body = re.sub(r"^\w+\s*:\s*", "", body) if re.match(r"^\w+\s*:", body) else body
    while pos < len(body):
        m = _TOKEN.match(body, pos)
        if not m or m.end() == pos:
            raise _search_error(text)
        pos = m.end()
        if m.group("q") is not None:
            tokens.append(("word", m.group("q")[1:-1]))
        elif m.group("op") is not None:
            tokens.append(("op", m.group("op")))
        elif m.group("word") is not None:
            tokens.append(("word", m.group("word")))
    query = Query(groups=[[]])
    i = 0
    while i < len(tokens):
        kind, value = tokens[i]
        low = value.lower()
        if kind == "word" and low == "and":
            i += 1
            continue
        if kind == "word" and low == "or":
            query.groups.append([])
            i += 1
            continue
        if kind == "word" and low == "sortby":
            if i + 1 >= len(tokens):
                raise _search_error(text)
            query.sort_field = tokens[i + 1][1].lower()
            i += 2
            if i < len(tokens) and tokens[i][1].lower() in ("asc", "desc"):
                query.descending = tokens[i][1].lower() == "desc"
                i += 1
            continue
        if kind == "word" and low == "page":
            if i + 1 >= len(tokens) or not tokens[i + 1][1].isdigit():
                raise _search_error(text)
            query.page = max(1, int(tokens[i + 1][1]))
            i += 2
            continue
        if kind == "word" and i + 2 < len(tokens) and tokens[i + 1][0] == "op" and tokens[i + 2][0] == "word":
            query.groups[-1].append(Condition(low, tokens[i + 1][1], tokens[i + 2][1]))
            i += 3
            continue
        if kind == "word" and i + 1 < len(tokens) and tokens[i + 1][0] == "op":
            query.groups[-1].append(Condition(low, tokens[i + 1][1], ""))   # `name=` matches empty
            i += 2
            continue
        raise _search_error(text)
    query.groups = [g for g in query.groups if g] or [[]]
    return query


def _wildcard(pattern: str, case_sensitive: bool) -> re.Pattern[str]:
    regex = "^" + ".*".join(re.escape(part) for part in pattern.split("*")) + "$"
    return re.compile(regex, 0 if case_sensitive else re.IGNORECASE)


def _matches(values: Iterable[str] | str | int | FreeText | None, cond: Condition, case_sensitive: bool) -> bool:
    if isinstance(values, FreeText):
        if cond.op not in ("=", "!="):
            return False
        rx = _wildcard(f"*{cond.value}*", case_sensitive)
        hits = [bool(rx.match(v)) for v in values.values]
        # The engine ORs one condition per column, so `!=` holds when any column lacks the text.
        return any(hits) if cond.op == "=" else not all(hits)
    if values is None:
        candidates: list[str] = []
    elif isinstance(values, (str, int)):
        candidates = [str(values)]
    else:
        candidates = [str(v) for v in values]
    op = cond.op
    if op in ("=", "!="):
        rx = _wildcard(cond.value, case_sensitive)
        hit = any(rx.match(c) for c in candidates)
        return hit if op == "=" else not hit
    for c in candidates:
        a: Any = c
        b: Any = cond.value
        try:
            a, b = float(c), float(cond.value)
        except ValueError:
            if not case_sensitive:
                a, b = c.lower(), b.lower()
        if (op == "<" and a < b) or (op == ">" and a > b) or (op == "<=" and a <= b) or (op == ">=" and a >= b):
            return True
    return False


def apply(items: list[Any], text: str | None, fields: dict[str, Getter], case_sensitive: bool = False,
          max_results: int | None = None) -> list[Any]:
    """Filter, sort and page `items` by the search `text`; `fields` maps searchable names to getters."""
    if not text or not text.strip():
        return items if max_results is None else items[:max_results]
    query = parse(text)
    for group in query.groups:
        for cond in group:
            if cond.field not in fields:
                raise ApiError(400, "Operation Failed",
                               f"[Cannot search. Unknown field '{cond.field}' in query: {text}]")
    result = [item for item in items
              if any(all(_matches(fields[c.field](item), c, case_sensitive) for c in group)
                     for group in query.groups)]
    if query.sort_field:
        getter = fields.get(query.sort_field)
        if getter is None:
            raise _search_error(text)

        def key(item: Any) -> tuple[int, Any]:
            value = getter(item)
            if isinstance(value, (list, tuple)):
                value = value[0] if value else ""
            if isinstance(value, int):
                return (0, value)
            return (1, str(value or "").lower())
        result.sort(key=key, reverse=query.descending)
    if query.page is not None:
        size = max_results if max_results is not None else 100
        start = (query.page - 1) * size
        return result[start:start + size]
    return result if max_results is None else result[:max_results]
