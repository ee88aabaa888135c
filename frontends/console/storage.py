"""Volumes and snapshots: create, attach, detach and delete volumes; snapshot a volume, delete a snapshot.

A snapshot of an attached volume is a snapshot of that volume on its instance (oVirt snapshots disks
through their VM), of a free volume a copy of its disk: the same calls the Deltacloud API makes.
"""
from __future__ import annotations

import math
from typing import Any

from flask import flash, g, redirect, render_template, url_for

from gateway.app import current_gateway
from gateway.engine_states import snapshot_state, volume_state
from gateway.model import VolumeSpec

from .blueprint import bp
from .forms import field, gigabytes

GIB = 1 << 30


def _driver_and_scope() -> tuple[Any, Any]:
    scope = g.user.scope()
    return current_gateway().driver_for(scope.provider), scope


@bp.get("/volumes")
def volumes_page() -> Any:
    driver, scope = _driver_and_scope()
    instances = [i for i in driver.instances(scope) if i.state.value != "terminated"]
    return render_template("volumes.html", volumes=driver.volumes(scope), snapshots=driver.snapshots(scope),
                           instances=instances, names={i.id: i.name for i in instances},
                           realms=driver.realms(scope), offered=lambda v: volume_state(v).offered,
                           snapshot_offered=lambda s: snapshot_state(s).offered, gib=GIB)


@bp.post("/volumes")
def volume_create() -> Any:
    driver, scope = _driver_and_scope()
    size = gigabytes("size_gb", "size")
    spec = VolumeSpec(size_bytes=math.ceil(size * GIB), name=field("name", limit=200),
                      realm_id=field("realm_id", label="zone"))
    volume = driver.create_volume(scope, spec)
    flash(f"Creating volume {volume.name or volume.id}.")
    return redirect(url_for("console.volumes_page"))


@bp.post("/volumes/<volume_id>/attach")
def volume_attach(volume_id: str) -> Any:
    driver, scope = _driver_and_scope()
    instance_id = field("instance_id", required=True, label="instance") or ""
    driver.attach_volume(scope, volume_id, instance_id, field("device", limit=32))
    flash("Attached the volume.")
    return redirect(url_for("console.volumes_page"))


@bp.post("/volumes/<volume_id>/detach")
def volume_detach(volume_id: str) -> Any:
    driver, scope = _driver_and_scope()
    driver.detach_volume(scope, volume_id)
    flash("Detached the volume.")
    return redirect(url_for("console.volumes_page"))


@bp.post("/volumes/<volume_id>/delete")
def volume_delete(volume_id: str) -> Any:
    driver, scope = _driver_and_scope()
    driver.delete_volume(scope, volume_id)
    flash("Deleting the volume.")
    return redirect(url_for("console.volumes_page"))


@bp.post("/volumes/<volume_id>/snapshot")
def volume_snapshot(volume_id: str) -> Any:
    driver, scope = _driver_and_scope()
    volume = driver.volume(scope, volume_id)
    description = field("description", limit=1000) or ""
    if volume.attachments:
        driver.create_snapshot(scope, volume.attachments[0].instance_id, description, volume_ids=[volume_id])
    else:
        driver.snapshot_volume(scope, volume_id, description)
    flash("Creating a snapshot of the volume.")
    return redirect(url_for("console.volumes_page"))


@bp.post("/snapshots/<snapshot_id>/delete")
def snapshot_delete(snapshot_id: str) -> Any:
    driver, scope = _driver_and_scope()
    driver.delete_snapshot(scope, snapshot_id)
    flash("Deleting the snapshot.")
    return redirect(url_for("console.volumes_page"))
