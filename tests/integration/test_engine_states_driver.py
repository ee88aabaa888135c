"""The oVirt driver against the simulator (frozen clock): actions the engine refuses only while a lock lasts
are done once it is gone (the durable `ovirt.after_lock`), a capture is told from a creation, a removed
template is gone at once, and a name the engine cannot take is kept."""
from __future__ import annotations

from typing import Any

import pytest

from drivers.ovirt.after_lock import AFTER_LOCK
from gateway.errors import NotFound
from gateway.model import InstanceSpec, InstanceState, ResourceState, VolumeSpec

from .ovirt_env import CENTOS, Gateway

GiB = 1024 ** 3


def test_start_while_the_disks_are_copied_runs_once_they_are(gw: Gateway) -> None:
    scope = gw.scope()
    created = gw.driver.create_instance(scope, InstanceSpec(image_id=CENTOS, start=False))
    gw.driver.start_instance(scope, created.id)  # the engine would answer 409 "VM is locked"
    locked = gw.driver.instance(scope, created.id)
    assert locked.backend_state == "image_locked" and locked.extra["image_lock"] == "create"
    (waiting,) = gw.runner.find(kind=AFTER_LOCK, target=created.id, active_only=True)
    gw.driver.start_instance(scope, created.id)  # asked again: joins the same operation
    assert [op.id for op in gw.runner.find(kind=AFTER_LOCK, target=created.id)] == [waiting.id]
    gw.settle(90)
    assert gw.driver.instance(scope, created.id).state is InstanceState.RUNNING
    assert gw.runner.get(waiting.id).state == "done"


def test_a_disk_being_created_is_removed_once_made(gw: Gateway) -> None:
    scope = gw.scope()
    volume = gw.driver.create_volume(scope, VolumeSpec(size_bytes=GiB, name="young"))
    assert gw.driver.volume(scope, volume.id).state is ResourceState.PENDING
    gw.driver.delete_volume(scope, volume.id)  # the engine would answer 409 "Related operation ... in progress"
    assert gw.driver.volume(scope, volume.id).state is ResourceState.DELETING
    gw.settle(20)
    with pytest.raises(NotFound):
        gw.driver.volume(scope, volume.id)


def test_a_template_being_made_is_removed_once_made_and_gone_for_clients_at_once(gw: Gateway) -> None:
    scope = gw.scope()
    vm_id = gw.driver.create_instance(scope, InstanceSpec(image_id=CENTOS, start=False)).id
    gw.settle(60)
    image = gw.driver.create_image(scope, vm_id, "golden", "captured")
    gw.driver.delete_image(scope, image.id)  # the engine would answer 409 "Template's Image is locked"
    with pytest.raises(NotFound):
        gw.driver.image(scope, image.id)
    capturing = gw.driver.instance(scope, vm_id)
    assert capturing.backend_state == "image_locked" and capturing.extra["image_lock"] == "capture"
    gw.settle(60)
    with pytest.raises(NotFound):  # the engine's own answer: removed
        gw.driver._get(scope, f"templates/{image.id}", what=("image", image.id))
    assert gw.driver.instance(scope, vm_id).state is InstanceState.STOPPED


def test_a_removed_template_is_gone_at_once(gw: Gateway) -> None:
    scope = gw.scope()
    vm_id = gw.driver.create_instance(scope, InstanceSpec(image_id=CENTOS, start=False)).id
    gw.settle(60)
    image = gw.driver.create_image(scope, vm_id, "golden")
    gw.settle(60)
    gw.driver.delete_image(scope, image.id)
    engine_view = gw.driver._get(scope, f"templates/{image.id}")
    assert engine_view.findtext("status") == "locked"  # the engine is still deleting its disks
    with pytest.raises(NotFound):
        gw.driver.image(scope, image.id)
    assert image.id not in {i.id for i in gw.driver.images(scope)}


