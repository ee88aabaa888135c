"""Snapshots that are disk copies: of a volume attached to no instance, and copies of snapshots.

oVirt snapshots only the disks of a VM, and a VM snapshot keeps its disk on the VM for as long as it
exists, so a snapshot of a floating volume cannot be a VM snapshot without taking the volume from its user.
It is a full copy instead (`POST disks/{id}/copy` with a fresh alias, the engine's MoveOrCopyDisk; the
answer names no disk, so the copy is found by its alias): a floating disk the gateway records as a snapshot
(store entity `ovirt.disk_snapshot`, per data center), hidden from volume listings, `pending` while the
engine copies it and `completed` after, removed with `DELETE disks/{id}`. Like an EBS snapshot it is
independent of its volume. CopySnapshot makes another such copy: of a copy with the same disk copy, of a
VM snapshot through the helper VM of snapshot_copies (the clone's disk becomes the new snapshot).
"""
from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import Any

from lxml.builder import E

from gateway.errors import GatewayError, InvalidState, NotFound
from gateway.model import ResourceState, Snapshot
from gateway.scope import Scope

from . import mapping
from .base import Element, OvirtBase, Place, search_value

DISK_SNAPSHOT = "ovirt.disk_snapshot"  # entity per copy: {"id", "volume_id", "description", "created"}
PENDING_SNAPSHOT = "ovirt.disk_snapshot_pending"  # entity per copy asked for, by alias: {"alias", "volume_id", ...}
SNAPSHOT_ALIAS = "cloudgw-snapshot-"  # + a fresh id: a copy that is a snapshot
PENDING_SECONDS = 3600.0  # a copy asked for that the engine still does not list after this was never made
COPY_ALIAS = "cloudgw-copy-"  # + a fresh id: a copy being made, found by it and renamed when done


def records(store: Any, place: Place) -> dict[str, dict[str, Any]]:
    """disk id -> the record of each disk that is a snapshot."""
    return {r["id"]: r for r in store.entities(DISK_SNAPSHOT, place.key)}


def pending(store: Any, place: Place) -> dict[str, dict[str, Any]]:
    """alias -> the record of each snapshot copy asked of the engine whose disk id is not known yet."""
    return {r["alias"]: r for r in store.entities(PENDING_SNAPSHOT, place.key)}


def as_snapshot(disk: Element, record: dict[str, Any]) -> Snapshot:
    status = disk.findtext("status")
    state = {"ok": ResourceState.AVAILABLE, "locked": ResourceState.PENDING}.get(status or "", ResourceState.ERROR)
    return Snapshot(id=disk.get("id", ""), instance_id="", description=record.get("description", ""), state=state,
                    created=datetime.fromisoformat(record["created"]),
                    volume_ids=[record["volume_id"]] if record.get("volume_id") else [],
                    size_bytes=mapping.integer(disk, "provisioned_size"))


