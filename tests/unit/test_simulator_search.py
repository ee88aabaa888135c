"""The simulator's search language: the subset of the engine's that clients send."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from drivers.ovirt.simulator import search
from drivers.ovirt.simulator.errors import ApiError


@dataclass
class Thing:
    name: str
    status: str
    memory: int


THINGS = [Thing("web-1", "up", 1024), Thing("web-2", "down", 2048), Thing("db-1", "up", 4096),
          Thing("Web-3", "up", 512)]
FIELDS = {"name": lambda t: t.name, "status": lambda t: t.status, "memory": lambda t: t.memory}


def names(query: str, **kwargs: object) -> list[str]:
    return [t.name for t in search.apply(THINGS, query, FIELDS, **kwargs)]


def test_wildcards_are_case_insensitive_by_default() -> None:
    assert names("name=web*") == ["web-1", "web-2", "Web-3"]
    assert names("name=web*", case_sensitive=True) == ["web-1", "web-2"]
    assert names('name="db-1"') == ["db-1"]


def test_and_or_and_negation() -> None:
    assert names("name=web* AND status=up") == ["web-1", "Web-3"]
    assert names("name=db* or status=down") == ["web-2", "db-1"]
    assert names("status!=up") == ["web-2"]
    assert names("memory>1024") == ["web-2", "db-1"]


def test_sortby_and_page() -> None:
    assert names("status=up sortby memory desc") == ["db-1", "web-1", "Web-3"]
    assert names("name=* sortby name asc page 2", max_results=2) == ["web-2", "Web-3"]
    assert names("name=*", max_results=1) == ["db-1"][:0] + ["web-1"]


def test_errors_are_400() -> None:
    with pytest.raises(ApiError) as unknown:
        names("colour=red")
    assert unknown.value.status == 400
    with pytest.raises(ApiError):
        names("name=x page")
    with pytest.raises(ApiError):
        search.parse("= =")


def test_parse_structure() -> None:
    q = search.parse("Vms: name=a* and status=up sortby name desc page 3")
    assert [(c.field, c.op, c.value) for c in q.groups[0]] == [("name", "=", "a*"), ("status", "=", "up")]
    assert (q.sort_field, q.descending, q.page) == ("name", True, 3)


def test_cross_references_match_as_free_text() -> None:
    """`Disks: storage=x` searches the storage domain's text fields for `%x%`, as the engine does."""
    fields = {**FIELDS, "storage": lambda t: search.FreeText((f"data-{t.status}", "NFS share"))}

    def found(query: str) -> list[str]:
        return [t.name for t in search.apply(THINGS, query, fields)]
    assert found("storage=data-up") == ["web-1", "db-1", "Web-3"]
    assert found("storage=own") == ["web-2"]              # inside the name, case-insensitively
    assert found("storage=nfs") == [t.name for t in THINGS]
    assert found("storage=d*n") == ["web-2"]
    assert found("storage!=nfs") == found("storage=*")    # one NOT ILIKE per column, ORed: "data-.." lacks it
    assert found("storage>x") == []
