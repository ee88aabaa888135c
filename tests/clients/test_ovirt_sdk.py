"""The official oVirt Python SDK (ovirtsdk4) against the simulator over real HTTP.

A full VM lifecycle as an SDK user writes it, asserting on the way that every enum the SDK parses
is known to it (the SDK silently turns unknown enum values into None) and that errors carry the
engine's codes.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from lxml import etree

sdk = pytest.importorskip("ovirtsdk4")
types = pytest.importorskip("ovirtsdk4.types")

from tests.simulator_fixtures import (  # noqa: E402
    ADMIN, BLANK, CLUSTER_DEFAULT, TEMPLATE_CENTOS_DEFAULT, USER, control, running_simulator, wait_until,
)

SPEED = 400.0     # a boot (~13 simulated seconds) takes ~30 ms; image copies ~20 ms


@pytest.fixture(scope="module")
def simulator() -> Iterator[Any]:
    with running_simulator(speed=SPEED) as (sim, handle):
        yield handle


@pytest.fixture()
def connection(simulator: Any) -> Iterator[Any]:
    conn = sdk.Connection(url=simulator.api_url, username=ADMIN[0], password=ADMIN[1])
    yield conn
    conn.close()


_MISSING = object()


def assert_sdk_parsed_all(xml: bytes, obj: Any) -> None:
    """Every value the simulator wrote must come out of the SDK's reader as something other than None.

    The SDK silently maps an unknown enum value to None and ignores elements its model does not have,
    so comparing the raw XML with the parsed object catches both kinds of invention."""
    problems: list[str] = []

    def walk(el: Any, value: Any, path: str) -> None:
        for child in el:
            if child.tag in ("link", "actions"):
                continue
            name = "async_" if child.tag == "async" else child.tag
            attr = getattr(value, name, _MISSING)
            where = f"{path}/{child.tag}"
            if attr is _MISSING:
                problems.append(f"{where}: not in the SDK's model")
            elif len(child) == 0:
                if (child.text or "").strip() and attr is None:
                    problems.append(f"{where}={child.text!r} parsed as None")
            elif isinstance(attr, list):
                for index, (item_el, item) in enumerate(zip(child, attr)):
                    if len(item_el) == 0:
                        if (item_el.text or "").strip() and item is None:
                            problems.append(f"{where}[{index}]={item_el.text!r} parsed as None")
                    else:
                        walk(item_el, item, f"{where}[{index}]")
            elif attr is None:
                problems.append(f"{where}: parsed as None")
            else:
                walk(child, attr, where)

    root = etree.fromstring(xml)
    if isinstance(obj, list):
        assert len(root) == len(obj), f"{len(root)} elements in the XML, {len(obj)} parsed"
        for index, (item_el, item) in enumerate(zip(root, obj)):
            walk(item_el, item, f"/{root.tag}[{index}]")
    else:
        walk(root, obj, "")
    assert not problems, "\n".join(problems)


def raw(handle: Any, path: str, **params: Any) -> bytes:
    response = requests.get(f"{handle.api_url}/{path}", params=params, auth=ADMIN, timeout=10)
    response.raise_for_status()
    return response.content


def enum_fields_of(xml_names: list[str], obj: Any) -> None:
    """The enum attributes we know the simulator writes on `obj` must be real enum members."""
    for name in xml_names:
        value = getattr(obj, name)
        assert isinstance(value, enum.Enum), f"{type(obj).__name__}.{name} = {value!r}"


def test_connect_and_api_root(connection: Any) -> None:
    assert connection.test(raise_exception=True)
    api = connection.system_service().get()
    assert api.product_info.name == "oVirt Engine"
    assert api.special_objects.blank_template.id == BLANK
    assert api.summary.vms.total is not None


def test_list_and_search_infrastructure(connection: Any) -> None:
    system = connection.system_service()
    dcs = system.data_centers_service().list()
    assert {dc.name for dc in dcs} == {"Default", "barcelona"}
    for dc in dcs:
        enum_fields_of(["status", "quota_mode", "storage_format"], dc)
    clusters = system.clusters_service().list(search="datacenter=barcelona")
    assert [c.name for c in clusters] == ["barcelona-cluster"]
    enum_fields_of(["switch_type", "firewall_type", "log_max_memory_used_threshold_type"], clusters[0])
    assert clusters[0].cpu.architecture == types.Architecture.X86_64
    hosts = system.hosts_service().list(search="status=up")
    assert len(hosts) == 2
    for host in hosts:
        enum_fields_of(["status", "type", "external_status", "kdump_status", "vgpu_placement"], host)
        assert host.spm.status is not None
    sds = system.storage_domains_service().list()
    for sd in sds:
        enum_fields_of(["status", "type", "external_status", "storage_format"], sd)
        assert sd.storage.type == types.StorageType.NFS
    networks = system.networks_service().list(search="name=ovirtmgmt")
    assert len(networks) == 2 and all(n.usages for n in networks)
    assert all(isinstance(u, types.NetworkUsage) for n in networks for u in n.usages)
    profiles = system.vnic_profiles_service().list()
    assert all(p.pass_through.mode == types.VnicPassThroughMode.DISABLED for p in profiles)
    names = [it.name for it in system.instance_types_service().list()]
    assert names == ["Tiny", "Small", "Medium", "Large", "XLarge"]


def test_templates(connection: Any) -> None:
    templates = connection.system_service().templates_service()
    listed = templates.list()
    assert listed[0].id == BLANK and listed[0].name == "Blank"
    cloud = templates.list(search="name=centos* and datacenter=Default")
    assert [t.id for t in cloud] == [TEMPLATE_CENTOS_DEFAULT]
    t = cloud[0]
    enum_fields_of(["status", "type", "storage_error_resume_behaviour"], t)
    assert t.bios.type is not None and t.display.type is not None and t.cpu.architecture is not None
    service = templates.template_service(t.id)
    atts = service.disk_attachments_service().list()
    assert len(atts) == 1 and atts[0].interface == types.DiskInterface.VIRTIO
    nics = service.nics_service().list()
    assert len(nics) == 1 and nics[0].interface == types.NicInterface.VIRTIO
    assert templates.template_service(BLANK).disk_attachments_service().list() == []


def test_vm_lifecycle(simulator: Any, connection: Any) -> None:
    system = connection.system_service()
    vms = system.vms_service()
    vm = vms.add(types.Vm(name="sdk-lifecycle", cluster=types.Cluster(name="Default"),
                          template=types.Template(id=TEMPLATE_CENTOS_DEFAULT), memory=2 * 2**30))
    assert vm.status == types.VmStatus.IMAGE_LOCKED
    service = vms.vm_service(vm.id)
    wait_until(lambda: service.get().status == types.VmStatus.DOWN)
    down = service.get(all_content=True)
    enum_fields_of(["status", "type", "storage_error_resume_behaviour", "numa_tune_mode"], down)
    assert down.original_template.id == TEMPLATE_CENTOS_DEFAULT and down.cluster.id == CLUSTER_DEFAULT
    disk = service.disk_attachments_service().list(follow="disk")[0].disk
    assert disk.status == types.DiskStatus.OK and disk.format == types.DiskFormat.COW
    enum_fields_of(["storage_type", "content_type", "backup", "qcow_version"], disk)

    script = "#cloud-config\nruncmd:\n - echo hello\n"
    service.start(use_cloud_init=True, vm=types.Vm(initialization=types.Initialization(
        user_name="cloud", host_name="sdk-host", authorized_ssh_keys="ssh-ed25519 AAAA test", custom_script=script)))
    assert service.get().status in (types.VmStatus.WAIT_FOR_LAUNCH, types.VmStatus.POWERING_UP,
                                    types.VmStatus.UP)
    wait_until(lambda: service.get().status == types.VmStatus.UP)
    nic_service = service.nics_service()
    wait_until(lambda: bool(nic_service.list()[0].reported_devices))
    nic = nic_service.list()[0]
    assert nic.mac.address.startswith("56:6f:")
    device = nic.reported_devices[0]
    assert device.type == types.ReportedDeviceType.NETWORK
    versions = [ip.version for ip in device.ips]
    assert versions[0] == types.IpVersion.V4 and types.IpVersion.V6 in versions
    up = service.get(all_content=True)
    assert up.initialization.custom_script == script
    assert up.initialization.user_name == "cloud" and up.fqdn == "sdk-host"
    assert up.run_once is True and up.host is not None and up.start_time is not None

    listed = vms.list(search="name=sdk-lifecycle", follow="nics.reported_devices,disk_attachments.disk")
    assert listed[0].nics[0].reported_devices[0].ips[0].address == device.ips[0].address
    assert listed[0].disk_attachments[0].disk.status == types.DiskStatus.OK

    snapshot = service.snapshots_service().add(types.Snapshot(description="before-shutdown"))
    assert snapshot.snapshot_status == types.SnapshotStatus.LOCKED
    snap_service = service.snapshots_service().snapshot_service(snapshot.id)
    wait_until(lambda: snap_service.get().snapshot_status == types.SnapshotStatus.OK)
    types_seen = {s.snapshot_type for s in service.snapshots_service().list()}
    assert types_seen == {types.SnapshotType.ACTIVE, types.SnapshotType.REGULAR}

    system.tags_service().add(types.Tag(name="sdk-web"))
    service.tags_service().add(types.Tag(name="sdk-web"))
    assert [t.name for t in service.tags_service().list()] == ["sdk-web"]
    assert [v.id for v in vms.list(search="tag=sdk-web")] == [vm.id]

    with pytest.raises(sdk.Error) as running:
        service.remove()
    assert running.value.code == 409 and "VM is running" in str(running.value)

    control(simulator, "POST", "clock", frozen=True)  # hold the transient state however slow this machine is
    service.shutdown()
    assert service.get().status == types.VmStatus.POWERING_DOWN
    control(simulator, "POST", "clock", frozen=False)
    wait_until(lambda: service.get().status == types.VmStatus.DOWN)
    gone = service.get()
    assert gone.host is None and gone.stop_time is not None
    assert nic_service.list()[0].reported_devices == []

    with pytest.raises(sdk.Error) as stopped:
        service.stop()
    assert stopped.value.code == 409 and "[Cannot stop VM. VM is not running.]" in str(stopped.value)

    service.remove()
    with pytest.raises(sdk.NotFoundError) as missing:
        service.get()
    assert missing.value.code == 404


def test_add_from_blank_is_created_down(connection: Any) -> None:
    vms = connection.system_service().vms_service()
    vm = vms.add(types.Vm(name="sdk-blank", cluster=types.Cluster(id=CLUSTER_DEFAULT),
                          template=types.Template(name="Blank"), memory=2**30))
    assert vm.status == types.VmStatus.DOWN
    vms.vm_service(vm.id).remove()


def test_errors_carry_codes(connection: Any) -> None:
    vms = connection.system_service().vms_service()
    with pytest.raises(sdk.NotFoundError) as unknown:
        vms.vm_service("11111111-2222-3333-4444-555555555555").get()
    assert unknown.value.code == 404
    with pytest.raises(sdk.Error) as missing_name:
        vms.add(types.Vm(cluster=types.Cluster(name="Default"), template=types.Template(name="Blank")))
    assert missing_name.value.code == 400 and "Vm [name] required for add" in str(missing_name.value)
    with pytest.raises(sdk.NotFoundError) as bad_cluster:
        vms.add(types.Vm(name="x", cluster=types.Cluster(name="nope"), template=types.Template(name="Blank")))
    assert "Entity not found: Cluster: name=nope" in str(bad_cluster.value)
    vm = vms.add(types.Vm(name="sdk-dup", cluster=types.Cluster(name="Default"), template=types.Template(name="Blank")))
    with pytest.raises(sdk.Error) as duplicate:
        vms.add(types.Vm(name="sdk-dup", cluster=types.Cluster(name="Default"), template=types.Template(name="Blank")))
    assert duplicate.value.code == 409 and "name is already in use" in str(duplicate.value)
    vms.vm_service(vm.id).remove()


def test_floating_disk_attach_deactivate_detach_remove(connection: Any) -> None:
    system = connection.system_service()
    disks = system.disks_service()
    disk = disks.add(types.Disk(name="sdk-data", description="scratch\n", format=types.DiskFormat.COW,
                                provisioned_size=2 * 2**30, sparse=True,
                                storage_domains=[types.StorageDomain(name="data-default")]))
    assert disk.status == types.DiskStatus.LOCKED and disk.description == "scratch\n"
    disk_service = disks.disk_service(disk.id)
    wait_until(lambda: disk_service.get().status == types.DiskStatus.OK)
    assert [d.id for d in disks.list(search="name=sdk-data and storage=data-default")] == [disk.id]
    assert [d.id for d in disks.list(search="name=sdk-data and datacenter=Default")] == [disk.id]

    vms = system.vms_service()
    vm = vms.add(types.Vm(name="sdk-disks", cluster=types.Cluster(name="Default"),
                          template=types.Template(id=TEMPLATE_CENTOS_DEFAULT)))
    vm_service = vms.vm_service(vm.id)
    wait_until(lambda: vm_service.get().status == types.VmStatus.DOWN)
    vm_service.start()
    wait_until(lambda: vm_service.get().status == types.VmStatus.UP)
    attachments = vm_service.disk_attachments_service()
    attachment = attachments.add(types.DiskAttachment(disk=types.Disk(id=disk.id), interface=types.DiskInterface.VIRTIO,
                                                      bootable=False, active=True))
    assert attachment.active is True and attachment.interface == types.DiskInterface.VIRTIO
    attachment_service = attachments.attachment_service(disk.id)
    assert attachment_service.get().logical_name is not None
    with pytest.raises(sdk.Error) as in_use:
        disk_service.remove()
    assert in_use.value.code == 409 and "At least one of the VMs is not down" in str(in_use.value)

    updated = attachment_service.update(types.DiskAttachment(active=False))
    assert updated.active is False and attachment_service.get().active is False
    assert_sdk_parsed_all(raw_path(connection, f"vms/{vm.id}/diskattachments/{disk.id}"), attachment_service.get())
    attachment_service.remove(detach_only=True)
    assert disk.id not in {a.id for a in attachments.list()}
    disk_service.remove()
    wait_until(lambda: disk.id not in {d.id for d in disks.list()})
    with pytest.raises(sdk.NotFoundError):
        disk_service.get()
    vm_service.stop()
    wait_until(lambda: vm_service.get().status == types.VmStatus.DOWN)
    vm_service.remove()


def test_a_new_disk_attached_in_one_call_and_removed_with_its_attachment(connection: Any) -> None:
    """What a launch's block device mappings ask: a blank disk created and attached in one call (its
    description marks the launch), and a disk left out removed with `detach_only=false`."""
    system = connection.system_service()
    vms = system.vms_service()
    vm = vms.add(types.Vm(name="sdk-launch-volumes", cluster=types.Cluster(name="Default"),
                          template=types.Template(id=TEMPLATE_CENTOS_DEFAULT)))
    vm_service = vms.vm_service(vm.id)
    wait_until(lambda: vm_service.get().status == types.VmStatus.DOWN)
    attachments = vm_service.disk_attachments_service()
    boot = attachments.list(follow="disk")[0]
    made = attachments.add(types.DiskAttachment(
        bootable=False, active=True, interface=types.DiskInterface.VIRTIO_SCSI,
        disk=types.Disk(alias="sdk-launch-volumes_sdb", description="cloudgw-launch-op /dev/sdb",
                        provisioned_size=2**30, format=types.DiskFormat.COW, sparse=True,
                        storage_domains=[types.StorageDomain(id=boot.disk.storage_domains[0].id)])))
    assert made.interface == types.DiskInterface.VIRTIO_SCSI and made.bootable is False
    disk_service = system.disks_service().disk_service(made.id)
    wait_until(lambda: disk_service.get().status == types.DiskStatus.OK)
    assert disk_service.get().description == "cloudgw-launch-op /dev/sdb"
    assert [a.disk.description for a in attachments.list(follow="disk") if not a.bootable] == [
        "cloudgw-launch-op /dev/sdb"]
    attachments.attachment_service(made.id).remove(detach_only=False)
    assert made.id not in {a.id for a in attachments.list()}
    wait_until(lambda: made.id not in {d.id for d in system.disks_service().list()})
    vm_service.remove()


def test_template_from_a_stopped_vm(connection: Any) -> None:
    system = connection.system_service()
    vms = system.vms_service()
    templates = system.templates_service()
    source = vms.add(types.Vm(name="sdk-source", cluster=types.Cluster(name="Default"),
                              template=types.Template(id=TEMPLATE_CENTOS_DEFAULT), memory=2 * 2**30))
    source_service = vms.vm_service(source.id)
    wait_until(lambda: source_service.get().status == types.VmStatus.DOWN)
    source_service.start()
    with pytest.raises(sdk.Error) as running:
        templates.add(types.Template(name="sdk-golden", vm=types.Vm(id=source.id)))
    assert running.value.code == 409 and "VM is locked or still running" in str(running.value)
    source_service.stop()
    wait_until(lambda: source_service.get().status == types.VmStatus.DOWN)

    template = templates.add(types.Template(name="sdk-golden", description="golden image", vm=types.Vm(id=source.id)))
    assert template.status == types.TemplateStatus.LOCKED
    service = templates.template_service(template.id)
    wait_until(lambda: service.get().status == types.TemplateStatus.OK)
    assert source_service.get().status == types.VmStatus.DOWN
    got = service.get()
    assert got.memory == 2 * 2**30 and got.cluster.id == CLUSTER_DEFAULT and got.version.version_number == 1
    assert len(service.disk_attachments_service().list()) == 1 and len(service.nics_service().list()) == 1
    assert [t.id for t in templates.list(search="name=sdk-golden and datacenter=Default")] == [template.id]
    assert_sdk_parsed_all(raw_path(connection, f"templates/{template.id}"), got)

    child = vms.add(types.Vm(name="sdk-child", cluster=types.Cluster(name="Default"),
                             template=types.Template(id=template.id)))
    child_service = vms.vm_service(child.id)
    wait_until(lambda: child_service.get().status == types.VmStatus.DOWN)
    assert child_service.get().template.id == template.id and child_service.get().memory == 2 * 2**30
    with pytest.raises(sdk.Error) as in_use:
        service.remove()
    assert in_use.value.code == 409 and "used by the following VMs: sdk-child" in str(in_use.value)
    with pytest.raises(sdk.Error) as blank:
        templates.template_service(BLANK).remove()
    assert blank.value.code == 400
    child_service.remove()
    service.remove()
    wait_until(lambda: template.id not in {t.id for t in templates.list()})
    with pytest.raises(sdk.NotFoundError):
        service.get()
    source_service.remove()


def test_template_from_a_snapshot_of_a_running_vm_then_shared_and_edited(simulator: Any, connection: Any) -> None:
    """TemplatesService.add FromVmSnapshot (4.3): the VM keeps running; the template's permissions with
    UserTemplateBasedVm share it (the user-level API then lists it); update changes its description."""
    system = connection.system_service()
    vms, templates = system.vms_service(), system.templates_service()
    source = vms.add(types.Vm(name="sdk-snap-source", cluster=types.Cluster(name="Default"),
                              template=types.Template(id=TEMPLATE_CENTOS_DEFAULT)))
    source_service = vms.vm_service(source.id)
    wait_until(lambda: source_service.get().status == types.VmStatus.DOWN)
    source_service.start()
    wait_until(lambda: source_service.get().status == types.VmStatus.UP)
    snapshots = source_service.snapshots_service()
    snapshot = snapshots.add(types.Snapshot(description="for a template", persist_memorystate=False))
    wait_until(lambda: snapshots.snapshot_service(snapshot.id).get().snapshot_status == types.SnapshotStatus.OK)
    with pytest.raises(sdk.NotFoundError):
        templates.add(types.Template(name="sdk-from-nothing", vm=types.Vm(
            id=source.id, snapshots=[types.Snapshot(id="5aa00000-0000-4000-8000-00000000dead")])))
    template = templates.add(types.Template(name="sdk-from-snapshot", vm=types.Vm(
        id=source.id, snapshots=[types.Snapshot(id=snapshot.id)])))
    assert template.status == types.TemplateStatus.LOCKED and source_service.get().status == types.VmStatus.UP
    service = templates.template_service(template.id)
    wait_until(lambda: service.get().status == types.TemplateStatus.OK)
    assert len(service.disk_attachments_service().list()) == 1

    user = sdk.Connection(url=simulator.api_url, username=USER[0], password=USER[1], headers={"Filter": "true"})
    try:
        assert template.id not in {t.id for t in user.system_service().templates_service().list()}
        users = {u.user_name: u.id for u in system.users_service().list()}
        granted = service.permissions_service().add(types.Permission(
            role=types.Role(id="def00009-0000-0000-0000-def000000009"), user=types.User(id=users[USER[0]])))
        assert granted.user.id == users[USER[0]] and granted.template.id == template.id
        assert template.id in {t.id for t in user.system_service().templates_service().list()}
        with pytest.raises(sdk.AuthError):
            user.system_service().templates_service().template_service(template.id).update(
                types.Template(description="the user's now"))
        service.permissions_service().permission_service(granted.id).remove()
        assert template.id not in {t.id for t in user.system_service().templates_service().list()}
    finally:
        user.close()
    assert service.update(types.Template(description="edited")).description == "edited"
    assert_sdk_parsed_all(raw_path(connection, f"templates/{template.id}/permissions"),
                          service.permissions_service().list())
    assert_sdk_parsed_all(raw_path(connection, f"templates/{template.id}?follow=permissions"),
                          service.get(follow="permissions"))
    service.remove()
    source_service.stop()
    wait_until(lambda: source_service.get().status == types.VmStatus.DOWN)
    snapshots.snapshot_service(snapshot.id).remove()
    wait_until(lambda: not [s for s in snapshots.list() if s.id == snapshot.id])
    source_service.remove()


def test_template_refusals_as_the_engine_answers_them(simulator: Any, connection: Any) -> None:
    """A name with special characters (400), a name already used by another template of the data center
    (409), permissions a user may not change (403)."""
    system = connection.system_service()
    vms, templates = system.vms_service(), system.templates_service()
    source = vms.add(types.Vm(name="sdk-refusals", cluster=types.Cluster(name="Default"),
                              template=types.Template(id=TEMPLATE_CENTOS_DEFAULT)))
    source_service = vms.vm_service(source.id)
    wait_until(lambda: source_service.get().status == types.VmStatus.DOWN)
    with pytest.raises(sdk.Error) as named:
        templates.add(types.Template(name="web server (v1)", vm=types.Vm(id=source.id)))
    assert named.value.code == 400 and "special characters" in str(named.value)
    first = templates.add(types.Template(name="sdk-refusals-1", vm=types.Vm(id=source.id)))
    wait_until(lambda: templates.template_service(first.id).get().status == types.TemplateStatus.OK)
    second = templates.add(types.Template(name="sdk-refusals-2", vm=types.Vm(id=source.id)))
    wait_until(lambda: templates.template_service(second.id).get().status == types.TemplateStatus.OK)
    with pytest.raises(sdk.Error) as taken:
        templates.template_service(second.id).update(types.Template(name="sdk-refusals-1"))
    assert taken.value.code == 409 and "already in use" in str(taken.value)
    user = sdk.Connection(url=simulator.api_url, username=USER[0], password=USER[1])
    try:
        with pytest.raises(sdk.AuthError) as forbidden:  # seeded templates are shared with Everyone: the user
            user.system_service().templates_service().template_service(  # sees them, may not share them
                TEMPLATE_CENTOS_DEFAULT).permissions_service().add(types.Permission(
                    role=types.Role(id="def00009-0000-0000-0000-def000000009"), group=types.Group(
                        id="eee00000-0000-0000-0000-123456789eee")))
        assert forbidden.value.code == 403
    finally:
        user.close()
    for template in (first, second):
        templates.template_service(template.id).remove()
    source_service.remove()


def raw_path(connection: Any, path: str) -> bytes:
    """The raw XML of `path`, fetched through the SDK connection's own URL."""
    response = requests.get(f"{connection.url}/{path}", auth=ADMIN, timeout=10)
    response.raise_for_status()
    return response.content


