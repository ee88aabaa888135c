"""Volumes (oVirt disks): list, get, create from a VolumeCreate, delete.

The VolumeCreate's volumeTemplate is a reference to a stored VolumeTemplate or inline, and its
volumeConfig a reference to a stored VolumeConfiguration or an inline capacity (kilobytes, rounded up
to whole mebibytes for the engine).
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, Response

from gateway.errors import InvalidParameter, MissingParameter
from gateway.engine_states import volume_state
from gateway.model import MAX_VOLUME_BYTES, Volume, VolumeSpec

from .. import jobs
from ..context import Context, current
from ..listing import created_response, register_collection, resource_response
from ..protocol import respond
from ..reading import nested, properties, text
from ..schema import NAMESPACE, common_attributes
from ..states import resource_state
from .configs import stored_volume_config
from .templates import resolve_volume_template

MIB = 1024 * 1024
MAX_CAPACITY_KB = MAX_VOLUME_BYTES // 1024


def volume_entry(ctx: Context, volume: Volume) -> dict[str, Any]:
    href = ctx.href("volumes", volume.id)
    entry = common_attributes(href, volume.name, description=volume.description, created=volume.created,
                              properties=dict(volume.tags))
    entry.update({"state": resource_state(volume.state), "type": f"{NAMESPACE}/mapped",
                  "capacity": volume.size_bytes // 1024,
                  "bootable": any(a.bootable for a in volume.attachments)})
    if ctx.driver.can("delete_volume") and "delete" in volume_state(volume).offered:
        entry["operations"] = [{"rel": "delete", "href": href}]
    return entry


def list_volumes(ctx: Context) -> list[dict[str, Any]]:
    return [volume_entry(ctx, v) for v in ctx.driver.volumes(ctx.scope)]


def get_volume(volume_id: str) -> Response:
    ctx = current()
    return resource_response(ctx, "Volume", volume_entry(ctx, ctx.driver.volume(ctx.scope, volume_id)))


def capacity_kb(ctx: Context, template: dict[str, Any]) -> int:
    attributes = resolve_volume_template(ctx, template)
    if "config_id" in attributes:
        return int(stored_volume_config(ctx, attributes["config_id"])["capacity_kb"])
    return int(attributes["capacity_kb"])


def create_volume() -> Response:
    ctx = current()
    ctx.require("create_volume", "create volumes")
    _, body = ctx.body("VolumeCreate")
    template = nested(body, "volumeTemplate")
    if template is None:
        raise MissingParameter("A VolumeCreate needs a volumeTemplate (a reference or inline)",
                               parameter="volumeTemplate")
    attributes = resolve_volume_template(ctx, template)
    size_kb = capacity_kb(ctx, template)
    if size_kb > MAX_CAPACITY_KB:
        raise InvalidParameter(f"capacity {size_kb} KB is larger than the limit of {MAX_CAPACITY_KB} KB",
                               parameter="capacity")
    size_bytes = -(-size_kb * 1024 // MIB) * MIB
    tags = properties(body) or {}
    volume = ctx.driver.create_volume(ctx.scope, VolumeSpec(
        size_bytes=size_bytes, name=text(body, "name") or None, description=text(body, "description") or "",
        tags=tags, snapshot_id=attributes.get("image_id")))
    job = jobs.start_job(ctx, "add", "volume", volume.id, jobs.AVAILABLE, target_href=ctx.href("volumes", volume.id))
    return created_response(ctx, "Volume", volume_entry(ctx, volume), jobs.job_headers(ctx, job))


def delete_volume(volume_id: str) -> Response:
    ctx = current()
    ctx.require("delete_volume", "delete volumes")
    later = "delete" in volume_state(ctx.driver.volume(ctx.scope, volume_id)).later
    ctx.driver.delete_volume(ctx.scope, volume_id)
    job = jobs.start_job(ctx, "delete", "volume", volume_id, jobs.GONE, target_href=ctx.href("volumes", volume_id))
    return deletion_response(ctx, job, later)


def deletion_response(ctx: Context, job: dict[str, Any], later: bool) -> Response:
    """200 when the engine took the removal at once; 202 with the Job when it is done once a lock is gone."""
    if later:
        return resource_response(ctx, "Job", jobs.render_job(ctx, job), 202,
                                 {"Location": jobs.job_href(ctx, job), **jobs.job_headers(ctx, job)})
    return respond(None, ctx.fmt, 200, jobs.job_headers(ctx, job))


def install(bp: Blueprint) -> None:
    register_collection("volumes", "Volume", list_volumes, available=lambda ctx: ctx.driver.can("volumes"),
                        can_add=lambda ctx: ctx.driver.can("create_volume"))
    bp.add_url_rule("/volumes", "create_volume", create_volume, methods=["POST"])
    bp.add_url_rule("/volumes/<volume_id>", "get_volume", get_volume, methods=["GET"])
    bp.add_url_rule("/volumes/<volume_id>", "delete_volume", delete_volume, methods=["DELETE"])
