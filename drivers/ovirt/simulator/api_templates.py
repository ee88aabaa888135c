"""Handlers for templates: listing and search, templates made from VMs, removal, and what hangs off a
template (disk attachments, NICs)."""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Response

from . import lifecycle_storage as ls
from . import permissions
from . import render_storage as rs
from . import render_vm as rv
from .call import Call
from .entities import BLANK_ID, Template, Vm
from .errors import ApiError, entity_not_found, incomplete, not_found
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
    return call.many("templates", _sorted(call), rv.template, template_fields(call))


def template_get(call: Call, id: str) -> Response:
    return call.one(rv.template, call.get(call.store.templates, id))


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
    vm = _source_vm(call, ref)
    permissions.require(call, "CREATE_TEMPLATE")    # on the cluster: TemplateCreator, which users lack
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
                                      owner=call.user, job=job)
    except ApiError:
        store.finish_job(job, store.now(), "failed")
        raise
    return call.created(rv.template, template, href("templates", template.id),
                        ready=lambda: template.status == "ok", gone=lambda: template.id not in store.templates)


def template_remove(call: Call, id: str) -> Response:
    template = call.get(call.store.templates, id)
    permissions.require(call, "DELETE_TEMPLATE")    # TemplateOwner, which only a template's creator holds
    ls.remove_template(call.store, template)
    job = call.store.start_job(f"Removing Template {template.name}", call.user, call.correlation_id)
    call.store.finish_job(job, call.store.now())
    if "202-accepted" in call.request.headers.get("Expect", ""):
        return Response(status=202)
    return call.xml(action_xml([], "complete", job.id, None))


def template_attachments(call: Call, id: str) -> Response:
    t = call.get(call.store.templates, id)
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
    ("/templates/<id>", ("DELETE",), template_remove),
    ("/templates/<id>/diskattachments", ("GET",), template_attachments),
    ("/templates/<id>/diskattachments/<disk>", ("GET",), template_attachment),
    ("/templates/<id>/nics", ("GET",), template_nics),
]
