"""Snapshot removal that waits out the engine's snapshot lock as a durable operation instead of refusing.

The engine removes one snapshot of a VM at a time and none while another is being created or removed
(409, "Snapshot is currently being created for VM"), nor one a clone is being copied from. EC2 accepts a
DeleteSnapshot whatever else is under way and the snapshot is gone from then on. So the driver asks the
engine once; refused for a lock, it queues `ovirt.delete_snapshot`, which asks again until the engine
accepts and waits until the snapshot is gone. Either way a tombstone hides the snapshot from every listing
at once, as on EC2.
"""
from __future__ import annotations

from gateway.errors import NotFound
from gateway.operations import Done, Next, Operation, Outcome, Wait
from gateway.scope import Scope

from .operations import OvirtOperation
from .snapshot_locks import ask_removal

DELETE_SNAPSHOT = "ovirt.delete_snapshot"
SNAPSHOT_TOMBSTONE = "snapshot"  # tombstone kind: a snapshot whose removal was asked for


class DeleteSnapshot(OvirtOperation):
    """Ask the engine to remove the snapshot until it accepts, then wait until it no longer lists it."""

    name = DELETE_SNAPSHOT
    steps = ("remove", "wait_until_gone")

    def current(self, scope: Scope, op: Operation) -> tuple[bool, str | None]:
        """(whether the VM still has the snapshot, its status)."""
        try:
            listing = self.driver._call(scope, "GET", f"vms/{op.data['vm_id']}/snapshots",
                                        what=("instance", op.data["vm_id"]))
        except NotFound:
            return False, None
        for snapshot in listing if listing is not None else []:
            if snapshot.get("id") == op.data["snapshot_id"]:
                return True, snapshot.findtext("snapshot_status")
        return False, None

    def step_remove(self, op: Operation, scope: Scope) -> Outcome:
        present, status = self.current(scope, op)
        if not present:
            return Done()
        if status == "locked":
            return Wait(self.poll)  # being copied from, or removed already by a run that did not record it
        asked = ask_removal(self.driver, scope, op.data["vm_id"], op.data["snapshot_id"])
        if asked == "busy":
            return Wait(self.poll)  # the engine is busy with another snapshot of the VM: ask again
        return Done() if asked == "gone" else Next("wait_until_gone", delay=self.poll)

    def step_wait_until_gone(self, op: Operation, scope: Scope) -> Outcome:
        present, status = self.current(scope, op)
        if not present:
            return Done()
        return Wait(self.poll) if status == "locked" else Next("remove")  # the engine gave up: ask again
