"""Durable operations the oVirt driver runs: `ovirt.run` and `ovirt.terminate`.

Each step first reads the VM's state from the engine and acts only if the action is still needed, so a
step repeated after a crash (the runner's lease expired) does no harm. The scope is rebuilt from the
operation: the provider by name (it must still be configured: the allow-list holds for operations
too), the credentials from the operation's encrypted secret.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from lxml.builder import E

from gateway.errors import GatewayError, InvalidState, NotFound, ProviderRefused
from gateway.model import Instance, InstanceState, from_json, to_json
from gateway.operations import Done, Fail, Next, Operation, Outcome, Wait
from gateway.scope import Credentials, Scope

from . import disk_records, root_disk
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

    def run_step(self, op: Operation) -> Outcome:
        try:
            scope = self.scope(op)
        except ProviderRefused as exc:
            return Fail(exc.message)
        return getattr(self, f"step_{op.step}")(op, scope)


class RunInstance(OvirtOperation):
    """Wait while the new VM's disks are copied, then start it (cloud-init) unless it should stay stopped.

    The disks are learned here, as soon as the engine lists them (it does from the start, locked while
    copied): the volume tags the client asked for are put on them and their creation time (the VM's) is
    kept. The operation is durable, so tags asked for before the disks existed are never lost.
    """

    name = "ovirt.run"
    steps = ("wait_for_disks", "grow_root", "start")

    def step_wait_for_disks(self, op: Operation, scope: Scope) -> Outcome:
        vm = self.vm(scope, op.data["vm_id"], follow=None if op.data.get("disks_known") else "disk_attachments")
        if vm is None:
            return Fail("The instance was removed before it could start")
        status = vm.findtext("status") or "unknown"
        learned = {}
        if not op.data.get("disks_known"):
            disk_ids = [a.get("id", "") for a in vm.iterfind("disk_attachments/disk_attachment")]
            if disk_ids or status != "image_locked":
                self.learn_disks(op, scope, vm, disk_ids)
                learned = {"disks_known": True}
        if status == "image_locked":
            return Wait(self.poll, data=learned)
        if op.data.get("root_volume_bytes"):
            return Next("grow_root", data=learned)
        if not op.data.get("start"):
            return Done(data=learned)
        return Next("start", data=learned)

    def learn_disks(self, op: Operation, scope: Scope, vm: Element, disk_ids: list[str]) -> None:
        """Tag the new VM's disks and date them (safe to repeat: both only set what is already set)."""
        if not disk_ids:
            return
        if op.data.get("volume_tags"):
            self.driver.store.set_tags(scope.provider.name, "volume", disk_ids, op.data["volume_tags"])
        disk_records.record_created(self.driver.store, op.data["place"], disk_ids,
                                    timestamp_of(vm.findtext("creation_time")))

    def step_grow_root(self, op: Operation, scope: Scope) -> Outcome:
        return root_disk.grow(self, op, scope)

    def step_start(self, op: Operation, scope: Scope) -> Outcome:
        vm_id = op.data["vm_id"]
        status = self.status(scope, vm_id)
        if status is None:
            return Fail("The instance was removed before it could start")
        if status in STARTED:
            return Done()
        if status != "down":
            return Wait(self.poll)
        action = E.action(E.use_cloud_init("true")) if op.data.get("cloud_init") else E.action()
        try:
            self.driver._call(scope, "POST", f"vms/{vm_id}/start", body=action, idempotent=False,
                              what=("instance", vm_id))
        except InvalidState:
            return Wait(self.poll)  # the status moved under us: look again
        return Done()


class TerminateInstance(OvirtOperation):
    """Stop the VM if it runs, wait for down, remove it, leave a tombstone."""

    name = "ovirt.terminate"
    steps = ("stop", "wait_for_down", "remove", "tombstone", "forget")

    def step_stop(self, op: Operation, scope: Scope) -> Outcome:
        vm_id = op.data["vm_id"]
        status = self.status(scope, vm_id)
        if status is None:
            return Next("tombstone")
        if status == "down":
            return Next("remove")
        if status in SETTLING:
            return Wait(self.poll)
        try:
            self.driver._call(scope, "POST", f"vms/{vm_id}/stop", body=E.action(), idempotent=False,
                              what=("instance", vm_id))
        except InvalidState:
            return Wait(self.poll)
        return Next("wait_for_down", delay=self.poll)

    def step_wait_for_down(self, op: Operation, scope: Scope) -> Outcome:
        status = self.status(scope, op.data["vm_id"])
        if status is None:
            return Next("tombstone")
        if status == "down":
            return Next("remove")
        polls = int(op.data.get("polls", 0)) + 1
        if status in ("powering_down", *SETTLING) or polls < STOP_PATIENCE:
            return Wait(self.poll, data={"polls": polls})
        return Next("stop", data={"polls": 0})  # started again meanwhile, or the stop was lost: stop again

    def step_remove(self, op: Operation, scope: Scope) -> Outcome:
        """Tombstone first, then remove: a listing never finds the instance neither live nor terminated."""
        vm_id = op.data["vm_id"]
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
        return Next("forget")

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
        return Done()

    def bury(self, op: Operation, scope: Scope) -> None:
        vm_id = op.data["vm_id"]
        last: Instance = from_json(Instance, op.data["instance"])
        last.state, last.state_reason, last.backend_state = InstanceState.TERMINATED, "Terminated", ""
        last.tags = {**last.tags, **self.driver.store.tags(scope.provider.name, [vm_id]).get(vm_id, {})}
        last.addresses = [a for a in last.addresses if a.kind == "mac"]
        last.interfaces, last.attachments = [], []
        self.driver.store.add_tombstone(op.data["place"], vm_id, "instance", to_json(last))
