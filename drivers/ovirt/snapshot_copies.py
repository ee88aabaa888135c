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

from . import disk_records, disk_snapshots, mapping, snapshot_locks
from .base import HELPER_MARK, OvirtBase, Place, search_value
from .operations import OvirtOperation

if TYPE_CHECKING:
    from .base import Element

VOLUME_FROM_SNAPSHOT = "ovirt.volume_from_snapshot"


def helper_mark(operation_id: str) -> str:
    """The comment of the helper VM an operation makes: how a takeover finds it."""
    return HELPER_MARK + operation_id


def helper_request(operation_id: str, cluster_id: str, snapshot_id: str) -> "Element":
    """The engine's request for a helper VM cloned from the snapshot (AddVmFromSnapshot)."""
    return E.vm(E.name(f"cloudgw-helper-{operation_id[:20]}"), E.comment(helper_mark(operation_id)),
                E.description("cloudgw: copies a snapshot's disk"),
                E.cluster(id=cluster_id), E.snapshots(E.snapshot(id=snapshot_id)))


class SnapshotCopiesMixin(OvirtBase):
    def volume_from_snapshot(self, scope: Scope, spec: VolumeSpec) -> Volume:
        """Begin copying the snapshot's disk into a new volume; answers at once (state pending). A snapshot
        that is itself a disk copy (disk_snapshots) is copied with the engine's disk copy, no helper needed."""
        assert spec.snapshot_id is not None
        place = self._place(scope)
        if spec.snapshot_id in disk_snapshots.records(self.store, place):
            volume_id, size = self._copy_for_volume(scope, place, spec)
        else:
            volume_id, size = self.clone_snapshot_disk(scope, spec.snapshot_id, spec)
        now = datetime.now(timezone.utc)
        disk_records.record_created(self.store, place.key, [volume_id], now)
        disk_records.record_source(self.store, place.key, volume_id, spec.snapshot_id)
        if spec.tags:
            self.store.set_tags(scope.provider.name, "volume", [volume_id], spec.tags)
        return Volume(id=volume_id, name=spec.name or "", size_bytes=max(size, spec.size_bytes),
                      state=ResourceState.PENDING,
                      description=spec.description, created=now, realm_id=spec.realm_id, tags=dict(spec.tags),
                      snapshot_id=spec.snapshot_id)

    def _submit(self, scope: Scope, place: Place, data: dict[str, object]) -> Operation:
        return self.operations.submit(VOLUME_FROM_SNAPSHOT, owner=scope.owner_key, held=True,
                                      data={**self._scope_data(scope, place), **data}, secret=self._secret(scope))

    def _started(self, op: Operation, volume_id: str, **data: object) -> None:
        if not self.operations.finish(op, Next("wait_for_copy", target=volume_id,
                                               data={"volume_id": volume_id, **data})):
            raise BackendUnavailable("The copy was taken over by another process; look for the volume again")

    def _copy_for_volume(self, scope: Scope, place: Place, spec: VolumeSpec) -> tuple[str, int]:
        """A disk copy of a disk snapshot, under a temporary alias until the operation names it."""
        assert spec.snapshot_id is not None
        op = self._submit(scope, place, {"snapshot_id": spec.snapshot_id, "size_bytes": spec.size_bytes,
                                         "name": spec.name or "volume"})
        alias = disk_snapshots.COPY_ALIAS + op.id[:20]
        self.operations.renew(op.id, data={"copy_alias": alias})
        try:
            volume_id, size = self.copy_disk(scope, spec.snapshot_id, alias)  # type: ignore[attr-defined]
        except GatewayError as exc:
            if not exc.retryable:
                self.operations.withdraw([op.id])
            raise
        self._started(op, volume_id)
        return volume_id, size

    def clone_snapshot_disk(self, scope: Scope, snapshot_id: str, spec: VolumeSpec | None,
                            keep_as_snapshot: dict[str, str] | None = None) -> tuple[str, int]:
        """Clone a helper VM from a VM snapshot; the id and size of its copy of the snapshot's disk (see
        `snapshot_disk` for which one). With `keep_as_snapshot` ({"volume_id", "description"}: CopySnapshot)
        the copy is recorded as a snapshot before the operation may detach it, so it never reads as a volume."""
        place = self._place(scope)
        owner, alias = self.snapshot_disk(scope, place, snapshot_id)
        self.refuse_behind_own_copy(owner, snapshot_id)
        cluster_id = (spec.realm_id if spec else None) or mapping.link_id(owner, "cluster") or ""
        op = self._submit(scope, place, {"snapshot_id": snapshot_id, "size_bytes": spec.size_bytes if spec else 0,
                                         "cluster_id": cluster_id, "disk_alias": alias})
        body = helper_request(op.id, cluster_id, snapshot_id)
        try:
            helper = snapshot_locks.behind_lock(  # the engine copies from no snapshot while one of the VM's is locked
                self, scope, owner.get("id", ""),
                lambda: self._call(scope, "POST", "vms", body=body, idempotent=False, what=("snapshot", snapshot_id)))
        except GatewayError as exc:
            if not exc.retryable:  # else the engine may have made it: the operation's takeover removes it
                self.operations.withdraw([op.id])
            raise
        if helper is None:
            raise InvalidState("The engine accepted the copy but returned no description of it")
        helper_id = helper.get("id", "")
        copy = self.helper_disk(scope, helper, alias)
        if copy is None:
            self.operations.finish(op, Next("remove_helper", data={"helper_id": helper_id}, target=helper_id))
            raise InvalidState(f"The snapshot '{snapshot_id}' holds no disk to copy", resource_id=snapshot_id)
        if keep_as_snapshot is not None:
            self.record_disk_snapshot(place, copy[0], keep_as_snapshot["volume_id"],  # type: ignore[attr-defined]
                                      keep_as_snapshot["description"])
        self._started(op, copy[0], helper_id=helper_id)
        return copy

    def refuse_behind_own_copy(self, owner: "Element", snapshot_id: str) -> None:
        """InvalidState at once when a copy this gateway began from a snapshot of the same VM is still being made.

        The engine copies from no snapshot of a VM while one of them is locked, and a copy holds its snapshot
        locked for as long as it lasts (minutes): too long to wait in a request. Nor can the request be queued,
        since it must answer with the new volume's id, which the engine picks only when the copy begins."""
        locked = {s.get("id") for s in owner.iterfind("snapshots/snapshot")
                  if s.findtext("snapshot_status") == "locked"}
        if not locked:
            return
        for op in self.operations.find(kind=VOLUME_FROM_SNAPSHOT, active_only=True):
            if op.data.get("snapshot_id") in locked:
                into = f"volume '{op.data['volume_id']}'" if op.data.get("volume_id") else f"operation '{op.id}'"
                source = "it" if op.data["snapshot_id"] == snapshot_id else \
                    f"snapshot '{op.data['snapshot_id']}' of the same instance"
                raise InvalidState(f"The snapshot '{snapshot_id}' cannot be copied while the engine copies {source} "
                                   f"into {into} (the engine allows one copy at a time); ask again once that "
                                   "copy is done", resource_id=snapshot_id)

    def snapshot_disk(self, scope: Scope, place: Place, snapshot_id: str) -> "tuple[Element, str | None]":
        """(the VM holding the snapshot, the alias of the snapshot's disk a copy is made of: the first of its
        `disks`, the volume every frontend names as the snapshot's; None when it holds one disk or none).

        The engine's clone gives each copy a new id and image and keeps nothing that links it to its source
        but the alias (the source's, or `<alias>_<new VM's name>` as AddVmAndCloneImageCommand names it);
        so a snapshot of several disks whose aliases are not distinct cannot be told apart and is refused."""
        for vm in self._vms(scope, place, follow="snapshots.disks"):
            for snapshot in vm.iterfind("snapshots/snapshot"):
                if snapshot.get("id") != snapshot_id or not mapping.is_user_snapshot(snapshot):
                    continue
                aliases = [d.findtext("alias") or "" for d in snapshot.iterfind("disks/disk")]
                if len(aliases) <= 1:
                    return vm, None
                if len(set(aliases)) < len(aliases):
                    raise InvalidState(
                        f"The snapshot '{snapshot_id}' holds {len(aliases)} disks, some of them under the same name "
                        f"({', '.join(sorted(a for a in set(aliases) if aliases.count(a) > 1))}), so its copy of "
                        "one disk cannot be told from the others; take a snapshot of that volume alone",
                        resource_id=snapshot_id)
                return vm, aliases[0]
        raise NotFound("snapshot", snapshot_id)

    def helper_disk(self, scope: Scope, helper: "Element", alias: str | None) -> tuple[str, int] | None:
        """The id and size of the helper's copy of the snapshot's disk (its only one, or the one whose alias is
        `alias`'s copy, see `snapshot_disk`), None if it has none."""
        disks = self._call(scope, "GET", f"vms/{helper.get('id', '')}/diskattachments", params={"follow": "disk"},
                           what=("instance", helper.get("id", "")))
        found = [] if disks is None else [a for a in disks if a.find("disk") is not None]
        if alias is not None:
            copies = (alias, f"{alias}_{helper.findtext('name') or ''}")
            found = [a for a in found if a.findtext("disk/alias") in copies]
        if not found:
            return None
        return found[0].get("id", ""), mapping.integer(found[0], "disk/provisioned_size") or 0

    def queue_volume_from_snapshot(self, scope: Scope, operation_id: str, snapshot_id: str, size_bytes: int,
                                   cluster_id: str | None, name: str) -> Operation:
        """A volume from a snapshot whose copy a worker begins (`clone`), under an id the caller chose: a caller
        that lost its answer finds the operation again by that id instead of beginning a second copy."""
        place = self._place(scope)
        return self.operations.submit(VOLUME_FROM_SNAPSHOT, owner=scope.owner_key, operation_id=operation_id, data={
            **self._scope_data(scope, place), "queued": True, "snapshot_id": snapshot_id, "size_bytes": size_bytes,
            "cluster_id": cluster_id or "", "name": name}, secret=self._secret(scope))

    def helper_vm(self, scope: Scope, operation_id: str) -> "Element | None":
        """The helper VM an operation made (its comment names the operation), None if the engine made none."""
        mark = helper_mark(operation_id)
        found = self._get(scope, "vms", {"search": f"comment={search_value(mark)}"})
        return next((vm for vm in found if vm.findtext("comment") == mark), None)


