"""`ovirt.image`: an image (template) made from an instance, as EC2's CreateImage makes one, or from a
snapshot of one (RegisterImage: the engine's template from a VM snapshot, which leaves the VM as it is).

The engine copies a template only from a VM that is down (AddVmTemplate refuses any other status), copies
every image disk the VM has (the request's disk attachments only change how a disk is copied, never
whether), and locks the VM (`image_locked`) and the template (`locked`) while it copies. So, as AWS does
unless NoReboot: the instance is shut down, the template is made, and the instance is started again if it
ran before. A template of only some of the disks (volumes the client left out, or NoReboot on a running
instance) is copied from a snapshot of those disks taken for it (the engine's template from a snapshot),
which is removed afterwards: the disks left out stay attached all along, in use, under their device names.

Every step reads the engine before acting and is safe to repeat after a crash: the template carries the
operation's id in its comment (found again by a search), so does the snapshot (its description), the start
is asked only of a VM that is down. A step that cannot go on (the name was taken meanwhile, the copy failed)
still restores the instance: the error is kept and the operation fails at the end, after `start`.

Gateways before this one detached the disks left out for the copy (step `set_aside`, data `aside`): an
operation recorded by one is finished by putting those disks back (`step_set_aside`, `step_restore`).
"""
from __future__ import annotations

from lxml.builder import E

from gateway.errors import GatewayError, InvalidState, NotFound
from gateway.operations import Done, Fail, Next, Operation, Outcome, Wait
from gateway.scope import Scope

from .base import Element, search_value
from .operations import SETTLING, STARTED, OvirtOperation

CAPTURE = "ovirt.image"
CAPTURE_MARK = "cloudgw-image-"  # + the operation's id: the template's comment, how a repeated step finds it
SHUTDOWN_PATIENCE = 30  # polls to wait for a guest to shut down before the VM is powered off


def capture_mark(operation_id: str) -> str:
    return CAPTURE_MARK + operation_id


