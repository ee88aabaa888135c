"""A machine's sub-collections: disks (its image's bootable disks), volumes (attached non-boot disks:
MachineVolume, attach, edit and detach) and networkInterfaces (vNICs with the addresses the guest reports;
their routes are in .machine_interfaces).

A MachineVolume carries whether deleting the machine deletes the volume (EC2's DeleteOnTermination) as the
property `deleteOnTerminate` ("true" or "false"): CIMI has no attribute for it, and `properties` is its way
to carry an extension. It is given when attaching (default false, as EC2's AttachVolume) and changed by an
edit (PUT) of the MachineVolume.

`$expand` of these on a machine listing uses what the request already fetched: the machines rendered
(remembered by `remember_machines`), every machine's NICs in one driver call and every boot disk's volume
in one more, so expanding 1,000 machines costs the engine as many requests as expanding 10.
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, g

from gateway.engine_states import instance_offers, instance_state, volume_state
from gateway.errors import InvalidParameter, InvalidState, MissingParameter, NotFound, echo
from gateway.model import Instance, NetworkInterface, Volume, VolumeAttachment

from .. import jobs
from ..context import Context, current
from ..listing import created_response, expander, resource_response, sub_collection_response
from ..protocol import query_values, respond
from ..query import names
from ..reading import nested, properties, text

DELETE_ON_TERMINATE = "deleteOnTerminate"


def disk_entries(ctx: Context, instance: Instance, sizes: dict[str, Volume] | None = None) -> list[dict[str, Any]]:
    """The machine's boot disks; `sizes` (volume id -> volume) when the caller fetched them already."""
    boot = [a for a in instance.attachments if a.bootable]
    if not boot:
        return []
    if sizes is None:
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


def machine_volume_entry(ctx: Context, attachment: VolumeAttachment) -> dict[str, Any]:
    href = f"{ctx.href('machines', attachment.instance_id)}/volumes/{attachment.volume_id}"
    flag = "true" if attachment.delete_on_termination else "false"
    entry: dict[str, Any] = {"id": href, "properties": {DELETE_ON_TERMINATE: flag}}
    if attachment.device:
        entry["initialLocation"] = attachment.device
    entry["volume"] = {"href": ctx.href("volumes", attachment.volume_id)}
    operations = []  # delete first, as before edit was offered (clients may take the first)
    if ctx.driver.can("detach_volume"):
        operations.append({"rel": "delete", "href": href})
    if ctx.driver.can("set_delete_on_termination"):
        operations.append({"rel": "edit", "href": href})
    if operations:
        entry["operations"] = operations
    return entry


def volume_entries(ctx: Context, instance: Instance) -> list[dict[str, Any]]:
    return [machine_volume_entry(ctx, a) for a in instance.attachments if not a.bootable]


def delete_on_terminate(body: dict[str, Any]) -> bool | None:
    """The MachineVolume body's `deleteOnTerminate` property (None when not given); any other value than true
    or false, or another property (a MachineVolume keeps no other), is a 400 naming it."""
    given = properties(body) or {}
    others = sorted(k for k in given if k != DELETE_ON_TERMINATE)
    if others:
        raise InvalidParameter(f"A MachineVolume keeps only the property '{DELETE_ON_TERMINATE}', not "
                               f"{', '.join(repr(echo(k)) for k in others)}", parameter="properties")
    if DELETE_ON_TERMINATE not in given:
        return None
    value = given[DELETE_ON_TERMINATE].strip().lower()
    if value not in ("true", "false"):
        raise InvalidParameter(f"The property '{DELETE_ON_TERMINATE}' must be true or false, got "
                               f"'{echo(given[DELETE_ON_TERMINATE])}'",
                               parameter=f"properties.{DELETE_ON_TERMINATE}")
    return value == "true"


def interface_entry(ctx: Context, nic: NetworkInterface) -> dict[str, Any]:
    href = f"{ctx.href('machines', nic.instance_id)}/network_interfaces/{nic.id}"
    addresses = [{"ip": ip, "allocation": "dynamic", "protocol": "IPv4"} for ip in nic.ipv4]
    addresses += [{"ip": ip, "allocation": "dynamic", "protocol": "IPv6"} for ip in nic.ipv6]
    entry: dict[str, Any] = {"id": href, "name": nic.name}
    if addresses:
        entry["addresses"] = addresses
    if nic.network_id:
        entry["network"] = {"href": ctx.href("networks", nic.network_id)}
    entry["networkPort"] = {"href": ctx.href("networkPorts", nic.id)}
    entry["state"] = "Active" if nic.plugged and nic.linked else "Passive"
    if nic.mac:
        entry["macAddress"] = nic.mac
    return entry


