"""Handlers for the API root and the infrastructure collections (read-mostly), plus tags, jobs,
users and the disk listing."""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Response

from . import permissions
from . import render_infra as ri
from . import render_storage as rs
from . import render_vm as rv
from .api_disks import disk_fields
from .call import Call
from .entities import ROOT_TAG_ID, Tag
from .errors import conflict, incomplete, not_found
from .render_common import action_xml, href
from .xmlin import parse_body, text
from .xmlwriter import XmlWriter, document


def _dc_name(call: Call, dc_id: str | None) -> str | None:
    dc = call.store.datacenters.get(dc_id or "")
    return dc.name if dc else None


def _fields(call: Call) -> dict[str, dict[str, Any]]:
    """Searchable fields per collection (a subset of the engine's *ConditionFieldAutoCompleter)."""
    s = call.store

    def cluster_dc(c: Any) -> str | None:
        return _dc_name(call, c.data_center_id)

    def cluster_name(cluster_id: str | None) -> str | None:
        c = s.clusters.get(cluster_id or "")
        return c.name if c else None

    common = {"name": lambda o: o.name, "description": lambda o: o.description, "id": lambda o: o.id}
    return {
        "datacenters": {**common, "status": lambda d: d.status, "local": lambda d: str(d.local).lower(),
                        "comment": lambda d: d.comment},
        "clusters": {**common, "datacenter": cluster_dc, "comment": lambda c: c.comment,
                     "cpu_type": lambda c: c.cpu_type},
        "hosts": {**common, "status": lambda h: h.status, "cluster": lambda h: cluster_name(h.cluster_id),
                  "datacenter": lambda h: _dc_name(call, s.clusters[h.cluster_id].data_center_id),
                  "address": lambda h: h.address},
        "storagedomains": {**common, "status": lambda d: d.status, "type": lambda d: d.type,
                           "datacenter": lambda d: _dc_name(call, d.data_center_id)},
        "networks": {**common, "datacenter": lambda n: _dc_name(call, n.data_center_id)},
        "instancetypes": common,
        "tags": {"name": lambda t: t.name, "id": lambda t: t.id, "description": lambda t: t.description},
        "jobs": {"id": lambda j: j.id, "status": lambda j: j.status, "description": lambda j: j.description,
                 "correlation_id": lambda j: j.correlation_id},
        "users": {"name": lambda u: u.name, "usrname": lambda u: u.user_name, "id": lambda u: u.id},
    }


def api_root(call: Call) -> Response:
    w = XmlWriter()
    ri.api_root(w, call.ctx)
    return call.xml(document(w.getvalue()))


def _simple(collection: str, tag: str, render: Any):
    """List and get handlers for a read-only top-level collection."""
    def list_(call: Call) -> Response:
        items = getattr(call.store, collection).values()
        if collection == "jobs":
            items = [j for j in items if call.user.admin or j.owner_id == call.user.id]
        fields = disk_fields(call) if collection == "disks" else _fields(call).get(collection)
        return call.many(tag, items, render, fields)

    def get(call: Call, id: str) -> Response:
        obj = call.get(getattr(call.store, collection), id)
        if collection == "jobs" and not (call.user.admin or obj.owner_id == call.user.id):
            raise not_found()
        return call.one(render, obj)
    return list_, get


def dc_clusters(call: Call, id: str) -> Response:
    dc = call.get(call.store.datacenters, id)
    items = [c for c in call.store.clusters.values() if c.data_center_id == dc.id]
    return call.many("clusters", items, lambda w, c, ctx: ri.cluster(w, c, ctx, f"{href('datacenters', dc.id)}/clusters/{c.id}"))


def dc_storagedomains(call: Call, id: str) -> Response:
    dc = call.get(call.store.datacenters, id)
    items = call.store.storage_domains_of(dc.id)
    base = href("datacenters", dc.id)
    return call.many("storage_domains", items,
                     lambda w, sd, ctx: ri.storage_domain(w, sd, ctx, f"{base}/storagedomains/{sd.id}"))


def dc_cluster(call: Call, dc: str, id: str) -> Response:
    c = call.get(call.store.clusters, id)
    if c.data_center_id != dc:
        raise not_found()
    return call.one(ri.cluster, c, f"{href('datacenters', dc)}/clusters/{c.id}")


def dc_storagedomain(call: Call, dc: str, id: str) -> Response:
    sd = call.get(call.store.storagedomains, id)
    if sd.data_center_id != dc:
        raise not_found()
    return call.one(ri.storage_domain, sd, f"{href('datacenters', dc)}/storagedomains/{sd.id}")


