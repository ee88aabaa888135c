"""The oVirt driver over HTTP against the simulator: catalogue, instance life cycle, storage, tags."""
from __future__ import annotations


import pytest

from gateway.errors import GatewayError, InvalidParameter, InvalidState, NotFound
from gateway.model import InstanceSpec, InstanceState, ResourceState, VolumeSpec

from .ovirt_env import CENTOS, DEBIAN, DEFAULT_CLUSTER, DEFAULT_DC, TINY, USER, Gateway

GiB = 1024 ** 3


def run(gw: Gateway, **spec: object) -> str:
    """Run an instance to completion of its run operation; returns its id."""
    inst = gw.driver.create_instance(gw.scope(), InstanceSpec(**{"image_id": CENTOS, **spec}))  # type: ignore[arg-type]
    gw.settle(60)
    return inst.id


def test_catalogue_of_the_default_data_center(gw: Gateway) -> None:
    scope = gw.scope()
    assert {r.name for r in gw.driver.regions(scope)} == {"Default", "barcelona"}
    (realm,) = gw.driver.realms(scope)
    assert (realm.id, realm.region_id, realm.region_name) == (DEFAULT_CLUSTER, DEFAULT_DC, "Default")
    images = {i.id: i for i in gw.driver.images(scope)}
    assert CENTOS in images and DEBIAN in images and "00000000-0000-0000-0000-000000000000" in images
    assert images[CENTOS].disk_bytes == 10 * GiB and images[CENTOS].memory_bytes == 2 * GiB
    assert images[CENTOS].architecture == "x86_64" and images[CENTOS].realm_id == DEFAULT_CLUSTER
    assert gw.driver.image(scope, DEBIAN).name == "debian-12"
    profiles = {p.name: p for p in gw.driver.hardware_profiles(scope)}
    assert profiles["Tiny"].memory_bytes == 512 * 1024 ** 2 and profiles["XLarge"].cpus == 4
    (network,) = gw.driver.networks(scope)
    assert network.name == "ovirtmgmt" and network.is_management and network.profile_ids


def test_data_center_by_name_or_id_and_unknown_ones(gw: Gateway) -> None:
    by_id = gw.driver.realms(gw.scope(datacenter="dc000000-0000-4000-8000-000000000002"))
    by_name = gw.driver.realms(gw.scope(datacenter="barcelona"))
    assert by_id == by_name and by_id[0].name == "barcelona-cluster"
    assert CENTOS not in {i.id for i in gw.driver.images(gw.scope(datacenter="barcelona"))}
    with pytest.raises(NotFound) as caught:
        gw.driver.instances(gw.scope(datacenter="atlantis"))
    assert caught.value.kind == "region"


def test_run_started_with_cloud_init_then_read_everything_back(gw: Gateway) -> None:
    scope = gw.scope()
    spec = InstanceSpec(image_id=CENTOS, user_data=b"#cloud-config\npackages: [nginx]", key_name="deploy",
                        ssh_public_keys=["ssh-ed25519 AAAAC3Nza test"], host_name="web-1",
                        tags={"Name": "web-1", "team": "blue"}, hardware_profile_id=TINY)
    created = gw.driver.create_instance(scope, spec)
    assert created.state is InstanceState.PENDING and created.name == "web-1"
    assert gw.driver.instance(scope, created.id).state is InstanceState.PENDING
    gw.settle(60)
    inst = gw.driver.instance(scope, created.id)
    assert inst.state is InstanceState.RUNNING and inst.backend_state == "up"
    assert inst.user_data == b"#cloud-config\npackages: [nginx]"
    assert inst.key_name == "deploy" and inst.tags == {"Name": "web-1", "team": "blue"}
    assert inst.memory_bytes == 512 * 1024 ** 2 and inst.hardware_profile_id == TINY
    assert inst.addresses_of("ipv4") and inst.addresses_of("mac") and inst.host_id
    assert inst.realm_id == DEFAULT_CLUSTER and inst.image_id == CENTOS and inst.region_id == DEFAULT_DC
    assert [i.id for i in gw.driver.instances(scope, states=["running"])] == [inst.id]
    assert gw.driver.instances(scope, image_id=DEBIAN) == []
    assert [i.id for i in gw.driver.instances(scope, realm_id=DEFAULT_CLUSTER)] == [inst.id]
    (nic,) = gw.driver.interfaces(scope, inst.id)
    assert nic.ipv4 == inst.addresses_of("ipv4") and nic.network_id
    assert [a.bootable for a in inst.attachments] == [True]