def interface_entries(ctx: Context, instance: Instance,
                      nics: list[NetworkInterface] | None = None) -> list[dict[str, Any]]:
    """The machine's NICs; `nics` when the caller fetched them already."""
    if nics is None:
        nics = ctx.driver.interfaces(ctx.scope, instance.id) if ctx.driver.can("interfaces") else instance.interfaces
    return [interface_entry(ctx, n) for n in nics]


# --- $expand: data fetched once per request ---------------------------------------------------------
class Expansion:
    """What expanding this request's machines needs, each part fetched at most once."""

    def __init__(self) -> None:
        self.machines: dict[str, Instance] = {}
        self._nics: dict[str, list[NetworkInterface]] | None = None
        self._volumes: dict[str, Volume] | None = None

    def machine(self, ctx: Context, entry: dict[str, Any]) -> Instance:
        machine_id = entry["id"].rstrip("/").rsplit("/", 1)[-1]
        if machine_id not in self.machines:
            self.machines[machine_id] = ctx.driver.instance(ctx.scope, machine_id)
        return self.machines[machine_id]

    def nics(self, ctx: Context, instance: Instance) -> list[NetworkInterface]:
        """One machine alone: its own NICs (one call); several: every machine's NICs in one call."""
        if not ctx.driver.can("interfaces"):
            return instance.interfaces
        if len(self.machines) <= 1:
            return ctx.driver.interfaces(ctx.scope, instance.id)
        if self._nics is None:
            self._nics = {}
            for nic in ctx.driver.interfaces(ctx.scope):
                self._nics.setdefault(nic.instance_id, []).append(nic)
        return self._nics.get(instance.id, [])

    def volumes(self, ctx: Context) -> dict[str, Volume]:
        """The boot volumes of every machine of this request, in one call."""
        if self._volumes is None:
            boot = sorted({a.volume_id for i in self.machines.values() for a in i.attachments if a.bootable})
            self._volumes = {v.id: v for v in ctx.driver.volumes(ctx.scope, boot)} if boot else {}
        return self._volumes


def expansion() -> Expansion:
    """This request's expansion state (kept on flask.g)."""
    if "cimi_expansion" not in g:
        g.cimi_expansion = Expansion()
    return g.cimi_expansion


def remember_machines(instances: list[Instance]) -> None:
    """The machines a request renders, so that expanding them fetches nothing again."""
    expansion().machines.update((i.id, i) for i in instances)


@expander("Machine", "disks")
def _expand_disks(ctx: Context, entry: dict[str, Any]) -> list[dict[str, Any]]:
    state = expansion()
    instance = state.machine(ctx, entry)
    return disk_entries(ctx, instance, state.volumes(ctx))


@expander("Machine", "volumes")
def _expand_volumes(ctx: Context, entry: dict[str, Any]) -> list[dict[str, Any]]:
    return volume_entries(ctx, expansion().machine(ctx, entry))


@expander("Machine", "networkInterfaces")
def _expand_interfaces(ctx: Context, entry: dict[str, Any]) -> list[dict[str, Any]]:
    state = expansion()
    instance = state.machine(ctx, entry)
    return interface_entries(ctx, instance, state.nics(ctx, instance))


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
                                   volume_entries(ctx, instance),
                                   add=ctx.driver.can("attach_volume") and "attach" in instance_offers(instance))


def attached_volume(ctx: Context, machine_id: str, volume_id: str) -> VolumeAttachment:
    for attachment in ctx.driver.instance(ctx.scope, machine_id).attachments:
        if attachment.volume_id == volume_id and not attachment.bootable:
            return attachment
    raise NotFound("machine volume", volume_id, f"The volume '{echo(volume_id)}' is not attached to this machine")


def get_machine_volume(machine_id: str, volume_id: str) -> Response:
    ctx = current()
    attachment = attached_volume(ctx, machine_id, volume_id)
    return resource_response(ctx, "MachineVolume", machine_volume_entry(ctx, attachment))


