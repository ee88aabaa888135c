"""XML for the infrastructure: the API root, data centers, clusters, hosts, storage domains,
networks, vNIC profiles, users, tags and jobs. Element names and order follow the real engine's
responses (see the captures under shared/reference/ovirt-captures)."""

from __future__ import annotations

from .clock import iso
from .entities import (
    BLANK_ID, ROOT_TAG_ID, Cluster, DataCenter, Host, Job, Network, StorageDomain, Tag, User,
    VnicProfile,
)
from .render_common import Ctx, href
from .xmlwriter import API, XmlWriter

SCHEDULING_POLICY_ID = "b4ed2332-a7ac-4d5f-9596-99a439cb2812"
NETWORK_FILTER_ID = "5a55d534-0151-0329-0198-00000000039d"
PRODUCT_VERSION = (4, 5, 5, 1)   # major, minor, build, revision

API_COLLECTIONS = (
    "clusters", "datacenters", "disks", "events", "hosts", "icons", "instancetypes", "jobs",
    "macpools", "networks", "permissions", "roles", "storagedomains", "tags", "templates", "users",
    "vms", "vnicprofiles",
)
SEARCHABLE = ("clusters", "datacenters", "disks", "events", "hosts", "instancetypes", "jobs",
              "networks", "storagedomains", "tags", "templates", "users", "vms")


def _version(w: XmlWriter, major: int, minor: int) -> None:
    w.start("version")
    w.leaf("major", major)
    w.leaf("minor", minor)
    w.end("version")


def api_root(w: XmlWriter, ctx: Ctx) -> None:
    store, user = ctx.store, ctx.user
    w.start("api")
    for rel in API_COLLECTIONS:
        w.link(rel, f"{API}/{rel}")
        if rel in SEARCHABLE:
            w.link(f"{rel}/search", f"{API}/{rel}?search={{query}}")
    major, minor, build, revision = PRODUCT_VERSION
    w.start("product_info")
    w.leaf("instance_id", store.engine_id)
    w.leaf("name", "oVirt Engine")
    w.leaf("vendor", "ovirt.org")
    w.start("version")
    w.leaf("build", build)
    w.leaf("full_version", f"{major}.{minor}.{build}-{revision}.el8")
    w.leaf("major", major)
    w.leaf("minor", minor)
    w.leaf("revision", 0)
    w.end("version")
    w.end("product_info")
    w.start("special_objects")
    w.ref("blank_template", href("templates", BLANK_ID), BLANK_ID)
    w.ref("root_tag", href("tags", ROOT_TAG_ID), ROOT_TAG_ID)
    w.end("special_objects")
    vms = store.vms.values()
    active_vms = sum(1 for v in vms if v.status != "down")
    w.start("summary")
    for name, active, total in (
        ("hosts", sum(1 for h in store.hosts.values() if h.status == "up"), len(store.hosts)),
        ("storage_domains", sum(1 for s in store.storagedomains.values() if s.status == "active"),
         len(store.storagedomains)),
        ("users", len(store.users), len(store.users)),
        ("vms", active_vms, len(store.vms)),
    ):
        w.start(name)
        w.leaf("active", active)
        w.leaf("total", total)
        w.end(name)
    w.end("summary")
    w.leaf("time", iso(store.now()))
    if user is not None:
        w.ref("authenticated_user", href("users", user.id), user.id)
        w.ref("effective_user", href("users", user.id), user.id)
    w.end("api")


def data_center(w: XmlWriter, dc: DataCenter, ctx: Ctx) -> None:
    base = href("datacenters", dc.id)
    w.start("data_center", base, dc.id)
    w.actions(base, ("cleanfinishedtasks", "forceremove"))
    w.leaf("name", dc.name)
    w.leaf("description", dc.description)
    w.links(base, ("quotas", "iscsibonds", "qoss", "clusters", "networks", "storagedomains", "permissions"))
    w.leaf("local", dc.local)
    w.leaf("quota_mode", "disabled")
    w.leaf("status", dc.status)
    w.leaf("storage_format", dc.storage_format)
    w.start("supported_versions")
    _version(w, *dc.version)
    w.end("supported_versions")
    _version(w, *dc.version)
    w.ref("mac_pool", href("macpools", dc.mac_pool_id), dc.mac_pool_id)
    w.end("data_center")


