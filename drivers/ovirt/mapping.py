"""oVirt Engine API v4 XML -> the common model.

Pure functions over lxml elements (no HTTP), so replay tests can feed them the real engine responses in
the shared captures. Units are converted exactly (the engine speaks bytes, so do we); the VM status
table lives here and nowhere else; a value the table does not know becomes an honest error state
carrying the engine's own word, never a silently dropped object.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Iterable

from lxml import etree

from gateway import engine_states
from gateway.model import (Address, HardwareProfile, Image, ImageVolume, Instance, InstanceState, Network,
                           NetworkInterface, Realm, Region, ResourceState, Snapshot, Volume, VolumeAttachment)

from . import device_names

Element = etree._Element
BLANK_TEMPLATE_ID = "00000000-0000-0000-0000-000000000000"
EVERYONE_GROUP_ID = "eee00000-0000-0000-0000-123456789eee"  # the engine's built-in group of every user
TEMPLATE_USE_ROLE_ID = "def00009-0000-0000-0000-def000000009"  # UserTemplateBasedVm: may make VMs from a template
MIB = 1024 * 1024

# oVirt VmStatus (all 15 values of the API model) -> canonical state: gateway.engine_states's table, which
# also says what the engine accepts in each. DESIGN.md section 4.
VM_STATES: dict[str, InstanceState] = {status: row.model for status, row in engine_states.VM.items()}

# Why an instance is in an error state, in words a client can act on.
ERROR_REASONS = {
    "not_responding": "The host running the instance does not respond to the engine",
    "unknown": "The engine lost track of the instance's state",
    "unassigned": "The instance's state is not yet known to the engine",
}

TEMPLATE_STATES: dict[str, ResourceState] = {k: r.model for k, r in engine_states.TEMPLATE.items()}
DISK_STATES: dict[str, ResourceState] = {k: r.model for k, r in engine_states.DISK.items()}
SNAPSHOT_STATES: dict[str, ResourceState] = {k: r.model for k, r in engine_states.SNAPSHOT.items()}


def vm_state(status: str | None) -> tuple[InstanceState, str]:
    """Canonical state and reason for an oVirt VM status; unknown or missing values are an error."""
    if status in VM_STATES:
        return VM_STATES[status], ERROR_REASONS.get(status, "")
    return InstanceState.ERROR, f"The engine reported a VM status this gateway does not know: {status!r}"


# --- small readers ----------------------------------------------------------------------------------
def text(element: Element, path: str) -> str | None:
    """Text of a child path, None when absent; empty elements give ''."""
    found = element.find(path)
    if found is None:
        return None
    return found.text or ""


def integer(element: Element, path: str) -> int | None:
    return integer_of(element.findtext(path))


def integer_of(value: str | None) -> int | None:
    """An engine integer; None when absent, empty or not a number."""
    if value is None or not value.strip():
        return None
    try:
        return int(value)
    except ValueError:
        return None


def boolean(element: Element, path: str, default: bool = False) -> bool:
    return boolean_of(element.findtext(path), default)


def boolean_of(value: str | None, default: bool = False) -> bool:
    if value is None or not value.strip():
        return default
    return value.strip().lower() in ("true", "1", "yes")


def link_id(element: Element, name: str) -> str | None:
    """The id of a linked object (`<cluster href=.. id=..>`), None when absent."""
    found = element.find(name)
    return None if found is None else found.get("id")


def timestamp(element: Element, path: str) -> datetime | None:
    return timestamp_of(element.findtext(path))


def timestamp_of(value: str | None) -> datetime | None:
    """An engine xs:dateTime (`2019-08-20T15:13:17.128+03:00`) as an aware UTC datetime."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc)


def children(element: Element, *tags: str) -> dict[str, Element]:
    """Direct children by tag, the first of each, like `find`; each read once, not re-walked by paths.

    Mapping thousands of VMs is dominated by creating Python proxies for elements: with `tags`, only
    those children are touched (matched in C); without, all (cheaper for small elements such as NICs).
    """
    if not tags:
        return {child.tag: child for child in reversed(element)}
    return {child.tag: child for child in element.iterchildren(*tags, reversed=True)}


