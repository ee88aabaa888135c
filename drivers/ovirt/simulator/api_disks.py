"""Handlers for disks: floating disks (`/disks`) and the disk attachments of VMs."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from lxml import etree
from werkzeug.wrappers import Response

from . import events, permissions
from . import lifecycle_copies as copies
from . import lifecycle_storage as ls
from . import render_storage as rs
from .call import Call
from .entities import Attachment, Disk, StorageDomain, Vm
from .errors import ApiError, conflict, entity_not_found, failed, incomplete, invalid_enum, not_found
from .render_common import action_xml, href
from .search import FreeText
from .xmlin import boolean, integer, parse_body, raw_text, text
from .xmlwriter import XmlWriter, document

DISK_INTERFACES = ("ide", "virtio_scsi", "virtio", "spapr_vscsi", "sata")
DISK_FORMATS = ("cow", "raw")


def disk_fields(call: Call) -> dict[str, Any]:
    """Searchable disk fields (DiskConditionFieldAutoCompleter) and the two cross-references disks have,
    `datacenter` and `storage` (DiskCrossRefAutoCompleter), which match as free text."""
    s = call.store

    def domain(d: Disk) -> StorageDomain | None:
        return s.storagedomains.get(d.storage_domain_id)

    def storage(d: Disk) -> FreeText:
        sd = domain(d)
        return FreeText((sd.name, sd.description, sd.comment) if sd else ())

    def datacenter(d: Disk) -> FreeText:
        sd = domain(d)
        dc = s.datacenters.get(sd.data_center_id) if sd else None
        return FreeText((dc.name, dc.description, dc.comment) if dc else ())

    return {"name": lambda d: d.name, "alias": lambda d: d.name, "description": lambda d: d.description,
            "id": lambda d: d.id, "status": lambda d: d.status, "provisioned_size": lambda d: d.provisioned_size,
            "size": lambda d: d.provisioned_size, "actual_size": lambda d: d.actual_size,
            "shareable": lambda d: str(d.shareable).lower(), "format": lambda d: d.format,
            "number_of_vms": lambda d: len(ls.vms_using(s, d.id)),
            "vm_names": lambda d: [vm.name for vm, _ in ls.vms_using(s, d.id)],
            "storage": storage, "datacenter": datacenter}


def _write(call: Call, fn: Any, *args: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    w = XmlWriter()
    fn(w, *args)
    return call.xml(document(w.getvalue()), status, headers)


def _domain(call: Call, disk_el: etree._Element) -> StorageDomain:
    """The disk's storage domain, by id or name (AddDiskCommand's messages when it is absent)."""
    sd_el = disk_el.find("storage_domains/storage_domain")
    sd_id = sd_el.get("id") or text(sd_el, "id") if sd_el is not None else None
    sd_name = text(sd_el, "name") if sd_el is not None else None
    if sd_id:
        sd = call.store.storagedomains.get(sd_id)
        if sd is None:
            raise failed(400, "Cannot add Virtual Disk. Storage Domain doesn't exist.")
        return sd
    if sd_name:
        found = call.store.by_name(call.store.storagedomains, sd_name)
        if not found:
            raise entity_not_found(sd_name)
        return found[0]
    raise failed(400, "Cannot add Virtual Disk. Storage Domain hasn't been specified.")


def new_disk(call: Call, disk_el: etree._Element, default_alias: str) -> Disk:
    """A `Disk` from a request's `<disk>` (not stored yet): size and format are required."""
    size = integer(text(disk_el, "provisioned_size"), "provisioned_size")
    if size is None:
        size = integer(text(disk_el, "size"), "size")
    fmt = text(disk_el, "format")
    missing = [name for name, value in (("provisionedSize|size", size), ("format", fmt)) if not value]
    if missing:
        raise incomplete("Disk", ", ".join(missing))
    assert size is not None and fmt is not None
    if fmt not in DISK_FORMATS:
        raise invalid_enum(fmt, "DiskFormat")
    alias = raw_text(disk_el, "alias") or raw_text(disk_el, "name") or default_alias
    store = call.store
    return Disk(disk_el.get("id") or store.new_id(), alias, "", size, actual_size=0 if fmt == "cow" else size,
                format=fmt, sparse=bool(boolean(text(disk_el, "sparse"), fmt == "cow")), image_id=store.new_id(),
                description=raw_text(disk_el, "description") or "",
                shareable=bool(boolean(text(disk_el, "shareable"), False)),
                wipe_after_delete=bool(boolean(text(disk_el, "wipe_after_delete"), False)))


# -- floating disks -----------------------------------------------------------------------------------

def disk_add(call: Call) -> Response:
    """`POST /disks`: 202 with the disk `locked` until its volume exists."""
    root = parse_body(call.body(), "disk")
    disk = new_disk(call, root, "disk")
    domain = _domain(call, root)
    permissions.require(call, "CREATE_DISK")        # on the storage domain: DiskCreator, which users lack
    disk.storage_domain_id = domain.id
    job = call.store.start_job(f"Adding Disk {disk.name}", call.user, call.correlation_id)
    try:
        ls.create_floating_disk(call.store, disk, domain, job)
    except ApiError:
        call.store.finish_job(job, call.store.now(), "failed")
        raise
    return call.created(rs.disk, disk, href("disks", disk.id), ready=lambda: disk.status == "ok",
                        gone=lambda: disk.id not in call.store.disks)


