"""MachineImages (oVirt templates): list, get, delete, and capture (create one from a stopped machine).

Capture is CIMI's odd one: the Machine advertises it with the MachineImage collection as href, and the
client POSTs a MachineImage whose `imageLocation` names the machine.
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, Response

from gateway.errors import InvalidParameter, InvalidState, MissingParameter, NotFound
from gateway.engine_states import image_state
from gateway.model import Image, InstanceState

from .. import jobs
from .volumes import deletion_response
from ..context import Context, current
from ..listing import created_response, register_collection, resource_response
from ..reading import nested, text
from ..schema import common_attributes
from ..states import action_uri, machine_state, resource_state


def image_entry(ctx: Context, image: Image) -> dict[str, Any]:
    href = ctx.href("machineImages", image.id)
    entry = common_attributes(href, image.name, description=image.description, created=image.created)
    entry.update({"state": resource_state(image.state), "type": "IMAGE"})
    source = image.extra.get("source_instance_id") if image.extra else None
    if source:
        entry["imageLocation"] = ctx.href("machines", source)
    if ctx.driver.can("delete_image") and "delete" in image_state(image).offered:
        entry["operations"] = [{"rel": "delete", "href": href}]
    return entry


def list_images(ctx: Context) -> list[dict[str, Any]]:
    return [image_entry(ctx, i) for i in ctx.driver.images(ctx.scope)]


def get_image(image_id: str) -> Response:
    ctx = current()
    return resource_response(ctx, "MachineImage", image_entry(ctx, ctx.driver.image(ctx.scope, image_id)))


def capture_machine() -> Response:
    ctx = current()
    ctx.require("create_image", "capture machines")
    _, body = ctx.body("MachineImage")
    location = text(body, "imageLocation")
    if not location:
        location_ref = nested(body, "imageLocation")
        location = location_ref.get("href") if location_ref else None
    if not location:
        raise MissingParameter("A MachineImage needs an imageLocation: the machine to capture",
                               parameter="imageLocation")
    kind = (text(body, "type") or "IMAGE").upper()
    if kind != "IMAGE":
        raise InvalidParameter(f"Only machine images of type IMAGE can be captured, not {kind}", parameter="type")
    machine_id = ctx.id_from_href(location, "machines", "Machine")
    try:
        instance = ctx.driver.instance(ctx.scope, machine_id)
    except NotFound as exc:
        raise InvalidParameter(f"Unknown imageLocation: {exc.message}") from None
    if instance.state != InstanceState.STOPPED:
        raise InvalidState(f"Only a STOPPED machine can be captured; this one is {machine_state(instance)}",
                           resource_id=machine_id, state=instance.state.value)
    name = text(body, "name") or f"{instance.name}-image"
    image = ctx.driver.create_image(ctx.scope, machine_id, name, text(body, "description") or "")
    job = jobs.start_job(ctx, action_uri("capture"), "machineImage", image.id, jobs.AVAILABLE,
                         target_href=ctx.href("machineImages", image.id), affected=[ctx.href("machines", machine_id)])
    return created_response(ctx, "MachineImage", image_entry(ctx, image), jobs.job_headers(ctx, job))


def delete_image(image_id: str) -> Response:
    ctx = current()
    ctx.require("delete_image", "delete machine images")
    later = "delete" in image_state(ctx.driver.image(ctx.scope, image_id)).later
    ctx.driver.delete_image(ctx.scope, image_id)
    job = jobs.start_job(ctx, "delete", "machineImage", image_id, jobs.GONE,
                         target_href=ctx.href("machineImages", image_id))
    return deletion_response(ctx, job, later)


def install(bp: Blueprint) -> None:
    register_collection("machineImages", "MachineImage", list_images, available=lambda ctx: ctx.driver.can("images"),
                        can_add=lambda ctx: ctx.driver.can("create_image"))
    bp.add_url_rule("/machine_images", "capture_machine", capture_machine, methods=["POST"])
    bp.add_url_rule("/machine_images/<image_id>", "get_image", get_image, methods=["GET"])
    bp.add_url_rule("/machine_images/<image_id>", "delete_image", delete_image, methods=["DELETE"])
