"""The durable image operation (`ovirt.image`) through the driver, against the simulator on a frozen clock.

A running instance is shut down, the template is copied from a snapshot of the disks it holds when a
volume is left out (that volume stays attached and in use all along: it is never detached), the snapshot is
removed and the instance starts again; a gateway restarted in the middle (the template being copied)
finishes all of it, since each step reads the engine first. Operations an older gateway recorded (which
detached the volumes left out, step `set_aside`) finish by giving those volumes back.
"""
from __future__ import annotations

import pytest
from lxml.builder import E

from drivers.ovirt import images
from drivers.ovirt.image_capture import CAPTURE, CaptureImage
from gateway.errors import AlreadyExists, BackendUnavailable, InvalidState, NotSupported
from gateway.model import InstanceSpec, InstanceState, ResourceState, VolumeSpec

from .ovirt_env import CENTOS, Gateway

GiB = 1024 ** 3


def running_with_volume(gw: Gateway) -> tuple[str, str]:
    scope = gw.scope()
    vm_id = gw.driver.create_instance(scope, InstanceSpec(image_id=CENTOS)).id
    volume = gw.driver.create_volume(scope, VolumeSpec(size_bytes=GiB, name="data"))
    gw.settle(60)
    gw.driver.attach_volume(scope, volume.id, vm_id, "/dev/sdf")
    assert gw.driver.instance(scope, vm_id).state is InstanceState.RUNNING
    return vm_id, volume.id


def capture(gw: Gateway) -> object:
    (operation,) = [o for o in gw.runner.find(kind=CAPTURE)]
    return operation


def test_a_volume_left_out_stays_attached_in_use_with_its_records_through_a_restart(
        gw: Gateway, monkeypatch: pytest.MonkeyPatch) -> None:
    vm_id, volume_id = running_with_volume(gw)
    scope = gw.scope()
    gw.driver.set_delete_on_termination(scope, vm_id, volume_id, True)
    kept = ("/dev/sdf", True)

    def the_volume_as_it_was() -> None:  # attached, in use, its device name and DeleteOnTermination kept
        volume = gw.driver.volume(gw.scope(), volume_id)
        assert volume.state is ResourceState.IN_USE
        assert [(a.instance_id, a.device, a.delete_on_termination) for a in volume.attachments] == [(vm_id, *kept)]

    monkeypatch.setattr(images, "ANSWER_SECONDS", 0.0)  # the engine's clock is frozen: the VM will not stop
    with pytest.raises(BackendUnavailable):                # while the request waits, so it leaves it to the worker
        gw.driver.create_image(scope, vm_id, "nightly build", "", excluded_volume_ids=[volume_id])
    while capture(gw).step != "wait_for_copy":  # stopped, the snapshot taken, the template being copied
        the_volume_as_it_was()
        gw.runner.run_until_idle()
        gw.engine.simulator.clock.advance(0.5)
        gw.time.now += 2
    template_id = capture(gw).target
    gw.driver.volumes(scope)  # a whole listing meanwhile (it prunes the records of attachments that are gone)
    the_volume_as_it_was()
    other = gw.driver.create_instance(scope, InstanceSpec(image_id=CENTOS, start=False)).id
    with pytest.raises(InvalidState):
        gw.driver.attach_volume(scope, volume_id, other, "/dev/sdg")
    with pytest.raises(InvalidState):
        gw.driver.delete_volume(scope, volume_id)

    gw = gw.restart()  # the process dies; another one takes the operation over
    gw.settle(60)
    operation = capture(gw)
    assert operation.state == "done", operation.last_error
    scope = gw.scope()
    image = gw.driver.image(scope, template_id)
    assert image.name == "nightly build" and image.state is ResourceState.AVAILABLE
    assert image.disk_bytes == 10 * GiB  # the root volume's copy only: the data volume was left out
    instance = gw.driver.instance(scope, vm_id)
    assert instance.state is InstanceState.RUNNING
    the_volume_as_it_was()
    assert not [s for s in gw.driver.snapshots(scope) if s.instance_id == vm_id]  # the copy's snapshot removed
    gw.close()


