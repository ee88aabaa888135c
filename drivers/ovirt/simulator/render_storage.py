"""XML for disks, disk attachments and snapshots (of VMs and templates)."""

from __future__ import annotations

from typing import Any

from .clock import iso
from .entities import Attachment, Disk, Snapshot, Vm
from .render_common import Ctx, href, write_tree
from .xmlwriter import XmlWriter

DISK_ACTIONS = ("reduce", "copy", "export", "move", "sparsify", "refreshlun")
QUOTA_ID = "0a9b9562-e08b-4a71-b3bf-cd8eaffb55bc"


def disk(w: XmlWriter, d: Disk, ctx: Ctx, base: str | None = None) -> None:
    base = base or href("disks", d.id)
    w.start("disk", base, d.id)
    w.actions(base, DISK_ACTIONS)
    w.leaf("name", d.name)
    w.leaf("description", d.description)
    w.links(base, ("permissions", "statistics"))
    w.leaf("actual_size", d.actual_size)
    w.leaf("alias", d.name)
    w.leaf("backup", "none")
    w.leaf("content_type", d.content_type)
    w.leaf("format", d.format)
    w.leaf("image_id", d.image_id)
    w.leaf("propagate_errors", False)
    w.leaf("provisioned_size", d.provisioned_size)
    w.leaf("qcow_version", "qcow2_v3" if d.format == "cow" else None)
    w.leaf("shareable", d.shareable)
    w.leaf("sparse", d.sparse)
    w.leaf("status", d.status)
    w.leaf("storage_type", "image")
    w.leaf("total_size", d.actual_size)
    w.leaf("wipe_after_delete", d.wipe_after_delete)
    profile = "dp" + d.storage_domain_id[2:]
    w.ref("disk_profile", href("diskprofiles", profile), profile)
    w.ref("quota", None, QUOTA_ID)
    w.start("storage_domains")
    w.ref("storage_domain", href("storagedomains", d.storage_domain_id), d.storage_domain_id)
    w.end("storage_domains")
    if ctx.sub("statistics") is not None:
        from .render_statistics import disk_part
        disk_part(w, ctx.store, d.id, d.owner_vm_id)
    w.end("disk")


def disk_attachments(w: XmlWriter, atts: list[Attachment], owner_base: str, owner_tag: str, owner_id: str,
                     ctx: Ctx, running: bool) -> None:
    if not atts:
        w.empty("disk_attachments")
        return
    w.start("disk_attachments")
    for att in atts:
        disk_attachment(w, att, owner_base, owner_tag, owner_id, ctx, running)
    w.end("disk_attachments")


def disk_attachment(w: XmlWriter, att: Attachment, owner_base: str, owner_tag: str, owner_id: str,
                    ctx: Ctx, running: bool) -> None:
    base = f"{owner_base}/diskattachments/{att.disk_id}"
    w.start("disk_attachment", base, att.disk_id)
    w.leaf("active", att.active)
    w.leaf("bootable", att.bootable)
    w.leaf("interface", att.interface)
    if running and att.active:
        owner = ctx.store.vms.get(owner_id)
        w.leaf("logical_name", guest_name(owner.attachments if owner is not None else [att], att))
    w.leaf("pass_discard", att.pass_discard)
    w.leaf("read_only", att.read_only)
    w.leaf("uses_scsi_reservation", False)
    sub = ctx.sub("disk")
    d = ctx.store.disks.get(att.disk_id)
    if sub is not None and d is not None:
        disk(w, d, sub)
    else:
        w.ref("disk", href("disks", att.disk_id), att.disk_id)
    w.ref(owner_tag, owner_base, owner_id)
    if owner_tag == "template":
        # The real engine also links a template's attachments to a "vm" with the template's id.
        w.ref("vm", href("vms", owner_id), owner_id)
    w.end("disk_attachment")


def guest_name(attachments: list[Attachment], att: Attachment) -> str:
    """The name a Linux guest gives a plugged disk, as its agent reports it: virtio disks are /dev/vdX, the
    SCSI-like buses' (virtio_scsi, sata, ide) /dev/sdX, lettered per bus with the boot disk first."""
    virtio = att.interface == "virtio"
    same_bus = sorted((a for a in attachments if a.active and (a.interface == "virtio") == virtio),
                      key=lambda a: not a.bootable)
    position = next((n for n, a in enumerate(same_bus) if a is att), 0)
    return ("/dev/vd" if virtio else "/dev/sd") + "abcdefghijklmnopqrstuvwxyz"[position % 26]


def snapshots(w: XmlWriter, v: Vm, ctx: Ctx) -> None:
    if not v.snapshots:
        w.empty("snapshots")
        return
    w.start("snapshots")
    for s in v.snapshots:
        snapshot(w, v, s, ctx)
    w.end("snapshots")


def snapshot(w: XmlWriter, v: Vm, s: Snapshot, ctx: Ctx) -> None:
    base = f"{href('vms', v.id)}/snapshots/{s.id}"
    w.start("snapshot", base, s.id)
    w.actions(base, ("restore",))
    w.leaf("description", s.description)
    if s.snapshot_type != "active":
        w.links(base, ("cdroms", "disks", "nics"))
    w.leaf("date", iso(s.date))
    disks_ctx = ctx.sub("disks")
    if disks_ctx is not None and s.snapshot_type != "active":  # the active snapshot has no disks link to follow
        snapshot_disks(w, base, [ctx.store.disks[d] for d in s.disk_ids if d in ctx.store.disks], disks_ctx)
    w.leaf("persist_memorystate", s.persist_memorystate)
    w.leaf("snapshot_status", s.status)
    w.leaf("snapshot_type", s.snapshot_type)
    if s.vm_config is not None:
        w.start("vm", None, v.id)
        for key, value in s.vm_config.items():
            if isinstance(value, tuple):
                w.ref(key, None, value[1])
            elif isinstance(value, list):
                write_tree(w, key, value)
            else:
                w.leaf(key, value)
        w.end("vm")
    w.end("snapshot")


def snapshot_disks(w: XmlWriter, snapshot_base: str, disks: list[Disk], ctx: Ctx) -> None:
    """`follow=snapshots.disks`: the disks the snapshot covers, each under the snapshot's own href."""
    if not disks:
        w.empty("disks")
        return
    w.start("disks")
    for d in disks:
        disk(w, d, ctx, f"{snapshot_base}/disks/{d.id}")
    w.end("disks")


def snapshot_config(v: Vm) -> dict[str, Any]:
    """What a snapshot remembers of its VM (rendered as the snapshot's inner `<vm>`)."""
    config: dict[str, Any] = {"name": v.name, "description": v.description,
                              "cpu": [("topology", [("cores", str(v.cores)), ("sockets", str(v.sockets)),
                                                    ("threads", str(v.threads))])],
                              "memory": v.memory, "status": v.status}
    if v.host_id:
        config["host"] = ("ref", v.host_id)
    if v.original_template_id:
        config["original_template"] = ("ref", v.original_template_id)
    config["template"] = ("ref", v.template_id)
    return config