def cluster(w: XmlWriter, c: Cluster, ctx: Ctx, base: str | None = None) -> None:
    base = base or href("clusters", c.id)
    w.start("cluster", base, c.id)
    w.actions(base, ("resetemulatedmachine", "upgrade", "syncallnetworks"))
    w.leaf("name", c.name)
    w.leaf("description", c.description)
    w.leaf("comment", c.comment)
    w.links(base, ("affinitygroups", "glusterhooks", "glustervolumes", "enabledfeatures",
                   "externalnetworkproviders", "cpuprofiles", "networkfilters", "networks", "permissions"))
    w.leaf("ballooning_enabled", True)
    w.struct("cpu", [("architecture", "x86_64"), ("type", c.cpu_type)])
    w.start("custom_scheduling_policy_properties")
    for name, value in (("HighUtilization", 80), ("CpuOverCommitDurationMinutes", 2)):
        w.struct("property", [("name", name), ("value", value)])
    w.end("custom_scheduling_policy_properties")
    w.struct("error_handling", [("on_error", "migrate")])
    w.struct("fencing_policy", [("enabled", True),
                                ("skip_if_connectivity_broken", [("enabled", False), ("threshold", 50)]),
                                ("skip_if_gluster_bricks_up", False), ("skip_if_gluster_quorum_not_met", False),
                                ("skip_if_sd_active", [("enabled", False)])])
    w.leaf("firewall_type", "firewalld")
    w.leaf("gluster_service", False)
    w.leaf("ha_reservation", False)
    w.struct("ksm", [("enabled", True), ("merge_across_nodes", True)])
    w.leaf("log_max_memory_used_threshold", 95)
    w.leaf("log_max_memory_used_threshold_type", "percentage")
    # (4.3 engines also wrote transparent_hugepages here and on hosts; the 4.6 model has dropped it)
    w.struct("memory_policy", [("over_commit", [("percent", 100)])])
    w.struct("migration", [("auto_converge", "inherit"), ("bandwidth", [("assignment_method", "auto")]),
                           ("compressed", "inherit")])
    w.start("required_rng_sources")
    w.leaf("required_rng_source", "urandom")
    w.end("required_rng_sources")
    w.leaf("switch_type", "legacy")
    w.leaf("threads_as_cores", False)
    w.leaf("trusted_service", False)
    w.leaf("tunnel_migration", False)
    _version(w, *c.version)
    w.leaf("virt_service", True)
    dcx = ctx.sub("datacenter")
    dc = ctx.store.datacenters.get(c.data_center_id)
    if dcx is not None and dc is not None:
        data_center(w, dc, dcx)
    else:
        w.ref("data_center", href("datacenters", c.data_center_id), c.data_center_id)
    w.ref("mac_pool", href("macpools", c.mac_pool_id), c.mac_pool_id)
    w.ref("scheduling_policy", href("schedulingpolicies", SCHEDULING_POLICY_ID), SCHEDULING_POLICY_ID)
    w.end("cluster")