def test_bad_credentials_raise_auth_error(simulator: Any) -> None:
    conn = sdk.Connection(url=simulator.api_url, username="admin@internal", password="wrong")
    with pytest.raises(sdk.AuthError) as error:
        conn.test(raise_exception=True)
    assert "Cannot authenticate user" in str(error.value)


def test_user_level_api_shows_only_own_vms(simulator: Any, connection: Any) -> None:
    admin_vm = connection.system_service().vms_service().add(types.Vm(
        name="sdk-admins", cluster=types.Cluster(name="Default"), template=types.Template(name="Blank")))
    user = sdk.Connection(url=simulator.api_url, username=USER[0], password=USER[1], headers={"Filter": "true"})
    try:
        mine = user.system_service().vms_service().add(types.Vm(
            name="sdk-users", cluster=types.Cluster(name="Default"), template=types.Template(name="Blank")))
        visible = {v.id for v in user.system_service().vms_service().list()}
        assert mine.id in visible and admin_vm.id not in visible
        with pytest.raises(sdk.NotFoundError):
            user.system_service().vms_service().vm_service(admin_vm.id).get()
        user.system_service().vms_service().vm_service(mine.id).remove()
    finally:
        user.close()
        connection.system_service().vms_service().vm_service(admin_vm.id).remove()