def edit_machine_volume(machine_id: str, volume_id: str) -> Response:
    """PUT: only `properties` (its `deleteOnTerminate`) can change, as Machine's edit (with `$select`, only
    what it names); a different `initialLocation` or `volume` is refused rather than ignored, as it would
    take a detach and another attach."""
    ctx = current()
    _, body = ctx.body("MachineVolume")
    attachment = attached_volume(ctx, machine_id, volume_id)
    selected = names(query_values("$select"))
    if selected and "*" not in selected and selected - {"properties"}:
        raise InvalidParameter(f"Only the properties of a MachineVolume can be edited, not "
                               f"{', '.join(sorted(selected - {'properties'}))}", parameter="$select")
    device = text(body, "initialLocation")
    if device and device != attachment.device:
        raise InvalidParameter("The initialLocation of an attached volume cannot be changed: detach the volume "
                               "and attach it again", parameter="initialLocation")
    reference = nested(body, "volume")
    if reference is not None and "href" in reference and \
            ctx.id_from_href(reference["href"], "volumes", "Volume") != volume_id:
        raise InvalidParameter("A MachineVolume's volume cannot be changed: attach the other volume instead",
                               parameter="volume")
    delete = delete_on_terminate(body)
    if delete is not None:
        ctx.require("set_delete_on_termination", "change whether deleting a machine deletes its volumes")
        if delete != attachment.delete_on_termination:
            ctx.driver.set_delete_on_termination(ctx.scope, machine_id, volume_id, delete)
            attachment.delete_on_termination = delete
    return resource_response(ctx, "MachineVolume", machine_volume_entry(ctx, attachment), apply_select=False)


def attach_volume(machine_id: str) -> Response:
    ctx = current()
    ctx.require("attach_volume", "attach volumes")
    _, body = ctx.body("MachineVolume")
    reference = nested(body, "volume")
    if reference is None or "href" not in reference:
        raise MissingParameter("A MachineVolume needs a volume reference", parameter="volume")
    volume_id = ctx.id_from_href(reference["href"], "volumes", "Volume")
    delete = bool(delete_on_terminate(body))
    machine = instance_state(ctx.driver.instance(ctx.scope, machine_id))
    if not machine.accepts("attach"):
        raise InvalidState("The machine's state does not let a volume be attached now", resource_id=machine_id)
    try:
        volume = volume_state(ctx.driver.volume(ctx.scope, volume_id))
    except NotFound as exc:
        raise InvalidParameter(f"Unknown volume: {exc.message}") from None
    if not volume.accepts("attach"):
        raise InvalidState("The volume's state does not let it be attached now", resource_id=volume_id)
    device = text(body, "initialLocation") or None
    attachment = ctx.driver.attach_volume(ctx.scope, volume_id, machine_id, device, delete_on_termination=delete)
    attachment.device = attachment.device or device
    entry = machine_volume_entry(ctx, attachment)
    job = jobs.start_job(ctx, "add", "machineVolume", volume_id, jobs.ATTACHED, target_href=entry["id"],
                         machine_id=machine_id, affected=[ctx.href("volumes", volume_id)])
    if "attach" in machine.later | volume.later:  # attached once the images are copied: 202, the Job says when
        return resource_response(ctx, "MachineVolume", entry, 202,
                                 {"Location": entry["id"], **jobs.job_headers(ctx, job)})
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


def install(bp: Blueprint) -> None:
    bp.add_url_rule("/machines/<machine_id>/disks", "list_disks", list_disks, methods=["GET"])
    bp.add_url_rule("/machines/<machine_id>/disks/<disk_id>", "get_disk", get_disk, methods=["GET"])
    bp.add_url_rule("/machines/<machine_id>/volumes", "list_machine_volumes", list_machine_volumes, methods=["GET"])
    bp.add_url_rule("/machines/<machine_id>/volumes", "attach_volume", attach_volume, methods=["POST"])
    bp.add_url_rule("/machines/<machine_id>/volumes/<volume_id>", "get_machine_volume", get_machine_volume,
                    methods=["GET"])
    bp.add_url_rule("/machines/<machine_id>/volumes/<volume_id>", "edit_machine_volume", edit_machine_volume,
                    methods=["PUT"])
    bp.add_url_rule("/machines/<machine_id>/volumes/<volume_id>", "detach_volume", detach_volume,
                    methods=["DELETE"])
