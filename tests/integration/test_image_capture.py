"""The durable image operation (`ovirt.image`) through the driver, against the simulator on a frozen clock.

A running instance is shut down, an attached volume left out of the image is set aside for the copy, the
template is copied, the volume goes back and the instance starts again; a gateway restarted in the middle
(the volume detached, the template being copied) finishes all of it, since each step reads the engine first.
"""
from __future__ import annotations

import pytest
from lxml.builder import E

from drivers.ovirt import images
from drivers.ovirt.image_capture import CAPTURE, CaptureImage
from gateway.errors import AlreadyExists, BackendUnavailable, InvalidState
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


def test_a_restart_between_the_steps_still_gives_back_the_volume_and_starts_the_instance(
        gw: Gateway, monkeypatch: pytest.MonkeyPatch) -> None:
    vm_id, volume_id = running_with_volume(gw)
    monkeypatch.setattr(images, "ANSWER_SECONDS", 0.0)  # the engine's clock is frozen: the VM will not stop
    with pytest.raises(BackendUnavailable):                # while the request waits, so it leaves it to the worker
        gw.driver.create_image(gw.scope(), vm_id, "nightly build", "", excluded_volume_ids=[volume_id])
    while capture(gw).step != "wait_for_copy":  # stopped, the volume set aside, the template being copied
        gw.runner.run_until_idle()
        gw.engine.simulator.clock.advance(0.5)
        gw.time.now += 2
    template_id = capture(gw).target
    assert volume_id not in [a.volume_id for a in gw.driver.instance(gw.scope(), vm_id).attachments]

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
    assert volume_id in [a.volume_id for a in instance.attachments]
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
    assert volume_id not in [a.volume_id for a in gw.driver.instance(gw.scope(), vm_id).attachments]

    monkeypatch.setattr(CaptureImage, "step_copy", real_copy)
    gw = gw.restart()
    gw.settle(120)  # the lease runs out; the new process's worker starts over from `stop` and finishes
    operation = capture(gw)
    assert operation.state == "done", operation.last_error
    image = gw.driver.image(gw.scope(), operation.target)
    assert image.name == "after a crash" and image.state is ResourceState.AVAILABLE
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