def cpu_count(element: Element) -> int:
    """Virtual CPUs of a VM, template or instance type: sockets x cores x threads."""
    return cpus_of(element.find("cpu"))


def cpus_of(cpu: Element | None) -> int:
    """sockets x cores x threads of a `<cpu>` (1 for what is absent)."""
    topology = None if cpu is None else next(cpu.iterchildren("topology"), None)
    if topology is None:
        return 1
    found = {child.tag: child.text for child in topology.iterchildren("sockets", "cores", "threads", reversed=True)}
    return ((integer_of(found.get("sockets")) or 1) * (integer_of(found.get("cores")) or 1)
            * (integer_of(found.get("threads")) or 1))


def architecture(element: Element, default: str = "x86_64") -> str:
    return architecture_of(element.find("cpu"), default)


def architecture_of(cpu: Element | None, default: str = "x86_64") -> str:
    arch = None if cpu is None else next(cpu.iterchildren("architecture"), None)
    value = None if arch is None else arch.text
    return value if value and value != "undefined" else default


# --- places -----------------------------------------------------------------------------------------
def region(dc: Element) -> Region:
    return Region(id=dc.get("id", ""), name=dc.findtext("name") or "", description=dc.findtext("description") or "",
                  available=dc.findtext("status") == "up")


def realm(cluster: Element, dc: Region) -> Realm:
    return Realm(id=cluster.get("id", ""), name=cluster.findtext("name") or "", region_id=dc.id,
                 region_name=dc.name, available=dc.available, description=cluster.findtext("description") or "",
                 architecture=architecture(cluster))


# --- catalogue ----------------------------------------------------------------------------------------
def template_disks_bytes(template: Element) -> int | None:
    """Total provisioned size of a template's disks (inlined by follow=disk_attachments.disk)."""
    sizes = [integer(a, "disk/provisioned_size") for a in template.iterfind("disk_attachments/disk_attachment")]
    known = [s for s in sizes if s is not None]
    return sum(known) if known else None


def image_volumes(template: Element) -> list[ImageVolume]:
    """A template's disks (inlined by follow=disk_attachments.disk) under their device names, the boot disk
    first; each disk's `image_id` (the engine's disk snapshot id) is its snapshot."""
    attachments = [attachment(a, template.get("id", "")) for a in template.iterfind("disk_attachments/disk_attachment")]
    device_names.name_all(attachments)
    disks = {a.get("id"): a.find("disk") for a in template.iterfind("disk_attachments/disk_attachment")}
    found = []
    for a in sorted(attachments, key=lambda a: not a.bootable):
        disk = disks.get(a.volume_id)
        found.append(ImageVolume(device=a.device or "", bootable=a.bootable,
                                 size_bytes=(integer(disk, "provisioned_size") or 0) if disk is not None else 0,
                                 snapshot_id=(disk.findtext("image_id") or None) if disk is not None else None))
    return found


def image(template: Element, *, owner: str, realms: dict[str, Realm]) -> Image:
    """A template as an image; its architecture is its cluster's (templates of Blank say 'undefined')."""
    status = template.findtext("status")
    cluster_id = link_id(template, "cluster")
    cluster = realms.get(cluster_id or "")
    arch = architecture(template, cluster.architecture if cluster else "x86_64")
    state = TEMPLATE_STATES.get(status or "", ResourceState.ERROR)
    extra: dict[str, object] = {"status": status or "", "version": integer(template, "version/version_number")}
    if state is ResourceState.ERROR and status not in TEMPLATE_STATES:
        extra["state_reason"] = f"The engine reported a template status this gateway does not know: {status!r}"
    volumes = image_volumes(template)
    shared = template.find("permissions")
    if shared is not None:  # inlined (follow=permissions): who may make VMs from it
        extra["launch_user_ids"] = [p.find("user").get("id", "") for p in shared
                                    if p.find("user") is not None and link_id(p, "role") == TEMPLATE_USE_ROLE_ID]
        extra["launch_public"] = any(link_id(p, "group") == EVERYONE_GROUP_ID and link_id(p, "role") ==
                                     TEMPLATE_USE_ROLE_ID for p in shared)
    return Image(
        is_public=shared is None or any(link_id(p, "group") == EVERYONE_GROUP_ID for p in shared),
        id=template.get("id", ""), name=template.findtext("name") or "",
        description=template.findtext("description") or "", owner=owner, architecture=arch, state=state,
        created=timestamp(template, "creation_time"), memory_bytes=integer(template, "memory"),
        cpus=cpu_count(template), disk_bytes=template_disks_bytes(template),
        os_type=template.findtext("os/type") or "", realm_id=cluster_id, extra=extra, backend_state=status or "",
        root_device=next((v.device for v in volumes if v.bootable), None), volumes=volumes)