def test_an_action_the_user_may_not_do_raises_auth_error_403(simulator: Any, connection: Any) -> None:
    """The engine's NO_PERMISSION fault reaches SDK code as AuthError with code 403 and the engine's text,
    for an action on a VM the user holds no role on and for creating a template."""
    admin_vm = connection.system_service().vms_service().add(types.Vm(
        name="sdk-admins-403", cluster=types.Cluster(name="Default"), template=types.Template(name="Blank")))
    user = sdk.Connection(url=simulator.api_url, username=USER[0], password=USER[1])
    try:
        with pytest.raises(sdk.AuthError) as error:
            user.system_service().vms_service().vm_service(admin_vm.id).start()
        assert error.value.code == 403
        assert "User is not authorized to perform this action." in str(error.value)
        mine = user.system_service().vms_service().add(types.Vm(
            name="sdk-users-403", cluster=types.Cluster(name="Default"), template=types.Template(name="Blank")))
        with pytest.raises(sdk.AuthError) as error:
            user.system_service().templates_service().add(types.Template(name="sdk-users-tpl",
                                                                         vm=types.Vm(id=mine.id)))
        assert error.value.code == 403
        user.system_service().vms_service().vm_service(mine.id).remove()
    finally:
        user.close()
        connection.system_service().vms_service().vm_service(admin_vm.id).remove()