def test_a_stopped_instance_is_captured_in_the_request_and_stays_stopped(gw: Gateway) -> None:
    scope = gw.scope()
    vm_id = gw.driver.create_instance(scope, InstanceSpec(image_id=CENTOS, start=False)).id
    gw.settle(60)
    image = gw.driver.create_image(scope, vm_id, "golden", "captured", tags={"team": "blue"},
                                   snapshot_tags={"backs": "golden"})
    assert image.state is ResourceState.PENDING and image.tags == {"team": "blue"}
    with pytest.raises(AlreadyExists):
        gw.driver.create_image(scope, vm_id, "golden")
    with pytest.raises(InvalidState):
        gw.driver.create_image(scope, vm_id, "while copying")  # the engine has the VM image_locked
    gw.settle(60)
    assert gw.driver.image(scope, image.id).state is ResourceState.AVAILABLE
    assert gw.driver.instance(scope, vm_id).state is InstanceState.STOPPED
    assert capture(gw).state == "done"
    copies = [a.get("id") for a in gw.driver._get(scope, f"templates/{image.id}/diskattachments")]
    assert copies and gw.driver.tags(scope, copies) == {d: {"backs": "golden"} for d in copies}  # snapshot tags


class Killed(BaseException):
    """The process dying in the middle of a request (nothing after it runs, no lease is released)."""


def test_a_process_dying_in_the_request_before_the_copy_leaves_the_work_to_another(
        gw: Gateway, monkeypatch: pytest.MonkeyPatch) -> None:
    vm_id, volume_id = running_with_volume(gw)
    real_copy = CaptureImage.step_copy

    def dies_at_the_copy(self: CaptureImage, op: object, scope: object) -> object:
        raise Killed()

    monkeypatch.setattr(CaptureImage, "step_copy", dies_at_the_copy)
    clock = gw.engine.simulator.clock
    clock.set_speed(50.0)
    clock.freeze(False)  # the VM shuts down while the request waits for it
    try:
        with pytest.raises(Killed):
            gw.driver.create_image(gw.scope(), vm_id, "after a crash", excluded_volume_ids=[volume_id])
    finally:
        clock.freeze(True)
        clock.set_speed(1.0)
    held = capture(gw)
    assert held.state == "running" and not held.target  # still held by the dead request, nothing made yet
    assert gw.driver.instance(gw.scope(), vm_id).state is InstanceState.STOPPED
    assert volume_id in [a.volume_id for a in gw.driver.instance(gw.scope(), vm_id).attachments]

    monkeypatch.setattr(CaptureImage, "step_copy", real_copy)
    gw = gw.restart()
    gw.settle(120)  # the lease runs out; the new process's worker starts over from `stop` and finishes
    operation = capture(gw)
    assert operation.state == "done", operation.last_error
    image = gw.driver.image(gw.scope(), operation.target)
    assert image.name == "after a crash" and image.state is ResourceState.AVAILABLE
    assert image.disk_bytes == 10 * GiB
    instance = gw.driver.instance(gw.scope(), vm_id)
    assert instance.state is InstanceState.RUNNING and volume_id in [a.volume_id for a in instance.attachments]
    gw.close()


def test_the_engine_refuses_a_template_of_a_snapshot_still_being_taken(gw: Gateway) -> None:
    """The simulator's AddVmTemplateFromSnapshot: 409 while the snapshot is locked (the clock is frozen)."""
    scope = gw.scope()
    vm_id = gw.driver.create_instance(scope, InstanceSpec(image_id=CENTOS, start=False)).id
    gw.settle(60)
    snapshot = gw.driver.create_snapshot(scope, vm_id, "being taken")
    body = E.template(E.name("too-early"), E.vm(E.snapshots(E.snapshot(id=snapshot.id)), id=vm_id))
    with pytest.raises(InvalidState):
        gw.driver._call(scope, "POST", "templates", body=body, idempotent=False)
    gw.settle(20)
    made = gw.driver._call(scope, "POST", "templates", body=body, idempotent=False)
    assert made is not None and made.findtext("status") == "locked"
    assert gw.driver.instance(scope, vm_id).state is InstanceState.STOPPED  # the VM is not locked: the snapshot is


