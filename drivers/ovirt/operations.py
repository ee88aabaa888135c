"""Durable operations the oVirt driver runs: `ovirt.run` and `ovirt.terminate`.

Each step first reads the VM's state from the engine and acts only if the action is still needed, so a
step repeated after a crash (the runner's lease expired) does no harm. The scope is rebuilt from the
operation: the provider by name (it must still be configured: the allow-list holds for operations
too), the credentials from the operation's encrypted secret.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Callable

from lxml.builder import E

from gateway.errors import GatewayError, InvalidState, NotFound, ProviderRefused
from gateway.model import LAUNCH_ERROR, Instance, InstanceState, VolumeAttachment, from_json, to_json
from gateway.operations import Done, Fail, Next, Operation, Outcome, Wait
from gateway.scope import Credentials, Scope

from . import (device_names, disk_records, launch_failures, launch_snapshots, launch_volumes, mapping, root_disk,
               snapshot_locks)
from .base import INSTANCE_META, Element
from .mapping import timestamp_of

if TYPE_CHECKING:
    from .driver import OvirtDriver

# VM statuses from which a stop would be refused but that end by themselves: wait them out.
SETTLING = {"image_locked", "saving_state", "restoring_state", "wait_for_launch"}
STOP_PATIENCE = 5  # polls to wait for a stopped VM to leave `up` before stopping it again
STARTED = {"wait_for_launch", "powering_up", "up", "reboot_in_progress", "migrating", "restoring_state"}


class OvirtOperation:
    """Shared by the kinds: the driver, the scope of an operation, the VM's current status."""

    name = ""
    steps: tuple[str, ...] = ()

    def __init__(self, driver: "OvirtDriver") -> None:
        self.driver = driver

    @property
    def poll(self) -> float:
        return self.driver.operations.poll_seconds

    def scope(self, op: Operation) -> Scope:
        provider = next((p for p in self.driver.config.providers if p.name == op.data["provider"]), None)
        if provider is None:
            raise ProviderRefused(f"The provider '{op.data['provider']}' is no longer configured")
        secret = op.secret or {}
        return Scope(provider=provider, datacenter=op.data.get("datacenter"),
                     credentials=Credentials(secret.get("username", ""), secret.get("password", "")),
                     user_level=bool(op.data.get("user_level")), request_id=op.data.get("request_id", ""))

    def vm(self, scope: Scope, vm_id: str, follow: str | None = None) -> Element | None:
        """The VM as the engine has it now, None once it no longer has it."""
        try:
            return self.driver._call(scope, "GET", f"vms/{vm_id}", params={"follow": follow} if follow else None,
                                     what=("instance", vm_id))
        except NotFound:
            return None

    def status(self, scope: Scope, vm_id: str) -> str | None:
        """The VM's status, None once the engine no longer has it."""
        vm = self.vm(scope, vm_id)
        return None if vm is None else vm.findtext("status") or "unknown"

    def ask(self, scope: Scope, vm_id: str, action: str) -> bool:
        """Ask the engine for a power action on the VM (`shutdown`, `stop`); False when it refused it for the
        VM's status of the moment (the caller looks again)."""
        try:
            self.driver._call(scope, "POST", f"vms/{vm_id}/{action}", body=E.action(), idempotent=False,
                              what=("instance", vm_id))
        except InvalidState:
            return False
        return True

    def await_down(self, op: Operation, scope: Scope, *, gone: Outcome, down: Outcome, patience: int,
                   settling: set[str], impatient: Callable[[], Outcome]) -> Outcome:
        """A `wait_for_down` step: `gone` once the engine no longer has the VM, `down` once it is down; polls
        (counted in the data) while it is `settling` or for `patience` polls, then `impatient()`."""
        status = self.status(scope, op.data["vm_id"])
        if status is None:
            return gone
        if status == "down":
            return down
        polls = int(op.data.get("polls", 0)) + 1
        if status in settling or polls < patience:
            return Wait(self.poll, data={"polls": polls})
        return impatient()

    def run_step(self, op: Operation) -> Outcome:
        """Run the operation's current step; one this gateway does not know (recorded by another version)
        fails the operation at once, in words, rather than raising on every attempt."""
        step = getattr(self, f"step_{op.step}", None)
        if step is None:
            return Fail(f"The step '{op.step}' of {self.name} is unknown to this version of the gateway")
        try:
            scope = self.scope(op)
        except ProviderRefused as exc:
            return Fail(exc.message)
        return step(op, scope)


