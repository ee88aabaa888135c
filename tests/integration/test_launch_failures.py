"""A launch whose step keeps failing with an error worth retrying (the engine answers 503 to every attach)
fails at its last attempt like one the engine refused: its VM is terminated through the durable termination,
and the terminated instance says why."""
from __future__ import annotations

from gateway.model import LAUNCH_ERROR, InstanceSpec, InstanceState, LaunchVolume

from .ovirt_env import CENTOS, Gateway

GiB = 1024 ** 3


def test_a_launch_failing_at_its_last_attempt_terminates_its_vm(gw: Gateway) -> None:
    gw.runner.max_attempts = 3
    gw.engine.control("faults", error={"path": r"/vms/[^/]+/diskattachments$", "method": "POST", "status": 503})
    scope = gw.scope()
    try:
        vm_id = gw.driver.create_instance(scope, InstanceSpec(image_id=CENTOS, new_volumes=[
            LaunchVolume("/dev/sdb", GiB)])).id
        gw.settle(120)
    finally:
        gw.engine.clear_faults()  # the engine serves the module's other tests
    [launch] = [o for o in gw.runner.find(target=vm_id) if o.kind == "ovirt.run"]
    assert launch.state == "failed"
    assert vm_id not in gw.engine.simulator.store.vms  # not left down: removed, as AWS ends the instance
    [ended] = gw.driver.terminated_instances(scope, [vm_id])
    assert ended.state is InstanceState.TERMINATED and ended.extra.get(LAUNCH_ERROR) == launch.last_error
