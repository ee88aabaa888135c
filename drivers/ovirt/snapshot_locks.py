"""Waiting out the engine's snapshot lock, so that no client ever sees it.

The engine takes one lock per VM while it creates or removes any of that VM's snapshots, and refuses
another snapshot request meanwhile (409, "Snapshot is currently being created for VM"). EC2 has no
such lock: it accepts a CreateSnapshot right after a DeleteSnapshot of the same volume (Terraform's
replacement does exactly that). So the driver waits while the VM has a locked snapshot and asks again
when the engine refused because of one. A refusal with no locked snapshot is another matter and is
raised at once; so is a lock that outlasts LOCK_PATIENCE (a stuck engine, said in the message).

The wait is in the request, not a durable operation: CreateSnapshot must answer with the snapshot's
id, which only the engine can give, and the lock is brief (it covers the copy of one snapshot).
"""
from __future__ import annotations

import time
from typing import TYPE_CHECKING, Callable, Literal, TypeVar

from gateway.errors import InvalidState, NotFound
from gateway.scope import Scope

if TYPE_CHECKING:
    from .base import OvirtBase

LOCK_PATIENCE = 45.0  # seconds; below the 60 s read timeout of boto3 and the SDKs
POLL_SECONDS = 0.2
T = TypeVar("T")


def locked(driver: "OvirtBase", scope: Scope, instance_id: str) -> bool:
    """Whether the engine holds a snapshot of the VM locked (being created or removed)."""
    snapshots = driver._call(scope, "GET", f"vms/{instance_id}/snapshots", what=("instance", instance_id))
    if snapshots is None:
        return False
    return any(s.findtext("snapshot_status") == "locked" for s in snapshots.iterfind("snapshot"))


def behind_lock(driver: "OvirtBase", scope: Scope, instance_id: str, request: Callable[[], T],
                patience: float = LOCK_PATIENCE, clock: Callable[[], float] = time.monotonic) -> T:
    """`request()` once the VM's snapshots are unlocked; again if the engine refused it for a lock."""
    deadline = clock() + patience
    while True:
        while locked(driver, scope, instance_id):
            if clock() >= deadline:
                raise InvalidState(f"The engine has kept a snapshot of instance '{instance_id}' locked for "
                                   f"{patience:.0f} s; try again later", resource_id=instance_id)
            time.sleep(POLL_SECONDS)
        try:
            return request()
        except InvalidState:
            if clock() >= deadline or not locked(driver, scope, instance_id):
                raise


def until_removed(driver: "OvirtBase", scope: Scope, instance_id: str, disk_id: str, removing: set[str],
                  patience: float = LOCK_PATIENCE, clock: Callable[[], float] = time.monotonic) -> None:
    """Wait (at most `patience`) while snapshots of the VM whose removal was asked for (`removing`: queued or
    under way, already gone for clients) still hold the disk: the engine detaches no disk a snapshot holds."""
    deadline = clock() + patience
    while removing:
        vm = driver._call(scope, "GET", f"vms/{instance_id}", params={"follow": "snapshots.disks"},
                          what=("instance", instance_id))
        held = vm is not None and any(s.get("id") in removing and any(d.get("id") == disk_id for d in
                                                                       s.iterfind("disks/disk"))
                                      for s in vm.iterfind("snapshots/snapshot"))
        if not held or clock() >= deadline:
            return
        time.sleep(POLL_SECONDS)


def ask_removal(driver: "OvirtBase", scope: Scope, vm_id: str, snapshot_id: str) -> Literal["asked", "gone", "busy"]:
    """Ask the engine to remove the snapshot: `asked` (accepted), `gone` (it has no such snapshot) or `busy`
    (refused for a moment: another snapshot of the VM being made or removed, a copy taken of this one)."""
    try:
        driver._call(scope, "DELETE", f"vms/{vm_id}/snapshots/{snapshot_id}", idempotent=True,
                     what=("snapshot", snapshot_id))
    except NotFound:
        return "gone"
    except InvalidState:
        return "busy"
    return "asked"