class RunInstance(OvirtOperation):
    """Create the VM, wait while its disks are copied, then start it (cloud-init) unless it should stay stopped.

    `create` runs in the request that launches the instance (the operation is held by its process); a
    worker runs it only when that process died holding it: it then adopts the VM the engine made for this
    launch (found by the comment naming the operation) and carries on, or fails the launch cleanly when
    the engine never made one. A launch whose request failed without the engine's answer (a timeout) comes
    here with `remove`: the VM the engine may have made is found and removed.

    The disks are learned here, as soon as the engine lists them (it does from the start, locked while
    copied): the volume tags the client asked for are put on them, their device names and creation time
    (the VM's) are kept. The operation is durable, so tags asked for before the disks existed are never
    lost. Then, before the first start, the launch's block device mappings (launch_volumes): the image's
    disks left out are removed, new volumes are made and attached, volumes from snapshots are copied and
    attached (launch_snapshots), the boot disk is grown (root_disk).
    """

    name = "ovirt.run"
    steps = ("create", "wait_for_disks", "drop_devices", "add_volumes", "snapshot_volumes", "grow_root", "start")

    def run_step(self, op: Operation) -> Outcome:
        """A step after `create` that fails for good (refused, or still failing at its last attempt) terminates
        the VM the launch made (launch_failures)."""
        try:
            outcome = super().run_step(op)
        except GatewayError as exc:
            last_attempt = op.attempts + 1 >= self.driver.operations.max_attempts
            if op.step == "create" or (exc.retryable and not last_attempt):
                raise
            outcome = Fail(exc.message)
        if isinstance(outcome, Fail) and op.step != "create":
            launch_failures.terminate(self, op, outcome.message)
        return outcome

    def step_create(self, op: Operation, scope: Scope) -> Outcome:
        vm = self.driver.launched_vm(scope, op.id)
        if op.data.get("remove"):  # the launch was answered as failed: its VM must not stay
            if vm is None:
                return Fail("The engine did not answer in time and made no instance")
            try:
                self.driver.remove_vm(scope, vm.get("id", ""))
            except InvalidState:
                return Wait(self.poll)  # still locked while its disks are copied
            return Fail("The engine did not answer in time; the instance it made was removed")
        if vm is None:
            return Fail("The gateway stopped before the engine created the instance")
        vm_id = vm.get("id", "")
        self.driver.remember_created(scope, vm_id, vm.findtext("name") or "", op.data.get("tags") or {},
                                     op.data.get("desired"), op.data.get("key_name"))
        return Next("wait_for_disks", data={"vm_id": vm_id}, target=vm_id)

    def step_wait_for_disks(self, op: Operation, scope: Scope) -> Outcome:
        vm = self.vm(scope, op.data["vm_id"], follow=None if op.data.get("disks_known") else "disk_attachments")
        if vm is None:
            return Fail("The instance was removed before it could start")
        status = vm.findtext("status") or "unknown"
        learned: dict[str, object] = {}
        if not op.data.get("disks_known"):
            disks = [mapping.attachment(a, op.data["vm_id"]) for a in vm.iterfind("disk_attachments/disk_attachment")]
            if disks or status != "image_locked":
                learned = {"disks_known": True, "drop_ids": self.learn_disks(op, scope, vm, disks)}
        if status == "image_locked":
            return Wait(self.poll, data=learned)
        return launch_volumes.following(op.data, "wait_for_disks", learned)

    def learn_disks(self, op: Operation, scope: Scope, vm: Element, disks: list[VolumeAttachment]) -> list[str]:
        """Name the new VM's disks as its image does (names kept from now on, so leaving one out renames no
        other), tag them, choose their fate at termination (deleted, as EC2 does the volumes a launch makes,
        but the root as the client asked) and date them; safe to repeat: each only sets what is already set.
        Returns the ids of the disks the client left out (NoDevice)."""
        if not disks:
            return []
        store, place, vm_id = self.driver.store, op.data["place"], op.data["vm_id"]
        device_names.name_all(disks)
        disk_ids = [d.volume_id for d in disks]
        for disk in disks:
            disk_records.remember_device(store, place, vm_id, disk.volume_id, disk.device)
        if op.data.get("volume_tags"):
            store.set_tags(scope.provider.name, "volume", disk_ids, op.data["volume_tags"])
        disk_records.remember_termination(store, place, vm_id, [d.volume_id for d in disks if not d.bootable], True)
        disk_records.remember_termination(store, place, vm_id, [d.volume_id for d in disks if d.bootable],
                                          op.data.get("root_delete", True) is not False)
        disk_records.record_created(store, place, disk_ids, timestamp_of(vm.findtext("creation_time")))
        suppressed = set(op.data.get("suppressed_devices") or [])
        return [d.volume_id for d in disks if d.device in suppressed and not d.bootable]

    def step_drop_devices(self, op: Operation, scope: Scope) -> Outcome:
        return launch_volumes.drop(self, op, scope)

    def step_add_volumes(self, op: Operation, scope: Scope) -> Outcome:
        return launch_volumes.add(self, op, scope)

    def step_snapshot_volumes(self, op: Operation, scope: Scope) -> Outcome:
        return launch_snapshots.restore(self, op, scope)

    def step_grow_root(self, op: Operation, scope: Scope) -> Outcome:
        return root_disk.grow(self, op, scope)

    def step_start(self, op: Operation, scope: Scope) -> Outcome:
        vm_id = op.data["vm_id"]
        status = self.status(scope, vm_id)
        if status is None:
            return Fail("The instance was removed before it could start")
        if status in STARTED:
            self.place(scope, op)  # a repeat after a crash: the groups of the port the start made
            return Done()
        if status != "down":
            return Wait(self.poll)
        self.place(scope, op)  # its interface on the network provider's subnet
        action = E.action(E.use_cloud_init("true")) if op.data.get("cloud_init") else E.action()
        try:
            self.driver._call(scope, "POST", f"vms/{vm_id}/start", body=action, idempotent=False,
                              what=("instance", vm_id))
        except InvalidState:
            return Wait(self.poll)  # the status moved under us: look again
        self.place(scope, op)  # a real engine makes the NIC's provider port as it starts the VM: now its groups
        return Done()

    def place(self, scope: Scope, op: Operation) -> None:
        """The instance's NIC on its provider subnet and that NIC's port in its groups (safe to repeat)."""
        if op.data.get("subnet"):
            self.driver.place_on_subnet(scope, op.data["vm_id"], op.data["subnet"]["id"], op.data["subnet"]["groups"],
                                        op.data["subnet"].get("ip"))


