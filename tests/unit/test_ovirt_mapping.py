"""Replay of real engine answers through the mapping.

The answers are recordings of GETs against real oVirt 4.2-4.5 engines (ManageIQ's VCR cassettes), the
few this file replays kept in tests/golden/engine_answers.json (by tests/golden/extract_facts.py):
recording -> API path -> body. Where the driver asks the engine to inline links
(`follow=nics.reported_devices,...`), the test grafts the recorded sub-collections into the VM, which is the shape `follow` produces.
"""
from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest
from lxml import etree

from drivers.ovirt import mapping
from drivers.ovirt.client import parse_xml
from gateway.model import InstanceState, Region, ResourceState

ANSWERS = Path(__file__).resolve().parents[1] / "golden" / "engine_answers.json"
VM_ON = "a1293e54-dae8-496f-baa4-27719592113e"
VM_OFF = "8070fa6d-5b82-412c-9d41-a00017205c73"


class Recording:
    def __init__(self, name: str) -> None:
        self.answers: dict[str, str] = json.loads(ANSWERS.read_text(encoding="utf-8"))["recordings"][name]

    def get(self, path: str) -> etree._Element:
        return parse_xml(self.answers[path].encode())


@pytest.fixture(scope="module")
def recording() -> Recording:
    return Recording("ovirt_sdk_refresh_recording.yml")


def followed_vm(rec: Recording, vm_id: str) -> etree._Element:
    """The VM as `GET vms?follow=nics.reported_devices,disk_attachments` would answer it."""
    vm = next(v for v in rec.get("vms") if v.get("id") == vm_id)
    nics = rec.get(f"vms/{vm_id}/nics")
    vm.append(nics)
    vm.append(rec.get(f"vms/{vm_id}/diskattachments"))
    return vm


def test_running_vm_with_guest_agent(recording: Recording) -> None:
    inst = mapping.instance(followed_vm(recording, VM_ON), owner="admin@internal", region_id="dc")
    assert inst.name == "vm_on"
    assert inst.state is InstanceState.RUNNING and inst.backend_state == "up"
    assert inst.memory_bytes == 2 * 1024 ** 3
    assert inst.cpus == 2  # 2 sockets x 1 core x 1 thread
    assert inst.realm_id == "1c273044-e6ca-492f-9ac2-47381b626808"
    assert inst.image_id == "5037cc2a-0268-4412-a591-ee7da56efe53"
    assert inst.host_id == "ce40bb38-f10a-43f3-8e15-d0ffad692a19"
    assert inst.addresses_of("ipv4") == ["10.46.8.199"]
    assert inst.addresses_of("ipv6") == ["2620:52:0:2e08:21a:4aff:fe16:105", "fe80::21a:4aff:fe16:105"]
    assert inst.addresses_of("mac") == ["00:1a:4a:16:01:05"]
    assert inst.addresses_of("hostname") == ["dhcp-8-199.lab.eng.tlv2.redhat.com"]
    assert inst.launch_time == datetime(2019, 8, 21, 6, 51, 52, 775000, tzinfo=timezone.utc)
    assert inst.created == datetime(2019, 8, 20, 12, 13, 17, 128000, tzinfo=timezone.utc)
    (nic,) = inst.interfaces
    assert nic.name == "nic1" and nic.mac == "00:1a:4a:16:01:05" and nic.ipv4 == ["10.46.8.199"]
    assert nic.profile_id == "4ec7ba24-c6bf-42fc-9975-d6a9bf3f01cf"
    (disk,) = inst.attachments
    assert disk.bootable and disk.active and disk.volume_id


def test_stopped_vm_has_no_guest_addresses(recording: Recording) -> None:
    inst = mapping.instance(followed_vm(recording, VM_OFF))
    assert inst.state is InstanceState.STOPPED and inst.backend_state == "down"
    assert inst.addresses_of("ipv4") == [] and inst.addresses_of("hostname") == []
    assert inst.host_id is None
    assert inst.launch_time == inst.created  # never started: launch time is its creation


def test_every_recorded_vm_maps_without_loss(recording: Recording) -> None:
    vms = list(recording.get("vms"))
    mapped = [mapping.instance(vm) for vm in vms]
    assert len(mapped) == len(vms) >= 2
    assert all(i.id and i.name and i.state is not InstanceState.ERROR for i in mapped)


@pytest.mark.parametrize("status,state", sorted(mapping.VM_STATES.items()))
def test_state_table_covers_every_engine_status(status: str, state: InstanceState) -> None:
    assert mapping.vm_state(status)[0] is state


def test_unknown_status_is_an_honest_error() -> None:
    vm = etree.fromstring('<vm id="x"><name>n</name><status>hibernating_on_mars</status></vm>')
    inst = mapping.instance(vm)
    assert inst.state is InstanceState.ERROR
    assert "hibernating_on_mars" in inst.state_reason and inst.backend_state == "hibernating_on_mars"
    assert mapping.vm_state(None)[0] is InstanceState.ERROR
    assert mapping.vm_state("not_responding")[1]  # known error states say why