def test_run_stopped_then_every_power_action(gw: Gateway) -> None:
    scope = gw.scope()
    vm_id = run(gw, start=False, memory_bytes=GiB, cpus=2)
    inst = gw.driver.instance(scope, vm_id)
    assert inst.state is InstanceState.STOPPED and inst.cpus == 2 and inst.memory_bytes == GiB
    assert inst.hardware_profile_id == "custom-1024mb-2cpu"
    assert gw.driver.start_instance(scope, vm_id).state is InstanceState.PENDING
    gw.settle(40)
    assert gw.driver.instance(scope, vm_id).state is InstanceState.RUNNING
    gw.forget_requests()
    assert gw.driver.start_instance(scope, vm_id).state is InstanceState.RUNNING  # running already
    assert not any(r.startswith("POST") for r in gw.requests)  # nothing asked of the engine
    gw.driver.reboot_instance(scope, vm_id)
    gw.settle(40)
    assert gw.driver.instance(scope, vm_id).state is InstanceState.RUNNING
    gw.driver.suspend_instance(scope, vm_id)
    gw.settle(20)
    assert gw.driver.instance(scope, vm_id).state is InstanceState.SUSPENDED
    gw.driver.start_instance(scope, vm_id)
    gw.settle(40)
    assert gw.driver.stop_instance(scope, vm_id).state in (InstanceState.STOPPING, InstanceState.RUNNING)
    gw.settle(20)
    assert gw.driver.instance(scope, vm_id).state is InstanceState.STOPPED
    gw.driver.start_instance(scope, vm_id)
    gw.settle(40)
    gw.driver.stop_instance(scope, vm_id, force=True)
    gw.settle(10)
    assert gw.driver.instance(scope, vm_id).state is InstanceState.STOPPED
    updated = gw.driver.update_instance(scope, vm_id, name="renamed", memory_bytes=2 * GiB, cpus=1)
    assert (updated.name, updated.memory_bytes, updated.cpus) == ("renamed", 2 * GiB, 1)


def test_terminate_leaves_a_tombstone(gw: Gateway) -> None:
    scope = gw.scope()
    vm_id = run(gw, tags={"Name": "doomed", "env": "test"})
    assert gw.driver.destroy_instance(scope, vm_id).state is InstanceState.SHUTTING_DOWN
    assert gw.driver.instance(scope, vm_id).state is InstanceState.SHUTTING_DOWN
    gw.driver.destroy_instance(scope, vm_id)  # a second terminate joins the first
    gw.settle(60)
    with pytest.raises(NotFound):
        gw.driver.instance(scope, vm_id)
    (gone,) = gw.driver.terminated_instances(scope)
    assert gone.id == vm_id and gone.state is InstanceState.TERMINATED
    assert gone.tags == {"Name": "doomed", "env": "test"} and gone.image_id == CENTOS
    assert gw.driver.terminated_instances(scope, ["other"]) == []
    assert gw.driver.terminated_instances(gw.scope(datacenter="barcelona")) == []
    assert gw.store.tags("sim", [vm_id]) == {}


def test_terminate_a_stopped_and_a_still_locked_instance(gw: Gateway) -> None:
    scope = gw.scope()
    stopped = run(gw, start=False)
    locked = gw.driver.create_instance(scope, InstanceSpec(image_id=CENTOS)).id
    gw.driver.destroy_instance(scope, stopped)
    gw.driver.destroy_instance(scope, locked)
    gw.settle(60)
    assert gw.driver.instances(scope, [stopped, locked]) == []
    assert {i.id for i in gw.driver.terminated_instances(scope)} == {stopped, locked}