def host(w: XmlWriter, h: Host, ctx: Ctx) -> None:
    base = href("hosts", h.id)
    w.start("host", base, h.id)
    w.actions(base, ("refresh", "install", "activate", "deactivate", "upgrade", "syncallnetworks",
                     "setupnetworks", "approve", "commitnetconfig", "enrollcertificate", "fence",
                     "forceselectspm", "iscsidiscover", "iscsilogin"))
    w.leaf("name", h.name)
    w.leaf("comment", h.comment)
    w.links(base, ("fenceagents", "devices", "hooks", "nics", "numanodes", "storage", "networkattachments",
                   "storageconnectionextensions", "unmanagednetworks", "affinitylabels", "katelloerrata",
                   "permissions", "tags", "statistics"))
    w.leaf("address", h.address)
    w.leaf("auto_numa_status", "disable")
    w.struct("certificate", [("organization", "sim.ovirt.local"), ("subject", f"O=sim.ovirt.local,CN={h.address}")])
    w.struct("cpu", [("name", "Intel Xeon Processor (Skylake, IBRS)"), ("speed", 2100),
                     ("topology", [("cores", h.cores), ("sockets", h.sockets), ("threads", 1)]),
                     ("type", ctx.store.clusters[h.cluster_id].cpu_type if h.cluster_id in ctx.store.clusters
                      else "")])
    w.struct("device_passthrough", [("enabled", False)])
    w.leaf("external_status", "ok")
    w.struct("hardware_information", [("family", "oVirt Node"), ("manufacturer", "oVirt"),
                                      ("product_name", "Simulated Host"), ("uuid", h.id.upper())])
    w.struct("iscsi", [("initiator", f"iqn.1994-05.com.redhat:{h.name}")])
    w.leaf("kdump_status", "disabled")
    w.struct("ksm", [("enabled", False)])
    w.struct("libvirt_version", [("build", 0), ("full_version", "libvirt-8.0.0-10.module_el8"), ("major", 8),
                                 ("minor", 0), ("revision", 0)])
    w.leaf("max_scheduling_memory", h.memory - 2 * 1024 ** 3)
    w.leaf("memory", h.memory)
    w.leaf("numa_supported", False)
    w.struct("os", [("type", "RHEL"), ("version", [("full_version", "8.7 - 1.el8"), ("major", 8), ("minor", 7)])])
    w.leaf("port", 54321)
    w.struct("power_management", [("automatic_pm_enabled", True), ("enabled", False), ("kdump_detection", True)])
    w.leaf("protocol", "stomp")
    w.struct("se_linux", [("mode", "enforcing")])
    w.struct("spm", [("priority", 5), ("status", "spm" if h.spm else "none")])
    w.struct("ssh", [("port", 22)])
    w.leaf("status", h.status)
    running = sum(1 for v in ctx.store.vms.values() if v.host_id == h.id)
    w.struct("summary", [("active", running), ("migrating", 0), ("total", running)])
    w.leaf("type", "rhel")
    w.leaf("update_available", False)
    w.struct("version", [("build", 1), ("full_version", "vdsm-4.50.3.4-1.el8"), ("major", 4),
                         ("minor", 50), ("revision", 0)])
    w.leaf("vgpu_placement", "consolidated")
    w.ref("cluster", href("clusters", h.cluster_id), h.cluster_id)
    w.end("host")


def storage_domain(w: XmlWriter, sd: StorageDomain, ctx: Ctx, base: str | None = None) -> None:
    in_dc = base is not None
    base = base or href("storagedomains", sd.id)
    w.start("storage_domain", base, sd.id)
    if in_dc:
        w.actions(base, ("activate", "deactivate"))
    else:
        w.actions(base, ("isattached", "reduceluns", "updateovfstore", "refreshluns"))
    w.leaf("name", sd.name)
    w.leaf("description", sd.description)
    w.leaf("comment", sd.comment)
    if in_dc:
        w.links(base, ("disks",))
    else:
        w.links(base, ("disks", "diskprofiles", "disksnapshots", "storageconnections", "permissions",
                       "templates", "vms"))
    w.leaf("available", sd.available)
    w.leaf("backup", False)
    w.leaf("block_size", 512)
    w.leaf("committed", sd.committed)
    w.leaf("critical_space_action_blocker", 5)
    w.leaf("discard_after_delete", False)
    w.leaf("external_status", "ok")
    w.leaf("master", sd.master)
    w.leaf("status", sd.status)
    w.struct("storage", [("address", sd.address), ("path", sd.path),
                         ("type", sd.storage_type)])
    w.leaf("storage_format", "v5")
    w.leaf("supports_discard", False)
    w.leaf("supports_discard_zeroes_data", False)
    w.leaf("type", sd.type)
    w.leaf("used", sd.used)
    w.leaf("warning_low_space_indicator", 10)
    w.leaf("wipe_after_delete", False)
    w.ref("data_center", href("datacenters", sd.data_center_id), sd.data_center_id)
    w.start("data_centers")
    w.ref("data_center", href("datacenters", sd.data_center_id), sd.data_center_id)
    w.end("data_centers")
    w.end("storage_domain")


