"""Collections written once: the registry the entry point reads, and query handling for every listing.

Each resource module registers its collection (CEP attribute name, entry type, how to list it, whether it
works for the scoped provider, whether `add` is allowed) and the expanders of its collection links. The
entry point then lists exactly the collections that work, and every listing gets `$filter`, `$first`/
`$last`, `$expand` and `$select` the same way, with `count` reflecting the filter.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from flask import Response

from .context import Context
from .protocol import query_value, query_values, respond
from .query import matches, names, page, parse_filters, select
from .render import collection, resource
from .schema import LINK, entries_key, resource_type

Lister = Callable[[Context], list[dict[str, Any]]]
Check = Callable[[Context], bool]
Expander = Callable[[Context, dict[str, Any]], list[dict[str, Any]]]


@dataclass(frozen=True)
class CollectionSpec:
    name: str  # the CloudEntryPoint attribute, e.g. machineConfigs
    entry_type: str  # e.g. MachineConfiguration
    entries: Lister
    available: Check
    can_add: Check


COLLECTIONS: dict[str, CollectionSpec] = {}
EXPANDERS: dict[tuple[str, str], Expander] = {}


def register_collection(name: str, entry_type: str, entries: Lister, *, available: Check = lambda ctx: True,
                        can_add: Check = lambda ctx: False) -> None:
    COLLECTIONS[name] = CollectionSpec(name, entry_type, entries, available, can_add)


def expander(type_name: str, field_name: str) -> Callable[[Expander], Expander]:
    def decorate(func: Expander) -> Expander:
        EXPANDERS[(type_name, field_name)] = func
        return func
    return decorate


def expand(ctx: Context, type_name: str, entry: dict[str, Any], wanted: set[str] | None) -> dict[str, Any]:
    """The entry with the wanted collection links inlined (`*` = every link that can be expanded)."""
    if not wanted:
        return entry
    result = dict(entry)
    for spec in resource_type(type_name).fields:
        if spec.kind != LINK or spec.name not in entry or not ("*" in wanted or spec.name in wanted):
            continue
        func = EXPANDERS.get((type_name, spec.name))
        if func is None:
            continue
        href = entry[spec.name]["href"]
        items = func(ctx, entry)
        result[spec.name] = {"href": href, "id": href, "count": len(items), entries_key(spec.type): items}
    return result


def collection_response(ctx: Context, spec: CollectionSpec) -> Response:
    entries = spec.entries(ctx)
    expr = parse_filters(query_values("$filter"))
    if expr is not None:
        entries = [e for e in entries if matches(expr, e)]
    count = len(entries)
    entries = page(entries, query_value("$first"), query_value("$last"))
    expanded, selected = names(query_values("$expand")), names(query_values("$select"))
    entries = [select(expand(ctx, spec.entry_type, e, expanded), selected) for e in entries]
    operations = [{"rel": "add", "href": ctx.href(spec.name)}] if spec.can_add(ctx) else []
    return respond(collection(spec.entry_type, ctx.href(spec.name), entries, count=count, operations=operations),
                   ctx.fmt)


def created_response(ctx: Context, type_name: str, entry: dict[str, Any],
                     headers: dict[str, str] | None = None) -> Response:
    """201 with the new resource whole (`$select` names no attributes here), `Location` its id."""
    return resource_response(ctx, type_name, entry, 201, {"Location": entry["id"], **(headers or {})},
                             apply_select=False)


def sub_collection_response(ctx: Context, entry_type: str, href: str, entries: list[dict[str, Any]],
                            add: bool) -> Response:
    """A collection inside a resource (a machine's disks, volumes, network interfaces)."""
    expr = parse_filters(query_values("$filter"))
    if expr is not None:
        entries = [e for e in entries if matches(expr, e)]
    count = len(entries)
    entries = page(entries, query_value("$first"), query_value("$last"))
    selected = names(query_values("$select"))
    entries = [select(e, selected) for e in entries]
    operations = [{"rel": "add", "href": href}] if add else []
    return respond(collection(entry_type, href, entries, count=count, operations=operations), ctx.fmt)


def resource_response(ctx: Context, type_name: str, entry: dict[str, Any], status: int = 200,
                      headers: dict[str, str] | None = None, *, apply_select: bool = True) -> Response:
    """One resource, with `$expand` and `$select` applied (not `$select` after an edit, where it names
    the attributes that were changed)."""
    entry = expand(ctx, type_name, entry, names(query_values("$expand")))
    if apply_select:
        entry = select(entry, names(query_values("$select")))
    return respond(resource(type_name, entry), ctx.fmt, status, headers)
