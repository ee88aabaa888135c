"""Machine states and operations in CIMI's vocabulary, derived from the canonical model.

States come only from CIMI's MachineState list (clients such as Sirocco's parse them with an enum);
the engine's own status refines `pending` into CREATING (disks still being copied) or STARTING, and
`stopping` into SUSPENDING while the memory is being saved. Operations are what gateway.lifecycle
allows in the current state, narrowed to what the driver can do.
"""
from __future__ import annotations

from gateway.driver import Driver
from gateway.lifecycle import ACTIONS
from gateway.model import Instance, InstanceState, ResourceState

from .schema import ACTION_PREFIX

MACHINE_STATES = ("CREATING", "STARTING", "STARTED", "STOPPING", "STOPPED", "SUSPENDING", "SUSPENDED",
                  "PAUSED", "CAPTURING", "DELETING", "ERROR")

_CANONICAL = {
    InstanceState.PENDING: "STARTING",
    InstanceState.RUNNING: "STARTED",
    InstanceState.STOPPING: "STOPPING",
    InstanceState.STOPPED: "STOPPED",
    InstanceState.SHUTTING_DOWN: "DELETING",
    InstanceState.TERMINATED: "DELETING",
    InstanceState.PAUSED: "PAUSED",
    InstanceState.SUSPENDED: "SUSPENDED",
    InstanceState.ERROR: "ERROR",
}
_CREATING_STATUSES = ("image_locked", "creating")
_SUSPENDING_STATUSES = ("saving_state",)

# lifecycle action -> (CIMI action name, driver capability)
_ACTIONS = {
    "start": ("start", "start_instance"),
    "stop": ("stop", "stop_instance"),
    "reboot": ("restart", "reboot_instance"),
    "suspend": ("suspend", "suspend_instance"),
}
CIMI_ACTIONS = {cimi: (lifecycle, capability) for lifecycle, (cimi, capability) in _ACTIONS.items()}


def machine_state(instance: Instance) -> str:
    status = (instance.backend_state or "").lower()
    if instance.extra.get("capturing") and status == "image_locked":  # its disks are being copied to an image
        return "CAPTURING"
    if instance.state == InstanceState.PENDING and status in _CREATING_STATUSES:
        return "CREATING"
    if instance.state == InstanceState.STOPPING and status in _SUSPENDING_STATUSES:
        return "SUSPENDING"
    return _CANONICAL[instance.state]


def machine_actions(instance: Instance, driver: Driver) -> list[str]:
    """CIMI action names valid now: start, stop, restart, suspend (in the lifecycle's order)."""
    names = []
    for action in ACTIONS.get(instance.state, ()):
        if action in _ACTIONS and driver.can(_ACTIONS[action][1]):
            names.append(_ACTIONS[action][0])
    return names


def can_delete(instance: Instance, driver: Driver) -> bool:
    return "destroy" in ACTIONS.get(instance.state, ()) and driver.can("destroy_instance")


def can_capture(instance: Instance, driver: Driver) -> bool:
    """oVirt makes a template only from a VM that is down."""
    return instance.state == InstanceState.STOPPED and driver.can("create_image")


def action_uri(name: str) -> str:
    return ACTION_PREFIX + name


def action_name(uri: str | None) -> str:
    """The verb of an Action's URI, tolerating the garbled URIs some clients send."""
    return (uri or "").strip().rstrip("/").rsplit("/", 1)[-1].strip().lower()


_RESOURCE_STATES = {ResourceState.PENDING: "CREATING", ResourceState.AVAILABLE: "AVAILABLE",
                 ResourceState.IN_USE: "AVAILABLE", ResourceState.DELETING: "DELETING",
                 ResourceState.ERROR: "ERROR"}


def resource_state(state: ResourceState) -> str:
    """A MachineImage's or Volume's state: CIMI has one vocabulary for both."""
    return _RESOURCE_STATES[state]