def test_a_name_the_engine_cannot_take_is_kept(gw: Gateway) -> None:
    scope = gw.scope()
    asked = "cimi_machine_initial:STARTED"
    created = gw.driver.create_instance(scope, InstanceSpec(image_id=CENTOS, name=asked, start=False))
    assert created.name == asked
    found = gw.driver.instance(scope, created.id)
    assert found.name == asked and found.tags["Name"] == asked
    assert found.extra["engine_name"] == "cimi_machine_initial-STARTED"
    assert gw.driver._get(scope, f"vms/{created.id}").findtext("name") == "cimi_machine_initial-STARTED"
    gw.settle(60)  # the engine refuses to edit a VM while its disks are copied
    gw.driver.update_instance(scope, created.id, name="Mäschine 1")
    assert gw.driver.instance(scope, created.id).name == "Mäschine 1"
    gw.driver.update_instance(scope, created.id, name="plain-name")
    renamed = gw.driver.instance(scope, created.id)
    assert renamed.name == "plain-name" and "engine_name" not in renamed.extra


def test_a_volume_attached_while_the_disks_are_copied_is_attached_once_they_are(gw: Gateway) -> None:
    scope = gw.scope()
    volume = gw.driver.create_volume(scope, VolumeSpec(size_bytes=GiB, name="data"))
    gw.settle(10)
    vm_id = gw.driver.create_instance(scope, InstanceSpec(image_id=CENTOS, start=False)).id
    gw.driver.attach_volume(scope, volume.id, vm_id, "/dev/sdf")  # the engine would answer 409 "VM is locked"
    assert gw.driver.instance(scope, vm_id).backend_state == "image_locked"
    gw.settle(60)
    attached = {a.volume_id: a for a in gw.driver.instance(scope, vm_id).attachments}
    assert attached[volume.id].device == "/dev/sdf" and not attached[volume.id].delete_on_termination
    assert gw.driver.volume(scope, volume.id).state is ResourceState.IN_USE


def test_a_queued_attach_that_meets_a_new_lock_waits_for_it_and_attaches(gw: Gateway) -> None:
    """The VM is locked again between the after_lock step's read and the attachment (another client's copy
    of its images begins): the step waits for that lock too, never reports done with nothing attached."""
    scope, engine = gw.scope(), gw.engine.simulator.store
    volume = gw.driver.create_volume(scope, VolumeSpec(size_bytes=GiB, name="data"))
    gw.settle(10)
    vm_id = gw.driver.create_instance(scope, InstanceSpec(image_id=CENTOS, start=False)).id
    gw.driver.attach_volume(scope, volume.id, vm_id, "/dev/sdf")  # queued: the VM is locked
    (waiting,) = gw.runner.find(kind=AFTER_LOCK, target=vm_id, active_only=True)
    relocked: list[str] = []

    def lock_again(response: Any, *args: Any, **kwargs: Any) -> None:
        """Once the step has read the disk (its last look before attaching), the engine locks the VM again."""
        if not relocked and response.request.method == "GET" and response.url.endswith(f"/disks/{volume.id}"):
            with engine.lock:
                vm = engine.vms[vm_id]
                if vm.status == "down":
                    vm.status = "image_locked"
                    vm.touch()
                    relocked.append(vm_id)
    gw.driver.client_for(gw.provider).session.hooks["response"].append(lock_again)
    gw.settle(60)
    assert relocked and gw.runner.get(waiting.id).state != "done"  # waiting for the new lock
    assert volume.id not in {a.volume_id for a in gw.driver.instance(scope, vm_id).attachments}
    with engine.lock:
        engine.vms[vm_id].status = "down"  # the other copy is done
        engine.vms[vm_id].touch()
    gw.settle(20)
    assert gw.runner.get(waiting.id).state == "done"
    assert {a.volume_id: a.device for a in gw.driver.instance(scope, vm_id).attachments}[volume.id] == "/dev/sdf"


def test_a_volume_attached_while_it_is_created_is_attached_once_it_is(gw: Gateway) -> None:
    """The engine refuses to attach a locked disk ("The following disks are locked")."""
    scope = gw.scope()
    vm_id = gw.driver.create_instance(scope, InstanceSpec(image_id=CENTOS, start=False)).id
    gw.settle(60)
    volume = gw.driver.create_volume(scope, VolumeSpec(size_bytes=GiB, name="young"))
    gw.driver.attach_volume(scope, volume.id, vm_id, "/dev/sdg")
    assert gw.driver.volume(scope, volume.id).state is ResourceState.PENDING
    gw.settle(20)
    assert {a.volume_id: a.device for a in gw.driver.instance(scope, vm_id).attachments}[volume.id] == "/dev/sdg"
