"""VolumeImages (the driver's snapshots): list, get, create from a volume (`imageLocation`), delete.

A VolumeImage captures one volume: of a volume attached to a machine, a snapshot of that machine narrowed
to the volume; of one attached to none, the driver's copy of it. A Volume is made from one through a
volumeTemplate naming it as `volumeImage` (see templates.read_volume_template and volumes.create_volume).
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, Response

from gateway.errors import InvalidParameter, MissingParameter, NotFound
from gateway.model import ResourceState, Snapshot

from .. import jobs
from ..context import Context, current
from ..listing import created_response, register_collection, resource_response
from ..protocol import respond
from ..reading import nested, text
from ..schema import common_attributes
from ..states import resource_state


def volume_image_entry(ctx: Context, snapshot: Snapshot) -> dict[str, Any]:
    href = ctx.href("volumeImages", snapshot.id)
    entry = common_attributes(href, snapshot.description or snapshot.id, description=snapshot.description or None,
                              created=snapshot.created)
    entry.update({"state": resource_state(snapshot.state), "bootable": False})
    if snapshot.volume_ids:
        entry["imageLocation"] = {"href": ctx.href("volumes", snapshot.volume_ids[0])}
    if ctx.driver.can("delete_snapshot") and snapshot.state is not ResourceState.DELETING:
        entry["operations"] = [{"rel": "delete", "href": href}]
    return entry


def find_snapshot(ctx: Context, snapshot_id: str) -> Snapshot:
    found = [s for s in ctx.driver.snapshots(ctx.scope, [snapshot_id]) if s.id == snapshot_id]
    if not found:
        raise NotFound("volume image", snapshot_id)
    return found[0]


def list_volume_images(ctx: Context) -> list[dict[str, Any]]:
    return [volume_image_entry(ctx, s) for s in ctx.driver.snapshots(ctx.scope)]


def get_volume_image(image_id: str) -> Response:
    ctx = current()
    return resource_response(ctx, "VolumeImage", volume_image_entry(ctx, find_snapshot(ctx, image_id)))


def create_volume_image() -> Response:
    ctx = current()
    ctx.require("create_snapshot", "create volume images")
    _, body = ctx.body("VolumeImage")
    location_ref = nested(body, "imageLocation")  # a reference to the volume (`href`), as in Deltacloud's model
    location = location_ref.get("href") if location_ref else None
    if not location:
        raise MissingParameter("A VolumeImage needs an imageLocation: the volume to capture",
                               parameter="imageLocation")
    volume_id = ctx.id_from_href(location, "volumes", "Volume")
    try:
        volume = ctx.driver.volume(ctx.scope, volume_id)
    except NotFound as exc:
        raise InvalidParameter(f"Unknown imageLocation: {exc.message}", parameter="imageLocation") from None
    description = text(body, "description") or text(body, "name") or ""
    if volume.attachments:
        snapshot = ctx.driver.create_snapshot(ctx.scope, volume.attachments[0].instance_id, description,
                                              volume_ids=[volume.id])
    else:
        snapshot = ctx.driver.snapshot_volume(ctx.scope, volume.id, description)
    snapshot.volume_ids = snapshot.volume_ids or [volume.id]
    job = jobs.start_job(ctx, "add", "volumeImage", snapshot.id, jobs.AVAILABLE,
                         target_href=ctx.href("volumeImages", snapshot.id), affected=[ctx.href("volumes", volume.id)])
    return created_response(ctx, "VolumeImage", volume_image_entry(ctx, snapshot), jobs.job_headers(ctx, job))


def delete_volume_image(image_id: str) -> Response:
    ctx = current()
    ctx.require("delete_snapshot", "delete volume images")
    find_snapshot(ctx, image_id)
    ctx.driver.delete_snapshot(ctx.scope, image_id)
    job = jobs.start_job(ctx, "delete", "volumeImage", image_id, jobs.GONE,
                         target_href=ctx.href("volumeImages", image_id))
    return respond(None, ctx.fmt, 200, jobs.job_headers(ctx, job))


def install(bp: Blueprint) -> None:
    register_collection("volumeImages", "VolumeImage", list_volume_images,
                        available=lambda ctx: ctx.driver.can("snapshots"),
                        can_add=lambda ctx: ctx.driver.can("create_snapshot"))
    bp.add_url_rule("/volume_images", "create_volume_image", create_volume_image, methods=["POST"])
    bp.add_url_rule("/volume_images/<image_id>", "get_volume_image", get_volume_image, methods=["GET"])
    bp.add_url_rule("/volume_images/<image_id>", "delete_volume_image", delete_volume_image, methods=["DELETE"])