def network(w: XmlWriter, n: Network, ctx: Ctx) -> None:
    base = href("networks", n.id)
    w.start("network", base, n.id)
    w.leaf("name", n.name)
    w.leaf("description", n.description)
    w.leaf("comment", n.comment)
    w.links(base, ("networklabels", "permissions", "vnicprofiles"))
    w.leaf("mtu", n.mtu)
    w.leaf("stp", False)
    w.start("usages")
    for usage in n.usages:
        w.leaf("usage", usage)
    w.end("usages")
    if n.vlan is not None:
        w.start("vlan", None, str(n.vlan))
        w.end("vlan")
    w.ref("data_center", href("datacenters", n.data_center_id), n.data_center_id)
    if n.external_provider_id:
        w.ref("external_provider", href("openstacknetworkproviders", n.external_provider_id), n.external_provider_id)
    w.end("network")


def vnic_profile(w: XmlWriter, p: VnicProfile, ctx: Ctx) -> None:
    base = href("vnicprofiles", p.id)
    w.start("vnic_profile", base, p.id)
    w.leaf("name", p.name)
    w.links(base, ("permissions",))
    w.struct("pass_through", [("mode", "disabled")])
    w.leaf("port_mirroring", False)
    w.ref("network", href("networks", p.network_id), p.network_id)
    w.ref("network_filter", href("networkfilters", NETWORK_FILTER_ID), NETWORK_FILTER_ID)
    w.end("vnic_profile")


def user(w: XmlWriter, u: User, ctx: Ctx) -> None:
    base = href("users", u.id)
    w.start("user", base, u.id)
    w.leaf("name", u.first_name or u.name)
    w.links(base, ("groups", "permissions", "roles", "sshpublickeys", "tags", "eventsubscriptions"))
    w.leaf("department", "")
    w.leaf("domain_entry_id", u.id.replace("-", "").upper())
    w.leaf("email", "")
    w.leaf("last_name", u.last_name)
    w.leaf("namespace", "*")
    w.leaf("principal", u.name)
    w.leaf("user_name", u.user_name)
    w.leaf("user_options", None)
    w.ref("domain", href("domains", "696e7465726e616c"), "696e7465726e616c")
    w.end("user")


def tag(w: XmlWriter, t: Tag, ctx: Ctx, base: str | None = None) -> None:
    base = base or href("tags", t.id)
    w.start("tag", base, t.id)
    w.leaf("name", t.name)
    w.leaf("description", t.description)
    if t.parent_id is not None:
        w.ref("parent", href("tags", t.parent_id), t.parent_id)
    w.end("tag")


def job(w: XmlWriter, j: Job, ctx: Ctx) -> None:
    base = href("jobs", j.id)
    w.start("job", base, j.id)
    w.actions(base, ("clear", "end"))
    w.leaf("description", j.description)
    w.links(base, ("steps",))
    w.leaf("auto_cleared", j.auto_cleared)
    if j.end_time is not None:
        w.leaf("end_time", iso(j.end_time))
    w.leaf("external", j.external)
    w.leaf("last_updated", iso(j.last_updated()))
    w.leaf("start_time", iso(j.start_time))
    w.leaf("status", j.status)
    w.ref("owner", href("users", j.owner_id), j.owner_id)
    w.end("job")
