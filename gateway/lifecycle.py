"""The instance state machine, declared once: which actions each canonical state allows and where they lead.

Each state's actions are those the engine accepts in any of its statuses read as that state (the union of
gateway.engine_states's rows, which frontends read for the actions an instance offers at the moment);
Deltacloud's instance_states shows the machine.
"""
from __future__ import annotations

from dataclasses import dataclass

from .model import InstanceState as S

ACTIONS: dict[S, tuple[str, ...]] = {
    S.PENDING: ("start", "stop", "reboot", "destroy"),
    S.RUNNING: ("stop", "reboot", "suspend", "destroy"),
    S.STOPPING: ("stop", "destroy"),
    S.STOPPED: ("start", "destroy"),
    S.SUSPENDED: ("start", "stop", "destroy"),
    S.PAUSED: ("start", "stop", "destroy"),
    S.ERROR: ("stop", "destroy"),
    S.SHUTTING_DOWN: (),
    S.TERMINATED: (),
}


@dataclass(frozen=True)
class Transition:
    source: S
    target: S
    action: str  # an action name, or "auto" for what the backend does by itself


TRANSITIONS: tuple[Transition, ...] = (
    Transition(S.PENDING, S.RUNNING, "auto"),
    Transition(S.PENDING, S.STOPPED, "auto"),
    Transition(S.PENDING, S.SHUTTING_DOWN, "destroy"),
    Transition(S.PENDING, S.PENDING, "start"),  # disks being copied: it starts once they are
    Transition(S.PENDING, S.STOPPING, "stop"),
    Transition(S.PENDING, S.PENDING, "reboot"),
    Transition(S.RUNNING, S.STOPPING, "stop"),
    Transition(S.RUNNING, S.RUNNING, "reboot"),
    Transition(S.RUNNING, S.SUSPENDED, "suspend"),
    Transition(S.RUNNING, S.SHUTTING_DOWN, "destroy"),
    Transition(S.STOPPING, S.STOPPED, "auto"),
    Transition(S.STOPPING, S.STOPPED, "stop"),
    Transition(S.STOPPING, S.SHUTTING_DOWN, "destroy"),
    Transition(S.STOPPED, S.PENDING, "start"),
    Transition(S.STOPPED, S.SHUTTING_DOWN, "destroy"),
    Transition(S.SUSPENDED, S.PENDING, "start"),
    Transition(S.SUSPENDED, S.STOPPED, "stop"),
    Transition(S.SUSPENDED, S.SHUTTING_DOWN, "destroy"),
    Transition(S.PAUSED, S.RUNNING, "start"),
    Transition(S.PAUSED, S.STOPPED, "stop"),
    Transition(S.PAUSED, S.SHUTTING_DOWN, "destroy"),
    Transition(S.ERROR, S.STOPPED, "stop"),
    Transition(S.ERROR, S.SHUTTING_DOWN, "destroy"),
    Transition(S.SHUTTING_DOWN, S.TERMINATED, "auto"),
)


def allows(state: S, action: str) -> bool:
    """True when `action` is valid in `state`."""
    return action in ACTIONS.get(state, ())
