"""Images: the templates of the data center; create one from an instance, deregister one."""
from __future__ import annotations

from typing import Any

from flask import flash, g, redirect, render_template, url_for

from gateway.app import current_gateway
from gateway.engine_states import image_state

from .blueprint import bp
from .forms import field


@bp.get("/images")
def images_page() -> Any:
    scope = g.user.scope()
    driver = current_gateway().driver_for(scope.provider)
    instances = [i for i in driver.instances(scope) if i.state.value != "terminated"]
    return render_template("images.html", images=driver.images(scope), instances=instances,
                           deletable=lambda image: "delete" in image_state(image).offered)


@bp.post("/images")
def image_create() -> Any:
    scope = g.user.scope()
    driver = current_gateway().driver_for(scope.provider)
    instance_id = field("instance_id", required=True, label="instance") or ""
    name = field("name", limit=200) or f"{driver.instance(scope, instance_id).name}-image"
    image = driver.create_image(scope, instance_id, name, field("description", limit=1000) or "")
    flash(f"Creating image {image.name} from the instance; it is pending until the engine has copied it.")
    return redirect(url_for("console.images_page"))


@bp.post("/images/<image_id>/deregister")
def image_deregister(image_id: str) -> Any:
    scope = g.user.scope()
    driver = current_gateway().driver_for(scope.provider)
    image = driver.image(scope, image_id)
    driver.delete_image(scope, image_id)
    flash(f"Deregistered image {image.name}.")
    return redirect(url_for("console.images_page"))
