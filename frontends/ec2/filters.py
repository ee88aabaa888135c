"""Filters and pagination, written once and used by every Describe action.

A resource declares its filters as {name: function(item) -> values}; `tag:KEY`, `tag-key` and
`tag-value` come for free for items with `Tags` (or `TagSet`). Semantics as EC2: AND across filters, OR across a
filter's values, `*` and `?` wildcards (backslash escapes them); an unknown filter name is refused.
Pages are cut from a stable order; the token names the last item given, so items created or removed
between pages never shift the next page.
"""
from __future__ import annotations

import base64
import binascii
import re
from typing import Any, Callable, Iterable, Mapping, Sequence

from gateway.errors import echo

from .errors import Ec2Error, combination, invalid_value

Values = Callable[[dict[str, Any]], Iterable[Any]]
Matcher = Callable[[str], bool]


def pattern(value: str) -> Matcher:
    """A matcher for one filter value: exact unless it holds unescaped `*` or `?`."""
    if "*" not in value and "?" not in value:
        return value.__eq__
    parts = []
    index = 0
    while index < len(value):
        char = value[index]
        if char == "\\" and index + 1 < len(value):
            parts.append(re.escape(value[index + 1]))
            index += 2
            continue
        parts.append(".*" if char == "*" else "." if char == "?" else re.escape(char))
        index += 1
    regex = re.compile("".join(parts), re.DOTALL)
    return lambda text: regex.fullmatch(text) is not None


def as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def tag_values(item: dict[str, Any], key: str | None = None, field: str = "Value") -> list[str]:
    tags = item.get("Tags") or item.get("TagSet") or []  # network interfaces name them TagSet
    return [t[field] for t in tags if key is None or t["Key"] == key]


def _values_for(name: str, known: Mapping[str, Values]) -> Values:
    if name in known:
        return known[name]
    if name.startswith("tag:"):
        key = name[4:]
        return lambda item: tag_values(item, key)
    if name == "tag-key":
        return lambda item: tag_values(item, field="Key")
    if name == "tag-value":
        return lambda item: tag_values(item)
    raise invalid_value(f"The filter '{name[:100]}' is invalid")


def compile_filters(filters: Sequence[Mapping[str, Any]] | None,
                    known: Mapping[str, Values]) -> list[tuple[Values, list[Matcher]]]:
    compiled = []
    for spec in filters or ():
        name = spec.get("Name")
        values = spec.get("Values") or []
        if not name:
            raise Ec2Error("InvalidFilter", "A filter must have a name")
        compiled.append((_values_for(name, known), [pattern(v) for v in values]))
    return compiled


def apply_filters(items: Iterable[dict[str, Any]], filters: Sequence[Mapping[str, Any]] | None,
                  known: Mapping[str, Values]) -> list[dict[str, Any]]:
    """The items every filter matches (a filter matches when any of its values matches any item value)."""
    compiled = compile_filters(filters, known)
    if not compiled:
        return list(items)
    kept = []
    for item in items:
        for values_of, matchers in compiled:
            texts = [as_text(v) for v in values_of(item) if v is not None]
            if not any(match(t) for t in texts for match in matchers):
                break
        else:
            kept.append(item)
    return kept


def page_size(max_results: int | None, *, low: int = 5, high: int = 1000, with_ids: bool = False,
              ids_name: str = "InstanceIds") -> int | None:
    if max_results is None:
        return None
    if with_ids:
        raise combination(f"The parameter {ids_name} cannot be used with the parameter MaxResults")
    if not low <= max_results <= high:
        raise invalid_value(f"Value ( {echo(max_results)} ) for parameter maxResults is invalid. "
                            f"Expecting a value greater than {low - 1} and at most {high}.")
    return max_results


def encode_token(last_key: str) -> str:
    return base64.urlsafe_b64encode(last_key.encode()).decode()


def decode_token(token: str) -> str:
    try:
        return base64.urlsafe_b64decode(token.encode()).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise invalid_value("The NextToken is not one this service gave") from None


def paginate(items: list[Any], key: Callable[[Any], str], max_results: int | None,
             next_token: str | None) -> tuple[list[Any], str | None]:
    """One page of `items` (sorted by `key`) after the token's item; the next token, or None at the end."""
    ordered = sorted(items, key=key)
    if next_token:
        after = decode_token(next_token)
        ordered = [item for item in ordered if key(item) > after]
    if max_results is None or len(ordered) <= max_results:
        return ordered, None
    page = ordered[:max_results]
    return page, encode_token(key(page[-1]))
