"""Machine states and operations in CIMI's vocabulary, derived from the canonical model.

States come from CIMI's MachineState list; the engine's own status refines `pending` into CREATING
(disks still being copied from the image) or CAPTURING (an image being made of the machine: the engine
locks the VM while it copies its disks into the new template) or STARTING, and `stopping` into
SUSPENDING while the memory is being saved. Operations are those the engine accepts in its current status
(gateway.engine_states: at once, or as a durable operation once a lock is gone), narrowed to what the
driver can do.
"""
from __future__ import annotations

from gateway.driver import Driver
from gateway.engine_states import instance_offers
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
    if instance.state == InstanceState.PENDING and status in _CREATING_STATUSES:
        return "CAPTURING" if instance.extra.get("image_lock") == "capture" else "CREATING"
    if instance.state == InstanceState.STOPPING and status in _SUSPENDING_STATUSES:
        return "SUSPENDING"
    return _CANONICAL[instance.state]


def machine_actions(instance: Instance, driver: Driver) -> list[str]:
    """CIMI action names the engine accepts now: start, stop, restart, suspend (in the lifecycle's order)."""
    offered = instance_offers(instance)
    return [_ACTIONS[a][0] for a in offered if a in _ACTIONS and driver.can(_ACTIONS[a][1])]


def can_delete(instance: Instance, driver: Driver) -> bool:
    return "destroy" in instance_offers(instance) and driver.can("destroy_instance")


def can_capture(instance: Instance, driver: Driver) -> bool:
    """oVirt makes a template only from a VM that is down."""
    return "capture" in instance_offers(instance) and driver.can("create_image")


def accepts(instance: Instance, action: str) -> bool:
    """Whether the engine takes `action` (a lifecycle name) in the instance's state, now or once a lock is
    gone: only what the machine's operations offer."""
    return action in instance_offers(instance)


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
