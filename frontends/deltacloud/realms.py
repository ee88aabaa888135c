"""Realms: the clusters of the scoped data center (state AVAILABLE or UNAVAILABLE)."""
from __future__ import annotations

from flask import Response

from gateway.errors import NotFound
from gateway.model import Realm

from . import context, respond
from .blueprint import bp
from .description import Entity, Value


def describe(realm: Realm) -> Entity:
    return Entity("realm", realm.id, context.api_url("realms", realm.id), [
        Value("name", realm.name),
        Value("state", "AVAILABLE" if realm.available else "UNAVAILABLE"),
        Value("limit", ""),
    ])


def _realms() -> list[Realm]:
    return context.driver().realms(context.scope())


@bp.route("/realms", methods=["GET"])
def realms_index() -> Response:
    wanted = context.param(context.params(), "id")
    realms = [r for r in _realms() if wanted is None or r.id == wanted]
    return respond.collection("realms", [describe(r) for r in realms])


@bp.route("/realms/<realm_id>", methods=["GET"])
def realm_show(realm_id: str) -> Response:
    for realm in _realms():
        if realm.id == realm_id:
            return respond.entity(describe(realm))
    raise NotFound("realm", realm_id)
