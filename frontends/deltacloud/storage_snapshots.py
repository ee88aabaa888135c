"""Storage snapshots: oVirt VM snapshots, shown against the volume(s) they cover.

oVirt snapshots an instance's disks together, so creating one from `volume_id` snapshots the instance the
volume is attached to; a volume attached to none gets a snapshot that is a copy of its disk (no instance);
destroy answers 204.
"""
from __future__ import annotations

from flask import Response

from gateway.errors import NotFound
from gateway.model import Snapshot

from . import context, respond
from .blueprint import bp
from .description import Entity, Ref, RefList, Value


def describe(snapshot: Snapshot) -> Entity:
    first_volume = snapshot.volume_ids[0] if snapshot.volume_ids else None
    return Entity("storage_snapshot", snapshot.id, context.api_url("storage_snapshots", snapshot.id), [
        Value("name", snapshot.description or snapshot.id),
        Value("description", snapshot.description or None),
        Value("created", snapshot.created),
        Value("state", snapshot.state.value.upper()),
        context.ref("storage_volume", "storage_volumes", first_volume),
        RefList("storage_volumes", [Ref("storage_volume", v, context.api_url("storage_volumes", v))
                                    for v in snapshot.volume_ids]),
        context.ref("instance", "instances", snapshot.instance_id or None),
    ])


def _find(snapshot_id: str) -> Snapshot:
    found = context.driver().snapshots(context.scope(), [snapshot_id])
    for snapshot in found:
        if snapshot.id == snapshot_id:
            return snapshot
    raise NotFound("storage snapshot", snapshot_id)


@bp.route("/storage_snapshots", methods=["GET"])
def storage_snapshots_index() -> Response:
    wanted = context.param(context.params(), "id")
    snapshots = context.driver().snapshots(context.scope(), [wanted] if wanted else None)
    return respond.collection("storage_snapshots", [describe(s) for s in snapshots])


@bp.route("/storage_snapshots/<snapshot_id>", methods=["GET"])
def storage_snapshot_show(snapshot_id: str) -> Response:
    return respond.entity(describe(_find(snapshot_id)))


@bp.route("/storage_snapshots", methods=["POST"])
def storage_snapshot_create() -> Response:
    values = context.params()
    volume_id = context.required(values, "volume_id")
    scope = context.scope()
    volume = context.driver().volume(scope, volume_id)
    description = context.param(values, "description") or ""
    if not volume.attachments:  # the driver copies the disk: a snapshot independent of the volume
        return respond.created(describe(context.driver().snapshot_volume(scope, volume_id, description)))
    snapshot = context.driver().create_snapshot(scope, volume.attachments[0].instance_id, description,
                                                volume_ids=[volume_id])
    snapshot.volume_ids = snapshot.volume_ids or [volume_id]
    return respond.created(describe(snapshot))


@bp.route("/storage_snapshots/<snapshot_id>", methods=["DELETE"])
def storage_snapshot_destroy(snapshot_id: str) -> Response:
    context.driver().delete_snapshot(context.scope(), snapshot_id)
    return respond.no_content()
