"""Handlers for templates: listing and search, templates made from VMs, removal, and what hangs off a
template (disk attachments, NICs)."""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Response

from . import lifecycle_storage as ls
from . import permissions
from . import render_storage as rs
from . import render_vm as rv
from .api_vms import NAME_RE
from .call import Call
from .entities import BLANK_ID, Template, Vm
from .errors import ApiError, conflict, entity_not_found, failed, incomplete, not_found
from .render_common import action_xml, href
from .xmlin import parse_body, raw_text, reference
from .xmlwriter import XmlWriter, document


def template_fields(call: Call) -> dict[str, Any]:
    """Searchable template fields (a subset of VmTemplateConditionFieldAutoCompleter)."""
    s = call.store

    def cluster(t: Template) -> str | None:
        c = s.clusters.get(t.cluster_id or "")
        return c.name if c else None

    def datacenter(t: Template) -> str | None:
        dc = s.data_center_of_template(t)
        return dc.name if dc else None

    return {"name": lambda t: t.name, "description": lambda t: t.description, "id": lambda t: t.id,
            "comment": lambda t: t.comment, "status": lambda t: t.status, "cluster": cluster,
            "datacenter": datacenter}


def _sorted(call: Call) -> list[Template]:
    """Blank first, then by name, as the engine lists them."""
    ts = call.store.templates.values()
    return sorted(ts, key=lambda t: (t.id != BLANK_ID, t.name.lower(), t.version_number))


def templates_list(call: Call) -> Response:
    seen = [t for t in _sorted(call) if permissions.sees_template(call, t)]
    return call.many("templates", seen, rv.template, template_fields(call))


def _template(call: Call, id: str) -> Template:
    """A template the caller sees (the user-level API finds no other: 404)."""
    template = call.get(call.store.templates, id)
    if not permissions.sees_template(call, template):
        raise not_found()
    return template


def _require_on(call: Call, group: str, template: Template) -> None:
    """The engine's 403 unless the caller holds `group` on the system or through a role on the template."""
    role = template.user_roles.get(call.user.id)
    if role is not None and group in permissions.ROLES[role][1]:
        return
    permissions.require(call, group)


def template_get(call: Call, id: str) -> Response:
    return call.one(rv.template, _template(call, id))


def template_update(call: Call, id: str) -> Response:
    """`PUT /templates/{id}` (UpdateVmTemplate): name, description and comment; a name must stay unique in
    its data center."""
    template = _template(call, id)
    root = parse_body(call.body(), "template")
    _require_on(call, "EDIT_TEMPLATE_PROPERTIES", template)
    name = raw_text(root, "name")
    if name is not None and name != template.name:
        if not NAME_RE.match(name):
            raise failed(400, "Cannot edit Template. The given name contains special characters. Only lower-case "
                              "and upper-case letters, numbers, '_', '-', '.' are allowed.")
        dc = call.store.data_center_of_template(template)
        if any(o.name == name and o is not template and call.store.data_center_of_template(o) == dc
               for o in call.store.templates.values()):
            raise conflict("Cannot edit Template. The Template name is already in use, please choose a unique name "
                           "and try again.")
        template.name = name
    for field_name in ("description", "comment"):
        value = raw_text(root, field_name)
        if value is not None:
            setattr(template, field_name, value)
    return call.one(rv.template, template)


def template_permissions(call: Call, id: str) -> Response:
    template = _template(call, id)
    held = [(g, r, True) for g, r in sorted(template.group_roles.items())] + \
        [(u, r, False) for u, r in sorted(template.user_roles.items())]
    return call.many("permissions", held, lambda w, p, ctx: rv.template_permission(w, template, *p))


def template_permission_add(call: Call, id: str) -> Response:
    """Share a template with a user or a group (Everyone) with a role (UserTemplateBasedVm: may make VMs
    from it, so the user-level API shows it)."""
    template = _template(call, id)
    root = parse_body(call.body(), "permission")
    user_ref, group_ref = reference(root, "user"), reference(root, "group")
    if user_ref is None and group_ref is None:
        raise incomplete("Permission", "user|group.id")
    role_ref = reference(root, "role")
    if role_ref is None or not role_ref[0]:
        raise incomplete("Permission", "role.id")
    _require_on(call, "MANIPULATE_PERMISSIONS", template)
    role = permissions.role_named(None, role_ref[0])
    if role is None:
        raise entity_not_found(f"Role: id={role_ref[0]}")
    if group_ref is not None:
        if group_ref[0] != permissions.EVERYONE:
            raise entity_not_found(f"Group: id={group_ref[0] or group_ref[1]}")
        template.group_roles[permissions.EVERYONE] = role
        principal, group = permissions.EVERYONE, True
    else:
        user_id, user_name = user_ref  # type: ignore[misc]
        matches = [u for u in call.store.users.values() if u.id == user_id or u.user_name == user_name]
        if not matches:
            raise entity_not_found(f"User: id={user_id or user_name}")
        template.user_roles[matches[0].id] = role
        principal, group = matches[0].id, False
    w = XmlWriter()
    rv.template_permission(w, template, principal, role, group)
    return call.xml(document(w.getvalue()), 201)


