"""Handlers for the VM collection: list, get, add, update, remove and the power actions."""

from __future__ import annotations

import re
from typing import Any

from lxml import etree
from werkzeug.wrappers import Response

from . import lifecycle, permissions
from . import ovn_ports
from . import lifecycle_copies as copies
from . import render_vm as rv
from .call import Call
from .entities import BLANK_ID, Cluster, Template, Vm
from .errors import ApiError, conflict, entity_not_found, failed, incomplete, invalid_enum, not_found
from .render_common import action_xml, href
from .store import nic_addresses
from .xmlin import boolean, initialization, integer, parse_body, raw_text, reference, text, to_tree

NAME_RE = re.compile(r"^[\w.-]{1,64}$")
VM_TYPES = ("desktop", "server", "high_performance")
POWER_ACTIONS = ("start", "stop", "shutdown", "reboot", "suspend")


def vm_fields(call: Call) -> dict[str, Any]:
    """Searchable VM fields (a subset of VmConditionFieldAutoCompleter)."""
    s = call.store

    def cluster(v: Vm) -> str | None:
        c = s.clusters.get(v.cluster_id)
        return c.name if c else None

    def datacenter(v: Vm) -> str | None:
        dc = s.data_center_of_cluster(v.cluster_id)
        return dc.name if dc else None

    def host(v: Vm) -> str | None:
        h = s.hosts.get(v.host_id or "")
        return h.name if h else None

    def template(v: Vm) -> str | None:
        t = s.templates.get(v.template_id)
        return t.name if t else None

    def ips(v: Vm) -> list[str]:
        if not v.guest_reported:
            return []
        return [a for n in v.nics for a in nic_addresses(n.mac)]

    return {
        "name": lambda v: v.name, "description": lambda v: v.description, "comment": lambda v: v.comment,
        "id": lambda v: v.id, "status": lambda v: v.status.replace("_", ""), "cluster": cluster,
        "datacenter": datacenter, "host": host, "template": template,
        "tag": lambda v: [s.tags[t].name for t in v.tag_ids if t in s.tags],
        "fqdn": lambda v: rv._fqdn(v) if v.guest_reported else None, "ip": ips, "type": lambda v: v.vm_type,
        "os": lambda v: v.os_type, "memory": lambda v: v.memory // (1024 * 1024),
    }


def vms_list(call: Call) -> Response:
    visible = [v for v in call.store.vms_sorted() if call.sees(v)]
    fields = vm_fields(call)
    query = call.request.args.get("search")
    if query:
        # The engine's status values in searches are written without underscores too ("imagelocked").
        query = re.sub(r"(status\s*!?=\s*)(\w+)", lambda m: m.group(1) + m.group(2).replace("_", ""), query,
                       flags=re.IGNORECASE)
    return call.many("vms", visible, rv.vm, fields, query=query)


def vm_get(call: Call, id: str) -> Response:
    return call.one(rv.vm, call.vm(id))


# -- add and update -----------------------------------------------------------------------------------

def _cluster(call: Call, root: etree._Element) -> Cluster | None:
    ref = reference(root, "cluster")
    if ref is None:
        return None
    ref_id, name = ref
    if ref_id:
        c = call.store.clusters.get(ref_id)
        if c is None:
            raise entity_not_found(f"Cluster: id={ref_id}")
        return c
    found = call.store.by_name(call.store.clusters, name or "")
    if not found:
        raise entity_not_found(f"Cluster: name={name}")
    return found[0]


def _template(call: Call, root: etree._Element, cluster: Cluster | None) -> Template:
    ref = reference(root, "template")
    if ref is None:
        raise incomplete("Vm", "template.id|name")
    ref_id, name = ref
    if ref_id:
        t = call.store.templates.get(ref_id)
        if t is None:
            raise entity_not_found(f"Template: id={ref_id}")
        return t
    found = call.store.by_name(call.store.templates, name or "")
    if cluster is not None and len(found) > 1:
        same_dc = [t for t in found if t.id == BLANK_ID or (t.cluster_id and call.store.clusters[
            t.cluster_id].data_center_id == cluster.data_center_id)]
        found = same_dc or found
    if not found:
        raise entity_not_found(f"Template: name={name}")
    return max(found, key=lambda t: t.version_number)