def disk_remove(call: Call, id: str) -> Response:
    disk = call.get(call.store.disks, id)
    permissions.require(call, "DELETE_DISK", _vms_using(call, disk.id))
    ls.remove_disk(call.store, disk)
    return call.xml(action_xml([], "complete", None, None))


def disk_update(call: Call, id: str) -> Response:
    """`PUT /disks/{id}` (UpdateDisk): a larger `provisioned_size` extends the disk, `alias` and
    `description` rename it; the engine never shrinks a disk."""
    disk = call.get(call.store.disks, id)
    permissions.require(call, "EDIT_DISK_PROPERTIES", _vms_using(call, disk.id))
    root = parse_body(call.body(), "disk")
    size_text = text(root, "provisioned_size")
    if size_text is not None:
        size = integer(size_text, "provisioned_size")
        assert size is not None
        ls.extend_disk(call.store, disk, size)
    if (alias := raw_text(root, "alias") or raw_text(root, "name")) is not None:
        disk.name = alias
    if (description := raw_text(root, "description")) is not None:
        disk.description = description
    return call.one(rs.disk, disk)


def disk_copy(call: Call, id: str) -> Response:
    """`POST /disks/{id}/copy`: a new floating disk with the same content (`disk/alias` names it)."""
    disk = call.get(call.store.disks, id)
    root = parse_body(call.body(), "action")
    permissions.require(call, "CREATE_DISK")
    domain = _copy_target(call, root)
    job = call.store.start_job(f"Copying Disk {disk.name}", call.user, call.correlation_id)
    try:
        copies.copy_disk(call.store, disk, domain, raw_text(root, "disk/alias"))
    except ApiError:
        call.store.finish_job(job, call.store.now(), "failed")
        raise
    call.store.finish_job(job, call.store.now())
    return call.xml(action_xml([], "complete", job.id, None))


def _copy_target(call: Call, root: etree._Element) -> StorageDomain:
    sd_el = root.find("storage_domain")
    if sd_el is None:
        raise incomplete("Action", "storageDomain.id|name", "copy")
    sd_id = sd_el.get("id") or text(sd_el, "id")
    sd = call.store.storagedomains.get(sd_id or "")
    if sd is None:
        found = call.store.by_name(call.store.storagedomains, text(sd_el, "name") or "")
        if not found:
            raise entity_not_found(f"StorageDomain: {sd_id or text(sd_el, 'name')}")
        sd = found[0]
    return sd


def _vms_using(call: Call, disk_id: str) -> Iterator[Vm]:
    """The VMs a disk is attached to: a disk inherits the permissions held on them."""
    return (vm for vm in call.store.vms.values() if any(a.disk_id == disk_id for a in vm.attachments))


# -- attachments --------------------------------------------------------------------------------------

def attachments_list(call: Call, id: str) -> Response:
    vm = call.vm(id)
    return _write(call, rs.disk_attachments, vm.attachments, href("vms", vm.id), "vm", vm.id, call.ctx,
                  vm.host_id is not None)


def _attachment(call: Call, vm_id: str, disk_id: str) -> tuple[Vm, Attachment]:
    vm = call.vm(vm_id)
    for att in vm.attachments:
        if att.disk_id == disk_id:
            return vm, att
    raise not_found()


def _answer(call: Call, vm: Vm, att: Attachment, status: int = 200,
            headers: dict[str, str] | None = None) -> Response:
    return _write(call, rs.disk_attachment, att, href("vms", vm.id), "vm", vm.id, call.ctx,
                  vm.host_id is not None, status=status, headers=headers)


def attachment_get(call: Call, id: str, disk: str) -> Response:
    vm, att = _attachment(call, id, disk)
    return _answer(call, vm, att)


def _interface(value: str | None) -> str | None:
    if value is not None and value not in DISK_INTERFACES:
        raise invalid_enum(value, "DiskInterface")
    return value


