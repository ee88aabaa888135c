"""Volumes made from snapshots, through a short-lived helper VM the gateway owns.

oVirt snapshots VMs, and its one way to get a snapshot's content out as disks of their own is to clone a VM
from the snapshot (AddVmFromSnapshot: `POST /vms` naming `<snapshots><snapshot id>`), which copies the
snapshot's disks in full. So a volume from a snapshot is a helper VM cloned from it (its comment names the
operation; hidden from every listing), whose copy of the disk is grown if a larger size was asked for, then
detached (`DELETE vms/{helper}/diskattachments/{disk}?detach_only=true`: a floating disk from then on), and
the helper removed (`DELETE vms/{helper}`). The request makes the helper and learns the new disk's id (the
engine lists a clone's disks from the start, locked while copied), so the client gets its volume id at once;
the durable operation `ovirt.volume_from_snapshot` does the rest, each step reading the engine first so a
step repeated after a crash finds its work done.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import TYPE_CHECKING

from lxml.builder import E

from gateway.errors import BackendUnavailable, GatewayError, InvalidState, NotFound
from gateway.model import ResourceState, Volume, VolumeSpec
from gateway.operations import Done, Fail, Next, Operation, Outcome, Wait
from gateway.scope import Scope

from . import disk_records, mapping, snapshot_locks
from .base import HELPER_MARK, OvirtBase, search_value
from .operations import OvirtOperation

if TYPE_CHECKING:
    from .base import Element

VOLUME_FROM_SNAPSHOT = "ovirt.volume_from_snapshot"


def helper_mark(operation_id: str) -> str:
    """The comment of the helper VM an operation makes: how a takeover finds it."""
    return HELPER_MARK + operation_id


class SnapshotCopiesMixin(OvirtBase):
    def volume_from_snapshot(self, scope: Scope, spec: VolumeSpec) -> Volume:
        """Begin copying the snapshot's disk into a new volume; answers at once (state pending)."""
        assert spec.snapshot_id is not None
        place = self._place(scope)
        snapshot_id = spec.snapshot_id
        owner = self._snapshot_vm(scope, place, snapshot_id)
        cluster_id = spec.realm_id or mapping.link_id(owner, "cluster") or ""
        data = {"provider": scope.provider.name, "engine": scope.provider.url, "datacenter": place.region.id,
                "user_level": scope.user_level, "request_id": scope.request_id, "place": place.key,
                "snapshot_id": snapshot_id, "size_bytes": spec.size_bytes, "cluster_id": cluster_id}
        op = self.operations.submit(VOLUME_FROM_SNAPSHOT, owner=scope.owner_key, held=True, data=data,
                                    secret={"username": scope.credentials.username,
                                            "password": scope.credentials.password})
        body = E.vm(E.name(f"cloudgw-helper-{op.id[:20]}"), E.comment(helper_mark(op.id)),
                    E.description("cloudgw: copies a snapshot's disk into a new volume"),
                    E.cluster(id=cluster_id), E.snapshots(E.snapshot(id=snapshot_id)))
        try:
            helper = snapshot_locks.behind_lock(  # the engine copies from no snapshot while one of the VM's is locked
                self, scope, owner.get("id", ""),
                lambda: self._call(scope, "POST", "vms", body=body, idempotent=False, what=("snapshot", snapshot_id)))
        except GatewayError as exc:
            if exc.retryable:
                raise  # the engine may have made it: the operation's takeover finds and removes it
            self.operations.withdraw([op.id])
            raise
        if helper is None:
            raise InvalidState("The engine accepted the copy but returned no description of it")
        helper_id = helper.get("id", "")
        disks = self._call(scope, "GET", f"vms/{helper_id}/diskattachments", what=("snapshot", snapshot_id))
        disk_ids = [a.get("id", "") for a in (disks if disks is not None else [])]
        if not disk_ids:
            self.operations.finish(op, Next("remove_helper", data={"helper_id": helper_id}, target=helper_id))
            raise InvalidState(f"The snapshot '{snapshot_id}' holds no disk to make a volume of",
                               resource_id=snapshot_id)
        volume_id = disk_ids[0]
        now = datetime.now(timezone.utc)
        disk_records.record_created(self.store, place.key, [volume_id], now)
        if spec.tags:
            self.store.set_tags(scope.provider.name, "volume", [volume_id], spec.tags)
        if not self.operations.finish(op, Next("wait_for_copy", target=volume_id,
                                               data={"helper_id": helper_id, "volume_id": volume_id})):
            raise BackendUnavailable("The copy was taken over by another process; look for the volume again")
        return Volume(id=volume_id, name=spec.name or "", size_bytes=spec.size_bytes, state=ResourceState.PENDING,
                      description=spec.description, created=now, realm_id=spec.realm_id, tags=dict(spec.tags))

    def _snapshot_vm(self, scope: Scope, place: "object", snapshot_id: str) -> "Element":
        """The VM that holds the snapshot (NotFound if no VM of the data center has it)."""
        for vm in self._vms(scope, place, follow="snapshots"):  # type: ignore[arg-type]
            snapshots = vm.iterfind("snapshots/snapshot")
            if any(s.get("id") == snapshot_id and mapping.is_user_snapshot(s) for s in snapshots):
                return vm
        raise NotFound("snapshot", snapshot_id)

    def helper_vm(self, scope: Scope, operation_id: str) -> "Element | None":
        """The helper VM an operation made (its comment names the operation), None if the engine made none."""
        mark = helper_mark(operation_id)
        found = self._get(scope, "vms", {"search": f"comment={search_value(mark)}"})
        return next((vm for vm in found if vm.findtext("comment") == mark), None)