class VolumeFromSnapshot(OvirtOperation):
    """Wait for the copy, grow it to the size asked for, then make it a floating disk of its own: detached from
    the helper VM (then removed), or, for a disk copy, given its name in place of the temporary alias."""

    name = VOLUME_FROM_SNAPSHOT
    steps = ("clone", "wait_for_copy", "grow", "detach", "remove_helper")

    def step_clone(self, op: Operation, scope: Scope) -> Outcome:
        """A queued copy begins here (`begin`). Otherwise run only by a takeover (the request's process died
        before it answered): undo what the engine made, since no client was told of it."""
        if op.data.get("queued"):
            return self.begin(op, scope)
        if op.data.get("copy_alias"):
            alias = op.data["copy_alias"]
            for disk in self.driver._get(scope, "disks", {"search": f"alias={search_value(alias)}"}):
                if disk.findtext("alias") == alias:
                    return self.remove_copy(scope, disk.get("id", ""))
            return Fail("The gateway stopped before the engine began the copy")
        helper = self.driver.helper_vm(scope, op.id)
        if helper is None:
            return Fail("The gateway stopped before the engine began the copy")
        return Next("remove_helper", data={"helper_id": helper.get("id", "")})

    def begin(self, op: Operation, scope: Scope) -> Outcome:
        """Begin the copy unless a run of this step that did not live to record it already did (the copy is
        found by its alias, the helper by its comment); a snapshot the engine has locked is waited for."""
        driver, snapshot_id = self.driver, op.data["snapshot_id"]
        place = driver._place(scope)
        if snapshot_id in disk_snapshots.records(driver.store, place):
            alias = disk_snapshots.COPY_ALIAS + op.id[:20]
            found = [d for d in driver._get(scope, "disks", {"search": f"alias={search_value(alias)}"})
                     if d.findtext("alias") == alias]
            try:
                volume_id = found[0].get("id", "") if found else driver.copy_disk(scope, snapshot_id, alias)[0]
            except InvalidState:
                return Wait(self.poll)  # the source disk is locked for a moment
            return Next("wait_for_copy", target=volume_id, data={"volume_id": volume_id, "copy_alias": alias})
        try:
            owner, alias = driver.snapshot_disk(scope, place, snapshot_id)
        except InvalidState as exc:  # several disks that cannot be told apart: no copy is begun
            return Fail(exc.message)
        helper = driver.helper_vm(scope, op.id)
        if helper is None:
            cluster_id = op.data.get("cluster_id") or mapping.link_id(owner, "cluster") or ""
            try:
                helper = driver._call(scope, "POST", "vms", body=helper_request(op.id, cluster_id, snapshot_id),
                                      idempotent=False, what=("snapshot", snapshot_id))
            except InvalidState:
                return Wait(self.poll)  # the engine copies from no snapshot while one of the VM's is locked
            if helper is None:
                return Wait(self.poll)  # no description: the next run finds the helper by its comment
        helper_id = helper.get("id", "")
        copy = driver.helper_disk(scope, helper, alias)
        if copy is None:
            return Next("remove_helper", data={"helper_id": helper_id}, target=helper_id)
        return Next("wait_for_copy", target=copy[0], data={"volume_id": copy[0], "helper_id": helper_id})

    def remove_copy(self, scope: Scope, disk_id: str) -> Outcome:
        try:
            self.driver._call(scope, "DELETE", f"disks/{disk_id}", idempotent=True, what=("volume", disk_id))
        except NotFound:
            pass
        except InvalidState:
            return Wait(self.poll)  # still locked while copied
        return Fail("The gateway stopped before it answered; the copy it began was removed")

    def disk(self, scope: Scope, op: Operation) -> "tuple[Element | None, Element | None]":
        """(the helper VM, or the disk itself for a disk copy; the copy as the engine has it now)."""
        if not op.data.get("helper_id"):
            try:
                disk = self.driver._get(scope, f"disks/{op.data['volume_id']}", what=("volume", op.data["volume_id"]))
            except NotFound:
                return None, None
            return disk, disk
        helper = self.vm(scope, op.data["helper_id"], follow="disk_attachments.disk")
        if helper is None:
            return None, None
        for attachment in helper.iterfind("disk_attachments/disk_attachment"):
            if attachment.get("id") == op.data["volume_id"]:
                return helper, attachment.find("disk")
        return helper, None

    def step_wait_for_copy(self, op: Operation, scope: Scope) -> Outcome:
        holder, disk = self.disk(scope, op)
        if holder is None:
            return Fail("The copy went away before it was done")
        if disk is None:
            return Next("remove_helper")  # detached already
        if holder.findtext("status") in ("image_locked", "locked") or disk.findtext("status") == "locked":
            return Wait(self.poll)
        if int(disk.findtext("provisioned_size") or 0) < int(op.data.get("size_bytes") or 0):
            return Next("grow")
        return Next("detach")

    def step_grow(self, op: Operation, scope: Scope) -> Outcome:
        holder, disk = self.disk(scope, op)
        if holder is None or disk is None:
            return Fail("The copy of the snapshot's disk went away before it could be grown")
        if disk.findtext("status") == "locked":
            return Wait(self.poll)
        wanted, volume_id = int(op.data["size_bytes"]), op.data["volume_id"]
        if int(disk.findtext("provisioned_size") or 0) >= wanted:
            return Next("detach")
        if op.data.get("helper_id"):
            path, body = f"vms/{op.data['helper_id']}/diskattachments/{volume_id}", \
                E.disk_attachment(E.disk(E.provisioned_size(str(wanted))))
        else:
            path, body = f"disks/{volume_id}", E.disk(E.provisioned_size(str(wanted)))
        try:
            self.driver._call(scope, "PUT", path, body=body, idempotent=True, what=("volume", volume_id))
        except InvalidState:
            pass
        return Wait(self.poll)

    def step_detach(self, op: Operation, scope: Scope) -> Outcome:
        volume_id = op.data["volume_id"]
        try:
            if op.data.get("helper_id"):
                self.driver._call(scope, "DELETE", f"vms/{op.data['helper_id']}/diskattachments/{volume_id}",
                                  params={"detach_only": "true"}, idempotent=True, what=("volume", volume_id))
            else:  # the name ends the copy's temporary alias: from now on it is a volume like any other
                self.driver._call(scope, "PUT", f"disks/{volume_id}", body=E.disk(E.alias(op.data["name"])),
                                  idempotent=True, what=("volume", volume_id))
        except NotFound:
            pass
        except InvalidState:
            return Wait(self.poll)
        return Next("remove_helper")

    def step_remove_helper(self, op: Operation, scope: Scope) -> Outcome:
        if not op.data.get("helper_id"):
            return Done()
        try:
            self.driver._call(scope, "DELETE", f"vms/{op.data['helper_id']}", idempotent=True,
                              what=("instance", op.data["helper_id"]))
        except NotFound:
            pass
        except InvalidState:
            return Wait(self.poll)  # still locked while copying
        return Done() if op.data.get("volume_id") else Fail("The copy was abandoned; its helper VM was removed")
