"""Storage volumes: disks. Create with `capacity` (GB), attach to an instance with a `device`, detach, destroy.

Links advertise what the engine accepts in the volume's state (gateway.engine_states): attach while
unattached and free, detach while attached, destroy (DELETE) while unattached, also while the disk is
locked for a moment (then it is removed once free, and destroy answers 202). attach/detach answer 202
with the volume, destroy 204.
"""
from __future__ import annotations

import math

from flask import Response

from gateway.errors import InvalidParameter
from gateway.engine_states import volume_state
from gateway.model import MAX_VOLUME_BYTES, Volume, VolumeSpec

from . import context, respond
from .blueprint import bp
from .description import ActionLink, Actions, Element, Entity, JsonOnly, Ref, Value

GIB = 1 << 30


def describe(volume: Volume) -> Entity:
    driver = context.driver()
    href = context.api_url("storage_volumes", volume.id)
    attachment = volume.attachments[0] if volume.attachments else None
    links = []
    offered = volume_state(volume).offered
    if attachment is None and driver.can("attach_volume") and "attach" in offered:
        links.append(ActionLink("attach", href + "/attach", "post"))
    if attachment is not None and driver.can("detach_volume"):
        links.append(ActionLink("detach", href + "/detach", "post"))
    if attachment is None and driver.can("delete_volume") and "delete" in offered:
        links.append(ActionLink("destroy", href, "delete"))
    mount = []
    instance_ref = None
    if attachment is not None:
        instance_ref = Ref("instance", attachment.instance_id, context.api_url("instances", attachment.instance_id))
        mount = [instance_ref] + ([Element("device", [], {"name": attachment.device})] if attachment.device else [])
    return Entity("storage_volume", volume.id, href, [
        Value("created", volume.created),
        Value("capacity", _gigabytes(volume.size_bytes), attrs={"unit": "GB"}),
        Value("kind", "data"),
        Value("name", volume.name or volume.id),
        Value("description", volume.description or None),
        Value("device", attachment.device if attachment else None),
        context.ref("realm", "realms", volume.realm_id),
        Value("realm_id", volume.realm_id),
        Value("state", volume.state.value.upper()),
        *([Element("mount", mount)] if mount else []),
        JsonOnly("instance", instance_ref.json_value() if instance_ref else {}),
        Actions(links),
    ])


def _gigabytes(size_bytes: int) -> int | float:
    exact = size_bytes / GIB
    return int(exact) if exact == int(exact) else math.ceil(exact * 100) / 100


@bp.route("/storage_volumes", methods=["GET"])
def storage_volumes_index() -> Response:
    wanted = context.param(context.params(), "id")
    volumes = context.driver().volumes(context.scope(), [wanted] if wanted else None)
    return respond.collection("storage_volumes", [describe(v) for v in volumes])


@bp.route("/storage_volumes/<volume_id>", methods=["GET"])
def storage_volume_show(volume_id: str) -> Response:
    return respond.entity(describe(context.driver().volume(context.scope(), volume_id)))


@bp.route("/storage_volumes", methods=["POST"])
def storage_volume_create() -> Response:
    """`capacity` in GB (required unless `snapshot_id` names a snapshot to copy: then at least its size),
    optional `name`, `description`, `realm_id`: 201 + Location."""
    values = context.params()
    snapshot_id = context.param(values, "snapshot_id")
    text = context.param(values, "capacity") if snapshot_id else context.required(values, "capacity")
    if snapshot_id and text is None:  # the snapshot's own size
        spec = VolumeSpec(size_bytes=0, name=context.param(values, "name"), snapshot_id=snapshot_id,
                          description=context.param(values, "description") or "",
                          realm_id=context.param(values, "realm_id"))
        return respond.created(describe(context.driver().create_volume(context.scope(), spec)))
    try:
        capacity = float(text)
    except ValueError:
        raise InvalidParameter(f"'capacity' must be a number of GB, got '{text[:50]}'", parameter="capacity") from None
    if not math.isfinite(capacity) or capacity <= 0:
        raise InvalidParameter(f"'capacity' must be a positive number of GB, got '{text[:50]}'", parameter="capacity")
    if capacity * GIB > MAX_VOLUME_BYTES:
        raise InvalidParameter(f"'capacity' must be at most {MAX_VOLUME_BYTES // GIB} GB, got '{text[:50]}'",
                               parameter="capacity")
    spec = VolumeSpec(size_bytes=math.ceil(capacity * GIB), name=context.param(values, "name"),
                      description=context.param(values, "description") or "",
                      realm_id=context.param(values, "realm_id"), snapshot_id=snapshot_id)
    volume = context.driver().create_volume(context.scope(), spec)
    return respond.created(describe(volume))


@bp.route("/storage_volumes/<volume_id>/attach", methods=["POST"])
def storage_volume_attach(volume_id: str) -> Response:
    values = context.params()
    instance_id = context.required(values, "instance_id")
    scope = context.scope()
    context.driver().attach_volume(scope, volume_id, instance_id, context.param(values, "device"))
    return respond.entity(describe(context.driver().volume(scope, volume_id)), 202)


@bp.route("/storage_volumes/<volume_id>/detach", methods=["POST"])
def storage_volume_detach(volume_id: str) -> Response:
    scope = context.scope()
    context.driver().detach_volume(scope, volume_id, context.param(context.params(), "instance_id"))
    return respond.entity(describe(context.driver().volume(scope, volume_id)), 202)


@bp.route("/storage_volumes/<volume_id>", methods=["DELETE"])
def storage_volume_destroy(volume_id: str) -> Response:
    """204 once the engine took the removal; 202 when it is done once the disk's lock is gone."""
    scope = context.scope()
    later = "delete" in volume_state(context.driver().volume(scope, volume_id)).later
    context.driver().delete_volume(scope, volume_id)
    return respond.accepted() if later else respond.no_content()