class VolumeFromSnapshot(OvirtOperation):
    """Wait for the helper's copy, grow it to the size asked for, detach it as a floating disk, remove the helper."""

    name = VOLUME_FROM_SNAPSHOT
    steps = ("clone", "wait_for_copy", "grow", "detach", "remove_helper")

    def step_clone(self, op: Operation, scope: Scope) -> Outcome:
        """Run only by a takeover (the request's process died after asking): adopt the helper or fail."""
        helper = self.driver.helper_vm(scope, op.id)
        if helper is None:
            return Fail("The gateway stopped before the engine began the copy")
        return Next("remove_helper", data={"helper_id": helper.get("id", "")})  # no client was told of its disk

    def disk(self, scope: Scope, op: Operation) -> "tuple[Element | None, Element | None]":
        helper = self.vm(scope, op.data["helper_id"], follow="disk_attachments.disk")
        if helper is None:
            return None, None
        for attachment in helper.iterfind("disk_attachments/disk_attachment"):
            if attachment.get("id") == op.data["volume_id"]:
                return helper, attachment.find("disk")
        return helper, None

    def step_wait_for_copy(self, op: Operation, scope: Scope) -> Outcome:
        helper, disk = self.disk(scope, op)
        if helper is None:
            return Fail("The helper VM was removed before the copy was done")
        if disk is None:
            return Next("remove_helper")  # detached already
        if helper.findtext("status") == "image_locked" or disk.findtext("status") == "locked":
            return Wait(self.poll)
        if int(disk.findtext("provisioned_size") or 0) < int(op.data.get("size_bytes") or 0):
            return Next("grow")
        return Next("detach")

    def step_grow(self, op: Operation, scope: Scope) -> Outcome:
        helper, disk = self.disk(scope, op)
        if helper is None or disk is None:
            return Fail("The copy of the snapshot's disk went away before it could be grown")
        if disk.findtext("status") == "locked":
            return Wait(self.poll)
        wanted = int(op.data["size_bytes"])
        if int(disk.findtext("provisioned_size") or 0) >= wanted:
            return Next("detach")
        try:
            self.driver._call(scope, "PUT", f"vms/{op.data['helper_id']}/diskattachments/{op.data['volume_id']}",
                              body=E.disk_attachment(E.disk(E.provisioned_size(str(wanted)))), idempotent=True,
                              what=("volume", op.data["volume_id"]))
        except InvalidState:
            pass
        return Wait(self.poll)

    def step_detach(self, op: Operation, scope: Scope) -> Outcome:
        helper_id, volume_id = op.data["helper_id"], op.data["volume_id"]
        try:
            self.driver._call(scope, "DELETE", f"vms/{helper_id}/diskattachments/{volume_id}",
                              params={"detach_only": "true"}, idempotent=True, what=("volume", volume_id))
        except NotFound:
            pass
        except InvalidState:
            return Wait(self.poll)
        return Next("remove_helper")

    def step_remove_helper(self, op: Operation, scope: Scope) -> Outcome:
        try:
            self.driver._call(scope, "DELETE", f"vms/{op.data['helper_id']}", idempotent=True,
                              what=("instance", op.data["helper_id"]))
        except NotFound:
            pass
        except InvalidState:
            return Wait(self.poll)  # still locked while copying
        return Done() if op.data.get("volume_id") else Fail("The copy was abandoned; its helper VM was removed")
