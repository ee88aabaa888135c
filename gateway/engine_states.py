"""What each state of the engine's resources means: the model state, and what the engine accepts in it.

One table per resource kind, keyed by the engine's own status word (oVirt's VmStatus, DiskStatus,
TemplateStatus and SnapshotStatus, the only backend so far), read by the driver for the model state and by
all three frontends for what they offer and refuse (CIMI `operations`, Deltacloud action links, EC2's
IncorrectInstanceState), so that no frontend offers what the engine would then refuse.

An action falls in one of three sets of a state:
- `now`: the engine accepts it in this state;
- `later`: the engine refuses it only for a moment (a lock while images are copied); the driver accepts
  it as a durable operation that waits for the lock to go and then asks (CIMI 202 with a Job,
  Deltacloud 202, EC2 success);
- `already`: the engine is doing it already (a reboot while rebooting): accepted, nothing is asked.
Any other action the engine refuses in that state, so the gateway refuses it before asking.

The VM rows follow the engine's blacklist matrix (ActionUtils.java) as the simulator does; `destroy` is
the gateway's durable terminate (stop, wait, remove), accepted in every state the engine lets it finish.
"""
from __future__ import annotations

from dataclasses import dataclass

from .model import Image, Instance, InstanceState as S, ResourceState as R, Snapshot, Volume

# The model's action names: instance (start, stop, reboot, suspend, destroy, capture: an image made of it,
# attach: a volume attached to it), volume (attach, detach, delete), image (launch, delete), snapshot (delete).
INSTANCE_ACTIONS = ("start", "stop", "reboot", "suspend", "destroy", "capture", "attach")


@dataclass(frozen=True)
class EngineState:
    """One engine status: the model state it reads as, and the actions the engine accepts in it."""

    model: S | R
    now: frozenset[str] = frozenset()
    later: frozenset[str] = frozenset()
    already: frozenset[str] = frozenset()

    @property
    def offered(self) -> frozenset[str]:
        """What a frontend advertises: what the engine accepts now or after a lock."""
        return self.now | self.later

    def accepts(self, action: str) -> bool:
        return action in self.now or action in self.later or action in self.already


def _row(model: S | R, now: str = "", later: str = "", already: str = "") -> EngineState:
    return EngineState(model, frozenset(now.split()), frozenset(later.split()), frozenset(already.split()))


# oVirt VmStatus, all 15 values of the API model.
VM: dict[str, EngineState] = {
    "down": _row(S.STOPPED, now="start destroy capture attach", already="stop"),
    "up": _row(S.RUNNING, now="stop reboot suspend destroy attach", already="start"),
    "wait_for_launch": _row(S.PENDING, now="stop destroy", already="start"),
    "powering_up": _row(S.PENDING, now="stop reboot destroy", already="start"),
    "restoring_state": _row(S.PENDING, now="destroy", already="start"),
    # a VM whose disks are being copied (created from a template, or a template made of it): only removal
    # now; a start or a volume's attachment waits for the copy and then is asked
    "image_locked": _row(S.PENDING, now="destroy", later="start attach"),
    "reboot_in_progress": _row(S.RUNNING, now="stop destroy", already="start reboot"),
    "migrating": _row(S.RUNNING, now="stop destroy", already="start"),
    "powering_down": _row(S.STOPPING, now="stop destroy"),
    "saving_state": _row(S.STOPPING, now="destroy", already="suspend"),
    "suspended": _row(S.SUSPENDED, now="start stop destroy", already="suspend"),
    "paused": _row(S.PAUSED, now="start stop destroy attach"),
    "not_responding": _row(S.ERROR, now="stop destroy"),
    "unknown": _row(S.ERROR, now="stop destroy"),
    "unassigned": _row(S.ERROR, now="stop destroy"),
}

# oVirt DiskStatus. A locked disk is being created, copied or extended (or removed: see DELETING below).
DISK: dict[str, EngineState] = {
    "ok": _row(R.AVAILABLE, now="attach detach delete"),
    "locked": _row(R.PENDING, later="attach delete"),
    "illegal": _row(R.ERROR, now="detach delete"),
}