def _sizing(call: Call, root: etree._Element) -> dict[str, Any]:
    """Fields a client may set on add or update."""
    fields: dict[str, Any] = {}
    if (value := raw_text(root, "description")) is not None:
        fields["description"] = value
    if (value := raw_text(root, "comment")) is not None:
        fields["comment"] = value
    if (memory := integer(text(root, "memory"), "memory")) is not None:
        if memory < 1024 * 1024:
            raise failed(400, "Cannot add VM. Memory size must be at least 1 MB.")
        fields["memory"] = memory
    for name in ("sockets", "cores", "threads"):
        if (n := integer(text(root, f"cpu/topology/{name}"), name)) is not None:
            if n < 1:
                raise failed(400, f"Cannot add VM. The number of CPU {name} must be positive.")
            fields[name] = n
    if (vm_type := text(root, "type")) is not None:
        if vm_type not in VM_TYPES:
            raise invalid_enum(vm_type, "VmType")
        fields["vm_type"] = vm_type
    if (os_type := text(root, "os/type")) is not None:
        fields["os_type"] = os_type
    for flag in ("stateless", "delete_protected"):
        if (value := boolean(text(root, flag))) is not None:
            fields[flag] = value
    if (init := initialization(root)) is not None:
        fields["initialization"] = init
    ref = reference(root, "instance_type")
    if ref is not None:
        ref_id, name = ref
        matches = [it for it in call.store.instancetypes.values() if it.id == ref_id or it.name == name]
        if not matches:
            raise entity_not_found(f"InstanceType: {'id=' + ref_id if ref_id else 'name=' + str(name)}")
        it = matches[0]
        fields.setdefault("memory", it.memory)
        fields.setdefault("sockets", it.sockets)
        fields.setdefault("cores", it.cores)
        fields["instance_type_id"] = it.id
    return fields


def _check_name(call: Call, name: str, verb: str, vm: Vm | None = None) -> None:
    if not NAME_RE.match(name):
        raise failed(400, f"Cannot {verb} VM. The given name contains special characters. Only lower-case and "
                          "upper-case letters, numbers, '_', '-', '.' are allowed.")
    for other in call.store.vms.values():
        if other.name == name and other is not vm:
            raise conflict(f"Cannot {verb} VM. The VM name is already in use, please choose a unique name and "
                           "try again.")


def vm_add(call: Call) -> Response:
    root = parse_body(call.body(), "vm")
    name = raw_text(root, "name")
    if not name:
        raise incomplete("Vm", "name")
    cluster = _cluster(call, root)
    if root.find("snapshots/snapshot") is not None:
        return _vm_from_snapshot(call, root, name, cluster)
    template = _template(call, root, cluster)
    if cluster is None:
        if template.cluster_id is None:
            raise incomplete("Vm", "cluster.id|name")
        cluster = call.store.clusters[template.cluster_id]
    if template.cluster_id:
        tdc = call.store.clusters[template.cluster_id].data_center_id
        if tdc != cluster.data_center_id:
            raise conflict("Cannot add VM. The relevant Template doesn't exist in the Cluster's Data Center.")
    if template.status != "ok":
        raise conflict("Cannot add VM. Template is locked.")
    _check_name(call, name, "add")
    fields = _sizing(call, root)
    clone = bool(boolean(call.request.args.get("clone"), False))
    vm = lifecycle.create_vm(call.store, name=name, cluster_id=cluster.id, template=template, owner=call.user,
                             clone=clone, **fields)
    call.store.start_job(f"Creating VM {name} from Template {template.name} in Cluster {cluster.name}",
                         call.user, call.correlation_id)
    return call.created(rv.vm, vm, href("vms", vm.id), ready=lambda: vm.status != "image_locked",
                        gone=lambda: vm.id not in call.store.vms)


def _vm_from_snapshot(call: Call, root: etree._Element, name: str, cluster: Cluster | None) -> Response:
    """`POST /vms` naming a snapshot: AddVmFromSnapshot, a VM whose disks are copies of the snapshot's."""
    snap_el = root.find("snapshots/snapshot")
    snap_id = snap_el.get("id") or text(snap_el, "id") if snap_el is not None else None
    found = [(vm, s) for vm in call.store.vms.values() for s in vm.snapshots if s.id == snap_id]
    if not found or not call.sees(found[0][0]):
        raise failed(400, "Cannot add VM. VM's Snapshot does not exist.")
    source, snap = found[0]
    if cluster is None:
        cluster = call.store.clusters[source.cluster_id]
    permissions.require(call, "CREATE_VM", [source])
    _check_name(call, name, "add")
    vm = copies.clone_from_snapshot(call.store, source, snap, name=name, cluster_id=cluster.id, owner=call.user,
                                    **_sizing(call, root))
    call.store.start_job(f"Creating VM {name} from Snapshot {snap.description} in Cluster {cluster.name}",
                         call.user, call.correlation_id)
    return call.created(rv.vm, vm, href("vms", vm.id), ready=lambda: vm.status != "image_locked",
                        gone=lambda: vm.id not in call.store.vms)


