"""Instances: list (filters state, realm_id, image_id, id), show, create, and the actions of their links.

Create takes its parameters from the form, the query string (the PyPI client sends them there with an
empty body) or matrix parameters (`/api/instances;image_id=ID`, the image's create_instance link):
image_id, realm_id, hwp_id, hwp_memory, hwp_cpu, hwp_storage, name, keyname, user_data (base64). It
answers 201 with Location. start/stop/reboot answer 202 with the instance, destroy 204, and an action
the engine does not accept in the instance's state 405 (checked with gateway.engine_states before the
engine is asked).
"""
from __future__ import annotations

from flask import Response

from gateway.app import current_gateway
from gateway.errors import InvalidParameter, NotFound
from gateway.model import Instance, InstanceSpec, InstanceState
from gateway.userdata import decode_user_data

from . import context, respond
from .blueprint import bp
from .errors import DeltacloudError
from .hardware_profiles import resolve
from .instance_view import describe
from .states import INSTANCE_ACTIONS, STATE_NAMES, action_allowed, canonical_states, state_name


def visible(instance: Instance) -> bool:
    """A terminated instance is gone for Deltacloud clients (Aeolus reads 404 as 'vanished')."""
    return instance.state != InstanceState.TERMINATED


def find(instance_id: str) -> Instance:
    instance = context.driver().instance(context.scope(), instance_id)
    if not visible(instance):
        raise NotFound("instance", instance_id)
    return instance


@bp.route("/instances", methods=["GET"])
def instances_index() -> Response:
    values = context.params()
    states = None
    if (wanted_state := context.param(values, "state")) is not None:
        states = canonical_states(wanted_state)
        if not states:
            known = ", ".join(sorted(set(STATE_NAMES.values())))
            raise InvalidParameter(f"Unknown instance state '{wanted_state[:50]}' (known: {known})", parameter="state")
    wanted_id = context.param(values, "id")
    instances = context.driver().instances(
        context.scope(), [wanted_id] if wanted_id else None, realm_id=context.param(values, "realm_id"),
        image_id=context.param(values, "image_id"), states=[s.value for s in states] if states else None)
    shown = [i for i in instances if visible(i) and (states is None or i.state in states)]
    return respond.collection("instances", [describe(i) for i in shown])


@bp.route("/instances/<instance_id>", methods=["GET"])
def instance_show(instance_id: str) -> Response:
    return respond.entity(describe(find(instance_id)))


def _user_data(text: str | None) -> bytes | None:
    """Deltacloud's user_data is base64 (Ruby's encode64 wraps lines; whitespace is ignored)."""
    if text is None:
        return None
    return decode_user_data(text, "user_data", line_breaks=True)


@bp.route("/instances", methods=["POST"])
def instance_create() -> Response:
    values = context.params()
    scope = context.scope()
    driver = context.driver()
    image_id = context.required(values, "image_id")
    overrides = {name: context.param(values, f"hwp_{name}") for name in ("memory", "cpu", "storage", "architecture")}
    hwp_id = context.param(values, "hwp_id")
    catalogue = driver.hardware_profiles(scope) if hwp_id or any(overrides.values()) else []
    sizing = resolve(catalogue, hwp_id, overrides)
    keyname = context.param(values, "keyname")
    public_keys = []
    if keyname is not None:
        driver.validate_credentials(scope)  # the store cannot check them: no key name is told to a wrong password
        try:
            public_keys.append(current_gateway().key_pairs.get(scope.owner_key, keyname).public_key)
        except NotFound:
            raise InvalidParameter(f"The key '{keyname[:100]}' does not exist", parameter="keyname") from None
    spec = InstanceSpec(image_id=image_id, realm_id=context.param(values, "realm_id"),
                        hardware_profile_id=sizing.hardware_profile_id, memory_bytes=sizing.memory_bytes,
                        cpus=sizing.cpus, name=context.param(values, "name"),
                        user_data=_user_data(context.param(values, "user_data")),
                        ssh_public_keys=public_keys, key_name=keyname)
    instance = driver.create_instance(scope, spec)
    if instance.key_name is None:
        instance.key_name = keyname
    return respond.created(describe(instance))


def run_action(instance_id: str, action: str) -> Response:
    """Check the state allows `action`, then ask the driver: 202 with the instance, 204 for destroy."""
    driver = context.driver()
    instance = find(instance_id)
    if not action_allowed(instance, action):
        raise DeltacloudError(405, f"The action '{action}' is not allowed while the instance is "
                                   f"{state_name(instance.state)}")
    scope = context.scope()
    if action == "destroy":
        driver.destroy_instance(scope, instance_id)
        return respond.no_content()
    call = {"start": driver.start_instance, "stop": driver.stop_instance, "reboot": driver.reboot_instance}[action]
    result = call(scope, instance_id)
    return respond.entity(describe(result), 202, wrapped=False)


@bp.route("/instances/<instance_id>/<action>", methods=["POST"])
def instance_action(instance_id: str, action: str) -> Response:
    if action not in INSTANCE_ACTIONS:
        raise DeltacloudError(404, f"Instances have no action '{action[:50]}' (they have: {', '.join(INSTANCE_ACTIONS)})")
    return run_action(instance_id, action)


@bp.route("/instances/<instance_id>", methods=["DELETE"])
def instance_destroy(instance_id: str) -> Response:
    return run_action(instance_id, "destroy")