def custom_profile_id(memory_bytes: int, cpus: int) -> str:
    """Id of the hardware profile for a sizing no instance type names (a template's or a VM's own)."""
    return f"custom-{memory_bytes // MIB}mb-{cpus}cpu"


def parse_custom_profile_id(profile_id: str) -> tuple[int, int] | None:
    """(memory bytes, cpus) of a custom profile id, or None if it is not one."""
    if not profile_id.startswith("custom-"):
        return None
    try:
        memory, cpus = profile_id[len("custom-"):].split("-")
        if not (memory.endswith("mb") and cpus.endswith("cpu")):
            return None
        return int(memory[:-2]) * MIB, int(cpus[:-3])
    except ValueError:
        return None


def hardware_profile(instance_type: Element) -> HardwareProfile:
    memory = integer(instance_type, "memory") or 0
    return HardwareProfile(id=instance_type.get("id", ""), name=instance_type.findtext("name") or "",
                           memory_bytes=memory, cpus=cpu_count(instance_type),
                           architecture=architecture(instance_type),
                           description=instance_type.findtext("description") or "")


def template_profile(img: Image) -> HardwareProfile | None:
    """The hardware profile of a template's own sizing (what an instance gets with no type chosen)."""
    if not img.memory_bytes:
        return None
    cpus = img.cpus or 1
    return HardwareProfile(id=custom_profile_id(img.memory_bytes, cpus), name=custom_profile_id(img.memory_bytes, cpus),
                           memory_bytes=img.memory_bytes, cpus=cpus, disk_bytes=img.disk_bytes,
                           architecture=img.architecture, description=f"Sizing of template {img.name}")


# --- instances --------------------------------------------------------------------------------------
PRIVATE_V4 = ("10.", "192.168.", "127.", "169.254.") + tuple(f"172.{n}." for n in range(16, 32))
PRIVATE_V6 = ("fe8", "fe9", "fea", "feb", "fc", "fd", "::1")


def _is_private(address: str) -> bool:
    """RFC 1918/4193, loopback and link-local addresses (a string test: listings map thousands)."""
    return address.lower().startswith(PRIVATE_V6 if ":" in address else PRIVATE_V4)


VM_FIELDS = ("name", "description", "status", "memory", "cpu", "creation_time", "start_time", "fqdn", "run_once",
             "type", "stop_reason", "initialization", "template", "cluster", "instance_type", "host", "nics",
             "disk_attachments")


def _text(kids: dict[str, Element], tag: str) -> str | None:
    """Text of a child found by `children`: None when absent, '' when empty (as `findtext`)."""
    found = kids.get(tag)
    return None if found is None else found.text or ""


def _linked(kids: dict[str, Element], tag: str) -> str | None:
    found = kids.get(tag)
    return None if found is None else found.get("id")