def test_names_and_tags(gw: Gateway) -> None:
    scope = gw.scope()
    first, second = run(gw, start=False), run(gw, start=False)
    gw.driver.set_tags(scope, "instance", [first, second], {"Name": "twin", "tier": "db"})
    tags = gw.driver.tags(scope, [first, second])
    assert tags[first] == tags[second] == {"Name": "twin", "tier": "db"}
    found = gw.driver.instances(scope, [first, second])
    assert [i.name for i in found] == ["twin", "twin"]  # the name asked for, shown for both
    names = {i.id: i.extra.get("engine_name", i.name) for i in found}
    assert sorted(n == "twin" for n in names.values()) == [False, True]  # one VM renamed, one name taken
    gw.driver.set_tags(scope, "instance", [first], {"Name": "not a valid vm name!"})
    assert gw.driver.instance(scope, first).tags["Name"] == "not a valid vm name!"
    assert gw.driver.instance(scope, first).name == "not a valid vm name!"
    gw.driver.delete_tags(scope, [first, second], {"tier": None})
    gw.driver.delete_tags(scope, [first], {"Name": None})
    assert gw.driver.tags(scope, [first])[first] == {"Name": names[first]}
    all_tags = gw.driver.tags(scope)
    assert set(all_tags) >= {first, second}


def test_names_taken_at_creation_are_kept_as_tags(gw: Gateway) -> None:
    scope = gw.scope()
    one = gw.driver.create_instance(scope, InstanceSpec(image_id=DEBIAN, tags={"Name": "same"}, start=False))
    two = gw.driver.create_instance(scope, InstanceSpec(image_id=DEBIAN, tags={"Name": "same"}, start=False))
    assert one.name == two.name == "same" and two.tags["Name"] == "same"  # the name asked for, shown
    assert "engine_name" not in one.extra and two.extra["engine_name"] != "same"  # the VM's own name
    gw.settle(30)
    assert {i.tags["Name"] for i in gw.driver.instances(scope, [one.id, two.id])} == {"same"}


def test_bad_input_is_refused_before_the_engine(gw: Gateway) -> None:
    scope = gw.scope()
    with pytest.raises(InvalidParameter):
        gw.driver.create_instance(scope, InstanceSpec(image_id=CENTOS, user_data=b"\xff\xfe\x00binary"))
    with pytest.raises(NotFound) as caught:
        gw.driver.create_instance(scope, InstanceSpec(image_id="7e000000-0000-4000-8000-000000000099"))
    assert caught.value.kind == "image"
    with pytest.raises(NotFound):
        gw.driver.create_instance(scope, InstanceSpec(image_id=CENTOS, realm_id="c1000000-0000-4000-8000-000000000002"))
    with pytest.raises(NotFound):  # barcelona's template is not usable in Default
        gw.driver.create_instance(scope, InstanceSpec(image_id="7e000000-0000-4000-8000-000000000021"))
    with pytest.raises(NotFound):
        gw.driver.instance(scope, "5eed0000-0000-4000-8000-00000000ffff")


