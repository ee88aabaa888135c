"""A CreateVolume from a snapshot whose gateway is killed with -9 between the steps of its durable operation:
after the engine detached the copy from the helper VM and before the helper's removal (the simulator holds
the engine's answer to the detach, and the gateway dies waiting for it). The gateway started again on the
same store takes the operation over once its lease expires: the volume is `available` under the id the
client was given, and the helper VM is gone."""
from __future__ import annotations

import time

from .gateway_process import start
from .test_terminate_takeover import WAIT, backend_id, ec2_client, engine_and_config, launch_with_volume

__all__ = ["engine_and_config"]  # the fixture, shared with the terminate takeover tests


def helpers(simulator: object) -> list[str]:
    store = simulator.store  # type: ignore[attr-defined]
    with store.lock:
        return [vm.id for vm in store.vms.values() if vm.comment.startswith("cloudgw-helper-")]


def test_a_volume_from_a_snapshot_killed_after_the_detach_is_finished_after_restart(engine_and_config) -> None:
    simulator, config = engine_and_config
    first, url = start(config)
    try:
        ec2 = ec2_client(url)
        instance_id, _, source = launch_with_volume(ec2)
        snapshot_id = ec2.create_snapshot(VolumeId=source)["SnapshotId"]
        ec2.get_waiter("snapshot_completed").wait(SnapshotIds=[snapshot_id], WaiterConfig=WAIT)
        simulator.faults.configure({"hold": {"path": r"/vms/[^/]+/diskattachments/[^/]+$", "method": "DELETE",
                                             "seconds": 60, "count": 1}})
        zone = ec2.describe_volumes(VolumeIds=[source])["Volumes"][0]["AvailabilityZone"]
        volume_id = ec2.create_volume(SnapshotId=snapshot_id, AvailabilityZone=zone)["VolumeId"]
        disk_id = backend_id(volume_id)
        (helper,) = helpers(simulator)
        deadline, detached = time.monotonic() + 30, False
        while not detached and time.monotonic() < deadline:  # the engine detached; its answer is held back
            with simulator.store.lock:
                vm = simulator.store.vms.get(helper)
                detached = vm is not None and disk_id not in [a.disk_id for a in vm.attachments]
            time.sleep(0.05)
        assert detached, "the copy was never detached from the helper VM"
    finally:
        first.kill()  # -9 while the gateway waits for the detach's answer: the helper is not removed yet
        first.wait()
    assert helpers(simulator) == [helper] and disk_id in simulator.store.disks

    simulator.faults.clear()
    second, url = start(config)
    try:
        ec2 = ec2_client(url)
        ec2.get_waiter("volume_available").wait(VolumeIds=[volume_id], WaiterConfig=WAIT)
        (volume,) = ec2.describe_volumes(VolumeIds=[volume_id])["Volumes"]
        assert (volume["State"], volume["Size"], volume["SnapshotId"]) == ("available", 1, snapshot_id)
        deadline = time.monotonic() + 30
        while helpers(simulator):
            assert time.monotonic() < deadline, "the helper VM was never removed"
            time.sleep(0.1)
        assert backend_id(instance_id) in simulator.store.vms  # the snapshot's own VM is untouched
    finally:
        second.kill()
        second.wait()