def test_templates_map_to_images_with_cluster_architecture_and_disk_sizes(recording: Recording) -> None:
    clusters = recording.get("clusters")
    region = Region("dc", "Default")
    realms = {c.get("id"): mapping.realm(c, region) for c in clusters}
    templates = {t.get("id"): t for t in recording.get("templates")}
    blank = mapping.image(templates[mapping.BLANK_TEMPLATE_ID], owner="admin@internal", realms=realms)
    assert blank.name == "Blank" and blank.state is ResourceState.AVAILABLE
    assert blank.architecture == "x86_64"  # Blank says 'undefined'
    assert blank.memory_bytes == 1024 ** 3 and blank.disk_bytes is None and blank.owner == "admin@internal"
    template_id = "5037cc2a-0268-4412-a591-ee7da56efe53"
    template = templates[template_id]
    template.append(recording.get(f"templates/{template_id}/diskattachments"))
    for attachment in template.iterfind("disk_attachments/disk_attachment"):  # follow=disk_attachments.disk
        disk = next(d for d in recording.get("disks") if d.get("id") == attachment.find("disk").get("id"))
        attachment.replace(attachment.find("disk"), disk)
    img = mapping.image(template, owner="admin@internal", realms=realms)
    assert img.state is ResourceState.AVAILABLE and img.created is not None
    assert img.disk_bytes and img.disk_bytes % (1024 ** 3) == 0
    assert img.cpus >= 1 and img.memory_bytes and img.memory_bytes % (1024 ** 2) == 0


def test_clusters_and_data_centers(recording: Recording) -> None:
    dcs = [mapping.region(dc) for dc in recording.get("datacenters")]
    assert {d.name for d in dcs} >= {"Newd"} and all(d.available for d in dcs)
    realm = mapping.realm(next(c for c in recording.get("clusters") if c.findtext("name") == "newc"), dcs[0])
    assert realm.architecture == "x86_64" and realm.region_id == dcs[0].id


def test_disks_map_to_volumes_and_engine_disks_are_recognised(recording: Recording) -> None:
    disks = list(recording.get("disks"))
    user = [d for d in disks if mapping.is_user_volume(d)]
    assert len(user) < len(disks)  # OVF_STORE disks are the engine's
    attachments = [mapping.attachment(a, VM_ON) for a in recording.get(f"vms/{VM_ON}/diskattachments")]
    held_id = attachments[0].volume_id
    held = mapping.volume(next(d for d in disks if d.get("id") == held_id), attachments)
    assert held.state is ResourceState.IN_USE and held.attachments[0].instance_id == VM_ON
    raw = next(d for d in disks if d.get("id") == held_id)
    assert held.size_bytes == int(raw.findtext("provisioned_size"))
    assert held.storage_domain_id == raw.find("storage_domains/storage_domain").get("id")


def test_snapshots_skip_the_active_vm(recording: Recording) -> None:
    elements = list(recording.get(f"vms/{VM_ON}/snapshots"))
    snaps = [mapping.snapshot(s, VM_ON) for s in elements if mapping.is_user_snapshot(s)]
    assert [s.description for s in snaps] == ["vm_on_snap_1"]
    assert snaps[0].state is ResourceState.AVAILABLE and snaps[0].instance_id == VM_ON
    assert snaps[0].created == datetime(2019, 8, 21, 5, 20, 35, 534000, tzinfo=timezone.utc)


def test_networks_with_profiles(recording: Recording) -> None:
    profiles = {p.get("id"): mapping.link_id(p, "network") for p in recording.get("vnicprofiles")}
    for element in recording.get("networks"):
        ids = [pid for pid, nid in profiles.items() if nid == element.get("id")]
        net = mapping.network(element, ids, set())
        assert net.name and net.mtu is None  # engine's 0 = default MTU
        assert net.is_management == (net.name == "ovirtmgmt")


def test_custom_profile_ids_round_trip() -> None:
    pid = mapping.custom_profile_id(2 * 1024 ** 3, 4)
    assert pid == "custom-2048mb-4cpu"
    assert mapping.parse_custom_profile_id(pid) == (2 * 1024 ** 3, 4)
    assert mapping.parse_custom_profile_id("00000003-0003-0003-0003-0000000000be") is None
    assert mapping.parse_custom_profile_id("custom-xmb-1cpu") is None


def test_other_recordings_map_too() -> None:
    for name in ("ovirt_sdk_refresh_recording_custom_attrs.yml", "ovirt_sdk_refresh_graph_target_vm_with_host.yml"):
        rec = Recording(name)
        for vm in rec.get("vms"):
            vm_id = vm.get("id")
            if f"vms/{vm_id}/nics" in rec.answers:
                vm.append(rec.get(f"vms/{vm_id}/nics"))
            inst = mapping.instance(vm)
            assert inst.state in (InstanceState.RUNNING, InstanceState.STOPPED)
            assert inst.memory_bytes > 0 and inst.realm_id
