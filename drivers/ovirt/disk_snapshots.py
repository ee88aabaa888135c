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

from gateway.errors import InvalidState, NotFound
from gateway.model import ResourceState, Snapshot
from gateway.scope import Scope

from . import mapping
from .base import Element, OvirtBase, Place, search_value

DISK_SNAPSHOT = "ovirt.disk_snapshot"  # entity per copy: {"id", "volume_id", "description", "created"}
COPY_ALIAS = "cloudgw-copy-"  # + a fresh id: a copy being made, found by it and renamed when done


def records(store: Any, place: Place) -> dict[str, dict[str, Any]]:
    """disk id -> the record of each disk that is a snapshot."""
    return {r["id"]: r for r in store.entities(DISK_SNAPSHOT, place.key)}


def as_snapshot(disk: Element, record: dict[str, Any]) -> Snapshot:
    status = disk.findtext("status")
    state = {"ok": ResourceState.AVAILABLE, "locked": ResourceState.PENDING}.get(status or "", ResourceState.ERROR)
    return Snapshot(id=disk.get("id", ""), instance_id="", description=record.get("description", ""), state=state,
                    created=datetime.fromisoformat(record["created"]),
                    volume_ids=[record["volume_id"]] if record.get("volume_id") else [],
                    size_bytes=mapping.integer(disk, "provisioned_size"))


class DiskSnapshotsMixin(OvirtBase):
    def disk_snapshots(self, scope: Scope, place: Place, wanted: set[str] | None) -> list[Snapshot]:
        """The snapshots that are disk copies (no engine request when the gateway made none)."""
        known = records(self.store, place)
        if wanted is not None:
            known = {k: v for k, v in known.items() if k in wanted}
        if not known:
            return []
        disks = self._get(scope, "disks", {"search": place.disk_search})
        present = {d.get("id", "") for d in disks}
        if wanted is None and not scope.user_level:  # a full view: records of copies removed outside may go
            for gone in set(known) - present:
                self.store.delete_entity(DISK_SNAPSHOT, place.key, gone)
        return [as_snapshot(d, known[d.get("id", "")]) for d in disks if d.get("id") in known]

    def copy_disk(self, scope: Scope, disk_id: str, alias: str) -> str:
        """Copy a disk into a new floating disk in its own storage domain; the new disk's id."""
        return self.copy_disk_sized(scope, disk_id, alias)[0]

    def copy_disk_sized(self, scope: Scope, disk_id: str, alias: str) -> tuple[str, int]:
        """copy_disk, with the copy's size."""
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

    def record_disk_snapshot(self, place: Place, disk_id: str, volume_id: str, description: str) -> datetime:
        created = datetime.now(timezone.utc)
        self.store.put_entity(DISK_SNAPSHOT, place.key, disk_id, {
            "id": disk_id, "volume_id": volume_id, "description": description, "created": created.isoformat()})
        return created

    def snapshot_volume(self, scope: Scope, volume_id: str, description: str = "") -> Snapshot:
        """A snapshot of a volume attached to no instance: a full copy of its disk (see the module)."""
        place = self._place(scope)
        disk_id = self.copy_disk(scope, volume_id, f"cloudgw-snapshot-{uuid.uuid4().hex[:20]}")
        created = self.record_disk_snapshot(place, disk_id, volume_id, description)
        return Snapshot(id=disk_id, instance_id="", description=description, state=ResourceState.PENDING,
                        created=created, volume_ids=[volume_id])

    def copy_snapshot(self, scope: Scope, snapshot_id: str, description: str = "") -> Snapshot:
        """A new snapshot with the same content: a disk copy of a copy, a helper's clone of a VM snapshot."""
        place = self._place(scope)
        record = records(self.store, place).get(snapshot_id)
        if record is not None:
            disk_id = self.copy_disk(scope, snapshot_id, f"cloudgw-snapshot-{uuid.uuid4().hex[:20]}")
            volume_id = record.get("volume_id", "")
        else:
            found = self.snapshots(scope, [snapshot_id])  # type: ignore[attr-defined]
            if not found:
                raise NotFound("snapshot", snapshot_id)
            volume_id = found[0].volume_ids[0] if found[0].volume_ids else ""
            disk_id = self.clone_snapshot_disk(scope, snapshot_id, None, keep_as_snapshot=True)[0]  # type: ignore
        created = self.record_disk_snapshot(place, disk_id, volume_id, description)
        return Snapshot(id=disk_id, instance_id="", description=description, state=ResourceState.PENDING,
                        created=created, volume_ids=[volume_id] if volume_id else [])

    def delete_disk_snapshot(self, scope: Scope, place: Place, snapshot_id: str) -> None:
        self._call(scope, "DELETE", f"disks/{snapshot_id}", idempotent=True, what=("snapshot", snapshot_id))
        self.store.delete_entity(DISK_SNAPSHOT, place.key, snapshot_id)
        self.store.delete_tags(scope.provider.name, [snapshot_id])