def _reported_ips(devices: Element, ipv4: list[str], ipv6: list[str]) -> None:
    """Guest-agent addresses of a NIC's `<reported_devices>`, IPv4 and IPv6 apart, in reported order."""
    for device in devices.iterchildren(etree.Element):
        ips = next(device.iterchildren("ips"), None)
        for ip in () if ips is None else ips.iterchildren(etree.Element):
            found = {child.tag: child.text or "" for child in ip.iterchildren("address", "version", reversed=True)}
            value = found.get("address")
            if not value:
                continue
            version = found.get("version")
            if version == "v6" or (version is None and ":" in value):
                ipv6.append(value)
            else:
                ipv4.append(value)


def interface(nic: Element, vm_id: str, networks_of_profiles: dict[str, str] | None = None) -> NetworkInterface:
    """A VM NIC with the addresses the guest agent reports on it (IPv4 before IPv6, as reported)."""
    kids = children(nic)
    ipv4: list[str] = []
    ipv6: list[str] = []
    devices = kids.get("reported_devices")
    if devices is not None:
        _reported_ips(devices, ipv4, ipv6)

    def flag(tag: str) -> bool:
        found = kids.get(tag)
        return True if found is None or not found.text else found.text == "true"

    mac = kids.get("mac")
    mac_address = None if mac is None else next(mac.iterchildren("address"), None)
    profile_id = _linked(kids, "vnic_profile")
    network_id = _linked(kids, "network") or (networks_of_profiles or {}).get(profile_id or "")
    return NetworkInterface(
        id=nic.get("id", ""), instance_id=_linked(kids, "vm") or vm_id, name=_text(kids, "name") or "",
        mac=None if mac_address is None else mac_address.text or "", network_id=network_id, profile_id=profile_id,
        ipv4=ipv4, ipv6=ipv6, plugged=flag("plugged"), linked=flag("linked"),
        interface=_text(kids, "interface") or "virtio")


def attachment(element: Element, instance_id: str) -> VolumeAttachment:
    """A disk attachment; deleted on termination when it is the boot disk, until the driver's record says
    otherwise (the engine keeps no such flag: see disk_records). Unnamed: the guest's `logical_name` comes and
    goes with the VM's state, so the driver names it (device_names)."""
    kids = children(element)
    bootable = boolean_of(_text(kids, "bootable"))
    return VolumeAttachment(volume_id=_linked(kids, "disk") or element.get("id", ""),
                            instance_id=_linked(kids, "vm") or instance_id,
                            bootable=bootable, active=boolean_of(_text(kids, "active"), True),
                            delete_on_termination=bootable, interface=_text(kids, "interface") or "")


def instance(vm: Element, *, owner: str = "", region_id: str | None = None,
             networks_of_profiles: dict[str, str] | None = None) -> Instance:
    """A VM (with nics.reported_devices and disk_attachments inlined when the request followed them).

    Touches only the children it maps, each once (see `children`): a listing maps thousands of VMs.
    """
    kids = children(vm, *VM_FIELDS)
    vm_id = vm.get("id", "")
    status = _text(kids, "status")
    state, reason = vm_state(status)
    nics = kids.get("nics")
    interfaces = [] if nics is None else [interface(n, vm_id, networks_of_profiles)
                                          for n in nics.iterchildren(etree.Element)]
    addresses: list[Address] = []
    for nic in interfaces:
        addresses.extend(Address("ipv4", ip, _is_private(ip)) for ip in nic.ipv4)
    for nic in interfaces:
        addresses.extend(Address("ipv6", ip, _is_private(ip)) for ip in nic.ipv6)
    addresses.extend(Address("mac", nic.mac) for nic in interfaces if nic.mac)
    fqdn = _text(kids, "fqdn")
    if fqdn:
        addresses.append(Address("hostname", fqdn, private=False))
    memory = int(_text(kids, "memory") or 0)
    cpu = kids.get("cpu")
    cpus = cpus_of(cpu)
    created = timestamp_of(_text(kids, "creation_time"))
    init = kids.get("initialization")
    script_element = None if init is None else next(init.iterchildren("custom_script"), None)
    script = None if script_element is None else script_element.text
    extra: dict[str, object] = {"run_once": _text(kids, "run_once") == "true", "type": _text(kids, "type") or ""}
    stop_reason = _text(kids, "stop_reason")
    if stop_reason:
        extra["stop_reason"] = stop_reason
    disks = kids.get("disk_attachments")
    return Instance(
        id=vm_id, name=_text(kids, "name") or "", state=state, state_reason=reason, backend_state=status or "",
        image_id=_linked(kids, "template"), realm_id=_linked(kids, "cluster"), region_id=region_id,
        hardware_profile_id=_linked(kids, "instance_type") or custom_profile_id(memory, cpus),
        memory_bytes=memory, cpus=cpus, architecture=architecture_of(cpu), created=created,
        launch_time=timestamp_of(_text(kids, "start_time")) or created, host_id=_linked(kids, "host"),
        description=_text(kids, "description") or "", owner=owner, addresses=addresses, interfaces=interfaces,
        attachments=[] if disks is None else [attachment(a, vm_id) for a in disks.iterchildren(etree.Element)],
        user_data=script.encode() if script else None, extra=extra)