# oVirt TemplateStatus. A locked template is having its disks copied (or removed).
TEMPLATE: dict[str, EngineState] = {
    "ok": _row(R.AVAILABLE, now="launch delete"),
    "locked": _row(R.PENDING, later="delete"),
    "illegal": _row(R.ERROR, now="delete"),
}

# oVirt SnapshotStatus. The engine refuses to remove a snapshot in preview (the VM runs from it).
SNAPSHOT: dict[str, EngineState] = {
    "ok": _row(R.AVAILABLE, now="delete"),
    "locked": _row(R.PENDING, later="delete"),
    "in_preview": _row(R.AVAILABLE),
}

# What a canonical state has done already, for states the gateway gives itself (terminating, a launch that
# is yet to start the VM) or a backend without a table.
CANONICAL_ALREADY = {S.PENDING: "start", S.RUNNING: "start", S.STOPPED: "stop", S.SHUTTING_DOWN: "destroy",
                     S.TERMINATED: "destroy"}

# A driver marks an instance whose launch will start it once its disks are copied (extra[LAUNCHING] = True):
# whatever its engine status, a start is under way.
LAUNCHING = "launching"

# States the gateway gives an instance whatever the engine says: a launch that will start the VM once its disks
# are copied (pending), a termination under way, one done.
GATEWAY_GIVEN = {S.PENDING: _row(S.PENDING, now="destroy", later="attach", already="start"),
                 S.SHUTTING_DOWN: _row(S.SHUTTING_DOWN, already="destroy"),
                 S.TERMINATED: _row(S.TERMINATED, already="destroy")}

NOTHING = EngineState(R.DELETING)
UNKNOWN = _row(R.ERROR, now="delete")  # a status this gateway does not know: removal is all it offers


def instance_state(instance: Instance) -> EngineState:
    """The instance's row: its engine status's, unless the gateway's own work overrides what it reads as
    (terminating, terminated, a launch yet to start it: GATEWAY_GIVEN); for a backend without a table,
    what the canonical state machine allows."""
    row = VM.get(instance.backend_state)
    if row is not None and row.model is instance.state and not instance.extra.get(LAUNCHING):
        return row
    if instance.state in GATEWAY_GIVEN:
        return GATEWAY_GIVEN[instance.state]
    from .lifecycle import ACTIONS  # the canonical machine
    return EngineState(instance.state, now=frozenset(ACTIONS.get(instance.state, ())),
                       already=frozenset(CANONICAL_ALREADY.get(instance.state, "").split()))


def instance_offers(instance: Instance) -> list[str]:
    """The actions a frontend advertises for the instance now, in INSTANCE_ACTIONS order."""
    offered = instance_state(instance).offered
    return [a for a in INSTANCE_ACTIONS if a in offered]


def instance_accepts(instance: Instance, action: str) -> bool:
    return instance_state(instance).accepts(action)


def instance_already(instance: Instance, action: str) -> bool:
    """The engine is doing `action` already (or has done it): nothing to ask."""
    return action in instance_state(instance).already


def resource_state(table: dict[str, EngineState], resource: Volume | Image | Snapshot) -> EngineState:
    """A volume's, image's or snapshot's row; one being removed (DELETING) offers nothing; a volume in use
    can be detached, not attached or deleted."""
    if resource.state is R.DELETING:
        return NOTHING
    row = table.get(resource.backend_state, UNKNOWN)
    if resource.state is R.IN_USE:
        return EngineState(R.IN_USE, now=row.now & {"detach"}, later=row.later & {"detach"})
    return row


def volume_state(volume: Volume) -> EngineState:
    return resource_state(DISK, volume)


def image_state(image: Image) -> EngineState:
    return resource_state(TEMPLATE, image)


def snapshot_state(snapshot: Snapshot) -> EngineState:
    return resource_state(SNAPSHOT, snapshot)


def model_state(table: dict[str, EngineState], status: str | None) -> S | R | None:
    """The model state of an engine status, None for a status the table does not know."""
    row = table.get(status or "")
    return None if row is None else row.model