def template_permission_remove(call: Call, id: str, permission: str) -> Response:
    template = _template(call, id)
    held = {**{("9e" + g[2:-2] + template.id[-2:]): ("group", g) for g in template.group_roles},
            **{("9e" + u[2:-2] + template.id[-2:]): ("user", u) for u in template.user_roles}}
    if permission not in held:
        raise not_found()
    _require_on(call, "MANIPULATE_PERMISSIONS", template)
    kind, principal = held[permission]
    (template.group_roles if kind == "group" else template.user_roles).pop(principal, None)
    return call.xml(action_xml([], "complete", None, None))


def _source_vm(call: Call, ref: tuple[str | None, str | None]) -> Vm:
    vm_id, name = ref
    if vm_id:
        vm = call.store.vms.get(vm_id)
        if vm is None or not call.sees(vm):
            raise entity_not_found(vm_id)
        return vm
    found = [v for v in call.store.vms.values() if v.name == name and call.sees(v)]
    if not found:
        raise entity_not_found(str(name))
    return found[0]


def template_add(call: Call) -> Response:
    """`POST /templates` from a VM (`<vm id=..>` or by name): 202 with the template `locked` while the
    VM's disks are copied (201 at once for a VM without disks)."""
    root = parse_body(call.body(), "template")
    name = raw_text(root, "name")
    if not name:
        raise incomplete("Template", "name")
    ref = reference(root, "vm")
    if ref is None:
        raise incomplete("Template", "vm.id|name")
    if not NAME_RE.match(name):
        raise failed(400, "Cannot add Template. The given name contains special characters. Only lower-case and "
                          "upper-case letters, numbers, '_', '-', '.' are allowed.")
    vm = _source_vm(call, ref)
    permissions.require(call, "CREATE_TEMPLATE")    # on the cluster: TemplateCreator, which users lack
    snapshot = None
    snapshot_ref = next(iter(root.iterfind("vm/snapshots/snapshot")), None)
    if snapshot_ref is not None:                    # TemplatesService.Add.FromVmSnapshot (4.3)
        snapshot_id = snapshot_ref.get("id") or raw_text(snapshot_ref, "id")
        if not snapshot_id:
            raise incomplete("Template", "vm.snapshots.snapshot.id")
        snapshot = next((s for s in vm.snapshots if s.id == snapshot_id), None)
        if snapshot is None:
            raise entity_not_found(snapshot_id)
    cluster_id = vm.cluster_id
    cluster_ref = reference(root, "cluster")
    if cluster_ref is not None:
        matches = [c for c in call.store.clusters.values() if c.id == cluster_ref[0] or c.name == cluster_ref[1]]
        if not matches:
            raise entity_not_found(str(cluster_ref[0] or cluster_ref[1]))
        cluster_id = matches[0].id
    store = call.store
    job = store.start_job(f"Creating Template {name} from VM {vm.name}", call.user, call.correlation_id)
    try:
        template = ls.create_template(store, vm, name=name, description=raw_text(root, "description") or "",
                                      comment=raw_text(root, "comment") or "", cluster_id=cluster_id,
                                      owner=call.user, job=job, snapshot=snapshot)
    except ApiError:
        store.finish_job(job, store.now(), "failed")
        raise
    return call.created(rv.template, template, href("templates", template.id),
                        ready=lambda: template.status == "ok", gone=lambda: template.id not in store.templates)


def template_remove(call: Call, id: str) -> Response:
    template = _template(call, id)
    _require_on(call, "DELETE_TEMPLATE", template)   # TemplateOwner, which only a template's creator holds
    ls.remove_template(call.store, template)
    job = call.store.start_job(f"Removing Template {template.name}", call.user, call.correlation_id)
    call.store.finish_job(job, call.store.now())
    if "202-accepted" in call.request.headers.get("Expect", ""):
        return Response(status=202)
    return call.xml(action_xml([], "complete", job.id, None))


def template_attachments(call: Call, id: str) -> Response:
    t = _template(call, id)
    w = XmlWriter()
    rs.disk_attachments(w, t.attachments, href("templates", t.id), "template", t.id, call.ctx, False)
    return call.xml(document(w.getvalue()))


def template_attachment(call: Call, id: str, disk: str) -> Response:
    t = call.get(call.store.templates, id)
    for att in t.attachments:
        if att.disk_id == disk:
            w = XmlWriter()
            rs.disk_attachment(w, att, href("templates", t.id), "template", t.id, call.ctx, False)
            return call.xml(document(w.getvalue()))
    raise not_found()


def template_nics(call: Call, id: str) -> Response:
    t = call.get(call.store.templates, id)
    base = href("templates", t.id)
    return call.many("nics", t.nics, lambda w, n, ctx: rv.nic(w, n, f"{base}/nics/{n.id}",
                                                              ("template", base, t.id), None))


ROUTES: list[tuple[str, tuple[str, ...], Any]] = [
    ("/templates", ("GET",), templates_list),
    ("/templates", ("POST",), template_add),
    ("/templates/<id>", ("GET",), template_get),
    ("/templates/<id>", ("PUT",), template_update),
    ("/templates/<id>", ("DELETE",), template_remove),
    ("/templates/<id>/permissions", ("GET",), template_permissions),
    ("/templates/<id>/permissions", ("POST",), template_permission_add),
    ("/templates/<id>/permissions/<permission>", ("DELETE",), template_permission_remove),
    ("/templates/<id>/diskattachments", ("GET",), template_attachments),
    ("/templates/<id>/diskattachments/<disk>", ("GET",), template_attachment),
    ("/templates/<id>/nics", ("GET",), template_nics),
]