# --- storage ------------------------------------------------------------------------------------------
def volume(disk: Element, attachments: Iterable[VolumeAttachment] = ()) -> Volume:
    """A disk; in use when an active attachment holds it."""
    status = disk.findtext("status")
    held = [a for a in attachments if a.volume_id == disk.get("id")]
    state = DISK_STATES.get(status or "", ResourceState.ERROR)
    domains = disk.find("storage_domains")
    domain_id = None
    if domains is not None and len(domains):
        domain_id = domains[0].get("id")
    return with_attachments(Volume(
        id=disk.get("id", ""), name=disk.findtext("alias") or disk.findtext("name") or "",
        size_bytes=integer(disk, "provisioned_size") or 0, state=state,
        description=disk.findtext("description") or "", created=timestamp(disk, "creation_time"),
        storage_domain_id=domain_id, format=disk.findtext("format") or "cow", sparse=boolean(disk, "sparse", True),
        backend_state=status or ""), held)


def with_attachments(volume: Volume, held: list[VolumeAttachment]) -> Volume:
    """The volume with its attachments; in use when an active one holds it (an available disk)."""
    volume.attachments = held
    if volume.state is ResourceState.AVAILABLE and any(a.active for a in held):
        volume.state = ResourceState.IN_USE
    return volume


def is_user_volume(disk: Element) -> bool:
    """Data disks only: OVF stores, memory dumps and ISO uploads are the engine's, not a client's."""
    return (disk.findtext("content_type") or "data") == "data"


def snapshot(element: Element, vm_id: str) -> Snapshot:
    status = element.findtext("snapshot_status")
    return Snapshot(id=element.get("id", ""), instance_id=link_id(element, "vm") or vm_id,
                    description=element.findtext("description") or "",
                    state=SNAPSHOT_STATES.get(status or "", ResourceState.ERROR), created=timestamp(element, "date"),
                    volume_ids=[d.get("id", "") for d in element.iterfind("disks/disk")], backend_state=status or "")


def is_user_snapshot(element: Element) -> bool:
    """Regular snapshots only: the 'Active VM' one is the VM itself, stateless/preview ones are transient."""
    return (element.findtext("snapshot_type") or "regular") == "regular"


MANAGEMENT_NETWORK = "ovirtmgmt"  # the engine's default management network (clusters may name another)


def network(element: Element, profile_ids: list[str], management_ids: Iterable[str] = ()) -> Network:
    """A logical network; `management_ids` adds networks a cluster names as its management network."""
    mtu = integer(element, "mtu")
    return Network(id=element.get("id", ""), name=element.findtext("name") or "",
                   description=element.findtext("description") or "", region_id=link_id(element, "data_center"),
                   vlan=integer(element, "vlan/id"), mtu=mtu or None, profile_ids=profile_ids,
                   is_management=element.get("id", "") in set(management_ids)
                   or element.findtext("name") == MANAGEMENT_NETWORK
                   or "management" in [u.text for u in element.iterfind("usages/usage")],
                   external=element.find("external_provider") is not None)
