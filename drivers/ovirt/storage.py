"""Volumes (disks) and snapshots (images captured from instances are in images.py).

Disks carry no link to the VMs using them, so a volume listing joins two data-center-wide answers:
the disks, and the VMs with their disk attachments inlined; template disks (seen through the
templates) are left out, since no client can attach or delete them. Constant request count again; none
at all while the inventory view serves the scope (inventory.py: disks, templates and the instances'
attachments from the view).

The engine keeps a removed disk or template `locked` until its images are deleted, which reads just like
one being created; the driver leaves a tombstone when it removes one, and a locked resource with a
tombstone is shown as DELETING (one store query, made only when a listing holds a locked resource).
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timezone

from lxml.builder import E

from gateway import engine_states
from gateway.errors import InvalidParameter, InvalidState, NotFound
from gateway.inventory import shallow_copy, volume_copy
from gateway.model import Image, Instance, ResourceState, Snapshot, Volume, VolumeAttachment, VolumeSpec
from gateway.scope import Scope

from . import after_lock, device_names, disk_records, disk_snapshots, event_kinds, mapping, snapshot_locks, storage_rows
from .base import Place, is_helper
from .inventory import HELPER, InventoryMixin
from .snapshot_copies import VOLUME_FROM_SNAPSHOT
from .snapshot_removal import DELETE_SNAPSHOT, SNAPSHOT_TOMBSTONE


class StorageMixin(InventoryMixin):
    # --- volumes --------------------------------------------------------------------------------------
    def volumes(self, scope: Scope, ids: Iterable[str] | None = None) -> list[Volume]:
        """Three data-center-wide answers joined (disks, VMs' attachments, templates' disks), from the inventory
        view where it serves the scope (inventory.py), else from the engine."""
        return self._volumes(scope, ids, from_view=True)

    def _volumes(self, scope: Scope, ids: Iterable[str] | None, *, from_view: bool) -> list[Volume]:
        place = self._place(scope)
        wanted = None if ids is None else set(ids)
        requested = disk_records.requested_devices(self.store, place.key)
        viewed = self._view_rows(scope, place, (event_kinds.DISKS, event_kinds.TEMPLATES)) if from_view else None
        rows: list[storage_rows.DiskRow]
        if viewed is not None and (wanted is None or wanted <= {r.id for r in viewed[1][event_kinds.DISKS]}):
            view, listed = viewed
            rows = [r for r in listed[event_kinds.DISKS] if wanted is None or r.id in wanted]
            every_disk = {r.id for r in listed[event_kinds.DISKS]}
            attachments, helpers = self._viewed_attachments(view.held(), requested)
            template_disks = set().union(*(r.disk_ids for r in listed[event_kinds.TEMPLATES]))
        else:  # a volume the view has not seen yet (made a moment ago through another process) is found too
            disks = self._get(scope, "disks", {"search": place.disk_search})
            rows = [storage_rows.disk_row(d) for d in disks if wanted is None or d.get("id") in wanted]
            every_disk = {d.get("id", "") for d in disks}
            attachments, helpers = self._attachments(scope, place, requested)
            template_disks = {a.get("id", "") for t in self._templates(scope, place)
                              for a in t.iterfind("disk_attachments/disk_attachment")}
        choices = disk_records.termination_choices(self.store, place.key)
        every_attachment = [a for held in attachments.values() for a in held if a.instance_id not in helpers]
        disk_records.mark_termination(every_attachment, choices)
        template_disks |= set(disk_snapshots.records(self.store, place))  # snapshots that are disk copies
        asked = disk_snapshots.pending(self.store, place)  # and copies that will be, by alias
        found = []
        for row in rows:
            if row.id in template_disks or row.alias in asked or not row.user_volume:
                continue
            held = attachments.get(row.id, [])
            found.append(mapping.with_attachments(volume_copy(row.volume),
                                                  [a for a in held if a.instance_id not in helpers]))
            if len(found[-1].attachments) < len(held) or (row.alias or "").startswith(
                    disk_snapshots.COPY_ALIAS):  # a copy in the making (snapshot_copies): not usable yet
                found[-1].state = ResourceState.PENDING
        complete = wanted is None and not scope.user_level  # saw every disk: records of vanished ones may go
        disk_records.fill_created(self.store, place.key, found, every_disk=every_disk if complete else None)
        if complete:
            disk_records.prune_devices(self.store, place.key, requested, every_attachment)
            disk_records.prune_termination(self.store, place.key, choices, every_attachment)
        self._mark_deleting(place, "volume", found)
        if found:
            tags = self.store.tags(scope.provider.name, [v.id for v in found])
            for v in found:
                v.tags = tags.get(v.id, {})
        return found

    def _attachments(self, scope: Scope, place: Place, requested: dict[str, str]
                     ) -> tuple[dict[str, list[VolumeAttachment]], set[str]]:
        """disk id -> its attachments to the data center's VMs (one request), each under its device name,
        and the ids of the gateway's helper VMs among them (a disk held by one is a copy in the making)."""
        result: dict[str, list[VolumeAttachment]] = {}
        helpers: set[str] = set()
        for vm in self._vms(scope, place, follow="disk_attachments", helpers=True):
            if is_helper(vm):
                helpers.add(vm.get("id", ""))
            of_vm = [mapping.attachment(e, vm.get("id", "")) for e in vm.iterfind("disk_attachments/disk_attachment")]
            for a in of_vm:  # the volume's zone: the frontends need not list the VMs again
                a.realm_id = mapping.link_id(vm, "cluster")
            disk_records.name_attachments(of_vm, requested)
            device_names.name_all(of_vm)
            for a in of_vm:
                result.setdefault(a.volume_id, []).append(a)
        return result, helpers

    @staticmethod
    def _viewed_attachments(instances: Sequence[Instance], requested: dict[str, str]
                            ) -> tuple[dict[str, list[VolumeAttachment]], set[str]]:
        """`_attachments` from the inventory view's instances (what the VM listing gave them), copied."""
        result: dict[str, list[VolumeAttachment]] = {}
        helpers: set[str] = set()
        for instance in instances:
            if HELPER in instance.extra:
                helpers.add(instance.id)
            of_vm = [shallow_copy(a) for a in instance.attachments]
            for a in of_vm:  # the volume's zone: the frontends need not list the VMs again
                a.realm_id = instance.realm_id
            disk_records.name_attachments(of_vm, requested)
            device_names.name_all(of_vm)
            for a in of_vm:
                result.setdefault(a.volume_id, []).append(a)
        return result, helpers

    def volume(self, scope: Scope, volume_id: str) -> Volume:
        """The volume as the engine has it now, never the inventory view's: what every action's state check
        reads (a moment-old state would queue an attachment, or refuse a removal, for nothing)."""
        found = self._volumes(scope, [volume_id], from_view=False)
        if not found:
            raise NotFound("volume", volume_id)
        return found[0]

    def _data_domain(self, scope: Scope, place: Place, wanted: str | None) -> str:
        domains = self._get(scope, f"datacenters/{place.region.id}/storagedomains")
        usable = [d for d in domains if d.findtext("type") == "data" and d.findtext("status") in (None, "active")]
        if wanted is not None:
            if not any(d.get("id") == wanted for d in domains):
                raise NotFound("storage domain", wanted)
            return wanted
        if not usable:
            raise InvalidState(f"The data center '{place.region.name}' has no active data storage domain")
        return max(usable, key=lambda d: mapping.integer(d, "available") or 0).get("id", "")

    def create_volume(self, scope: Scope, spec: VolumeSpec) -> Volume:
        if spec.snapshot_id is not None:
            return self.volume_from_snapshot(scope, spec)  # type: ignore[attr-defined]  # SnapshotCopiesMixin
        place = self._place(scope)
        domain = self._data_domain(scope, place, spec.storage_domain_id)
        name = spec.name or "volume"
        body = E.disk(E.alias(name), E.name(name), E.description(spec.description),
                      E.provisioned_size(str(spec.size_bytes)), E.format("cow" if spec.sparse else "raw"),
                      E.sparse("true" if spec.sparse else "false"),
                      E.storage_domains(E.storage_domain(id=domain)))
        created = self._call(scope, "POST", "disks", body=body, idempotent=False)
        if created is None:
            raise InvalidState("The engine accepted the volume but returned no description of it")
        volume = mapping.volume(created)
        volume.realm_id = spec.realm_id
        if volume.created is None:
            volume.created = datetime.now(timezone.utc)
            disk_records.record_created(self.store, place.key, [volume.id], volume.created)
        if spec.tags:
            self.store.set_tags(scope.provider.name, "volume", [volume.id], spec.tags)
            volume.tags = dict(spec.tags)
        return volume

    def delete_volume(self, scope: Scope, volume_id: str) -> None:
        """Remove the disk; one the engine holds locked for a moment (being created) is removed once it is
        free, by a durable operation (gateway.engine_states: `delete` is `later` for a locked disk)."""
        volume = self.volume(scope, volume_id)
        if volume.attachments:
            raise InvalidState(f"The volume '{volume_id}' is attached to an instance", resource_id=volume_id,
                               state="in-use")
        self._remove_or_wait(scope, "volume", volume_id, engine_states.volume_state(volume))

    def _remove_or_wait(self, scope: Scope, kind: str, resource_id: str, row: engine_states.EngineState) -> None:
        if "delete" in row.later:
            after_lock.submit(self, scope, kind, resource_id, "delete")
            return
        try:
            self.delete_unlocked(scope, kind, resource_id)
        except InvalidState:
            collection, locked = after_lock.LOCKED[kind]
            if self._get(scope, f"{collection}/{resource_id}", what=(kind, resource_id)).findtext("status") != locked:
                raise
            after_lock.submit(self, scope, kind, resource_id, "delete")

    def delete_unlocked(self, scope: Scope, kind: str, resource_id: str) -> None:
        """Ask the engine to remove a disk or template and leave the tombstone that marks it as being removed."""
        collection = after_lock.LOCKED[kind][0]
        self._call(scope, "DELETE", f"{collection}/{resource_id}", idempotent=True, what=(kind, resource_id))
        self.store.add_tombstone(self._place(scope).key, resource_id, kind, {})
        self.store.delete_tags(scope.provider.name, [resource_id])

    def attach_volume(self, scope: Scope, volume_id: str, instance_id: str, device: str | None = None, *,
                      delete_on_termination: bool = False) -> VolumeAttachment:
        """Attach now, or once the VM's or the disk's images are no longer busy (`ovirt.after_lock`)."""
        place = self._place(scope)
        if self._attach_later(scope, place, volume_id, instance_id):
            after_lock.submit(self, scope, "instance", instance_id, "attach",
                              data={"volume_id": volume_id, "device": device, "delete": delete_on_termination})
            return VolumeAttachment(volume_id, instance_id, device=device, active=False,
                                    delete_on_termination=delete_on_termination)
        return self._attach(scope, place, volume_id, instance_id, device, delete_on_termination)

    def attach_volume_now(self, scope: Scope, volume_id: str, instance_id: str, device: str | None = None, *,
                          delete_on_termination: bool = False) -> VolumeAttachment:
        """attach_volume for the after_lock step that waited for the locks: never queued again (it would find
        its own operation); a lock taken again meanwhile is InvalidState(state='locked'), to wait for."""
        place = self._place(scope)
        if self._attach_later(scope, place, volume_id, instance_id):
            raise InvalidState(f"The instance '{instance_id}' or the volume '{volume_id}' is locked again",
                               resource_id=instance_id, state="locked")
        return self._attach(scope, place, volume_id, instance_id, device, delete_on_termination)

    def _attach_later(self, scope: Scope, place: Place, volume_id: str, instance_id: str) -> bool:
        """Whether the engine would refuse the attachment only for a moment (images busy); InvalidState if the
        volume is attached already."""
        status = self._vm(scope, place, instance_id).findtext("status") or ""
        volume = self.volume(scope, volume_id)
        if volume.state is ResourceState.IN_USE:
            raise InvalidState(f"The volume '{volume_id}' is already attached", resource_id=volume_id, state="in-use")
        return "attach" in engine_states.VM.get(status, engine_states.UNKNOWN).later \
            or "attach" in engine_states.volume_state(volume).later

    def _attach(self, scope: Scope, place: Place, volume_id: str, instance_id: str, device: str | None,
                delete_on_termination: bool) -> VolumeAttachment:
        body = E.disk_attachment(E.bootable("false"), E.interface(device_names.interface_for(device)),
                                 E.active("true"), E.disk(id=volume_id))
        created = self._call(scope, "POST", f"vms/{instance_id}/diskattachments", body=body, idempotent=False,
                             what=("instance", instance_id))
        attachment = mapping.attachment(created, instance_id) if created is not None else \
            VolumeAttachment(volume_id, instance_id)
        disk_records.remember_device(self.store, place.key, instance_id, volume_id, device)
        disk_records.remember_termination(self.store, place.key, instance_id, [volume_id], delete_on_termination)
        attachment.device = device or attachment.device
        attachment.delete_on_termination = delete_on_termination
        return attachment

    def detach_volume(self, scope: Scope, volume_id: str, instance_id: str | None = None) -> None:
        volume = self.volume(scope, volume_id)
        held = [a for a in volume.attachments if instance_id is None or a.instance_id == instance_id]
        if not held:
            raise InvalidState(f"The volume '{volume_id}' is not attached"
                               + (f" to '{instance_id}'" if instance_id else ""), resource_id=volume_id)
        place = self._place(scope)
        removing = {t["resource_id"] for t in self.store.tombstones(place.key, SNAPSHOT_TOMBSTONE,
                                                                     self.config.tombstone_seconds)}
        for a in held:  # a snapshot being taken or removed locks the disk: EC2 detaches all the same
            snapshot_locks.until_removed(self, scope, a.instance_id, volume_id, removing)
            snapshot_locks.behind_lock(self, scope, a.instance_id, lambda: self._detach(scope, a, volume_id))
            disk_records.forget_device(self.store, self._place(scope).key, a.instance_id, volume_id)
            disk_records.forget_termination(self.store, self._place(scope).key, a.instance_id, volume_id)

    def resize_volume(self, scope: Scope, volume_id: str, size_bytes: int) -> None:
        """The engine extends a disk by an update of its `provisioned_size`: through its attachment when it is
        attached (UpdateDisk of a VM's disk), else the floating disk itself (`PUT disks/{id}`)."""
        volume = self.volume(scope, volume_id)
        if size_bytes < volume.size_bytes:
            raise InvalidParameter("A volume can only grow", parameter="size")
        if volume.attachments:
            path = f"vms/{volume.attachments[0].instance_id}/diskattachments/{volume_id}"
            body = E.disk_attachment(E.disk(E.provisioned_size(str(size_bytes))))
        else:
            path, body = f"disks/{volume_id}", E.disk(E.provisioned_size(str(size_bytes)))
        self._call(scope, "PUT", path, body=body, idempotent=True, what=("volume", volume_id))

    def set_delete_on_termination(self, scope: Scope, instance_id: str, volume_id: str, delete: bool) -> None:
        """Choose whether terminating the instance deletes this attached volume or detaches and keeps it."""
        place = self._place(scope)
        self._get(scope, f"vms/{instance_id}/diskattachments/{volume_id}", what=("volume", volume_id))
        disk_records.remember_termination(self.store, place.key, instance_id, [volume_id], delete)

    def _detach(self, scope: Scope, a: VolumeAttachment, volume_id: str) -> None:
        path = f"vms/{a.instance_id}/diskattachments/{volume_id}"
        status = self._get(scope, f"vms/{a.instance_id}", what=("instance", a.instance_id)).findtext("status")
        if a.active and status != "down":  # a running VM must unplug the disk before it is detached
            self._call(scope, "PUT", path, body=E.disk_attachment(E.active("false")), idempotent=True,
                       what=("volume", volume_id))
            a.active = False  # asked again behind a lock, the unplug is not repeated
        self._call(scope, "DELETE", path, idempotent=True, what=("volume", volume_id))

    # --- snapshots ------------------------------------------------------------------------------------
    def snapshots(self, scope: Scope, ids: Iterable[str] | None = None) -> list[Snapshot]:
        """Every VM's snapshots in one request; the engine names a snapshot's disks only when the listing
        follows them (`snapshots.disks`), never in the snapshot itself."""
        place = self._place(scope)
        wanted = None if ids is None else set(ids)
        found = []
        for vm in self._vms(scope, place, follow="snapshots.disks"):
            for element in vm.iterfind("snapshots/snapshot"):
                if mapping.is_user_snapshot(element) and (wanted is None or element.get("id") in wanted):
                    found.append(mapping.snapshot(element, vm.get("id", "")))
        if any(s.state is ResourceState.PENDING for s in found):  # the engine locks a snapshot it copies from:
            copied = {op.data.get("snapshot_id") for op in self.operations.find(  # still completed for clients
                kind=VOLUME_FROM_SNAPSHOT, active_only=True)}
            for s in found:
                if s.state is ResourceState.PENDING and s.id in copied:
                    s.state = ResourceState.AVAILABLE
        found += self.disk_snapshots(scope, place, wanted)  # type: ignore[attr-defined]  # DiskSnapshotsMixin
        if found:  # those whose removal was asked for are gone for clients, as on EC2
            removed = {t["resource_id"] for t in self.store.tombstones(place.key, SNAPSHOT_TOMBSTONE,
                                                                        self.config.tombstone_seconds)}
            found = [s for s in found if s.id not in removed]
        return found

    def create_snapshot(self, scope: Scope, instance_id: str, description: str = "",
                        volume_ids: Sequence[str] | None = None) -> Snapshot:
        """CreateSnapshotForVm, narrowed to `volume_ids` by the snapshot's disk attachments when given (the
        engine then snapshots and locks only those). An empty list is refused: the engine would read it as
        no narrowing at all and snapshot every disk."""
        if volume_ids is not None and not volume_ids:
            raise InvalidParameter("A snapshot needs at least one volume", parameter="volume_ids")
        place = self._place(scope)
        vm = self._vm(scope, place, instance_id, follow="disk_attachments")
        body = E.snapshot(E.description(description or "cloudgw snapshot"), E.persist_memorystate("false"))
        if volume_ids is not None:
            attached = {a.get("id") for a in vm.iterfind("disk_attachments/disk_attachment")}
            foreign = [v for v in volume_ids if v not in attached]
            if foreign:
                raise InvalidState(f"The volume '{foreign[0]}' is not attached to the instance '{instance_id}'",
                                   resource_id=foreign[0])
            body.append(E.disk_attachments(*(E.disk_attachment(E.disk(id=v)) for v in dict.fromkeys(volume_ids))))
        created = snapshot_locks.behind_lock(self, scope, instance_id, lambda: self._call(
            scope, "POST", f"vms/{instance_id}/snapshots", body=body, idempotent=False, what=("instance", instance_id)))
        if created is None:
            raise InvalidState("The engine accepted the snapshot but returned no description of it")
        snapshot = mapping.snapshot(created, instance_id)
        if volume_ids is not None and not snapshot.volume_ids:  # named only when a listing follows the disks
            snapshot.volume_ids = list(dict.fromkeys(volume_ids))
        return snapshot

    def delete_snapshot(self, scope: Scope, snapshot_id: str) -> None:
        """Ask the engine to remove the snapshot; refused for a moment (another snapshot of the VM being made
        or removed, a copy being taken of this one), the removal is queued (see snapshot_removal). Either way
        the snapshot is gone from listings from now on."""
        found = self.snapshots(scope, [snapshot_id])
        if not found:
            raise NotFound("snapshot", snapshot_id)
        instance_id, place = found[0].instance_id, self._place(scope)
        if not instance_id:  # a disk copy (disk_snapshots)
            self.delete_disk_snapshot(scope, place, snapshot_id)  # type: ignore[attr-defined]
            return
        try:
            if found[0].state is ResourceState.PENDING:
                raise InvalidState("The snapshot is locked")
            self._call(scope, "DELETE", f"vms/{instance_id}/snapshots/{snapshot_id}", idempotent=True,
                       what=("snapshot", snapshot_id))
        except InvalidState:
            if not snapshot_locks.locked(self, scope, instance_id) and found[0].state is not ResourceState.PENDING:
                raise  # refused for another reason than a lock
            self.operations.submit(DELETE_SNAPSHOT, target=snapshot_id, owner=scope.owner_key,
                                   secret=self._secret(scope), data={**self._scope_data(scope, place),
                                                                     "vm_id": instance_id, "snapshot_id": snapshot_id})
        self.store.add_tombstone(place.key, snapshot_id, SNAPSHOT_TOMBSTONE, {"instance_id": instance_id})
        self.store.delete_tags(scope.provider.name, [snapshot_id])

    # --- removals in progress -------------------------------------------------------------------------
    def _mark_deleting(self, place: Place, kind: str, resources: Iterable[Image | Volume]) -> None:
        """PENDING (locked) resources this gateway asked the engine to remove (a tombstone), or will remove once
        their lock is gone (a durable operation waits), become DELETING."""
        locked = [r for r in resources if r.state is ResourceState.PENDING]
        if not locked:
            return
        removed = {s["resource_id"] for s in self.store.tombstones(place.key, kind, self.config.tombstone_seconds)}
        removed |= {op.target for op in self.operations.find(kind=after_lock.AFTER_LOCK, active_only=True)
                    if op.data.get("action") == "delete"}
        for resource in locked:
            if resource.id in removed:
                resource.state = ResourceState.DELETING