def test_volumes_attach_detach_delete(gw: Gateway) -> None:
    scope = gw.scope()
    vm_id = run(gw)
    volume = gw.driver.create_volume(scope, VolumeSpec(size_bytes=3 * GiB, name="data", tags={"app": "pg"}))
    assert volume.size_bytes == 3 * GiB and volume.state in (ResourceState.PENDING, ResourceState.AVAILABLE)
    gw.settle(20)
    assert gw.driver.volume(scope, volume.id).state is ResourceState.AVAILABLE
    assert gw.driver.volume(scope, volume.id).tags == {"app": "pg"}
    # the engine dates no disk: the time the gateway made it, or first saw it, kept for every later read
    assert volume.created is not None and gw.driver.volume(scope, volume.id).created == volume.created
    (boot,) = gw.driver.instance(scope, vm_id).attachments
    first_seen = gw.driver.volume(scope, boot.volume_id).created
    assert first_seen is not None and gw.driver.volume(scope, boot.volume_id).created == first_seen
    listed = {v.id for v in gw.driver.volumes(scope)}
    assert volume.id in listed and "d15c0000-0000-4000-8000-000000000011" not in listed  # template disks hidden
    attachment = gw.driver.attach_volume(scope, volume.id, vm_id, device="/dev/sdf")
    assert (attachment.volume_id, attachment.instance_id, attachment.device) == (volume.id, vm_id, "/dev/sdf")
    in_use = gw.driver.volume(scope, volume.id)
    assert in_use.state is ResourceState.IN_USE and in_use.attachments[0].instance_id == vm_id
    # the name asked for, not the guest's (/dev/vdb), on both sides, for every frontend
    assert in_use.attachments[0].device == "/dev/sdf"
    assert {a.volume_id: a.device for a in gw.driver.instance(scope, vm_id).attachments}[volume.id] == "/dev/sdf"
    with pytest.raises(InvalidState):
        gw.driver.delete_volume(scope, volume.id)
    gw.driver.detach_volume(scope, volume.id)
    assert gw.driver.volume(scope, volume.id).state is ResourceState.AVAILABLE
    gw.driver.attach_volume(scope, volume.id, vm_id)  # attached again without a name: the guest's
    assert gw.driver.volume(scope, volume.id).attachments[0].device != "/dev/sdf"
    gw.driver.detach_volume(scope, volume.id)
    gw.driver.delete_volume(scope, volume.id)
    assert gw.driver.volume(scope, volume.id).state is ResourceState.DELETING  # locked while its image goes
    gw.settle(10)
    with pytest.raises(NotFound):
        gw.driver.volume(scope, volume.id)


def test_snapshots_and_images_from_instances(gw: Gateway) -> None:
    scope = gw.scope()
    vm_id = run(gw, start=False)
    snap = gw.driver.create_snapshot(scope, vm_id, "before upgrade")
    assert snap.instance_id == vm_id and snap.description == "before upgrade"
    gw.settle(20)
    (listed,) = gw.driver.snapshots(scope)
    assert listed.id == snap.id and listed.state is ResourceState.AVAILABLE
    assert listed.volume_ids == [a.volume_id for a in gw.driver.instance(scope, vm_id).attachments]
    gw.driver.delete_snapshot(scope, snap.id)
    gw.settle(20)
    assert gw.driver.snapshots(scope) == []
    image = gw.driver.create_image(scope, vm_id, "golden", "captured")
    assert image.name == "golden" and image.state in (ResourceState.PENDING, ResourceState.AVAILABLE)
    gw.settle(60)
    assert gw.driver.image(scope, image.id).state is ResourceState.AVAILABLE
    gw.driver.delete_image(scope, image.id)
    # the engine keeps the template locked until its disks are deleted; for clients it is gone at once
    with pytest.raises(NotFound):
        gw.driver.image(scope, image.id)
    gw.settle(10)
    with pytest.raises(NotFound):
        gw.driver.image(scope, image.id)


def test_snapshots_name_their_volumes_in_one_listing(gw: Gateway) -> None:
    scope = gw.scope()
    first, second = run(gw, start=False), run(gw, start=False)
    extra = gw.driver.create_volume(scope, VolumeSpec(size_bytes=GiB, name="extra"))
    gw.settle(20)
    gw.driver.attach_volume(scope, extra.id, second)
    disks = {vm: [a.volume_id for a in gw.driver.instance(scope, vm).attachments] for vm in (first, second)}
    assert extra.id in disks[second] and len(disks[second]) == 2
    snaps: dict[str, list[str]] = {first: [], second: []}
    for n in range(2):  # the engine makes one snapshot of a VM at a time
        for vm in (first, second):
            snaps[vm].append(gw.driver.create_snapshot(scope, vm, f"s{n}").id)
        gw.settle(20)
    gw.forget_requests()
    listed = {s.id: s for s in gw.driver.snapshots(scope)}
    vm_listings = [r for r in gw.requests if r.startswith("GET") and "/vms?" in r]
    assert len(vm_listings) == 1 and "snapshots.disks" in vm_listings[0]  # one request, however many snapshots
    for vm, ids in snaps.items():
        for snap_id in ids:
            assert listed[snap_id].instance_id == vm and listed[snap_id].volume_ids == disks[vm]
    assert [s.volume_ids for s in gw.driver.snapshots(scope, [snaps[second][0]])] == [disks[second]]