class DiskSnapshotsMixin(OvirtBase):
    def disk_snapshots(self, scope: Scope, place: Place, wanted: set[str] | None) -> list[Snapshot]:
        """The snapshots that are disk copies (no engine request when the gateway made none). A copy asked for
        by a process that died before it recorded the copy's id is recorded here, found by its alias."""
        known, asked = records(self.store, place), pending(self.store, place)
        if wanted is not None:
            known = {k: v for k, v in known.items() if k in wanted}
        if not known and not asked:
            return []
        disks = self._get(scope, "disks", {"search": place.disk_search})
        for disk in disks:
            record = asked.pop(disk.findtext("alias") or "", None)
            if record is not None:
                self.record_disk_snapshot(place, disk.get("id", ""), record["volume_id"], record["description"],
                                          datetime.fromisoformat(record["created"]), alias=record["alias"])
                if wanted is None or disk.get("id") in wanted:
                    known[disk.get("id", "")] = records(self.store, place)[disk.get("id", "")]
        now = datetime.now(timezone.utc)
        for record in asked.values():  # never made (the request failed before the engine had it)
            if (now - datetime.fromisoformat(record["created"])).total_seconds() > PENDING_SECONDS:
                self.store.delete_entity(PENDING_SNAPSHOT, place.key, record["alias"])
        present = {d.get("id", "") for d in disks}
        if wanted is None and not scope.user_level:  # a full view: records of copies removed outside may go
            for gone in set(known) - present:
                self.store.delete_entity(DISK_SNAPSHOT, place.key, gone)
        return [as_snapshot(d, known[d.get("id", "")]) for d in disks if d.get("id") in known]

    def copy_disk(self, scope: Scope, disk_id: str, alias: str) -> tuple[str, int]:
        """Copy a disk into a new floating disk in its own storage domain; the new disk's id and size."""
        disk = self._get(scope, f"disks/{disk_id}", what=("volume", disk_id))
        domain = mapping.link_id(disk, "storage_domain") or next(
            (d.get("id", "") for d in disk.iterfind("storage_domains/storage_domain")), "")
        self._call(scope, "POST", f"disks/{disk_id}/copy", idempotent=False, what=("volume", disk_id),
                   body=E.action(E.storage_domain(id=domain), E.disk(E.alias(alias))))
        found = [d for d in self._get(scope, "disks", {"search": f"alias={search_value(alias)}"})
                 if d.findtext("alias") == alias]
        if not found:
            raise InvalidState("The engine accepted the copy but does not list it")
        return found[0].get("id", ""), mapping.integer(found[0], "provisioned_size") or 0

    def record_disk_snapshot(self, place: Place, disk_id: str, volume_id: str, description: str,
                             created: datetime | None = None, alias: str | None = None) -> datetime:
        """Record the disk as a snapshot (and forget the pending record of its alias, if any)."""
        created = created or datetime.now(timezone.utc)
        self.store.put_entity(DISK_SNAPSHOT, place.key, disk_id, {
            "id": disk_id, "volume_id": volume_id, "description": description, "created": created.isoformat()})
        if alias is not None:
            self.store.delete_entity(PENDING_SNAPSHOT, place.key, alias)
        return created

    def copy_as_snapshot(self, scope: Scope, disk_id: str, volume_id: str, description: str) -> Snapshot:
        """A disk copy recorded as a snapshot. The copy is recorded as pending under its alias before it is asked
        for, so a process that dies before it learns the copy's id leaves no disk that reads as a volume: volume
        listings hide it, and the next snapshot listing records it as the snapshot it is."""
        place = self._place(scope)
        alias = f"{SNAPSHOT_ALIAS}{uuid.uuid4().hex[:20]}"
        created = datetime.now(timezone.utc)
        self.store.put_entity(PENDING_SNAPSHOT, place.key, alias, {
            "alias": alias, "volume_id": volume_id, "description": description, "created": created.isoformat()})
        try:
            copy_id = self.copy_disk(scope, disk_id, alias)[0]
        except GatewayError as exc:
            if not exc.retryable:  # refused: the engine made nothing
                self.store.delete_entity(PENDING_SNAPSHOT, place.key, alias)
            raise
        self.record_disk_snapshot(place, copy_id, volume_id, description, created, alias=alias)
        return Snapshot(id=copy_id, instance_id="", description=description, state=ResourceState.PENDING,
                        created=created, volume_ids=[volume_id] if volume_id else [])

    def snapshot_volume(self, scope: Scope, volume_id: str, description: str = "") -> Snapshot:
        """A snapshot of a volume attached to no instance: a full copy of its disk (see the module)."""
        return self.copy_as_snapshot(scope, volume_id, volume_id, description)

    def copy_snapshot(self, scope: Scope, snapshot_id: str, description: str = "") -> Snapshot:
        """A new snapshot with the same content: a disk copy of a copy, a helper's clone of a VM snapshot (the
        durable operation records the clone's disk as a snapshot before it can read as a volume)."""
        place = self._place(scope)
        record = records(self.store, place).get(snapshot_id)
        if record is not None:
            return self.copy_as_snapshot(scope, snapshot_id, record.get("volume_id", ""), description)
        found = self.snapshots(scope, [snapshot_id])  # type: ignore[attr-defined]
        if not found:
            raise NotFound("snapshot", snapshot_id)
        volume_id = found[0].volume_ids[0] if found[0].volume_ids else ""
        disk_id = self.clone_snapshot_disk(  # type: ignore[attr-defined]
            scope, snapshot_id, None, keep_as_snapshot={"volume_id": volume_id, "description": description})[0]
        created = datetime.fromisoformat(records(self.store, place)[disk_id]["created"])
        return Snapshot(id=disk_id, instance_id="", description=description, state=ResourceState.PENDING,
                        created=created, volume_ids=[volume_id] if volume_id else [])

    def delete_disk_snapshot(self, scope: Scope, place: Place, snapshot_id: str) -> None:
        self._call(scope, "DELETE", f"disks/{snapshot_id}", idempotent=True, what=("snapshot", snapshot_id))
        self.store.delete_entity(DISK_SNAPSHOT, place.key, snapshot_id)
        self.store.delete_tags(scope.provider.name, [snapshot_id])
