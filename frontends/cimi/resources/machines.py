"""Machines (oVirt VMs): list, get, create from a MachineCreate, edit, delete, and the state actions.

Creation resolves the MachineCreate's template (by reference to a stored MachineTemplate, inline, or
both: inline attributes override the stored ones) into an InstanceSpec. Every asynchronous operation
answers with a Job (CIMI-Job-URI) whose state follows the machine's real state.
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, Response

from gateway import request_stats
from gateway.errors import InvalidParameter, InvalidState, MissingParameter, NotFound, NotSupported, echo
from gateway.model import Instance, InstanceSpec

from .. import jobs
from ..context import Context, current
from ..listing import created_response, register_collection, resource_response
from ..network_views import launch_realm
from ..protocol import query_values
from ..query import names
from ..reading import boolean, nested, properties, text
from ..schema import common_attributes
from ..states import (CIMI_ACTIONS, accepts, action_name, action_uri, can_capture, can_delete, machine_actions,
                      machine_state)
from .machine_parts import remember_machines
from .templates import resolve_machine_template

SPEC_ACTIONS = ("start", "stop", "restart", "pause", "suspend", "capture")
EXPECT = {"start": jobs.STARTED, "stop": jobs.STOPPED, "restart": jobs.RESTARTED, "suspend": jobs.SUSPENDED}


def machine_entry(ctx: Context, instance: Instance) -> dict[str, Any]:
    href = ctx.href("machines", instance.id)
    entry = common_attributes(href, instance.name, description=instance.description, created=instance.created,
                              properties={k: v for k, v in instance.tags.items() if k != "Name"})
    entry.update({
        "state": machine_state(instance), "cpu": instance.cpus, "memory": instance.memory_bytes // 1024,
        "disks": {"href": href + "/disks"}, "cpuArch": instance.architecture,
        "volumes": {"href": href + "/volumes"}, "networkInterfaces": {"href": href + "/network_interfaces"},
    })
    if ctx.driver.can("instance_statistics"):
        entry["meters"] = {"href": href + "/meters"}
    if instance.realm_id:
        entry["realm"] = instance.realm_id
    if instance.image_id:
        entry["machineImage"] = {"href": ctx.href("machineImages", instance.image_id)}
    if instance.hardware_profile_id:
        entry["machineConfig"] = {"href": ctx.href("machineConfigs", instance.hardware_profile_id)}
    entry["operations"] = machine_operations(ctx, instance, href)
    return entry


def machine_operations(ctx: Context, instance: Instance, href: str) -> list[dict[str, str]]:
    operations = []
    if ctx.driver.can("update_instance") or ctx.driver.can("set_tags"):
        operations.append({"rel": "edit", "href": href})
    if can_delete(instance, ctx.driver):
        operations.append({"rel": "delete", "href": href})
    for name in machine_actions(instance, ctx.driver):
        operations.append({"rel": action_uri(name), "href": f"{href}/{name}"})
    if can_capture(instance, ctx.driver):
        operations.append({"rel": action_uri("capture"), "href": ctx.href("machineImages")})
    return operations


def list_machines(ctx: Context) -> list[dict[str, Any]]:
    instances = ctx.driver.instances(ctx.scope)
    remember_machines(instances)
    return [machine_entry(ctx, i) for i in instances]


def get_machine(machine_id: str) -> Response:
    ctx = current()
    instance = ctx.driver.instance(ctx.scope, machine_id)
    remember_machines([instance])
    return resource_response(ctx, "Machine", machine_entry(ctx, instance))


def create_machine() -> Response:
    ctx = current()
    ctx.require("create_instance", "create machines")
    _, body = ctx.body("MachineCreate")
    template = nested(body, "machineTemplate")
    if template is None:
        raise MissingParameter("A MachineCreate needs a machineTemplate (a reference or inline)",
                               parameter="machineTemplate")
    resolved = resolve_machine_template(ctx, template)
    tags = properties(body) or {}
    if tags and not ctx.driver.can("set_tags"):
        raise NotSupported("The provider cannot keep properties on machines")
    realm_id = resolved.realm_id
    if resolved.subnet_id:  # on a network of the network provider: its realm, its address checked now
        realm_id = launch_realm(ctx, resolved.subnet_id, resolved.private_ip, realm_id)
    spec = InstanceSpec(
        image_id=resolved.image_id, hardware_profile_id=resolved.hardware_profile_id,
        memory_bytes=resolved.memory_bytes, cpus=resolved.cpus, realm_id=realm_id,
        name=text(body, "name") or None, description=text(body, "description") or "",
        user_data=resolved.user_data, ssh_public_keys=resolved.ssh_public_keys, key_name=resolved.key_name,
        start=resolved.initial_state != "STOPPED", subnet_id=resolved.subnet_id, private_ip=resolved.private_ip)
    instance = ctx.driver.create_instance(ctx.scope, spec)
    if tags:
        ctx.driver.set_tags(ctx.scope, "instance", [instance.id], tags)
        instance.tags.update(tags)
    job = jobs.start_job(ctx, "add", "machine", instance.id, jobs.STARTED if spec.start else jobs.STOPPED,
                         target_href=ctx.href("machines", instance.id))
    return created_response(ctx, "Machine", machine_entry(ctx, instance), jobs.job_headers(ctx, job))


def edit_machine(machine_id: str) -> Response:
    """PUT: name, description and properties; with `$select`, only the selected ones change."""
    ctx = current()
    _, body = ctx.body("Machine")
    instance = ctx.driver.instance(ctx.scope, machine_id)
    selected = names(query_values("$select"))
    editable = ("name", "description", "properties")
    if selected and "*" not in selected:
        unknown = selected - set(editable)
        if unknown:
            raise InvalidParameter(f"Only name, description and properties of a Machine can be edited, "
                                   f"not {', '.join(sorted(unknown))}", parameter="$select")
        chosen = [a for a in editable if a in selected]
    else:
        chosen = [a for a in editable if a in body]
    name = text(body, "name") if "name" in chosen else None
    if "name" in chosen and not name:
        raise InvalidParameter("A machine's name cannot be empty", parameter="name")
    description = (text(body, "description") or "") if "description" in chosen else None
    if name is not None or description is not None:
        ctx.require("update_instance", "edit machines")
        instance = ctx.driver.update_instance(ctx.scope, machine_id, name=name, description=description)
    if "properties" in chosen:
        ctx.require("set_tags", "keep properties on machines")
        wanted = properties(body) or {}
        current_tags = {k: v for k, v in ctx.driver.tags(ctx.scope, [machine_id]).get(machine_id, {}).items()
                        if k != "Name"}
        removed = {k: None for k in current_tags if k not in wanted}
        if removed:
            ctx.driver.delete_tags(ctx.scope, [machine_id], removed)
        if wanted:
            ctx.driver.set_tags(ctx.scope, "instance", [machine_id], wanted)
        instance = ctx.driver.instance(ctx.scope, machine_id)
    return resource_response(ctx, "Machine", machine_entry(ctx, instance), apply_select=False)


def delete_machine(machine_id: str) -> Response:
    ctx = current()
    ctx.require("destroy_instance", "delete machines")
    instance = ctx.driver.instance(ctx.scope, machine_id)
    if not accepts(instance, "destroy"):
        raise InvalidState(f"A {machine_state(instance)} machine cannot be deleted", resource_id=machine_id)
    ctx.driver.destroy_instance(ctx.scope, machine_id)
    job = jobs.start_job(ctx, "delete", "machine", machine_id, jobs.GONE, target_href=ctx.href("machines", machine_id))
    return resource_response(ctx, "Job", jobs.render_job(ctx, job), 202, jobs.job_headers(ctx, job))


def machine_action(machine_id: str, verb: str | None = None) -> Response:
    """POST an Action to `…/machines/{id}/{verb}` (or to the machine itself, the verb in the body).

    The verb in the URL wins over the body's `action`, which some clients send garbled.
    """
    ctx = current()
    _, body = ctx.body("Action", required=False)
    name = verb.lower() if verb else action_name(text(body, "action"))
    if not name:
        raise MissingParameter("The Action body needs an 'action'", parameter="action")
    if name == "capture":
        raise InvalidParameter("Capture a machine by POSTing a MachineImage whose imageLocation is the machine "
                               f"to {ctx.href('machineImages')}")
    if name not in CIMI_ACTIONS:
        if name in SPEC_ACTIONS:
            raise NotSupported(f"The provider cannot {name} machines")
        raise NotFound("action", name, f"Machines have no action '{echo(name)}'")
    request_stats.name_action("cimi", f"machines.{name}")
    lifecycle_action, capability = CIMI_ACTIONS[name]
    ctx.require(capability, f"{name} machines")
    instance = ctx.driver.instance(ctx.scope, machine_id)
    if not accepts(instance, lifecycle_action):
        raise InvalidState(f"A {machine_state(instance)} machine cannot {name}", resource_id=machine_id,
                           state=instance.state.value)
    force = bool(boolean(body, "force"))
    if name == "start":
        ctx.driver.start_instance(ctx.scope, machine_id)
    elif name == "stop":
        ctx.driver.stop_instance(ctx.scope, machine_id, force=force)
    elif name == "restart":
        ctx.driver.reboot_instance(ctx.scope, machine_id)
    else:
        ctx.driver.suspend_instance(ctx.scope, machine_id)
    job = jobs.start_job(ctx, action_uri(name), "machine", machine_id, EXPECT[name],
                         target_href=ctx.href("machines", machine_id))
    headers = {"Location": jobs.job_href(ctx, job), **jobs.job_headers(ctx, job)}
    return resource_response(ctx, "Job", jobs.render_job(ctx, job), 202, headers)


def install(bp: Blueprint) -> None:
    register_collection("machines", "Machine", list_machines, available=lambda ctx: ctx.driver.can("instances"),
                        can_add=lambda ctx: ctx.driver.can("create_instance"))
    bp.add_url_rule("/machines", "create_machine", create_machine, methods=["POST"])
    bp.add_url_rule("/machines/<machine_id>", "get_machine", get_machine, methods=["GET"])
    bp.add_url_rule("/machines/<machine_id>", "edit_machine", edit_machine, methods=["PUT"])
    bp.add_url_rule("/machines/<machine_id>", "delete_machine", delete_machine, methods=["DELETE"])
    bp.add_url_rule("/machines/<machine_id>", "machine_action_body", machine_action, methods=["POST"])
    bp.add_url_rule("/machines/<machine_id>/<verb>", "machine_action", machine_action, methods=["POST"])
