"""Start, stop, reboot and terminate: every id checked against what the engine accepts before any acts.

Asking for the state an instance is already in (start a running one, stop a stopped one, terminate a
terminated one, reboot one rebooting) succeeds without touching it, as on EC2; an action the engine takes
only once a lock is gone (start while the disks are copied) succeeds and is done then; anything the engine
refuses in the instance's state (gateway.engine_states) is `IncorrectInstanceState`, with AWS's message,
and nothing is done for any of the ids.
"""
from __future__ import annotations

from typing import Any, Callable

from gateway.engine_states import instance_accepts, instance_already
from gateway.model import Instance, InstanceState as S

from .. import ids, inventory
from ..call import Call
from ..errors import Ec2Error
from ..present import state
from . import action

# What EC2 says an instance is in right after the request, when the backend has not moved yet.
HEADING = {"start": S.PENDING, "stop": S.STOPPING, "destroy": S.SHUTTING_DOWN}
DONE_WORDS = {"start": "started", "stop": "stopped", "reboot": "rebooted", "destroy": "terminated"}


def checked(call: Call, verb: str, *, include_terminated: bool = False) -> list[Instance]:
    wanted = inventory.instance_ids(call, required=True) or []
    found = inventory.instances(call, wanted, include_terminated=include_terminated or verb == "destroy")
    for instance in found:
        if not instance_accepts(instance, verb):
            raise Ec2Error("IncorrectInstanceState",
                           f"The instance '{ids.instance_id(instance.id)}' is not in a state from which it can be "
                           f"{DONE_WORDS[verb]}.")
    return found


def nothing_to_do(instance: Instance, verb: str) -> bool:
    return instance_already(instance, verb)


def changes(call: Call, verb: str, found: list[Instance], act: Callable[[Instance], Instance]) -> list[dict[str, Any]]:
    result = []
    for instance in found:
        previous = instance.state
        current = previous if nothing_to_do(instance, verb) else act(instance).state
        if current in (previous, S.RUNNING, S.STOPPED) and not nothing_to_do(instance, verb):
            current = HEADING[verb]
        result.append({"InstanceId": ids.instance_id(instance.id), "CurrentState": state(current),
                       "PreviousState": state(previous)})
    return result


@action("StartInstances", mutating=True)
def start_instances(call: Call) -> dict[str, Any]:
    found = checked(call, "start")
    call.check_dry_run()
    return {"StartingInstances": changes(call, "start", found,
                                         lambda i: call.driver.start_instance(call.scope, i.id))}


def refuse_protected(call: Call, found: list[Instance], record_key: str, attribute: str, done: str) -> None:
    """OperationNotPermitted when an instance's `attribute` (kept in its EC2 record) protects it."""
    records = inventory.records(call, [i.id for i in found])
    protected = [i for i in found if records.get(i.id, {}).get(record_key)]
    if protected:
        raise Ec2Error("OperationNotPermitted",
                       f"The instance '{ids.instance_id(protected[0].id)}' may not be {done}. Modify its "
                       f"'{attribute}' instance attribute and try again.")


@action("StopInstances", mutating=True)
def stop_instances(call: Call) -> dict[str, Any]:
    found = checked(call, "stop")
    refuse_protected(call, found, "disable_api_stop", "disableApiStop", "stopped")
    force = bool(call.get("Force"))
    call.check_dry_run()
    return {"StoppingInstances": changes(call, "stop", found,
                                         lambda i: call.driver.stop_instance(call.scope, i.id, force=force))}


@action("RebootInstances", mutating=True)
def reboot_instances(call: Call) -> dict[str, Any]:
    found = checked(call, "reboot")
    call.check_dry_run()
    for instance in found:
        if not nothing_to_do(instance, "reboot"):
            call.driver.reboot_instance(call.scope, instance.id)
    return {}


@action("TerminateInstances", mutating=True)
def terminate_instances(call: Call) -> dict[str, Any]:
    found = checked(call, "destroy")
    refuse_protected(call, found, "disable_api_termination", "disableApiTermination", "terminated")
    call.check_dry_run()
    return {"TerminatingInstances": changes(call, "destroy", found,
                                            lambda i: call.driver.destroy_instance(call.scope, i.id, current=i))}
