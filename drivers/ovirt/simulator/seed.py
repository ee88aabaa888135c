"""Loading the seed file (seed.json beside this module, shipped in the package) and generating VMs for scale tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from . import lifecycle
from .entities import (
    BLANK_ID, Attachment, Cluster, DataCenter, Disk, GiB, Host, InstanceType, MiB, Network, Nic,
    StorageDomain, Tag, Template, User, VnicProfile,
)
from .permissions import EVERYONE, TEMPLATE_USE_ROLE
from .store import Store

DEFAULT_SEED = Path(__file__).resolve().parent / "seed.json"
EPOCH_2008 = 1207008000.0     # the Blank template's creation time on every engine


def load(store: Store, seed_path: str | Path | None = None) -> dict[str, Any]:
    """Fill `store` from the seed file (the packaged default when `seed_path` is None)."""
    path = Path(seed_path) if seed_path else DEFAULT_SEED
    data = json.loads(path.read_text(encoding="utf-8"))
    now = store.now()
    for u in data.get("users", []):
        store.users[u["id"]] = User(u["id"], u["user_name"], u["password"], bool(u.get("admin")),
                                    u.get("first_name", ""), u.get("last_name", ""))
    store.templates[BLANK_ID] = Template(BLANK_ID, "Blank", "Blank template", memory=GiB, vm_type="desktop",
                                         version_number=1, version_name="", creation_time=EPOCH_2008,
                                         group_roles={EVERYONE: TEMPLATE_USE_ROLE})
    for dc_data in data.get("data_centers", []):
        dc = DataCenter(dc_data["id"], dc_data["name"], dc_data.get("description", ""),
                        mac_pool_id=store.mac_pool_id)
        store.datacenters[dc.id] = dc
        for c in dc_data.get("clusters", []):
            store.clusters[c["id"]] = Cluster(c["id"], c["name"], dc.id, c.get("description", ""),
                                              mac_pool_id=store.mac_pool_id)
            for h in c.get("hosts", []):
                store.hosts[h["id"]] = Host(h["id"], h["name"], c["id"], h["address"])
        for index, sd in enumerate(dc_data.get("storage_domains", [])):
            store.storagedomains[sd["id"]] = StorageDomain(sd["id"], sd["name"], dc.id, address=sd.get("address", ""),
                                                           path=sd.get("path", ""), master=index == 0)
        for n in dc_data.get("networks", []):
            store.networks[n["id"]] = Network(n["id"], n["name"], dc.id, n.get("description", ""))
            for p in n.get("vnic_profiles", []):
                store.vnicprofiles[p["id"]] = VnicProfile(p["id"], p["name"], n["id"])
    for it in data.get("instance_types", []):
        store.instancetypes[it["id"]] = InstanceType(it["id"], it["name"], it.get("description", ""),
                                                     int(it["memory_mib"]) * MiB, int(it.get("sockets", 1)),
                                                     int(it.get("cores", 1)), creation_time=EPOCH_2008)
    for t in data.get("templates", []):
        template = Template(t["id"], t["name"], t.get("description", ""), cluster_id=t.get("cluster"),
                            memory=int(t.get("memory_mib", 1024)) * MiB, sockets=int(t.get("sockets", 1)),
                            os_type=t.get("os_type", "other"), vm_type=t.get("type", "server"),
                            creation_time=now, copy_seconds=float(t.get("copy_seconds", 8.0)),
                            group_roles={EVERYONE: TEMPLATE_USE_ROLE} if t.get("public", True) else {})
        for d in t.get("disks", []):
            disk = Disk(d["id"], d["name"], d["storage_domain"], int(d["size_gib"] * GiB),
                        actual_size=int(float(d.get("actual_gib", 1)) * GiB), image_id=store.new_id(),
                        template_id=template.id)
            store.disks[disk.id] = disk
            template.attachments.append(Attachment(disk.id))
        for n in t.get("nics", []):
            template.nics.append(Nic(n["id"], n["name"], "", n.get("vnic_profile")))
        store.templates[template.id] = template
    for tag in data.get("tags", []):
        store.tags[tag["id"]] = Tag(tag["id"], tag["name"], tag.get("description", ""))
    for v in data.get("vms", []):
        template = store.templates[v.get("template", BLANK_ID)]
        owner = store.users[v.get("owner", next(iter(store.users)))]
        vm = lifecycle.create_vm(store, name=v["name"], cluster_id=v["cluster"], template=template, owner=owner,
                                 settle_now=True, vm_id=v.get("id"))
        if v.get("status") == "up":
            _make_up(store, vm, now)
    return data


def _make_up(store: Store, vm: Any, now: float) -> None:
    host = store.host_for(vm.cluster_id)
    vm.status = "up"
    vm.host_id = host.id if host else None
    vm.start_time = now
    vm.guest_reported = True
    vm.touch()


def add_vms(store: Store, count: int) -> None:
    """Seed `count` VMs for scale tests: spread over the clusters and the cloud-image templates,
    two in three `up` with guest-reported addresses, the rest `down`. Ids, MACs and addresses are
    deterministic (from the VM's index)."""
    if count <= 0:
        return
    admin = next(u for u in store.users.values() if u.admin)
    now = store.now()
    templates = [t for t in store.templates.values() if t.cluster_id and t.attachments]
    for i in range(1, count + 1):
        template = templates[i % len(templates)] if templates else store.blank()
        cluster_id = template.cluster_id or next(iter(store.clusters))
        vm = lifecycle.create_vm(store, name=f"vm-{i:05d}", cluster_id=cluster_id, template=template,
                                 owner=admin, settle_now=True, index=i,
                                 vm_id=f"5eed0000-0000-4000-8000-{i:012x}")
        if i % 3:
            _make_up(store, vm, now)
    store.reserve_vm_index(count)