def vm_update(call: Call, id: str) -> Response:
    vm = call.vm(id)
    root = parse_body(call.body(), "vm")
    permissions.require(call, "EDIT_VM_PROPERTIES", [vm])
    if vm.status == "image_locked":
        raise conflict("Cannot edit VM: VM is locked. Please try again in a few minutes.")
    name = raw_text(root, "name")
    if name is not None and name != vm.name:
        _check_name(call, name, "edit", vm)
        vm.name = name
        call.store.invalidate_vm_order()
    fields = _sizing(call, root)
    if "initialization" in fields:
        merged = dict(vm.initialization or {})
        merged.update(fields.pop("initialization"))
        vm.initialization = merged
    for key, value in fields.items():
        setattr(vm, key, value)
    vm.touch()
    return call.one(rv.vm, vm)


def vm_remove(call: Call, id: str) -> Response:
    vm = call.vm(id)      # the engine reads the VM first: one the user cannot see is 404, not 403
    permissions.require(call, "DELETE_VM", [vm])
    detach_only = bool(boolean(call.request.args.get("detach_only"), False))
    lifecycle.remove(call.store, vm, detach_only)
    ovn_ports.release(call.sim, vm.nics)
    job = call.store.start_job(f"Removing VM {vm.name} from system", call.user, call.correlation_id)
    call.store.finish_job(job, call.store.now())
    if boolean(call.request.args.get("async"), False) or "202-accepted" in call.request.headers.get("Expect", ""):
        return Response(status=202)
    return call.xml(action_xml([], "complete", job.id, None))


# -- actions ------------------------------------------------------------------------------------------

def _action_body(call: Call) -> etree._Element:
    data = call.body()
    if not data.strip():
        return etree.Element("action")
    return parse_body(data, "action")


ACTION_GROUPS = {"start": "RUN_VM", "stop": "STOP_VM", "shutdown": "SHUT_DOWN_VM", "reboot": "REBOOT_VM",
                 "suspend": "HIBERNATE_VM"}


def vm_action(call: Call, id: str, action: str) -> Response:
    if action in ACTION_GROUPS:
        vm = permissions.vm_for_command(call, id, ACTION_GROUPS[action])
    else:
        vm = call.vm(id)
    if action not in rv.VM_ACTIONS:
        raise not_found()
    if action not in POWER_ACTIONS:
        raise ApiError(400, "Operation Failed",
                       f"[The simulator does not implement the '{action}' action.]")
    root = _action_body(call)
    echo = [(c.tag, to_tree(c)) for c in root if isinstance(c.tag, str) and c.tag != "vm"]
    store = call.store
    verbs = {"start": "Launching VM", "stop": "Stopping VM", "shutdown": "Shutting down VM",
             "reboot": "Rebooting VM", "suspend": "Suspending VM"}
    job = store.start_job(f"{verbs[action]} {vm.name}", call.user, call.correlation_id)
    reason = text(root, "reason")
    try:
        if action == "start":
            use_cloud_init = boolean(text(root, "use_cloud_init"), False)
            use_sysprep = boolean(text(root, "use_sysprep"), False)
            if use_cloud_init and use_sysprep:
                raise conflict("Cannot run VM. Cannot use Cloud-Init and Sysprep simultaneously.")
            run_vm = root.find("vm")
            init = initialization(run_vm) if use_cloud_init or boolean(text(root, "use_initialization")) else None
            lifecycle.start(store, vm, job, init, run_once=run_vm is not None)
        elif action == "stop":
            lifecycle.stop(store, vm, job, reason)
        elif action == "shutdown":
            lifecycle.shutdown(store, vm, job, reason)
        elif action == "reboot":
            lifecycle.reboot(store, vm, job)
        else:
            lifecycle.suspend(store, vm, job)
    except ApiError:
        store.finish_job(job, store.now(), "failed")
        raise
    return call.xml(action_xml(echo, "complete", job.id, ("vm", href("vms", vm.id), vm.id)))


ROUTES: list[tuple[str, tuple[str, ...], Any]] = [
    ("/vms", ("GET",), vms_list),
    ("/vms", ("POST",), vm_add),
    ("/vms/<id>", ("GET",), vm_get),
    ("/vms/<id>", ("PUT",), vm_update),
    ("/vms/<id>", ("DELETE",), vm_remove),
    ("/vms/<id>/<any(" + ",".join(rv.VM_ACTIONS) + "):action>", ("POST",), vm_action),
]