def attachment_add(call: Call, id: str) -> Response:
    """Attach an existing disk (`<disk id=..>`) or create a new one (`<disk>` with a size)."""
    vm = call.vm(id)
    root = parse_body(call.body(), "disk_attachment")
    interface = _interface(text(root, "interface"))
    if not interface:
        raise incomplete("DiskAttachment", "interface")
    disk_el = root.find("disk")
    if disk_el is None:
        raise incomplete("DiskAttachment", "disk")
    permissions.require(call, "CONFIGURE_VM_STORAGE", [vm])
    att = Attachment("", bootable=bool(boolean(text(root, "bootable"), False)), interface=interface,
                     active=bool(boolean(text(root, "active"), True)),
                     read_only=bool(boolean(text(root, "read_only"), False)),
                     pass_discard=bool(boolean(text(root, "pass_discard"), False)))
    disk_id = disk_el.get("id")
    store = call.store
    if disk_id and disk_id in store.disks and not disk_el.findall("provisioned_size"):
        disk = store.disks[disk_id]
        permissions.require(call, "ATTACH_DISK", _vms_using(call, disk.id))
        if disk.owner_vm_id and disk.owner_vm_id in store.vms and not disk.shareable:
            raise conflict("Cannot attach Virtual Disk. The disk is already attached to VM.")
        if disk.status == "locked":  # AttachDiskToVmCommand: DiskImagesValidator.diskImagesNotLocked
            raise conflict(f"Cannot attach Virtual Disk: The following disks are locked: {disk.name}. Please try "
                           "again in a few minutes.")
        att.disk_id = disk.id
        ls.add_disk(store, vm, disk, att, new=False)
    else:
        permissions.require(call, "CREATE_DISK")    # on the storage domain, as for a floating disk
        disk = new_disk(call, disk_el, f"{vm.name}_Disk{len(vm.attachments) + 1}")
        if disk_el.find("storage_domains/storage_domain") is not None:
            sd = _domain(call, disk_el)
        else:
            dc = store.data_center_of_cluster(vm.cluster_id)
            candidates = store.storage_domains_of(dc.id) if dc else []
            if not candidates:
                raise failed(400, "Cannot add Virtual Disk. Storage Domain hasn't been specified.")
            sd = candidates[0]
        disk.storage_domain_id = sd.id
        sd.committed += disk.provisioned_size
        att.disk_id = disk.id
        ls.add_disk(store, vm, disk, att, new=True)
    base = href("vms", vm.id)
    return _answer(call, vm, att, status=201,
                   headers={"Location": f"{base}/diskattachments/{att.disk_id}"})


def attachment_update(call: Call, id: str, disk: str) -> Response:
    """`PUT`: `active` (hot plug or unplug) first, then `bootable`, `interface`, the disk's alias and its
    size (`disk/provisioned_size`, the engine's way to extend an attached disk)."""
    vm, att = _attachment(call, id, disk)
    permissions.require(call, "CONFIGURE_VM_STORAGE", [vm])
    root = parse_body(call.body(), "disk_attachment")
    active = boolean(text(root, "active"))
    bootable = boolean(text(root, "bootable"))
    interface = _interface(text(root, "interface"))
    size_text = text(root, "disk/provisioned_size")
    size = integer(size_text, "disk.provisioned_size") if size_text is not None else None
    if active is not None:
        ls.set_active(call.store, vm, att, active)
    ls.update_attachment(call.store, vm, att, bootable, interface)
    target = call.store.disks.get(att.disk_id)
    if target is not None and size is not None:
        ls.extend_disk(call.store, target, size)
    if target is not None and (alias := raw_text(root, "disk/alias") or raw_text(root, "disk/name")):
        target.name = alias
    return _answer(call, vm, att)


def attachment_remove(call: Call, id: str, disk: str) -> Response:
    """Detach a disk (it stays, a floating disk with its id and data); `detach_only=false` removes it too.

    As DetachDiskFromVmCommand: only while the VM is up (a plugged disk is hot-unplugged) or down, and not a
    disk that one of the VM's snapshots holds (its images are a chain the VM's snapshots still need)."""
    vm, att = _attachment(call, id, disk)
    permissions.require(call, "CONFIGURE_VM_STORAGE", [vm])
    store = call.store
    d = store.disks.get(att.disk_id)
    if d is not None and d.status == "locked":
        raise conflict("Cannot remove Virtual Disk: Disk is locked. Please try again in a few minutes.")
    if d is not None and boolean(call.request.args.get("detach_only"), True) is False:
        ls.remove_disk(store, d)
        return call.xml(action_xml([], "complete", None, None))
    if vm.status not in ("up", "down"):
        raise conflict(f"Cannot detach Virtual Disk because the VM is in {ls.STATUS_WORDS.get(vm.status, vm.status)} "
                       "status.")
    if any(att.disk_id in snap.disk_ids for snap in vm.snapshots if snap.snapshot_type != "active"):
        raise failed(400, "Cannot detach Virtual Disk. The disk is already configured in a snapshot. In order to "
                          "detach it, remove the disk's snapshots.")
    vm.attachments.remove(att)
    vm.touch()
    events.disk_detached(store, d.name if d is not None else att.disk_id, vm)
    if d is not None:
        d.owner_vm_id = None
    return call.xml(action_xml([], "complete", None, None))


ROUTES: list[tuple[str, tuple[str, ...], Any]] = [
    ("/disks", ("POST",), disk_add),
    ("/disks/<id>", ("DELETE",), disk_remove),
    ("/disks/<id>", ("PUT",), disk_update),
    ("/disks/<id>/copy", ("POST",), disk_copy),
    ("/vms/<id>/diskattachments", ("GET",), attachments_list),
    ("/vms/<id>/diskattachments", ("POST",), attachment_add),
    ("/vms/<id>/diskattachments/<disk>", ("GET",), attachment_get),
    ("/vms/<id>/diskattachments/<disk>", ("PUT",), attachment_update),
    ("/vms/<id>/diskattachments/<disk>", ("DELETE",), attachment_remove),
]