def dc_networks(call: Call, id: str) -> Response:
    dc = call.get(call.store.datacenters, id)
    return call.many("networks", [n for n in call.store.networks.values() if n.data_center_id == dc.id],
                     ri.network)


def cluster_networks(call: Call, id: str) -> Response:
    c = call.get(call.store.clusters, id)
    return call.many("networks", [n for n in call.store.networks.values()
                                  if n.data_center_id == c.data_center_id], ri.network)


def network_profiles(call: Call, id: str) -> Response:
    n = call.get(call.store.networks, id)
    return call.many("vnic_profiles", [p for p in call.store.vnicprofiles.values() if p.network_id == n.id],
                     ri.vnic_profile)


def sd_disks(call: Call, id: str) -> Response:
    sd = call.get(call.store.storagedomains, id)
    return call.many("disks", [d for d in call.store.disks.values() if d.storage_domain_id == sd.id], rs.disk)


def tag_add(call: Call) -> Response:
    root = parse_body(call.body(), "tag")
    name = text(root, "name")
    if not name:
        raise incomplete("Tag", "name")
    permissions.require(call, "TAG_MANAGEMENT")
    if call.store.by_name(call.store.tags, name):
        raise conflict("Cannot add Tag. Tag name is in use.")
    parent = root.find("parent")
    parent_id = ROOT_TAG_ID
    if parent is not None:
        pid = parent.get("id")
        pname = text(parent, "name")
        matches = [t for t in call.store.tags.values() if t.id == pid or (pname and t.name == pname)]
        if not matches:
            from .errors import entity_not_found
            raise entity_not_found(f"Tag: name={pname or pid}")
        parent_id = matches[0].id
    tag = Tag(call.store.new_id(), name, text(root, "description") or "", parent_id)
    call.store.tags[tag.id] = tag
    return call.one(ri.tag, tag, status=201, headers={"Location": href("tags", tag.id)})


def tag_remove(call: Call, id: str) -> Response:
    tag = call.get(call.store.tags, id)
    permissions.require(call, "TAG_MANAGEMENT")
    if tag.id == ROOT_TAG_ID:
        raise conflict("Cannot remove Tag. The root tag cannot be removed.")
    doomed = {tag.id}
    changed = True
    while changed:       # children go with their parent, as in the engine
        changed = False
        for t in call.store.tags.values():
            if t.parent_id in doomed and t.id not in doomed:
                doomed.add(t.id)
                changed = True
    for tag_id in doomed:
        del call.store.tags[tag_id]
    for vm in call.store.vms.values():
        if any(t in doomed for t in vm.tag_ids):
            vm.tag_ids = [t for t in vm.tag_ids if t not in doomed]
            vm.touch()
    return call.xml(action_xml([], "complete", None, None))


def _routes() -> list[tuple[str, tuple[str, ...], Any]]:
    routes: list[tuple[str, tuple[str, ...], Any]] = [("/", ("GET",), api_root)]
    for collection, tag, item, render in (
        ("datacenters", "data_centers", "datacenters", ri.data_center),
        ("clusters", "clusters", "clusters", ri.cluster),
        ("hosts", "hosts", "hosts", ri.host),
        ("storagedomains", "storage_domains", "storagedomains", ri.storage_domain),
        ("networks", "networks", "networks", ri.network),
        ("vnicprofiles", "vnic_profiles", "vnicprofiles", ri.vnic_profile),
        ("instancetypes", "instance_types", "instancetypes", rv.instance_type),
        ("disks", "disks", "disks", rs.disk),
        ("tags", "tags", "tags", ri.tag),
        ("jobs", "jobs", "jobs", ri.job),
        ("users", "users", "users", ri.user),
    ):
        list_, get = _simple(collection, tag, render)
        routes.append((f"/{item}", ("GET",), list_))
        routes.append((f"/{item}/<id>", ("GET",), get))
    routes += [
        ("/datacenters/<id>/clusters", ("GET",), dc_clusters),
        ("/datacenters/<id>/storagedomains", ("GET",), dc_storagedomains),
        ("/datacenters/<dc>/clusters/<id>", ("GET",), dc_cluster),
        ("/datacenters/<dc>/storagedomains/<id>", ("GET",), dc_storagedomain),
        ("/datacenters/<id>/networks", ("GET",), dc_networks),
        ("/clusters/<id>/networks", ("GET",), cluster_networks),
        ("/networks/<id>/vnicprofiles", ("GET",), network_profiles),
        ("/storagedomains/<id>/disks", ("GET",), sd_disks),
        ("/tags", ("POST",), tag_add),
        ("/tags/<id>", ("DELETE",), tag_remove),
    ]
    return routes


ROUTES = _routes()
