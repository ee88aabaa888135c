"""The simulator's storage as a client sees it on the wire, on a frozen clock: floating disks, disk
attachment updates (hot unplug, bootable, interface), templates made from VMs and their removal, disk
search, and free text kept exactly as sent."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from tests.simulator_fixtures import ADMIN, BLANK, CLUSTER_DEFAULT, TEMPLATE_CENTOS_DEFAULT, advance, running_simulator

from .test_simulator_http import XML, add_vm, status, xml

GiB = 1024 ** 3
SD_DEFAULT = "5d000000-0000-4000-8000-000000000001"
UP_VM = "5eed0000-0000-4000-8000-000000000001"     # seeded: vm-00001 is up, vm-00003 down


@pytest.fixture()
def engine() -> Iterator[Any]:
    with running_simulator(frozen=True, vms=3) as (sim, handle):
        yield handle


@pytest.fixture()
def admin(engine: Any) -> requests.Session:
    session = requests.Session()
    session.auth = ADMIN
    return session


def fault(response: requests.Response) -> tuple[int, str]:
    return response.status_code, xml(response).findtext("detail")


def add_disk(session: requests.Session, api: str, name: str, size: int = GiB, extra: str = "") -> requests.Response:
    body = (f"<disk><name>{name}</name><provisioned_size>{size}</provisioned_size><format>cow</format>"
            f"<sparse>true</sparse><storage_domains><storage_domain id='{SD_DEFAULT}'/></storage_domains>{extra}</disk>")
    return session.post(f"{api}/disks", data=body, headers=XML)


def names(root: Any) -> list[str]:
    return [el.findtext("name") for el in root]


# -- floating disks ----------------------------------------------------------------------------------

def test_a_floating_disk_is_locked_then_ok_and_searchable(engine: Any, admin: requests.Session) -> None:
    api = engine.api_url
    created = add_disk(admin, api, "scratch", 3 * GiB, "<description>  spaced  </description>")
    assert created.status_code == 202
    disk = xml(created)
    disk_id = disk.get("id")
    assert created.headers["Location"].endswith(f"/disks/{disk_id}")
    assert disk.findtext("status") == "locked" and disk.findtext("provisioned_size") == str(3 * GiB)
    assert disk.findtext("description") == "  spaced  "
    assert [link.get("rel") for link in disk.find("actions")][:2] == ["reduce", "copy"]
    assert disk.find("storage_domains/storage_domain").get("id") == SD_DEFAULT
    advance(engine, 6)
    assert xml(admin.get(f"{api}/disks/{disk_id}")).findtext("status") == "ok"

    def search(query: str) -> list[str]:
        return names(xml(admin.get(f"{api}/disks", params={"search": query})))
    assert search("name=scratch") == ["scratch"] and search(f"id={disk_id}") == ["scratch"]
    assert "scratch" in search("storage=data-default") and "scratch" not in search("storage=data-barcelona")
    assert "scratch" in search("datacenter=Default and status=ok")     # cross-reference free text
    assert "scratch" in search("storage=default")                       # ... matching inside the name
    assert "scratch" not in search("datacenter=barcelona")
    unknown = admin.get(f"{api}/disks", params={"search": "cluster=Default"})
    assert unknown.status_code == 400


def test_adding_a_disk_without_its_required_fields(engine: Any, admin: requests.Session) -> None:
    api = engine.api_url
    missing = admin.post(f"{api}/disks", data="<disk><name>x</name></disk>", headers=XML)
    assert fault(missing) == (400, "Disk [provisionedSize|size, format] required for add")
    assert xml(missing).findtext("reason") == "Incomplete parameters"
    no_format = admin.post(f"{api}/disks", data="<disk><provisioned_size>1</provisioned_size></disk>", headers=XML)
    assert fault(no_format) == (400, "Disk [format] required for add")
    no_domain = admin.post(f"{api}/disks", headers=XML,
                           data="<disk><provisioned_size>1</provisioned_size><format>raw</format></disk>")
    assert fault(no_domain) == (400, "[Cannot add Virtual Disk. Storage Domain hasn't been specified.]")
    bad_domain = admin.post(f"{api}/disks", headers=XML, data=(
        "<disk><provisioned_size>1</provisioned_size><format>raw</format>"
        "<storage_domains><storage_domain id='5d000000-0000-4000-8000-0000000000ff'/></storage_domains></disk>"))
    assert fault(bad_domain) == (400, "[Cannot add Virtual Disk. Storage Domain doesn't exist.]")
    assert admin.get(f"{api}/disks/5d000000-0000-4000-8000-0000000000ff").status_code == 404


def test_attach_hot_unplug_update_detach_and_remove(engine: Any, admin: requests.Session) -> None:
    api = engine.api_url
    disk_id = xml(add_disk(admin, api, "data")).get("id")
    advance(engine, 6)
    base = f"{api}/vms/{UP_VM}/diskattachments"
    attach = admin.post(base, headers=XML, data=(f"<disk_attachment><bootable>false</bootable><interface>virtio"
                                                 f"</interface><active>true</active><disk id='{disk_id}'/></disk_attachment>"))
    assert attach.status_code == 201
    single = xml(admin.get(f"{base}/{disk_id}"))
    assert single.findtext("active") == "true" and single.findtext("logical_name").startswith("/dev/vd")
    assert fault(admin.delete(f"{api}/disks/{disk_id}")) == (
        409, "[Cannot remove Virtual Disk. At least one of the VMs is not down.]")
    boot = admin.put(f"{base}/{disk_id}", data="<disk_attachment><bootable>true</bootable></disk_attachment>",
                     headers=XML)
    assert fault(boot) == (409, "[Cannot edit Virtual Disk. At least one of the VMs is not down.]")

    unplugged = admin.put(f"{base}/{disk_id}", data="<disk_attachment><active>false</active></disk_attachment>",
                          headers=XML)
    assert unplugged.status_code == 200
    assert xml(unplugged).findtext("active") == "false" and xml(unplugged).find("logical_name") is None
    moved = xml(admin.put(f"{base}/{disk_id}", headers=XML,
                          data="<disk_attachment><interface>virtio_scsi</interface></disk_attachment>"))
    assert moved.findtext("interface") == "virtio_scsi" and moved.get("href").endswith(f"/diskattachments/{disk_id}")
    bad = admin.put(f"{base}/{disk_id}", data="<disk_attachment><interface>floppy</interface></disk_attachment>",
                    headers=XML)
    assert fault(bad) == (400, "floppy is not a member of DiskInterface")
    second_boot = admin.put(f"{base}/{disk_id}", headers=XML,
                            data="<disk_attachment><bootable>true</bootable></disk_attachment>")
    assert second_boot.status_code == 409 and "is already marked as boot" in fault(second_boot)[1]
    assert admin.get(f"{base}/{UP_VM}").status_code == 404

    assert admin.delete(f"{base}/{disk_id}").status_code == 200
    removed = admin.delete(f"{api}/disks/{disk_id}")
    assert removed.status_code == 200 and xml(removed).findtext("status") == "complete"
    assert xml(admin.get(f"{api}/disks/{disk_id}")).findtext("status") == "locked"
    advance(engine, 5)
    assert admin.get(f"{api}/disks/{disk_id}").status_code == 404


def test_removing_a_disk_of_a_down_vm_detaches_it(engine: Any, admin: requests.Session) -> None:
    api = engine.api_url
    vm_id = add_vm(admin, api, "holder", BLANK)
    disk_id = xml(add_disk(admin, api, "held")).get("id")
    advance(engine, 6)
    admin.post(f"{api}/vms/{vm_id}/diskattachments", headers=XML, data=(
        f"<disk_attachment><interface>virtio</interface><disk id='{disk_id}'/></disk_attachment>"))
    assert admin.delete(f"{api}/disks/{disk_id}").status_code == 200
    assert len(xml(admin.get(f"{api}/vms/{vm_id}/diskattachments"))) == 0


def test_a_snapshot_of_chosen_disks_covers_and_locks_only_those(engine: Any, admin: requests.Session) -> None:
    """`<disk_attachments>` in the snapshot narrows CreateSnapshotForVm; a disk not attached is refused."""
    api = engine.api_url
    vm_id = add_vm(admin, api, "snapped", BLANK)
    chosen, other, loose = (xml(add_disk(admin, api, n)).get("id") for n in ("chosen", "other", "loose"))
    advance(engine, 6)
    for disk_id in (chosen, other):
        admin.post(f"{api}/vms/{vm_id}/diskattachments", headers=XML, data=(
            f"<disk_attachment><interface>virtio</interface><disk id='{disk_id}'/></disk_attachment>"))

    def snapshot(*disk_ids: str) -> requests.Response:
        wanted = "".join(f"<disk_attachment><disk id='{d}'/></disk_attachment>" for d in disk_ids)
        return admin.post(f"{api}/vms/{vm_id}/snapshots", headers=XML, data=(
            f"<snapshot><description>one disk</description><disk_attachments>{wanted}</disk_attachments></snapshot>"))

    assert fault(snapshot(loose)) == (409, "[Cannot create Snapshot. The following disk(s) are not attached to VM "
                                           "snapped: loose.]")
    created = snapshot(chosen)
    assert created.status_code == 202
    snap_id = xml(created).get("id")
    assert xml(admin.get(f"{api}/disks/{chosen}")).findtext("status") == "locked"
    assert xml(admin.get(f"{api}/disks/{other}")).findtext("status") == "ok"
    advance(engine, 6)
    followed = xml(admin.get(f"{api}/vms/{vm_id}/snapshots/{snap_id}", params={"follow": "disks"}))
    assert [d.get("id") for d in followed.iterfind("disks/disk")] == [chosen]
    everything = admin.post(f"{api}/vms/{vm_id}/snapshots", headers=XML,
                            data="<snapshot><description>all</description></snapshot>")
    advance(engine, 6)
    followed = xml(admin.get(f"{api}/vms/{vm_id}/snapshots/{xml(everything).get('id')}", params={"follow": "disks"}))
    assert [d.get("id") for d in followed.iterfind("disks/disk")] == [chosen, other]


# -- templates ---------------------------------------------------------------------------------------

def test_a_template_from_a_stopped_vm_and_a_vm_from_it(engine: Any, admin: requests.Session) -> None:
    api = engine.api_url
    body = "<template><name>golden</name><description>from source </description><vm id='{}'/></template>"
    running = admin.post(f"{api}/templates", data=body.format(UP_VM), headers=XML)
    assert fault(running) == (409, "[Cannot add Template. VM is locked or still running, try again once VM is "
                                   "in the Down state.]")
    source = add_vm(admin, api, "source")
    advance(engine, 10)
    admin.put(f"{api}/vms/{source}", data="<vm><memory>2147483648</memory></vm>", headers=XML)
    created = admin.post(f"{api}/templates", data=body.format(source), headers=XML)
    assert created.status_code == 202
    template = xml(created)
    template_id = template.get("id")
    assert created.headers["Location"].endswith(f"/templates/{template_id}")
    assert template.findtext("status") == "locked" and template.findtext("description") == "from source "
    assert template.find("cluster").get("id") == CLUSTER_DEFAULT and template.findtext("memory") == str(2 * GiB)
    assert status(admin, api, source) == "image_locked"
    again = admin.post(f"{api}/templates", data=body.format(BLANK).replace(BLANK, source), headers=XML)
    assert again.status_code == 409
    blocked = admin.post(f"{api}/vms", headers=XML, data=(
        f"<vm><name>early</name><cluster id='{CLUSTER_DEFAULT}'/><template id='{template_id}'/></vm>"))
    assert blocked.status_code == 409
    advance(engine, 21)
    assert xml(admin.get(f"{api}/templates/{template_id}")).findtext("status") == "ok"
    assert status(admin, api, source) == "down"
    disks = xml(admin.get(f"{api}/templates/{template_id}/diskattachments"))
    source_disks = xml(admin.get(f"{api}/vms/{source}/diskattachments"))
    assert len(disks) == len(source_disks) == 1 and disks[0].get("id") != source_disks[0].get("id")
    assert xml(admin.get(f"{api}/templates/{template_id}/diskattachments/{disks[0].get('id')}")).tag == "disk_attachment"
    assert names(xml(admin.get(f"{api}/templates/{template_id}/nics"))) == ["nic1"]
    listed = xml(admin.get(f"{api}/templates", params={"search": "name=golden and datacenter=Default"}))
    assert [t.get("id") for t in listed] == [template_id]
    duplicate = admin.post(f"{api}/templates", data=body.format(source), headers=XML)
    assert fault(duplicate) == (409, "[Cannot add Template. The Template name is already in use, please choose a "
                                     "unique name and try again.]")

    child = add_vm(admin, api, "child", template_id)
    assert status(admin, api, child) == "image_locked"
    advance(engine, 10)
    assert xml(admin.get(f"{api}/vms/{child}")).find("template").get("id") == template_id
    in_use = admin.delete(f"{api}/templates/{template_id}")
    assert fault(in_use) == (409, "[Cannot delete Template. Template is being used by the following VMs: child.]")
    admin.delete(f"{api}/vms/{child}")
    removed = admin.delete(f"{api}/templates/{template_id}")
    assert removed.status_code == 200 and xml(removed).findtext("status") == "complete"
    assert xml(admin.get(f"{api}/templates/{template_id}")).findtext("status") == "locked"
    advance(engine, 5)
    assert admin.get(f"{api}/templates/{template_id}").status_code == 404
    assert admin.get(f"{api}/disks/{disks[0].get('id')}").status_code == 404


def test_template_faults(engine: Any, admin: requests.Session) -> None:
    api = engine.api_url
    assert fault(admin.delete(f"{api}/templates/{BLANK}")) == (
        400, "[Cannot remove Template. The relevant Cluster doesn't exist.]")
    assert fault(admin.post(f"{api}/templates", data="<template><vm id='x'/></template>", headers=XML)) == (
        400, "Template [name] required for add")
    assert fault(admin.post(f"{api}/templates", data="<template><name>t</name></template>", headers=XML)) == (
        400, "Template [vm.id|name] required for add")
    unknown = admin.post(f"{api}/templates", data="<template><name>t</name><vm><name>nope</name></vm></template>",
                         headers=XML)
    assert fault(unknown) == (404, "Entity not found: nope")
    empty = add_vm(admin, api, "empty", BLANK)
    quick = admin.post(f"{api}/templates", data=f"<template><name>bare</name><vm id='{empty}'/></template>",
                       headers=XML)
    assert quick.status_code == 201 and xml(quick).findtext("status") == "ok"   # no disks to copy
    assert admin.delete(f"{api}/templates/{xml(quick).get('id')}").status_code == 200
    assert admin.get(f"{api}/templates/{xml(quick).get('id')}").status_code == 404


def test_expect_201_created_waits_for_the_template_and_the_disk() -> None:
    with running_simulator(speed=2000) as (sim, handle):
        admin = requests.Session()
        admin.auth = ADMIN
        api = handle.api_url
        vm_id = add_vm(admin, api, "src")
        sim.clock.advance(10)
        disk = add_disk(admin, api, "waited")
        assert disk.status_code == 202
        waited = admin.post(f"{api}/disks", headers={**XML, "Expect": "201-created"}, data=(
            f"<disk><name>w2</name><provisioned_size>{GiB}</provisioned_size><format>cow</format>"
            f"<storage_domains><storage_domain><name>data-default</name></storage_domain></storage_domains></disk>"))
        assert waited.status_code == 201 and xml(waited).findtext("status") == "ok"
        template = admin.post(f"{api}/templates", data=f"<template><name>w</name><vm id='{vm_id}'/></template>",
                              headers={**XML, "Expect": "201-created"})
        assert template.status_code == 201 and xml(template).findtext("status") == "ok"


# -- free text is kept as sent -----------------------------------------------------------------------

def test_free_text_and_cloud_init_keep_their_whitespace(engine: Any, admin: requests.Session) -> None:
    api = engine.api_url
    script = "#cloud-config\nruncmd:\n  - echo hi  \n\n"
    body = (f"<vm><name>ws</name><description> two  spaces \n</description><cluster><name>Default</name></cluster>"
            f"<template id='{TEMPLATE_CENTOS_DEFAULT}'/><initialization><custom_script>{script}</custom_script>"
            "<authorized_ssh_keys>ssh-ed25519 AAAA k\n</authorized_ssh_keys></initialization></vm>")
    vm = xml(admin.post(f"{api}/vms", data=body, headers=XML))
    assert vm.findtext("description") == " two  spaces \n"
    assert vm.findtext("initialization/custom_script") == script
    assert vm.findtext("initialization/authorized_ssh_keys") == "ssh-ed25519 AAAA k\n"
    advance(engine, 10)
    start = (f"<action><use_cloud_init>true</use_cloud_init><vm><initialization><custom_script>{script}#two\n\n"
             "</custom_script></initialization></vm></action>")
    assert admin.post(f"{api}/vms/{vm.get('id')}/start", data=start, headers=XML).status_code == 200
    again = xml(admin.get(f"{api}/vms/{vm.get('id')}"))
    assert again.findtext("initialization/custom_script") == script + "#two\n\n"


# -- what a launch's block device mappings ask of the engine -----------------------------------------

def new_disk_attachment(name: str, interface: str, description: str = "") -> str:
    return (f"<disk_attachment><bootable>false</bootable><interface>{interface}</interface><active>true</active>"
            f"<disk><alias>{name}</alias><description>{description}</description><provisioned_size>{GiB}"
            f"</provisioned_size><format>cow</format><sparse>true</sparse><storage_domains>"
            f"<storage_domain id='{SD_DEFAULT}'/></storage_domains></disk></disk_attachment>")


def test_new_disks_attached_before_the_first_start_and_one_removed_with_its_attachment(
        engine: Any, admin: requests.Session) -> None:
    api = engine.api_url
    vm_id = add_vm(admin, api, "launched")
    attachments = f"{api}/vms/{vm_id}/diskattachments"
    early = admin.post(attachments, data=new_disk_attachment("early", "virtio_scsi"), headers=XML)
    assert fault(early) == (409, "[Cannot add disk to VM: VM is locked. Please try again in a few minutes.]")
    advance(engine, 10)  # the template's disk is copied
    kept = admin.post(attachments, data=new_disk_attachment("launched_sdb", "virtio_scsi", "cloudgw-launch-1 /dev/sdb"),
                      headers=XML)
    dropped = admin.post(attachments, data=new_disk_attachment("launched_vdc", "virtio"), headers=XML)
    assert kept.status_code == dropped.status_code == 201
    kept_id, dropped_id = xml(kept).get("id"), xml(dropped).get("id")
    disk = xml(admin.get(f"{api}/disks/{kept_id}"))
    assert (disk.findtext("status"), disk.findtext("description")) == ("locked", "cloudgw-launch-1 /dev/sdb")
    refused = admin.post(f"{api}/vms/{vm_id}/start", data="<action/>", headers=XML)
    assert fault(refused) == (409, "[Cannot run VM. Disk is locked. Please try again later.]")
    advance(engine, 5)
    removed = admin.delete(f"{attachments}/{dropped_id}", params={"detach_only": "false"})
    assert removed.status_code == 200
    assert dropped_id not in {a.get("id") for a in xml(admin.get(attachments)).iterfind("disk_attachment")}
    advance(engine, 30)  # the removed disk's image is deleted
    assert admin.get(f"{api}/disks/{dropped_id}").status_code == 404
    assert admin.post(f"{api}/vms/{vm_id}/start", data="<action/>", headers=XML).status_code == 200
    advance(engine, 60)
    assert status(admin, api, vm_id) == "up"
    names = {a.findtext("interface"): a.findtext("logical_name") for a in xml(admin.get(attachments))}
    assert names == {"virtio": "/dev/vda", "virtio_scsi": "/dev/sda"}  # as a Linux guest names them per bus
