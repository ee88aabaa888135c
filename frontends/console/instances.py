"""Instances: the list (filtered by name, tag and state; states polled live), launch, and power actions.

Every call is the Driver's, with the signed-in user's scope: the same path as the APIs' requests. The
actions offered are those the engine accepts in the instance's state (gateway.engine_states).
"""
from __future__ import annotations

from typing import Any

from flask import flash, g, jsonify, redirect, render_template, request, url_for

from gateway.app import current_gateway
from gateway.engine_states import instance_accepts, instance_offers
from gateway.errors import InvalidParameter, InvalidState, NotFound
from gateway.model import Instance, InstanceSpec, InstanceState
from gateway.userdata import check_user_data_size

from .blueprint import bp
from .forms import field, tags_text

# The console's name for each driver call on an instance, in the order the buttons appear.
ACTIONS = {"start": "start", "stop": "stop", "reboot": "reboot", "terminate": "destroy"}
STATES = [s.value for s in InstanceState if s is not InstanceState.TERMINATED]
SETTLED = {InstanceState.RUNNING, InstanceState.STOPPED, InstanceState.ERROR, InstanceState.PAUSED,
           InstanceState.SUSPENDED, InstanceState.TERMINATED}


def actions_of(instance: Instance) -> list[str]:
    offered = set(instance_offers(instance))
    return [name for name, call in ACTIONS.items() if call in offered]


def _driver_and_scope() -> tuple[Any, Any]:
    scope = g.user.scope()
    return current_gateway().driver_for(scope.provider), scope


def matches(instance: Instance, name: str | None, tag: str | None, state: str | None) -> bool:
    """The list's filters: name (a part of it, any case), tag (`key` or `key=value`), state (exact)."""
    if instance.state is InstanceState.TERMINATED:
        return False
    if name and name.lower() not in instance.name.lower():
        return False
    if state and instance.state.value != state:
        return False
    if tag:
        key, has_value, value = tag.partition("=")
        if key.strip() not in instance.tags or (has_value and instance.tags[key.strip()] != value.strip()):
            return False
    return True


@bp.get("/instances")
def instances_page() -> Any:
    driver, scope = _driver_and_scope()
    wanted = {k: (request.args.get(k) or "").strip()[:200] or None for k in ("name", "tag", "state")}
    if wanted["state"] and wanted["state"] not in STATES:
        raise InvalidParameter(f"Unknown state '{wanted['state'][:50]}' (known: {', '.join(STATES)})")
    shown = [i for i in driver.instances(scope) if matches(i, **wanted)]
    realms = {r.id: r.name for r in driver.realms(scope)}
    profiles = {p.id: p.name for p in driver.hardware_profiles(scope)} if shown else {}
    return render_template("instances.html", instances=shown, wanted=wanted, states=STATES, realms=realms,
                           profiles=profiles, actions_of=actions_of, settled=SETTLED)


@bp.get("/instances/states")
def instance_states() -> Any:
    """What the page's script polls: each listed instance's state and the actions it now offers."""
    ids = [i for i in request.args.getlist("id") if i][:200]
    driver, scope = _driver_and_scope()
    found = {i.id: i for i in driver.instances(scope, ids)} if ids else {}
    answer = {}
    for instance_id in ids:
        instance = found.get(instance_id)
        if instance is None:
            answer[instance_id] = {"state": "terminated", "settled": True, "actions": ""}
            continue
        answer[instance_id] = {
            "state": instance.state.value, "settled": instance.state in SETTLED,
            "actions": render_template("instance_actions.html", instance=instance, actions=actions_of(instance))}
    return jsonify(answer)


@bp.post("/instances/<instance_id>/<action>")
def instance_action(instance_id: str, action: str) -> Any:
    if action not in ACTIONS:
        raise NotFound("action", action[:50])
    driver, scope = _driver_and_scope()
    instance = driver.instance(scope, instance_id)
    if not instance_accepts(instance, ACTIONS[action]):
        raise InvalidState(f"The instance {instance.name} cannot {action} while it is {instance.state.value}.",
                           resource_id=instance_id, state=instance.state.value)
    call = {"start": driver.start_instance, "stop": driver.stop_instance, "reboot": driver.reboot_instance,
            "terminate": driver.destroy_instance}[action]
    call(scope, instance_id)
    flash(f"Asked the engine to {action} {instance.name}.")
    return redirect(url_for("console.instances_page"))


@bp.get("/launch")
def launch_form() -> Any:
    driver, scope = _driver_and_scope()
    keys = current_gateway().key_pairs.list(scope.owner_key)
    return render_template("launch.html", images=driver.images(scope), profiles=driver.hardware_profiles(scope),
                           realms=driver.realms(scope), keys=keys)


@bp.post("/launch")
def launch() -> Any:
    driver, scope = _driver_and_scope()
    image_id = field("image_id", required=True, label="image")
    key_name = field("key_name", label="key pair")
    public_keys = []
    if key_name:
        try:
            public_keys.append(current_gateway().key_pairs.get(scope.owner_key, key_name).public_key)
        except NotFound:
            raise InvalidParameter(f"There is no key pair '{key_name[:100]}'.", parameter="key_name") from None
    user_data = field("user_data", label="user data", limit=16 * 1024)
    spec = InstanceSpec(
        image_id=image_id or "", realm_id=field("realm_id", label="zone"),
        hardware_profile_id=field("hardware_profile_id", label="instance type"),
        name=field("name", limit=200), tags=tags_text(field("tags", limit=8192)),
        user_data=check_user_data_size(user_data.encode(), "user data") if user_data else None,
        ssh_public_keys=public_keys, key_name=key_name)
    instance = driver.create_instance(scope, spec)
    flash(f"Launching {instance.name} ({instance.id}).")
    return redirect(url_for("console.instances_page"))
