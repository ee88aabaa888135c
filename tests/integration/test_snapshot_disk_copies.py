"""A volume (or a copied snapshot) made from a VM snapshot of several disks is a copy of the disk the snapshot
names as its volume, found among the helper VM's copies by its alias; a snapshot whose disks share a name is
refused in words, since its copies cannot be told apart."""
from __future__ import annotations

import time

import pytest

from gateway.errors import InvalidState
from gateway.model import InstanceSpec, VolumeSpec

from .ovirt_env import CENTOS, Gateway

GiB = 1024 ** 3


def instance_with_volumes(gw: Gateway, *named: tuple[str, int]) -> tuple[str, list[str]]:
    """A stopped instance with a new volume of each (name, GiB) attached, in that order."""
    scope = gw.scope()
    vm_id = gw.driver.create_instance(scope, InstanceSpec(image_id=CENTOS, start=False)).id
    volumes = [gw.driver.create_volume(scope, VolumeSpec(size_bytes=size * GiB, name=name)).id for name, size in named]
    gw.settle(60)
    for volume_id, device in zip(volumes, ("/dev/sdf", "/dev/sdg", "/dev/sdh")):
        gw.driver.attach_volume(scope, volume_id, vm_id, device)
    gw.settle(10)
    return vm_id, volumes


def helpers(gw: Gateway) -> list[str]:
    store = gw.engine.simulator.store
    with store.lock:
        return [vm.id for vm in store.vms.values() if vm.comment.startswith("cloudgw-helper-")]


def test_a_volume_from_a_snapshot_of_two_disks_is_a_copy_of_the_disk_it_names(gw: Gateway) -> None:
    scope = gw.scope()
    vm_id, (small, large) = instance_with_volumes(gw, ("small", 1), ("large", 3))
    snapshot = gw.driver.create_snapshot(scope, vm_id, "both", volume_ids=[large, small])
    gw.settle(20)
    named = gw.driver.snapshots(scope, [snapshot.id])[0].volume_ids[0]
    volume = gw.driver.create_volume(scope, VolumeSpec(size_bytes=0, snapshot_id=snapshot.id))
    gw.settle(60)
    copied = gw.driver.copy_snapshot(scope, snapshot.id, "copy")
    gw.settle(60)
    source = gw.driver.volume(scope, named)
    made = gw.driver.volume(scope, volume.id)
    assert (made.state.value, made.size_bytes, made.snapshot_id) == ("available", source.size_bytes, snapshot.id)
    assert gw.driver.snapshots(scope, [copied.id])[0].size_bytes == source.size_bytes
    assert helpers(gw) == []


def test_a_snapshot_of_disks_under_one_name_is_refused_in_words(gw: Gateway) -> None:
    scope = gw.scope()
    vm_id, volumes = instance_with_volumes(gw, ("data", 1), ("data", 3))
    snapshot = gw.driver.create_snapshot(scope, vm_id, "twins", volume_ids=volumes)
    gw.settle(20)
    disks_before = set(gw.engine.simulator.store.disks)
    with pytest.raises(InvalidState, match="under the same name .*data"):
        gw.driver.create_volume(scope, VolumeSpec(size_bytes=0, snapshot_id=snapshot.id))
    with pytest.raises(InvalidState, match="cannot be told from the others"):
        gw.driver.copy_snapshot(scope, snapshot.id, "copy")
    gw.settle(20)
    assert set(gw.engine.simulator.store.disks) == disks_before and helpers(gw) == []


class Crash(BaseException):
    """The process dies here (nothing after it runs, no handler catches it)."""


def test_a_copy_of_a_vm_snapshot_never_reads_as_a_volume_when_its_process_dies(gw: Gateway) -> None:
    """CopySnapshot of a VM snapshot records the helper's copy as a snapshot before the copy's operation may
    detach it: a process that dies in the request leaves no volume behind, whatever the moment."""
    scope = gw.scope()
    vm_id, (data,) = instance_with_volumes(gw, ("data", 1))
    snapshot = gw.driver.create_snapshot(scope, vm_id, "data", volume_ids=[data])
    gw.settle(20)
    volumes_before = {v.id for v in gw.driver.volumes(scope)}

    def dies(*args: object, **kwargs: object) -> object:
        raise Crash()  # before the record is written
    gw.driver.record_disk_snapshot = dies  # type: ignore[method-assign]
    with pytest.raises(Crash):
        gw.driver.copy_snapshot(scope, snapshot.id, "copy")
    gw = gw.restart()
    gw.settle(90)  # the dead process's lease runs out; another takes its operations over
    assert {v.id for v in gw.driver.volumes(scope)} == volumes_before
    assert helpers(gw) == []


def test_a_second_volume_from_a_snapshot_being_copied_is_refused_at_once_naming_the_copy(gw: Gateway) -> None:
    """The engine copies from no snapshot of a VM while one is locked, and a copy keeps it locked for minutes:
    the second CreateVolume is refused at once (not after 45 s in the request), naming the volume being made."""
    scope = gw.scope()
    vm_id, (data,) = instance_with_volumes(gw, ("data", 1))
    snapshot = gw.driver.create_snapshot(scope, vm_id, "data", volume_ids=[data])
    gw.settle(20)
    first = gw.driver.create_volume(scope, VolumeSpec(size_bytes=0, snapshot_id=snapshot.id))
    asked = time.monotonic()  # the engine's clock is held: the first copy is under way until settled
    with pytest.raises(InvalidState, match=f"copies it into volume '{first.id}'"):
        gw.driver.create_volume(scope, VolumeSpec(size_bytes=0, snapshot_id=snapshot.id))
    assert time.monotonic() - asked < 5
    gw.settle(60)
    second = gw.driver.create_volume(scope, VolumeSpec(size_bytes=0, snapshot_id=snapshot.id))
    gw.settle(60)
    assert {gw.driver.volume(scope, v.id).state.value for v in (first, second)} == {"available"}
    assert helpers(gw) == []
