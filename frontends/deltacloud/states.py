"""The canonical instance states and actions in Deltacloud's vocabulary, read from gateway.lifecycle (the
state machine) and gateway.engine_states (what the engine accepts in an instance's current state).

Deltacloud 1.x names states PENDING, RUNNING, STOPPING, STOPPED, PAUSED, ERROR, plus `start` (before
creation) and `finish` (gone) in its state machine; SHUTTING_DOWN became STOPPING in 1.0 (Aeolus
relies on that), and the rhevm driver showed oVirt's suspended and paused VMs alike as PAUSED. Its
instance actions are start, stop, reboot and destroy: canonical actions outside that set (suspend)
are not advertised here.
"""
from __future__ import annotations

from dataclasses import dataclass

from gateway.engine_states import instance_offers
from gateway.lifecycle import ACTIONS, TRANSITIONS
from gateway.model import Instance, InstanceState as S

STATE_NAMES: dict[S, str] = {
    S.PENDING: "PENDING",
    S.RUNNING: "RUNNING",
    S.STOPPING: "STOPPING",
    S.SHUTTING_DOWN: "STOPPING",
    S.STOPPED: "STOPPED",
    S.PAUSED: "PAUSED",
    S.SUSPENDED: "PAUSED",
    S.ERROR: "ERROR",
    S.TERMINATED: "FINISH",
}
INSTANCE_ACTIONS = ("start", "stop", "reboot", "destroy")
ACTION_METHODS = {"start": "post", "stop": "post", "reboot": "post", "destroy": "delete"}
INITIAL_STATE = "start"


def state_name(state: S) -> str:
    return STATE_NAMES[state]


def canonical_states(name: str) -> list[S]:
    """Canonical states shown under a Deltacloud state name (case-insensitive); empty if none."""
    wanted = name.strip().upper()
    return [state for state, shown in STATE_NAMES.items() if shown == wanted]


def actions_for(instance: Instance) -> list[str]:
    """Deltacloud actions the engine accepts in the instance's state (gateway.engine_states), in lifecycle
    order."""
    offered = instance_offers(instance)
    return [a for a in INSTANCE_ACTIONS if a in offered]


def action_allowed(instance: Instance, action: str) -> bool:
    """Only what the links offer: a Deltacloud client is refused (405) what its links do not show."""
    return action in actions_for(instance)


@dataclass(frozen=True)
class MachineTransition:
    to: str
    action: str | None  # None: the backend moves by itself (auto)


def machine() -> list[tuple[str, list[MachineTransition]]]:
    """The state machine as Deltacloud shows it: [(state name, transitions)], lower-case names.

    `start -> pending` on create is Deltacloud's own entry edge (creation is the collection's POST).
    """
    states: dict[str, list[MachineTransition]] = {INITIAL_STATE: [MachineTransition("pending", "create")]}
    for canonical in ACTIONS:
        states.setdefault(state_name(canonical).lower(), [])
    for transition in TRANSITIONS:
        if transition.action != "auto" and transition.action not in INSTANCE_ACTIONS:
            continue
        source, target = state_name(transition.source).lower(), state_name(transition.target).lower()
        edge = MachineTransition(target, None if transition.action == "auto" else transition.action)
        if edge not in states[source] and not (edge.action is None and target == source):
            states[source].append(edge)
    return list(states.items())
