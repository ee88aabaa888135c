"""A machine's sub-collections: disks (its image's bootable disks), volumes (attached non-boot disks:
MachineVolume, attach and detach) and networkInterfaces (vNICs with the addresses the guest reports).
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, Response

from gateway.errors import InvalidParameter, MissingParameter, NotFound, echo
from gateway.model import Instance, NetworkInterface

from .. import jobs
from ..context import Context, current
from ..listing import created_response, expander, resource_response, sub_collection_response
from ..protocol import respond
from ..reading import nested, text


def disk_entries(ctx: Context, instance: Instance) -> list[dict[str, Any]]:
    boot = [a for a in instance.attachments if a.bootable]
    if not boot:
        return []
    sizes = {v.id: v for v in ctx.driver.volumes(ctx.scope, [a.volume_id for a in boot])}
    href = ctx.href("machines", instance.id) + "/disks"
    entries = []
    for attachment in boot:
        volume = sizes.get(attachment.volume_id)
        entry: dict[str, Any] = {"id": f"{href}/{attachment.volume_id}"}
        if volume is not None:
            entry["name"] = volume.name
            entry["capacity"] = volume.size_bytes // 1024
        if attachment.device:
            entry["initialLocation"] = attachment.device
        entries.append(entry)
    return entries


def machine_volume_entry(ctx: Context, instance_id: str, volume_id: str, device: str | None) -> dict[str, Any]:
    href = f"{ctx.href('machines', instance_id)}/volumes/{volume_id}"
    entry: dict[str, Any] = {"id": href}
    if device:
        entry["initialLocation"] = device
    entry["volume"] = {"href": ctx.href("volumes", volume_id)}
    if ctx.driver.can("detach_volume"):
        entry["operations"] = [{"rel": "delete", "href": href}]
    return entry


def volume_entries(ctx: Context, instance: Instance) -> list[dict[str, Any]]:
    return [machine_volume_entry(ctx, instance.id, a.volume_id, a.device)
            for a in instance.attachments if not a.bootable]


def interface_entry(ctx: Context, nic: NetworkInterface) -> dict[str, Any]:
    href = f"{ctx.href('machines', nic.instance_id)}/network_interfaces/{nic.id}"
    addresses = [{"ip": ip, "allocation": "dynamic", "protocol": "IPv4"} for ip in nic.ipv4]
    addresses += [{"ip": ip, "allocation": "dynamic", "protocol": "IPv6"} for ip in nic.ipv6]
    entry: dict[str, Any] = {"id": href, "name": nic.name}
    if addresses:
        entry["addresses"] = addresses
    if nic.network_id:
        entry["network"] = {"href": ctx.href("networks", nic.network_id)}
    entry["state"] = "Active" if nic.plugged and nic.linked else "Passive"
    if nic.mac:
        entry["macAddress"] = nic.mac
    return entry


def interface_entries(ctx: Context, instance: Instance) -> list[dict[str, Any]]:
    nics = ctx.driver.interfaces(ctx.scope, instance.id) if ctx.driver.can("interfaces") else instance.interfaces
    return [interface_entry(ctx, n) for n in nics]


def _instance_of(ctx: Context, entry: dict[str, Any]) -> Instance:
    return ctx.driver.instance(ctx.scope, entry["id"].rstrip("/").rsplit("/", 1)[-1])


@expander("Machine", "disks")
def _expand_disks(ctx: Context, entry: dict[str, Any]) -> list[dict[str, Any]]:
    return disk_entries(ctx, _instance_of(ctx, entry))


@expander("Machine", "volumes")
def _expand_volumes(ctx: Context, entry: dict[str, Any]) -> list[dict[str, Any]]:
    return volume_entries(ctx, _instance_of(ctx, entry))


@expander("Machine", "networkInterfaces")
def _expand_interfaces(ctx: Context, entry: dict[str, Any]) -> list[dict[str, Any]]:
    return interface_entries(ctx, _instance_of(ctx, entry))


def list_disks(machine_id: str) -> Response:
    ctx = current()
    instance = ctx.driver.instance(ctx.scope, machine_id)
    return sub_collection_response(ctx, "Disk", ctx.href("machines", machine_id) + "/disks",
                                   disk_entries(ctx, instance), add=False)


def get_disk(machine_id: str, disk_id: str) -> Response:
    ctx = current()
    for entry in disk_entries(ctx, ctx.driver.instance(ctx.scope, machine_id)):
        if entry["id"].endswith("/" + disk_id):
            return resource_response(ctx, "Disk", entry)
    raise NotFound("disk", disk_id)


def list_machine_volumes(machine_id: str) -> Response:
    ctx = current()
    instance = ctx.driver.instance(ctx.scope, machine_id)
    return sub_collection_response(ctx, "MachineVolume", ctx.href("machines", machine_id) + "/volumes",
                                   volume_entries(ctx, instance), add=ctx.driver.can("attach_volume"))


def get_machine_volume(machine_id: str, volume_id: str) -> Response:
    ctx = current()
    for attachment in ctx.driver.instance(ctx.scope, machine_id).attachments:
        if attachment.volume_id == volume_id and not attachment.bootable:
            return resource_response(ctx, "MachineVolume",
                                     machine_volume_entry(ctx, machine_id, volume_id, attachment.device))
    raise NotFound("machine volume", volume_id, f"The volume '{echo(volume_id)}' is not attached to this machine")


def attach_volume(machine_id: str) -> Response:
    ctx = current()
    ctx.require("attach_volume", "attach volumes")
    _, body = ctx.body("MachineVolume")
    reference = nested(body, "volume")
    if reference is None or "href" not in reference:
        raise MissingParameter("A MachineVolume needs a volume reference", parameter="volume")
    volume_id = ctx.id_from_href(reference["href"], "volumes", "Volume")
    ctx.driver.instance(ctx.scope, machine_id)
    try:
        ctx.driver.volume(ctx.scope, volume_id)
    except NotFound as exc:
        raise InvalidParameter(f"Unknown volume: {exc.message}") from None
    device = text(body, "initialLocation") or None
    attachment = ctx.driver.attach_volume(ctx.scope, volume_id, machine_id, device)
    entry = machine_volume_entry(ctx, machine_id, volume_id, attachment.device or device)
    job = jobs.start_job(ctx, "add", "machineVolume", volume_id, jobs.ATTACHED, target_href=entry["id"],
                         machine_id=machine_id, affected=[ctx.href("volumes", volume_id)])
    return created_response(ctx, "MachineVolume", entry, jobs.job_headers(ctx, job))


def detach_volume(machine_id: str, volume_id: str) -> Response:
    ctx = current()
    ctx.require("detach_volume", "detach volumes")
    attached = [a for a in ctx.driver.instance(ctx.scope, machine_id).attachments if a.volume_id == volume_id]
    if not attached or attached[0].bootable:
        raise NotFound("machine volume", volume_id, f"The volume '{echo(volume_id)}' is not attached to this machine")
    ctx.driver.detach_volume(ctx.scope, volume_id, machine_id)
    href = f"{ctx.href('machines', machine_id)}/volumes/{volume_id}"
    job = jobs.start_job(ctx, "delete", "machineVolume", volume_id, jobs.DETACHED, target_href=href,
                         machine_id=machine_id, affected=[ctx.href("volumes", volume_id)])
    return respond(None, ctx.fmt, 200, jobs.job_headers(ctx, job))


def list_interfaces(machine_id: str) -> Response:
    ctx = current()
    instance = ctx.driver.instance(ctx.scope, machine_id)
    return sub_collection_response(ctx, "MachineNetworkInterface",
                                   ctx.href("machines", machine_id) + "/network_interfaces",
                                   interface_entries(ctx, instance), add=False)


def get_interface(machine_id: str, nic_id: str) -> Response:
    ctx = current()
    for entry in interface_entries(ctx, ctx.driver.instance(ctx.scope, machine_id)):
        if entry["id"].endswith("/" + nic_id):
            return resource_response(ctx, "MachineNetworkInterface", entry)
    raise NotFound("network interface", nic_id)


def install(bp: Blueprint) -> None:
    bp.add_url_rule("/machines/<machine_id>/disks", "list_disks", list_disks, methods=["GET"])
    bp.add_url_rule("/machines/<machine_id>/disks/<disk_id>", "get_disk", get_disk, methods=["GET"])
    bp.add_url_rule("/machines/<machine_id>/volumes", "list_machine_volumes", list_machine_volumes, methods=["GET"])
    bp.add_url_rule("/machines/<machine_id>/volumes", "attach_volume", attach_volume, methods=["POST"])
    bp.add_url_rule("/machines/<machine_id>/volumes/<volume_id>", "get_machine_volume", get_machine_volume,
                    methods=["GET"])
    bp.add_url_rule("/machines/<machine_id>/volumes/<volume_id>", "detach_volume", detach_volume,
                    methods=["DELETE"])
    bp.add_url_rule("/machines/<machine_id>/network_interfaces", "list_interfaces", list_interfaces,
                    methods=["GET"])
    bp.add_url_rule("/machines/<machine_id>/network_interfaces/<nic_id>", "get_interface", get_interface,
                    methods=["GET"])