@pytest.mark.parametrize("collection, search", [
    ("datacenters", None), ("clusters", None), ("hosts", None), ("storagedomains", None), ("networks", None),
    ("vnicprofiles", None), ("instancetypes", None), ("templates", None), ("disks", None), ("tags", None),
    ("jobs", None), ("users", None), ("vms", None),
])
def test_sdk_parses_every_value(simulator: Any, connection: Any, collection: str, search: str | None) -> None:
    """Whatever the simulator writes, the SDK's model knows (no invented element or enum value)."""
    system = connection.system_service()
    services = {"datacenters": system.data_centers_service(), "clusters": system.clusters_service(),
                "hosts": system.hosts_service(), "storagedomains": system.storage_domains_service(),
                "networks": system.networks_service(), "vnicprofiles": system.vnic_profiles_service(),
                "instancetypes": system.instance_types_service(), "templates": system.templates_service(),
                "disks": system.disks_service(), "tags": system.tags_service(), "jobs": system.jobs_service(),
                "users": system.users_service(), "vms": system.vms_service()}
    if collection == "vms":
        vm = services["vms"].add(types.Vm(name="sdk-parse", cluster=types.Cluster(name="barcelona-cluster"),
                                          template=types.Template(name="debian-12")))
        service = services["vms"].vm_service(vm.id)
        wait_until(lambda: service.get().status == types.VmStatus.DOWN)
        service.start(use_cloud_init=True, vm=types.Vm(initialization=types.Initialization(
            user_name="u", custom_script="#cloud-config", nic_configurations=[types.NicConfiguration(
                name="eth0", boot_protocol=types.BootProtocol.DHCP, on_boot=True)])))
        wait_until(lambda: bool(service.nics_service().list()[0].reported_devices))
        follow = "nics.reported_devices,disk_attachments.disk,snapshots,tags"
        parsed = services["vms"].list(search="name=sdk-parse", follow=follow, all_content=True)
        assert_sdk_parsed_all(raw(simulator, "vms", search="name=sdk-parse", follow=follow, all_content="true"),
                              parsed)
        assert_sdk_parsed_all(raw(simulator, f"vms/{vm.id}/reporteddevices"),
                              service.reported_devices_service().list())
        service.stop()
        wait_until(lambda: service.get().status == types.VmStatus.DOWN)
        service.remove()
        return
    assert_sdk_parsed_all(raw(simulator, collection), services[collection].list())

