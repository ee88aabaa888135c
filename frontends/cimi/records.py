"""CIMI entities only the gateway keeps (Jobs, MachineTemplates, VolumeTemplates, VolumeConfigurations).

oVirt has no home for them, so each is a JSON record in the store under its kind and the caller's
owner key. The store cannot check a password, so every read first has the engine confirm the caller's
credentials (once per request): a wrong password must not read or delete another identity's records.
"""
from __future__ import annotations

from typing import Any, Callable

from flask import Response

from gateway.app import current_gateway
from gateway.errors import NotFound

from .context import Context, current
from .protocol import respond


def record_or_none(ctx: Context, kind: str, entity_id: str) -> dict[str, Any] | None:
    ctx.verify_credentials()
    return current_gateway().store.entity(kind, ctx.owner, entity_id)


def find_record(ctx: Context, kind: str, entity_id: str, what: str) -> dict[str, Any]:
    """The record, or NotFound naming it as `what` (e.g. 'volume template')."""
    record = record_or_none(ctx, kind, entity_id)
    if record is None:
        raise NotFound(what, entity_id)
    return record


def all_records(ctx: Context, kind: str) -> list[dict[str, Any]]:
    ctx.verify_credentials()
    return current_gateway().store.entities(kind, ctx.owner)


def save_record(ctx: Context, kind: str, record: dict[str, Any]) -> None:
    """Create or replace the record under its `id`."""
    current_gateway().store.put_entity(kind, ctx.owner, record["id"], record)


def deleting_view(kind: str, what: str) -> Callable[[str], Response]:
    """A DELETE route for records of `kind`: 200 with no body, 404 when there is no such record."""
    def delete_record(entity_id: str) -> Response:
        ctx = current()
        find_record(ctx, kind, entity_id, what)
        current_gateway().store.delete_entity(kind, ctx.owner, entity_id)
        return respond(None, ctx.fmt, 200)
    return delete_record