class CaptureImage(OvirtOperation):
    """Shut down, copy the template (from a snapshot of the disks it holds when some are left out), remove
    that snapshot, start again."""

    name = CAPTURE
    steps = ("stop", "wait_for_down", "snapshot", "copy", "wait_for_copy", "restore", "start")

    @staticmethod
    def after_down(op: Operation) -> str:
        """The step after the shutdown: a snapshot first when the image leaves volumes out."""
        return "snapshot" if op.data.get("exclude") else "copy"

    def step_stop(self, op: Operation, scope: Scope) -> Outcome:
        if op.data.get("snapshot_id"):  # copied from a snapshot: the VM goes on as it is
            return Next("copy")
        status = self.status(scope, op.data["vm_id"])
        if status is None:
            return Fail("The instance was removed before its image could be made")
        if status == "down":
            return Next(self.after_down(op))
        if status in SETTLING or status == "image_locked":
            return Wait(self.poll)
        if op.data.get("no_reboot"):  # copied from a snapshot taken while it runs
            return Next("snapshot")
        if status == "powering_down":  # stopping already when asked: it stays stopped
            return Next("wait_for_down", data={"polls": 0})
        if not op.data.get("was_running"):  # recorded before the shutdown: a crash never forgets the restart
            return Wait(0.0, data={"was_running": True})
        if not self.ask(scope, op.data["vm_id"], "shutdown"):
            return Wait(self.poll)
        return Next("wait_for_down", data={"polls": 0}, delay=self.poll)

    def step_wait_for_down(self, op: Operation, scope: Scope) -> Outcome:
        def power_off() -> Outcome:  # the guest ignores the shutdown
            self.ask(scope, op.data["vm_id"], "stop")
            return Wait(self.poll, data={"polls": 0})
        return self.await_down(op, scope, gone=Fail("The instance was removed before its image could be made"),
                               down=Next(self.after_down(op)), patience=SHUTDOWN_PATIENCE, settling=SETTLING,
                               impatient=power_off)

    def step_snapshot(self, op: Operation, scope: Scope) -> Outcome:
        """A snapshot of the disks the image holds (found again by its description), copied into the template
        and removed afterwards: NoReboot on a running instance (crash-consistent, as on AWS), or volumes left
        out of the image (the engine's snapshot names the disks it takes; the others are not even locked)."""
        vm_id = op.data["vm_id"]
        vm = self.vm(scope, vm_id, follow="disk_attachments,snapshots")
        if vm is None:
            return Fail("The instance was removed before its image could be made")
        mark = capture_mark(op.id)
        mine = next((s for s in vm.iterfind("snapshots/snapshot") if s.findtext("description") == mark), None)
        if mine is not None:
            if mine.findtext("snapshot_status") != "ok":
                return Wait(self.poll)
            return Next("copy", data={"snapshot_id": mine.get("id", ""), "own_snapshot": True})
        left_out = set(op.data.get("exclude") or [])
        disks = [a.get("id", "") for a in vm.iterfind("disk_attachments/disk_attachment") if a.get("id") not in left_out]
        body = E.snapshot(E.description(mark), E.persist_memorystate("false"),
                          E.disk_attachments(*(E.disk_attachment(E.disk(id=d)) for d in disks)))
        try:
            self.driver._call(scope, "POST", f"vms/{vm_id}/snapshots", body=body, idempotent=False,
                              what=("instance", vm_id))
        except InvalidState:
            pass  # another snapshot of the VM is being taken or removed: a moment
        return Wait(self.poll)

    def made(self, scope: Scope, op: Operation) -> Element | None:
        """The template this operation made, found by its comment; None if the engine made none yet."""
        found = self.driver._get(scope, "templates", {"search": f"comment={search_value(capture_mark(op.id))}"})
        return next(iter(found), None)

    def step_copy(self, op: Operation, scope: Scope) -> Outcome:
        vm_id = op.data["vm_id"]
        template = self.made(scope, op)
        if template is not None:
            return self.copying(op, scope, template.get("id", ""))
        taken = self.driver._get(scope, "templates", {
            "search": f"name={search_value(op.data['engine_name'])} and datacenter={search_value(op.data['dc_name'])}"})
        if len(taken):
            return Next("restore", data={"error": f"The image name '{op.data['name']}' is already in use",
                                         "duplicate": True})
        source = E.vm(id=vm_id)
        if op.data.get("snapshot_id"):
            source.append(E.snapshots(E.snapshot(id=op.data["snapshot_id"])))
        body = E.template(E.name(op.data["engine_name"]), E.description(op.data.get("description") or ""),
                          E.comment(capture_mark(op.id)), source)
        try:
            created = self.driver._call(scope, "POST", "templates", body=body, idempotent=False,
                                        what=("instance", vm_id))
        except NotFound:
            return Next("restore", data={"error": "The instance or snapshot was removed before the image was made"})
        except InvalidState:
            if op.data.get("snapshot_id"):
                return Wait(self.poll)  # the snapshot is being taken or removed: a moment
            status = self.status(scope, vm_id)
            if status not in (None, "down", "image_locked"):
                return Next("stop")  # started again meanwhile
            return Wait(self.poll)  # a snapshot of the VM is being taken or removed: a moment
        except GatewayError as exc:
            if exc.retryable:
                raise
            return Next("restore", data={"error": exc.message})
        if created is None:
            found = self.made(scope, op)
            if found is None:
                return Wait(self.poll)
            created = found
        return self.copying(op, scope, created.get("id", ""))

    def copying(self, op: Operation, scope: Scope, template_id: str) -> Outcome:
        """The template exists: keep what the engine cannot hold about it, then wait for the copy."""
        owner = scope.provider.name
        if op.data.get("tags"):
            self.driver.store.set_tags(owner, "image", [template_id], op.data["tags"])
        record = {"id": template_id, "owner": scope.credentials.username}
        if op.data["name"] != op.data["engine_name"]:
            record["name"] = op.data["name"]
        self.driver.store.put_entity(IMAGE_RECORDS, owner, template_id, record)
        return Next("wait_for_copy", data={"template_id": template_id}, target=template_id)

    def step_wait_for_copy(self, op: Operation, scope: Scope) -> Outcome:
        template_id = op.data["template_id"]
        try:
            template = self.driver._get(scope, f"templates/{template_id}", {"follow": "disk_attachments"},
                                        what=("image", template_id))
        except NotFound:
            return Next("restore", data={"error": "The engine removed the image while copying its disks"})
        status = template.findtext("status")
        if status == "locked":
            return Wait(self.poll)
        if status != "ok":
            return Next("restore", data={"error": f"The engine could not copy the image's disks ({status})"})
        if op.data.get("snapshot_tags"):
            disks = [a.get("id", "") for a in template.iterfind("disk_attachments/disk_attachment")]
            if disks:
                self.driver.store.set_tags(scope.provider.name, "snapshot", disks, op.data["snapshot_tags"])
        return Next("restore")

    def step_restore(self, op: Operation, scope: Scope) -> Outcome:
        """Remove the snapshot taken for the copy (and put back disks an older gateway set aside)."""
        vm_id = op.data["vm_id"]
        if op.data.get("own_snapshot"):
            snapshot_id = op.data["snapshot_id"]
            try:
                self.driver._call(scope, "DELETE", f"vms/{vm_id}/snapshots/{snapshot_id}", idempotent=True,
                                  what=("snapshot", snapshot_id))
            except NotFound:
                pass
            except InvalidState:
                return Wait(self.poll)  # still locked by the copy
            return Next("restore", data={"own_snapshot": False})
        return self.give_back(op, scope) or Next("start")

    def step_set_aside(self, op: Operation, scope: Scope) -> Outcome:
        """Recorded by an older gateway, which detached the disks left out here: put back any it detached, then
        go on as this one does (a snapshot of the disks the image holds)."""
        return self.give_back(op, scope) or Next(self.after_down(op), data={"aside": {}})

    def give_back(self, op: Operation, scope: Scope) -> Outcome | None:
        """Attach again, as they were, disks an older gateway detached for the copy (data `aside`); None once
        none is missing (or the VM is gone), else the outcome to wait with."""
        aside = op.data.get("aside") or {}
        if not aside:
            return None
        vm = self.vm(scope, op.data["vm_id"], follow="disk_attachments")
        if vm is None:
            return None
        attached = {a.get("id") for a in vm.iterfind("disk_attachments/disk_attachment")}
        for disk_id, how in aside.items():
            if disk_id in attached:
                continue
            body = E.disk_attachment(E.bootable("true" if how["bootable"] else "false"), E.interface(how["interface"]),
                                     E.active("true" if how["active"] else "false"), E.disk(id=disk_id))
            try:
                self.driver._call(scope, "POST", f"vms/{op.data['vm_id']}/diskattachments", body=body,
                                  idempotent=False, what=("instance", op.data["vm_id"]))
            except NotFound:
                continue  # the disk was removed meanwhile: nothing to give back
            except InvalidState as exc:  # locked a moment, or attached elsewhere meanwhile: not for ever
                polls = int(op.data.get("give_back_polls", 0)) + 1
                if polls < SHUTDOWN_PATIENCE:
                    return Wait(self.poll, data={"give_back_polls": polls})
                error = op.data.get("error") or f"The volume '{disk_id}' could not be attached again: {exc.message}"
                return Next(op.step, data={"aside": {}, "error": error})
        return None

    def step_start(self, op: Operation, scope: Scope) -> Outcome:
        if not op.data.get("was_running"):
            return self.end(op)
        vm_id = op.data["vm_id"]
        status = self.status(scope, vm_id)
        if status is None or status in STARTED:
            return self.end(op)
        if status != "down":
            return Wait(self.poll)
        if not self.ask(scope, vm_id, "start"):
            return Wait(self.poll)
        return self.end(op)

    @staticmethod
    def end(op: Operation) -> Outcome:
        return Fail(op.data["error"]) if op.data.get("error") else Done()


# Store entity kind: what oVirt cannot hold about an image the gateway made: who made it, and the name a client
# gave it when oVirt's name rule refuses that name.
IMAGE_RECORDS = "ovirt.image"


def template_name_for(requested: str, operation_id: str) -> str:
    """The engine's name for an image: the requested one where oVirt's name rule allows it, else one made
    from it (the requested name is kept in the store and shown)."""
    if engine_name_ok(requested):
        return requested
    cleaned = "".join(c if c.isascii() and (c.isalnum() or c in "._-") else "-" for c in requested)[:40]
    return f"{cleaned.strip('-') or 'image'}-{operation_id[:8]}"


def engine_name_ok(name: str) -> bool:
    """oVirt's name rule: ASCII letters, digits, '.', '_' and '-'."""
    return bool(name) and len(name) <= 64 and all(c.isascii() and (c.isalnum() or c in "._-") for c in name)

