"""Handlers for what hangs off a VM: NICs and guest-reported devices, snapshots, tags and permissions
(disk attachments are in api_disks)."""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Response

from . import lifecycle, permissions
from . import ovn_ports
from . import render_infra as ri
from . import render_storage as rs
from . import render_vm as rv
from .call import Call
from .entities import Nic
from .errors import conflict, entity_not_found, incomplete, invalid_enum, not_found
from .render_common import action_xml, href
from .xmlin import boolean, parse_body, raw_text, reference, text
from .xmlwriter import XmlWriter, document

NIC_INTERFACES = ("e1000", "e1000e", "virtio", "rtl8139", "rtl8139_virtio", "spapr_vlan", "pci_passthrough")


def _write(call: Call, fn: Any, *args: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    w = XmlWriter()
    fn(w, *args)
    return call.xml(document(w.getvalue()), status, headers)


# -- NICs and reported devices ------------------------------------------------------------------------

def nics_list(call: Call, id: str) -> Response:
    return _write(call, rv.nics, call.vm(id), call.ctx)


def _nic(call: Call, vm_id: str, nic_id: str) -> tuple[Any, Nic, int]:
    vm = call.vm(vm_id)
    for index, n in enumerate(vm.nics):
        if n.id == nic_id:
            return vm, n, index
    raise not_found()


def nic_get(call: Call, id: str, nic: str) -> Response:
    vm, n, index = _nic(call, id, nic)
    base = href("vms", vm.id)
    return _write(call, rv.nic, n, f"{base}/nics/{n.id}", ("vm", base, vm.id), (vm, index))


def nic_add(call: Call, id: str) -> Response:
    vm = call.vm(id)
    root = parse_body(call.body(), "nic")
    name = text(root, "name")
    if not name:
        raise incomplete("Nic", "name")
    permissions.require(call, "CONFIGURE_VM_NETWORK", [vm])
    if vm.status == "image_locked":
        raise conflict("Cannot add Interface: VM is locked. Please try again in a few minutes.")
    if any(n.name == name for n in vm.nics):
        raise conflict("Cannot add Interface. The VM Network Interface name is already in use.")
    interface = text(root, "interface") or "virtio"
    if interface not in NIC_INTERFACES:
        raise invalid_enum(interface, "NicInterface")
    profile_id = None
    ref = reference(root, "vnic_profile")
    if ref is not None:
        ref_id, pname = ref
        matches = [p for p in call.store.vnicprofiles.values() if p.id == ref_id or (pname and p.name == pname)]
        if not matches:
            raise entity_not_found(f"VnicProfile: {'id=' + ref_id if ref_id else 'name=' + str(pname)}")
        profile_id = matches[0].id
    mac = text(root, "mac/address") or call.store.next_mac()
    n = Nic(call.store.new_id(), name, mac.lower(), profile_id, interface)
    n.plugged = bool(boolean(text(root, "plugged"), True))
    if n.plugged:  # an unplugged NIC has no provider port until it is plugged (ActivateDeactivateVmNic)
        ovn_ports.allocate(call.sim, call.store, n)
    vm.nics.append(n)
    vm.touch()
    base = href("vms", vm.id)
    return _write(call, rv.nic, n, f"{base}/nics/{n.id}", ("vm", base, vm.id), (vm, len(vm.nics) - 1),
                  status=201, headers={"Location": f"{base}/nics/{n.id}"})


def nic_update(call: Call, id: str, nic: str) -> Response:
    """UpdateVmInterface: `plugged` plugs or unplugs the NIC, which allocates its provider port or
    deallocates it as ActivateDeactivateVmNicCommand does (`name` renames it)."""
    vm, n, index = _nic(call, id, nic)
    root = parse_body(call.body(), "nic")
    permissions.require(call, "CONFIGURE_VM_NETWORK", [vm])
    if vm.status == "image_locked":
        raise conflict("Cannot update Interface: VM is locked. Please try again in a few minutes.")
    name = text(root, "name")
    if name and name != n.name:
        if any(o.name == name for o in vm.nics):
            raise conflict("Cannot edit Interface. The VM Network Interface name is already in use.")
        n.name = name
    plugged = boolean(text(root, "plugged"))
    if plugged is not None and plugged != n.plugged:
        if plugged:
            ovn_ports.allocate(call.sim, call.store, n)
        else:
            ovn_ports.release(call.sim, [n])
        n.plugged = plugged
    vm.touch()
    base = href("vms", vm.id)
    return _write(call, rv.nic, n, f"{base}/nics/{n.id}", ("vm", base, vm.id), (vm, index))


def nic_remove(call: Call, id: str, nic: str) -> Response:
    vm, n, _ = _nic(call, id, nic)
    permissions.require(call, "CONFIGURE_VM_NETWORK", [vm])
    if vm.status not in ("down",) and n.plugged:
        raise conflict("Cannot remove Interface. The VM Network Interface is plugged to a running VM.")
    vm.nics.remove(n)
    ovn_ports.release(call.sim, [n])
    vm.touch()
    return call.xml(action_xml([], "complete", None, None))


def nic_reported_devices(call: Call, id: str, nic: str) -> Response:
    vm, n, _ = _nic(call, id, nic)
    return _write(call, rv.reported_devices, vm, True, n)


def vm_reported_devices(call: Call, id: str) -> Response:
    return _write(call, rv.reported_devices, call.vm(id), True)


# -- snapshots ----------------------------------------------------------------------------------------

def snapshots_list(call: Call, id: str) -> Response:
    return _write(call, rs.snapshots, call.vm(id), call.ctx)


def _snapshot(call: Call, vm_id: str, snap_id: str) -> tuple[Any, Any]:
    vm = call.vm(vm_id)
    for s in vm.snapshots:
        if s.id == snap_id:
            return vm, s
    raise not_found()


def snapshot_get(call: Call, id: str, snapshot: str) -> Response:
    vm, s = _snapshot(call, id, snapshot)
    return _write(call, rs.snapshot, vm, s, call.ctx)


def snapshot_add(call: Call, id: str) -> Response:
    vm = call.vm(id)
    root = parse_body(call.body(), "snapshot")
    description = raw_text(root, "description")
    if not description:
        raise incomplete("Snapshot", "description")
    permissions.require(call, "MANIPULATE_VM_SNAPSHOTS", [vm])
    persist = bool(boolean(text(root, "persist_memorystate"), False))
    job = call.store.start_job(f"Creating VM Snapshot {description} for VM {vm.name}", call.user,
                               call.correlation_id)
    chosen = [d.get("id") or text(d, "id") or "" for d in root.iterfind("disk_attachments/disk_attachment/disk")]
    snap = lifecycle.add_snapshot(call.store, vm, description, persist, job, rs.snapshot_config(vm),
                                  disk_ids=chosen or None)
    base = f"{href('vms', vm.id)}/snapshots/{snap.id}"
    return _write(call, rs.snapshot, vm, snap, call.ctx, status=202, headers={"Location": base})


def snapshot_remove(call: Call, id: str, snapshot: str) -> Response:
    vm, s = _snapshot(call, id, snapshot)
    permissions.require(call, "MANIPULATE_VM_SNAPSHOTS", [vm])
    lifecycle.remove_snapshot(call.store, vm, s)
    return call.xml(action_xml([], "complete", None, None))


# -- tags and permissions -----------------------------------------------------------------------------

def vm_tags(call: Call, id: str) -> Response:
    vm = call.vm(id)
    base = href("vms", vm.id)
    tags = [call.store.tags[t] for t in vm.tag_ids if t in call.store.tags]
    return call.many("tags", tags, lambda w, t, ctx: ri.tag(w, t, ctx, f"{base}/tags/{t.id}"))


def vm_tag_add(call: Call, id: str) -> Response:
    vm = call.vm(id)
    root = parse_body(call.body(), "tag")
    tag_id, name = root.get("id") or text(root, "id"), text(root, "name")
    if not tag_id and not name:
        raise incomplete("Tag", "id|name")
    permissions.require(call, "TAG_MANAGEMENT")     # tags are the system's: TagsCommandBase
    matches = [t for t in call.store.tags.values() if t.id == tag_id or (name and t.name == name)]
    if not matches:
        raise entity_not_found(f"Tag: {'id=' + tag_id if tag_id else 'name=' + str(name)}")
    tag = matches[0]
    if tag.id not in vm.tag_ids:
        vm.tag_ids.append(tag.id)
        vm.touch()
    base = href("vms", vm.id)
    return _write(call, ri.tag, tag, call.ctx, f"{base}/tags/{tag.id}", status=201,
                  headers={"Location": f"{base}/tags/{tag.id}"})


def vm_tag_remove(call: Call, id: str, tag: str) -> Response:
    vm = call.vm(id)
    if tag not in vm.tag_ids:
        raise not_found()
    permissions.require(call, "TAG_MANAGEMENT")
    vm.tag_ids.remove(tag)
    vm.touch()
    return call.xml(action_xml([], "complete", None, None))


def _permission(w: XmlWriter, vm: Any, user_id: str) -> None:
    perm_id = "9e" + user_id[2:]
    base = f"{href('vms', vm.id)}/permissions/{perm_id}"
    w.start("permission", base, perm_id)
    role = permissions.ROLES[vm.user_roles[user_id]][0]
    w.ref("role", href("roles", role), role)
    w.ref("user", href("users", user_id), user_id)
    w.ref("vm", href("vms", vm.id), vm.id)
    w.end("permission")


def permissions_list(call: Call, id: str) -> Response:
    vm = call.vm(id)
    return call.many("permissions", sorted(vm.user_roles), lambda w, uid, ctx: _permission(w, vm, uid))


def permission_add(call: Call, id: str) -> Response:
    """Give a VM to a user with a role (UserRole or UserVmManager): the user-level API then shows it to
    that user, and the role's action groups say what the user may do with it."""
    vm = call.vm(id)
    root = parse_body(call.body(), "permission")
    ref = reference(root, "user")
    if ref is None:
        raise incomplete("Permission", "user.id")
    role_ref = reference(root, "role")
    if role_ref is None:
        raise incomplete("Permission", "role.id|name")
    permissions.require(call, "MANIPULATE_PERMISSIONS", [vm])
    role = permissions.role_named(role_ref[1], role_ref[0])
    if role is None:
        raise entity_not_found(f"Role: {'id=' + role_ref[0] if role_ref[0] else 'name=' + str(role_ref[1])}")
    user_id, user_name = ref
    matches = [u for u in call.store.users.values() if u.id == user_id or u.user_name == user_name]
    if not matches:
        raise entity_not_found(f"User: id={user_id or user_name}")
    vm.user_roles[matches[0].id] = role
    vm.touch()
    return _write(call, _permission, vm, matches[0].id, status=201)


ROUTES: list[tuple[str, tuple[str, ...], Any]] = [
    ("/vms/<id>/nics", ("GET",), nics_list),
    ("/vms/<id>/nics", ("POST",), nic_add),
    ("/vms/<id>/nics/<nic>", ("GET",), nic_get),
    ("/vms/<id>/nics/<nic>", ("DELETE",), nic_remove),
    ("/vms/<id>/nics/<nic>", ("PUT",), nic_update),
    ("/vms/<id>/nics/<nic>/reporteddevices", ("GET",), nic_reported_devices),
    ("/vms/<id>/reporteddevices", ("GET",), vm_reported_devices),
    ("/vms/<id>/snapshots", ("GET",), snapshots_list),
    ("/vms/<id>/snapshots", ("POST",), snapshot_add),
    ("/vms/<id>/snapshots/<snapshot>", ("GET",), snapshot_get),
    ("/vms/<id>/snapshots/<snapshot>", ("DELETE",), snapshot_remove),
    ("/vms/<id>/tags", ("GET",), vm_tags),
    ("/vms/<id>/tags", ("POST",), vm_tag_add),
    ("/vms/<id>/tags/<tag>", ("DELETE",), vm_tag_remove),
    ("/vms/<id>/permissions", ("GET",), permissions_list),
    ("/vms/<id>/permissions", ("POST",), permission_add),
]
