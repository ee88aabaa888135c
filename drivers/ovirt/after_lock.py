"""`ovirt.after_lock`: an action the engine refuses only while a lock lasts, asked once the lock is gone.

The engine locks a VM (`image_locked`), a disk or a template (`locked`) while it copies their images, and
refuses meanwhile what it accepts a moment later: starting the VM or attaching a disk to it ("VM is
locked"), attaching the disk ("The following disks are locked"), removing the disk
("Related operation is currently in progress") or the template ("Template's Image is locked"). Clients
should not have to retry: gateway.engine_states lists these actions as `later`, the driver records them as
this durable operation, and its one step polls the resource until the lock is gone and then asks. Like
every step, it reads the engine first, so a step repeated after a crash does no harm.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lxml.builder import E

from gateway.errors import InvalidState, NotFound
from gateway.operations import Done, Fail, Operation, Outcome, Wait
from gateway.scope import Scope

from . import disk_records
from .operations import STARTED, OvirtOperation

if TYPE_CHECKING:
    from .driver import OvirtDriver

AFTER_LOCK = "ovirt.after_lock"
PATIENCE_SECONDS = 6 * 3600.0  # a copy that takes longer is a stuck engine: the operation fails and says so
# resource kind -> (engine collection, the status that means locked)
LOCKED = {"instance": ("vms", "image_locked"), "volume": ("disks", "locked"), "image": ("templates", "locked")}


def submit(driver: "OvirtDriver", scope: Scope, kind: str, resource_id: str, action: str,
           data: dict[str, Any] | None = None) -> str:
    """Record `action` on the locked resource as a durable operation (joining one already waiting for the
    same action); returns its id."""
    for op in driver.operations.find(kind=AFTER_LOCK, target=resource_id, active_only=True):
        if op.data.get("action") == action and op.data.get("volume_id") == (data or {}).get("volume_id"):
            return op.id
    place = driver._place(scope)
    op = driver.operations.submit(
        AFTER_LOCK, target=resource_id, owner=scope.owner_key, secret=driver._secret(scope),
        data={**driver._scope_data(scope, place), "kind": kind, "resource_id": resource_id, "action": action,
              "since": driver.operations.clock(), **(data or {})})
    return op.id


class AfterLock(OvirtOperation):
    """Wait while the resource is locked, then ask the engine for the action (once)."""

    name = AFTER_LOCK
    steps = ("act",)

    def step_act(self, op: Operation, scope: Scope) -> Outcome:
        kind, resource_id, action = op.data["kind"], op.data["resource_id"], op.data["action"]
        collection, locked = LOCKED[kind]
        try:
            found = self.driver._call(scope, "GET", f"{collection}/{resource_id}", what=(kind, resource_id))
        except NotFound:
            found = None
        if found is None:
            return Done() if action == "delete" else Fail(f"The {kind} no longer exists")
        status = found.findtext("status") or ""
        if status == locked:
            if self.driver.operations.clock() - float(op.data.get("since", 0)) > PATIENCE_SECONDS:
                return Fail(f"The engine kept the {kind} locked for {PATIENCE_SECONDS / 3600:.0f} hours; "
                            "the action was given up")
            return Wait(self.poll)
        try:
            if kind == "instance" and action == "attach":
                return self.attach(scope, resource_id, op.data["volume_id"], op.data.get("device"),
                                   bool(op.data.get("delete", False)))
            if kind == "instance":
                return self.start(scope, resource_id, status)
            if kind == "volume" and self.driver.volume(scope, resource_id).attachments:
                return Fail("The volume was attached to an instance meanwhile; it was not deleted")
            self.driver.delete_unlocked(scope, kind, resource_id)
        except InvalidState as exc:
            if self.relocked(scope, collection, resource_id, locked):
                return Wait(self.poll)  # locked again by the time we asked: wait for that one too
            return Fail(exc.message)
        return Done()

    def attach(self, scope: Scope, vm_id: str, volume_id: str, device: str | None, delete: bool) -> Outcome:
        """Attach once the disk too is free (being created, it is locked as well)."""
        try:
            disk = self.driver._call(scope, "GET", f"disks/{volume_id}", what=("volume", volume_id))
        except NotFound:
            return Fail("The volume no longer exists")
        if disk is not None and disk.findtext("status") == "locked":
            return Wait(self.poll)
        attached = self.driver._call(scope, "GET", f"vms/{vm_id}/diskattachments", what=("instance", vm_id))
        if attached is not None and any(a.get("id") == volume_id for a in attached.iterfind("disk_attachment")):
            place_key = self.driver._place(scope).key
            disk_records.remember_device(self.driver.store, place_key, vm_id, volume_id, device)
            disk_records.remember_termination(self.driver.store, place_key, vm_id, [volume_id], delete)
            return Done()  # a run of this step that did not live to record it attached it
        try:
            self.driver.attach_volume_now(scope, volume_id, vm_id, device, delete_on_termination=delete)
        except InvalidState as exc:
            if exc.state == "locked":  # locked again between our read and the attachment's: wait for that too
                return Wait(self.poll)
            raise
        return Done()

    def start(self, scope: Scope, vm_id: str, status: str) -> Outcome:
        if status in STARTED:
            return Done()  # started meanwhile (by its launch, or by a client)
        try:
            self.driver._call(scope, "POST", f"vms/{vm_id}/start", body=E.action(), idempotent=False,
                              what=("instance", vm_id))
        except InvalidState:
            if self.status(scope, vm_id) in STARTED:  # its launch started it at the same moment
                return Done()
            raise
        return Done()

    def relocked(self, scope: Scope, collection: str, resource_id: str, locked: str) -> bool:
        try:
            found = self.driver._call(scope, "GET", f"{collection}/{resource_id}")
        except NotFound:
            return False
        return found is not None and found.findtext("status") == locked