@pytest.mark.parametrize("step", ["set_aside", "restore"])
def test_an_operation_an_older_gateway_recorded_with_a_volume_set_aside_gives_it_back(gw: Gateway, step: str) -> None:
    """Older gateways detached the volumes left out (step `set_aside`, data `aside`) and attached them again in
    `restore`: such a record, met after an upgrade, puts the volume back and finishes."""
    vm_id, volume_id = running_with_volume(gw)
    scope = gw.scope()
    gw.driver.stop_instance(scope, vm_id)
    gw.settle(30)
    gw.driver._call(scope, "DELETE", f"vms/{vm_id}/diskattachments/{volume_id}", params={"detach_only": "true"},
                    idempotent=True)  # what the older `set_aside` did
    place = gw.driver._place(scope)
    operation = gw.runner.submit(CAPTURE, step=step, owner=scope.owner_key, secret=gw.driver._secret(scope), data={
        **gw.driver._scope_data(scope, place), "vm_id": vm_id, "exclude": [volume_id], "no_reboot": False,
        "snapshot_tags": {}, "name": "upgraded", "description": "", "engine_name": "upgraded",
        "dc_name": place.region.name, "tags": {}, "was_running": True,
        "aside": {volume_id: {"bootable": False, "interface": "virtio_scsi", "active": True}}})
    gw.settle(90)
    done = gw.runner.get(operation.id)
    assert done is not None and done.state == "done", done and done.last_error
    instance = gw.driver.instance(scope, vm_id)
    assert instance.state is InstanceState.RUNNING and volume_id in [a.volume_id for a in instance.attachments]
    if step == "set_aside":  # the image is made as this gateway makes it: the kept disks only
        image = gw.driver.image(scope, done.target)
        assert image.state is ResourceState.AVAILABLE and image.disk_bytes == 10 * GiB


def test_a_step_this_gateway_does_not_know_fails_the_operation_in_words(gw: Gateway) -> None:
    scope = gw.scope()
    operation = gw.runner.submit(CAPTURE, step="defragment", owner=scope.owner_key, secret=gw.driver._secret(scope),
                                 data={**gw.driver._scope_data(scope, gw.driver._place(scope)), "vm_id": "x"})
    gw.runner.run_until_idle()
    failed = gw.runner.get(operation.id)
    assert failed is not None and failed.state == "failed"
    assert failed.last_error == "The step 'defragment' of ovirt.image is unknown to this version of the gateway"


def test_an_image_from_a_snapshot_of_a_free_volume_is_refused_before_anything_is_recorded(gw: Gateway) -> None:
    """Such a snapshot is a disk copy (disk_snapshots): the engine makes a template only from a VM or a VM's
    snapshot, so nothing is recorded and nothing asked of the engine's templates."""
    scope = gw.scope()
    volume = gw.driver.create_volume(scope, VolumeSpec(size_bytes=GiB, name="free"))
    gw.settle(30)
    snapshot = gw.driver.snapshot_volume(scope, volume.id, "of a free volume")
    gw.settle(30)
    assert gw.driver.snapshots(scope, [snapshot.id])[0].instance_id == ""
    gw.forget_requests()
    with pytest.raises(NotSupported, match="only from a snapshot of an instance's volume"):
        gw.driver.create_image_from_snapshot(scope, snapshot.id, "from a free volume")
    assert gw.runner.find(kind=CAPTURE) == []
    assert not [r for r in gw.requests if r.startswith("POST")]
