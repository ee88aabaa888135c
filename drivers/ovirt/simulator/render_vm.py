"""XML for VMs and what hangs off them (NICs, reported devices, disks, disk attachments, snapshots)
and for templates and instance types, which share the VmBase part of a VM.

A VM's XML is cached on the VM, keyed by its version and the query options, so listing thousands
of VMs joins cached strings; any change to a VM or its devices bumps the version.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

from .clock import iso
from .entities import BLANK_ID, InstanceType, Nic, Template, Vm
from .permissions import ROLES
from .render_common import Ctx, follow_key, href, write_tree
from .render_storage import QUOTA_ID, disk_attachments, snapshots
from . import render_statistics
from .store import Store, nic_addresses, reported_device_id
from .xmlwriter import XmlWriter

VM_ACTIONS = ("detach", "export", "commitsnapshot", "clone", "reordermacaddresses", "logon", "maintenance",
              "previewsnapshot", "ticket", "thawfilesystems", "undosnapshot", "freezefilesystems",
              "cancelmigration", "reboot", "migrate", "shutdown", "start", "stop", "suspend")
VM_LINKS = ("applications", "cdroms", "diskattachments", "watchdogs", "graphicsconsoles", "hostdevices",
            "nics", "numanodes", "sessions", "reporteddevices", "snapshots", "backups", "affinitylabels",
            "katelloerrata", "permissions", "tags", "statistics")
TEMPLATE_LINKS = ("cdroms", "diskattachments", "watchdogs", "graphicsconsoles", "nics", "permissions", "tags")
LARGE_ICON = "14ca85cd-8c70-9adf-2c69-884beb8ac3fb"
SMALL_ICON = "8ebc8e0c-38a3-ff89-b043-1e5ec6e4c9a3"
GUEST_OS = {
    "rhel_9x64": ("CentOS Stream", "9", "5.14.0-362.el9.x86_64"),
    "debian_7": ("Debian GNU/Linux", "12", "6.1.0-13-amd64"),
}


def cpu_profile_id(cluster_id: str) -> str:
    """Each cluster's default CPU profile: a fixed id derived from the cluster's."""
    return "cf" + cluster_id[2:]


def _bios_block(w: XmlWriter) -> None:
    w.struct("bios", [("boot_menu", [("enabled", False)]), ("type", "q35_ovmf")])


def _display_block(w: XmlWriter, running: bool) -> None:
    w.start("display")
    if running:
        w.leaf("address", "192.0.2.10")
    w.leaf("allow_override", False)
    w.leaf("copy_paste_enabled", True)
    w.leaf("disconnect_action", "LOCK_SCREEN")
    w.leaf("file_transfer_enabled", True)
    w.leaf("monitors", 1)
    if running:
        w.leaf("port", 5900)
        w.leaf("secure_port", 5901)
    w.leaf("single_qxl_pci", False)
    w.leaf("smartcard_enabled", False)
    w.leaf("type", "vnc")
    w.end("display")


def _ha_block(w: XmlWriter, kind: str) -> None:
    w.struct("high_availability", [("enabled", False), ("priority", 0 if kind == "template" else 1)])


def _io_block(w: XmlWriter) -> None:
    w.struct("io", [("threads", 1)])
    w.ref("large_icon", href("icons", LARGE_ICON), LARGE_ICON)


def _migration_block(w: XmlWriter) -> None:
    w.struct("migration", [("auto_converge", "inherit"), ("compressed", "inherit")])
    w.leaf("migration_downtime", -1)
    w.leaf("multi_queues_enabled", True)
    w.leaf("origin", "ovirt")


def _os_block(w: XmlWriter, os_type: str) -> None:
    w.struct("os", [("boot", [("devices", [("device", "hd")])]), ("type", os_type)])
    w.struct("placement_policy", [("affinity", "migratable")])
    w.ref("small_icon", href("icons", SMALL_ICON), SMALL_ICON)
    w.start("sso")
    w.start("methods")
    w.ref("method", None, "guest_agent")
    w.end("methods")
    w.end("sso")
    w.leaf("start_paused", False)


def _resume_block(w: XmlWriter, kind: str) -> None:
    w.leaf("storage_error_resume_behaviour", "auto_resume")
    if kind != "blank":
        w.struct("time_zone", [("name", "Etc/GMT")])


def _usb_block(w: XmlWriter) -> None:
    w.struct("usb", [("enabled", False)])


def _guest_block(w: XmlWriter, os_type: str) -> None:
    distribution, version, kernel = GUEST_OS.get(os_type, ("Linux", "1", "6.1.0"))
    major = kernel.split(".")
    w.struct("guest_operating_system", [
        ("architecture", "x86_64"), ("codename", ""), ("distribution", distribution), ("family", "Linux"),
        ("kernel", [("version", [("build", 0), ("full_version", kernel), ("major", major[0]),
                                 ("minor", major[1]), ("revision", 0)])]),
        ("version", [("full_version", version), ("major", version)])])
    w.struct("guest_time_zone", [("name", "UTC"), ("utc_offset", "+00:00")])


def _numa_block(w: XmlWriter) -> None:
    w.leaf("next_run_configuration_exists", False)
    w.leaf("numa_tune_mode", "interleave")


_BLOCKS: dict[str, Callable[..., None]] = {
    "bios": _bios_block, "display": _display_block, "ha": _ha_block, "io": _io_block,
    "migration": _migration_block, "os": _os_block, "resume": _resume_block, "usb": _usb_block,
    "guest": _guest_block, "numa": _numa_block,
}


@lru_cache(maxsize=512)
def _block(name: str, depth: int, *variant: Any) -> str:
    """Fragments that are the same for many objects, rendered once per depth and variant."""
    w = XmlWriter(depth)
    _BLOCKS[name](w, *variant)
    return w.getvalue()


def _vm_base(w: XmlWriter, obj: Vm | Template | InstanceType, kind: str, running: bool,
             initialization: dict[str, Any] | None) -> None:
    """The VmBase elements (bios .. usb), alphabetical as the engine writes them."""
    d = w.depth
    w.raw(_block("bios", d))
    w.struct("cpu", [("architecture", "x86_64"),
                     ("topology", [("cores", obj.cores), ("sockets", obj.sockets), ("threads", obj.threads)])])
    w.leaf("cpu_shares", 0)
    w.leaf("creation_time", iso(obj.creation_time))
    w.leaf("delete_protected", getattr(obj, "delete_protected", False))
    w.raw(_block("display", d, running))
    w.raw(_block("ha", d, kind))
    if initialization:
        w.start("initialization")
        for key in sorted(initialization):
            if key != "root_password":        # write-only: the engine never returns it
                write_tree(w, key, initialization[key])
        w.end("initialization")
    w.raw(_block("io", d))
    w.leaf("memory", obj.memory)
    w.struct("memory_policy", [("guaranteed", obj.memory), ("max", obj.memory * 4)])
    w.raw(_block("migration", d))
    w.raw(_block("os", d, getattr(obj, "os_type", "other")))
    w.leaf("stateless", getattr(obj, "stateless", False))
    w.raw(_block("resume", d, kind))
    w.leaf("type", getattr(obj, "vm_type", "server"))
    w.raw(_block("usb", d))


def vm(w: XmlWriter, v: Vm, ctx: Ctx) -> None:
    """Render a VM, from its cache when nothing about it (or the options) has changed."""
    follows = follow_key(ctx.follow)
    if "statistics" in follows:  # measured now: never from (nor into) the cache
        _vm(w, v, ctx)
        return
    key = (v.version, w.depth, follows, ctx.all_content)
    if v.cache_xml is not None and v.cache_key == key:
        w.raw(v.cache_xml)
        return
    sub = XmlWriter(w.depth)
    _vm(sub, v, ctx)
    v.cache_key, v.cache_xml = key, sub.getvalue()
    w.raw(v.cache_xml)


def _vm(w: XmlWriter, v: Vm, ctx: Ctx) -> None:
    store = ctx.store
    base = href("vms", v.id)
    running = v.host_id is not None
    w.start("vm", base, v.id)
    w.actions(base, VM_ACTIONS)
    w.leaf("name", v.name)
    w.leaf("description", v.description)
    w.leaf("comment", v.comment)
    w.links(base, VM_LINKS)
    _vm_base(w, v, "vm", running, v.initialization)
    cluster_ctx = ctx.sub("cluster")
    if cluster_ctx is not None and v.cluster_id in store.clusters:
        from .render_infra import cluster
        cluster(w, store.clusters[v.cluster_id], cluster_ctx)
    else:
        w.ref("cluster", href("clusters", v.cluster_id), v.cluster_id)
    w.ref("cpu_profile", href("cpuprofiles", cpu_profile_id(v.cluster_id)), cpu_profile_id(v.cluster_id))
    w.ref("quota", None, QUOTA_ID)
    sub = ctx.sub("diskattachments")
    if sub is not None:
        disk_attachments(w, v.attachments, base, "vm", v.id, sub, running)
    if v.guest_reported:
        w.leaf("fqdn", _fqdn(v))
        w.raw(_block("guest", w.depth, v.os_type))
    w.raw(_block("numa", w.depth))
    if v.start_time is not None:
        w.leaf("run_once", v.run_once)
        w.leaf("start_time", iso(v.start_time))
    w.leaf("status", v.status)
    w.leaf("stop_reason", v.stop_reason)
    if v.stop_time is not None:
        w.leaf("stop_time", iso(v.stop_time))
    if v.host_id:
        host_ctx = ctx.sub("host")
        if host_ctx is not None and v.host_id in store.hosts:
            from .render_infra import host
            host(w, store.hosts[v.host_id], host_ctx)
        else:
            w.ref("host", href("hosts", v.host_id), v.host_id)
    if v.instance_type_id:
        w.ref("instance_type", href("instancetypes", v.instance_type_id), v.instance_type_id)
    sub = ctx.sub("nics")
    if sub is not None:
        nics(w, v, sub)
    if v.original_template_id:
        w.ref("original_template", href("templates", v.original_template_id), v.original_template_id)
    sub = ctx.sub("reporteddevices")
    if sub is not None:
        reported_devices(w, v, with_vm=True)
    sub = ctx.sub("snapshots")
    if sub is not None:
        snapshots(w, v, sub)
    if ctx.sub("statistics") is not None:
        render_statistics.vm_part(w, store, v)
    sub = ctx.sub("tags")
    if sub is not None:
        from .render_infra import tag
        w.start("tags") if v.tag_ids else w.empty("tags")
        for tag_id in v.tag_ids:
            if tag_id in store.tags:
                tag(w, store.tags[tag_id], sub, f"{base}/tags/{tag_id}")
        if v.tag_ids:
            w.end("tags")
    template_ctx = ctx.sub("template")
    if template_ctx is not None and v.template_id in store.templates:
        template(w, store.templates[v.template_id], template_ctx)
    else:
        w.ref("template", href("templates", v.template_id), v.template_id)
    w.end("vm")


def _fqdn(v: Vm) -> str:
    init = v.initialization or {}
    host_name = init.get("host_name")
    return host_name if isinstance(host_name, str) and host_name else f"{v.name}.sim.ovirt.local"


def template(w: XmlWriter, t: Template, ctx: Ctx) -> None:
    base = href("templates", t.id)
    blank = t.id == BLANK_ID
    w.start("template", base, t.id)
    w.actions(base, ("export",))
    w.leaf("name", t.name)
    w.leaf("description", t.description)
    w.leaf("comment", t.comment)
    w.links(base, TEMPLATE_LINKS)
    _vm_base(w, t, "blank" if blank else "template", False, t.initialization)
    if t.cluster_id:
        w.ref("cluster", href("clusters", t.cluster_id), t.cluster_id)
        w.ref("cpu_profile", href("cpuprofiles", cpu_profile_id(t.cluster_id)), cpu_profile_id(t.cluster_id))
    sub = ctx.sub("diskattachments")
    if sub is not None:
        disk_attachments(w, t.attachments, base, "template", t.id, sub, False)
    sub = ctx.sub("nics")
    if sub is not None:
        w.start("nics") if t.nics else w.empty("nics")
        for n in t.nics:
            nic(w, n, f"{base}/nics/{n.id}", ("template", base, t.id), None)
        if t.nics:
            w.end("nics")
    if ctx.sub("permissions") is not None:
        template_permissions(w, t)
    w.leaf("status", t.status)
    w.start("version")
    w.leaf("version_name", t.version_name if not blank else "")
    w.leaf("version_number", t.version_number if not blank else 0)
    base_id = t.base_template_id or t.id
    w.ref("base_template", href("templates", base_id), base_id)
    w.end("version")
    w.end("template")


ROLE_IDS = {name: role_id for name, (role_id, _) in ROLES.items()}


def template_permission(w: XmlWriter, t: Template, principal: str, role_name: str, group: bool) -> None:
    """One permission on a template: a role held by a user or a group (Everyone)."""
    perm_id = "9e" + principal[2:-2] + t.id[-2:]
    w.start("permission", f"{href('templates', t.id)}/permissions/{perm_id}", perm_id)
    role_id = ROLE_IDS.get(role_name, role_name)
    w.ref("role", href("roles", role_id), role_id)
    w.ref("group" if group else "user", href("groups" if group else "users", principal), principal)
    w.ref("template", href("templates", t.id), t.id)
    w.end("permission")


def template_permissions(w: XmlWriter, t: Template) -> None:
    """<permissions> inlined by `follow=permissions`."""
    held = [(g, r, True) for g, r in sorted(t.group_roles.items())] + [(u, r, False) for u, r in sorted(t.user_roles.items())]
    if not held:
        w.empty("permissions")
        return
    w.start("permissions")
    for principal, role, group in held:
        template_permission(w, t, principal, role, group)
    w.end("permissions")


def instance_type(w: XmlWriter, it: InstanceType, ctx: Ctx) -> None:
    base = href("instancetypes", it.id)
    w.start("instance_type", base, it.id)
    w.leaf("name", it.name)
    w.leaf("description", it.description)
    w.leaf("comment", "")
    w.links(base, ("graphicsconsoles", "nics", "watchdogs"))
    _vm_base(w, it, "blank", False, None)
    w.leaf("status", "ok")
    w.struct("version", [("version_name", ""), ("version_number", 1)])
    w.end("instance_type")


def nics(w: XmlWriter, v: Vm, ctx: Ctx) -> None:
    if not v.nics:
        w.empty("nics")
        return
    base = href("vms", v.id)
    w.start("nics")
    for index, n in enumerate(v.nics):
        nic(w, n, f"{base}/nics/{n.id}", ("vm", base, v.id), (v, index),
            store=ctx.store if ctx.sub("statistics") is not None else None)
    w.end("nics")


def nic(w: XmlWriter, n: Nic, base: str, owner: tuple[str, str, str], device: tuple[Vm, int] | None,
        store: Store | None = None) -> None:
    """A NIC; VM NICs inline the guest's reported devices, as the engine does (and their statistics when
    given the `store` they are read from: `follow=nics.statistics`)."""
    w.start("nic", base, n.id)
    w.actions(base, ("activate", "deactivate"))
    w.leaf("name", n.name)
    w.links(base, ("reporteddevices", "networkfilterparameters", "statistics"))
    w.ref(owner[0], owner[1], owner[2])
    w.leaf("interface", n.interface)
    w.leaf("linked", n.linked)
    w.struct("mac", [("address", n.mac)])
    w.leaf("plugged", n.plugged)
    if device is not None:
        v, index = device
        if v.guest_reported:
            w.start("reported_devices")
            reported_device(w, v, n, index, with_vm=False)
            w.end("reported_devices")
        else:
            w.empty("reported_devices")
        if store is not None:
            render_statistics.nic_part(w, store, v, index)
    if n.vnic_profile_id:
        w.ref("vnic_profile", href("vnicprofiles", n.vnic_profile_id), n.vnic_profile_id)
    w.end("nic")


def reported_device(w: XmlWriter, v: Vm, n: Nic, index: int, with_vm: bool) -> None:
    name = f"eth{index}"
    rd_id = reported_device_id(name, n.mac)
    w.start("reported_device", f"{href('vms', v.id)}/reporteddevices/{rd_id}", rd_id)
    w.leaf("name", name)
    w.leaf("description", "guest reported data")
    ipv4, ula, link_local = nic_addresses(n.mac)
    ipv4 = n.external_ip or ipv4  # on an OVN network the guest has its port's address (DHCP from OVN)
    w.start("ips")
    for address, version in ((ipv4, "v4"), (ula, "v6"), (link_local, "v6")):
        w.struct("ip", [("address", address), ("version", version)])
    w.end("ips")
    w.struct("mac", [("address", n.mac)])
    w.leaf("type", "network")
    if with_vm:
        w.ref("vm", href("vms", v.id), v.id)
    w.end("reported_device")


def reported_devices(w: XmlWriter, v: Vm, with_vm: bool, only: Nic | None = None) -> None:
    devices = [(i, n) for i, n in enumerate(v.nics) if only is None or n is only] if v.guest_reported else []
    if not devices:
        w.empty("reported_devices")
        return
    w.start("reported_devices")
    for index, n in devices:
        reported_device(w, v, n, index, with_vm)
    w.end("reported_devices")