def test_a_snapshot_of_chosen_volumes_covers_only_those(gw: Gateway) -> None:
    scope = gw.scope()
    vm_id = run(gw, start=False)
    extra = gw.driver.create_volume(scope, VolumeSpec(size_bytes=GiB, name="extra"))
    loose = gw.driver.create_volume(scope, VolumeSpec(size_bytes=GiB, name="loose"))
    gw.settle(20)
    gw.driver.attach_volume(scope, extra.id, vm_id)
    snap = gw.driver.create_snapshot(scope, vm_id, "just the data", volume_ids=[extra.id])
    assert snap.volume_ids == [extra.id]
    gw.settle(20)
    (listed,) = gw.driver.snapshots(scope, [snap.id])
    assert listed.volume_ids == [extra.id] and listed.state is ResourceState.AVAILABLE
    with pytest.raises(InvalidState):  # the engine snapshots disks of the VM only
        gw.driver.create_snapshot(scope, vm_id, "elsewhere", volume_ids=[loose.id])
    with pytest.raises(InvalidParameter):  # the engine would read "no disks" as "every disk"
        gw.driver.create_snapshot(scope, vm_id, "nothing", volume_ids=[])


def test_volume_tags_given_at_launch_reach_the_disks_made_later(gw: Gateway) -> None:
    """The disks do not exist when create_instance answers: the durable run operation tags them."""
    scope = gw.scope()
    inst = gw.driver.create_instance(scope, InstanceSpec(image_id=CENTOS, start=False,
                                                         volume_tags={"backup": "daily"}))
    gw.settle(60)
    (boot,) = gw.driver.instance(scope, inst.id).attachments
    volume = gw.driver.volume(scope, boot.volume_id)
    assert volume.tags == {"backup": "daily"} and volume.created is not None
    assert gw.driver.tags(scope)[boot.volume_id] == {"backup": "daily"}


def test_a_boot_disk_moves_between_stopped_instances(gw: Gateway) -> None:
    scope = gw.scope()
    source, target = run(gw, start=False), run(gw, start=False)
    (boot,) = gw.driver.instance(scope, source).attachments
    assert gw.driver.volume(scope, boot.volume_id).state is ResourceState.IN_USE
    gw.driver.detach_volume(scope, boot.volume_id, source)
    assert gw.driver.volume(scope, boot.volume_id).state is ResourceState.AVAILABLE
    with pytest.raises(InvalidState):
        gw.driver.detach_volume(scope, boot.volume_id)
    attachment = gw.driver.attach_volume(scope, boot.volume_id, target, device="/dev/sdb")
    assert attachment.instance_id == target and not attachment.bootable
    with pytest.raises(InvalidState):
        gw.driver.attach_volume(scope, boot.volume_id, source)
    assert {a.volume_id for a in gw.driver.instance(scope, target).attachments} >= {boot.volume_id}
    gw.driver.detach_volume(scope, boot.volume_id, target)
    gw.driver.delete_volume(scope, boot.volume_id)
    gw.settle(10)
    with pytest.raises(NotFound):
        gw.driver.volume(scope, boot.volume_id)


def test_housekeeping_reads_every_resource_only_as_an_administrator(gw: Gateway) -> None:
    """The engine filters a non-administrator's listings unless told `filter=false`: orphan housekeeping must
    be refused such a partial view, or it would take every VM the user cannot see for one the engine lost."""
    assert gw.driver.existing_resources(gw.scope())["image"]  # the seed's templates
    with pytest.raises(GatewayError):
        gw.driver.existing_resources(gw.scope(USER))
