"""Images: the templates usable in the scoped data center; create one from an instance, destroy one.

Each image lists the hardware profiles it can run with (`<hardware_profiles>`, as Deltacloud's
images/show view and its images test expect): the profiles whose architecture matches the image's.
"""
from __future__ import annotations

from flask import Response

from gateway.engine_states import image_state
from gateway.model import Image

from . import context, hardware_profiles, respond
from .blueprint import bp
from .description import ActionLink, Actions, Entity, Ref, RefList, Value


def describe(image: Image) -> Entity:
    driver = context.driver()
    actions = []
    offered = image_state(image).offered
    if "launch" in offered:
        actions.append(ActionLink("create_instance", f"{context.api_url('instances')};image_id={image.id}", "post"))
    if "delete" in offered and driver.can("delete_image"):
        actions.append(ActionLink("destroy_image", context.api_url("images", image.id), "delete"))
    return Entity("image", image.id, context.api_url("images", image.id), [
        Value("name", image.name),
        Value("description", image.description or ""),
        Value("owner_id", image.owner or "", aliases=("owner",)),
        Value("architecture", image.architecture),
        Value("state", image.state.value.upper()),
        Value("creation_time", image.created),
        RefList("hardware_profiles", [Ref("hardware_profile", p.id, context.api_url("hardware_profiles", p.id),
                                          {"rel": "hardware_profile"})
                                      for p in hardware_profiles.runnable_with(image.architecture)]),
        Value("root_type", "persistent"),
        Actions(actions),
    ])


@bp.route("/images", methods=["GET"])
def images_index() -> Response:
    values = context.params()
    wanted = context.param(values, "id")
    architecture = context.param(values, "architecture")
    owner = context.param(values, "owner_id")
    images = context.driver().images(context.scope(), [wanted] if wanted else None)
    images = [i for i in images if architecture in (None, i.architecture) and owner in (None, i.owner)]
    return respond.collection("images", [describe(i) for i in images])


@bp.route("/images/<image_id>", methods=["GET"])
def image_show(image_id: str) -> Response:
    return respond.entity(describe(context.driver().image(context.scope(), image_id)))


@bp.route("/images", methods=["POST"])
def image_create() -> Response:
    """Capture a template from an instance (`instance_id`, optional `name` and `description`): 201 + Location."""
    values = context.params()
    instance_id = context.required(values, "instance_id")
    scope = context.scope()
    name = context.param(values, "name")
    if name is None:
        name = f"{context.driver().instance(scope, instance_id).name}-template"
    image = context.driver().create_image(scope, instance_id, name, context.param(values, "description") or "")
    return respond.created(describe(image))


@bp.route("/images/<image_id>", methods=["DELETE"])
def image_destroy(image_id: str) -> Response:
    """204 once the engine took the removal; 202 when it is done once the template's lock is gone."""
    scope = context.scope()
    later = "delete" in image_state(context.driver().image(scope, image_id)).later
    context.driver().delete_image(scope, image_id)
    return respond.accepted() if later else respond.no_content()
