"""The terminate operation survives a crash at any step: each step is run twice, the first outcome lost, as
when a process acts on the engine and is killed before recording what it did; the operation still ends with
the VM removed, the volume to keep floating under its own id, and the disks to delete gone."""
from __future__ import annotations

import copy

import pytest

from gateway.errors import NotFound
from gateway.model import InstanceSpec, ResourceState, VolumeSpec
from gateway.operations import Operation, OperationKind, Outcome

from .ovirt_env import CENTOS, Gateway

GiB = 1024 ** 3


class EveryStepTwice:
    """Wraps an operation kind: every step runs once more after its first run, whose outcome is dropped."""

    def __init__(self, kind: OperationKind) -> None:
        self.kind, self.name, self.steps = kind, kind.name, kind.steps
        self.ran: list[str] = []

    def run_step(self, operation: Operation) -> Outcome:
        self.ran.append(operation.step)
        self.kind.run_step(copy.deepcopy(operation))
        return self.kind.run_step(operation)


@pytest.mark.parametrize("keep_root", [False, True])
def test_every_terminate_step_repeated_keeps_what_should_stay(gw: Gateway, keep_root: bool) -> None:
    scope = gw.scope()
    vm_id = gw.driver.create_instance(scope, InstanceSpec(image_id=CENTOS)).id
    gw.settle(60)
    (boot,) = gw.driver.instance(scope, vm_id).attachments
    volume = gw.driver.create_volume(scope, VolumeSpec(size_bytes=GiB, name="kept-data"))
    gw.settle(10)
    gw.driver.attach_volume(scope, volume.id, vm_id, device="/dev/sdf")
    gw.driver.create_snapshot(scope, vm_id, "holds both disks")  # the engine detaches no disk a snapshot holds
    gw.settle(10)
    if keep_root:
        gw.driver.set_delete_on_termination(scope, vm_id, boot.volume_id, False)
    flags = {a.volume_id: a.delete_on_termination for a in gw.driver.instance(scope, vm_id).attachments}
    assert flags == {boot.volume_id: not keep_root, volume.id: False}

    twice = EveryStepTwice(gw.runner.kinds["ovirt.terminate"])
    gw.runner.register(twice)
    gw.driver.destroy_instance(scope, vm_id)
    gw.settle(90)

    assert {"stop", "wait_for_down", "keep_volumes", "remove", "forget"} <= set(twice.ran)
    assert gw.driver.instances(scope, [vm_id]) == []
    assert [i.id for i in gw.driver.terminated_instances(scope, [vm_id])] == [vm_id]
    kept = gw.driver.volume(scope, volume.id)
    assert (kept.name, kept.state, kept.attachments) == ("kept-data", ResourceState.AVAILABLE, [])
    if keep_root:
        assert gw.driver.volume(scope, boot.volume_id).state is ResourceState.AVAILABLE
    else:
        with pytest.raises(NotFound):
            gw.driver.volume(scope, boot.volume_id)