class TerminateInstance(OvirtOperation):
    """Stop the VM if it runs, wait for down, detach the volumes that outlive it, remove it (and with it the
    disks it still has), leave a tombstone.

    The engine removes every attached disk with a VM; its own way of keeping disks (`detach_only`) keeps all
    of them and is refused for a VM made from a template. So the volumes whose attachment says
    DeleteOnTermination=false are detached first (DiskAttachmentService.remove, detach_only), one by one:
    from then on they are floating disks with their data, whatever happens to this operation. Each step
    reads the engine before acting, so a step repeated after a crash finds its work done and goes on.
    """

    name = "ovirt.terminate"
    steps = ("stop", "wait_for_down", "keep_volumes", "remove", "tombstone", "forget")

    def step_stop(self, op: Operation, scope: Scope) -> Outcome:
        vm_id = op.data["vm_id"]
        status = self.status(scope, vm_id)
        if status is None:
            return Next("tombstone")
        if status == "down":
            return Next("keep_volumes")
        if status in SETTLING or not self.ask(scope, vm_id, "stop"):
            return Wait(self.poll)
        return Next("wait_for_down", delay=self.poll)

    def step_wait_for_down(self, op: Operation, scope: Scope) -> Outcome:
        return self.await_down(op, scope, gone=Next("tombstone"), down=Next("keep_volumes"), patience=STOP_PATIENCE,
                               settling={"powering_down", *SETTLING},  # else started again, or the stop was lost:
                               impatient=lambda: Next("stop", data={"polls": 0}))  # stop again

    def attachments(self, op: Operation, vm: Element) -> list[VolumeAttachment]:
        """The VM's disk attachments as the engine lists them now, each with its DeleteOnTermination."""
        found = [mapping.attachment(e, op.data["vm_id"]) for e in vm.iterfind("disk_attachments/disk_attachment")]
        disk_records.mark_termination(found, disk_records.termination_choices(
            self.driver.store, op.data["place"], disk_records.attachment_keys(found)))
        return found

    def step_keep_volumes(self, op: Operation, scope: Scope) -> Outcome:
        """Detach each volume that outlives the VM; a disk already detached (a repeated step) is skipped.

        The engine refuses to detach a disk that a snapshot of the VM holds; those snapshots would be removed
        with the VM a moment later, so they are removed first (the engine merges them: the disk keeps its
        data) and the step waits for them to go."""
        vm_id = op.data["vm_id"]
        vm = self.vm(scope, vm_id, follow="disk_attachments,snapshots.disks")
        if vm is None:
            return Next("tombstone")
        if vm.findtext("status") != "down":
            return Next("stop", delay=self.poll)  # started again meanwhile
        attached = self.attachments(op, vm)
        keeping = {a.volume_id for a in attached if not a.delete_on_termination}
        holding = [s for s in vm.iterfind("snapshots/snapshot") if mapping.is_user_snapshot(s)
                   and keeping & {d.get("id") for d in s.iterfind("disks/disk")}]
        if holding:
            self.remove_snapshots(scope, vm_id, holding)
            return Wait(self.poll)
        kept = list(op.data.get("kept", []))
        for a in attached:
            if a.delete_on_termination:
                continue
            try:
                self.driver._call(scope, "DELETE", f"vms/{vm_id}/diskattachments/{a.volume_id}",
                                  params={"detach_only": "true"}, idempotent=True, what=("volume", a.volume_id))
            except NotFound:
                pass  # detached already (by a run of this step that did not live to record it)
            except InvalidState:
                return Wait(self.poll, data={"kept": kept})  # the disk is locked for a moment: try again
            kept.append(a.volume_id)
        return Next("remove", data={"kept": list(dict.fromkeys(kept)),
                                    "deleted": [a.volume_id for a in attached if a.delete_on_termination]})

    def remove_snapshots(self, scope: Scope, vm_id: str, snapshots: list[Element]) -> None:
        """Ask the engine to remove these snapshots; one it is still creating or removing is left to settle."""
        for snapshot in snapshots:
            if snapshot.findtext("snapshot_status") == "locked":
                continue
            snapshot_id = snapshot.get("id", "")
            if snapshot_locks.ask_removal(self.driver, scope, vm_id, snapshot_id) == "busy":
                continue  # the engine is busy with the VM for a moment: the next poll asks again
            self.driver.store.delete_tags(scope.provider.name, [snapshot_id])

    def step_remove(self, op: Operation, scope: Scope) -> Outcome:
        """Tombstone first, then remove: a listing never finds the instance neither live nor terminated.

        A volume to keep that is attached again (attached meanwhile, or its flag changed) sends the operation
        back to `keep_volumes`: the removal never takes a disk that should stay."""
        vm_id = op.data["vm_id"]
        vm = self.vm(scope, vm_id, follow="disk_attachments")
        deleted = list(op.data.get("deleted", []))
        if vm is not None:
            attached = self.attachments(op, vm)
            if any(not a.delete_on_termination for a in attached):
                return Next("keep_volumes")
            deleted = [a.volume_id for a in attached]
        self.bury(op, scope)
        try:
            self.driver._call(scope, "DELETE", f"vms/{vm_id}", idempotent=True, what=("instance", vm_id))
        except NotFound:
            pass
        except InvalidState:
            self.driver.store.remove_tombstone(op.data["place"], vm_id)  # it lives on (started again)
            return Next("stop", delay=self.poll)
        except GatewayError:  # refused (e.g. 403) or unreachable: it lives on until a retry removes it
            self.driver.store.remove_tombstone(op.data["place"], vm_id)
            raise
        return Next("forget", data={"deleted": deleted})

    def step_tombstone(self, op: Operation, scope: Scope) -> Outcome:
        """The VM was gone before this operation could remove it: it is terminated all the same."""
        self.bury(op, scope)
        return Next("forget")

    def step_forget(self, op: Operation, scope: Scope) -> Outcome:
        """Drop what the store kept for the removed VM (its tags live on in the tombstone)."""
        owner = scope.provider.name
        self.driver.store.delete_tags(owner, [op.data["vm_id"]])
        self.driver.store.delete_entity(INSTANCE_META, owner, op.data["vm_id"])
        disk_records.forget_devices_of(self.driver.store, op.data["place"], op.data["vm_id"])
        deleted = op.data.get("deleted") or []
        if deleted:  # removed with the VM: shown as deleting while the engine deletes their images
            self.driver.store.delete_tags(owner, deleted)
            for disk_id in deleted:
                self.driver.store.add_tombstone(op.data["place"], disk_id, "volume", {})
        return Done()

    def bury(self, op: Operation, scope: Scope) -> None:
        vm_id = op.data["vm_id"]
        last: Instance = from_json(Instance, op.data["instance"])
        last.state, last.backend_state = InstanceState.TERMINATED, ""
        last.state_reason = last.extra.get(LAUNCH_ERROR) or "Terminated"
        last.tags = {**last.tags, **self.driver.store.tags(scope.provider.name, [vm_id]).get(vm_id, {})}
        last.addresses = [a for a in last.addresses if a.kind == "mac"]
        last.interfaces, last.attachments = [], []
        self.driver.store.add_tombstone(op.data["place"], vm_id, "instance", to_json(last))
