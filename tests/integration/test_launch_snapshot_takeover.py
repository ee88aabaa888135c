"""A RunInstances with a volume from a snapshot (/dev/sdf) whose gateway is killed with -9 just after the
engine made the helper VM that copies the snapshot (the simulator holds the engine's answer to the clone).
The gateway started again on the same store takes both operations over once their leases expire: the copy
goes on with the helper the engine made (found by its comment) instead of cloning a second one, the launch
attaches that copy under /dev/sdf and starts the instance, the helper is removed, and terminating the
instance removes the copy with it."""
from __future__ import annotations

import time
from typing import Any

from tests.integration.test_terminate_takeover import WAIT, backend_id, ec2_client, engine_and_config, engine_vm

from .gateway_process import start

__all__ = ["engine_and_config"]  # the fixture, shared with the terminate takeover tests
CENTOS_AMI = "ami-7e000000000040008000000000000011"


def helpers(simulator: Any) -> dict[str, list[str]]:
    """The engine's helper VMs now: id -> the ids of its disks."""
    with simulator.store.lock:
        return {vm.id: [a.disk_id for a in vm.attachments] for vm in simulator.store.vms.values()
                if vm.comment.startswith("cloudgw-helper-")}


def test_a_launch_killed_while_its_snapshot_is_cloned_finishes_after_restart_with_that_one_copy(
        engine_and_config: Any) -> None:
    simulator, config = engine_and_config
    first, url = start(config)
    try:
        ec2 = ec2_client(url)
        source = ec2.run_instances(ImageId=CENTOS_AMI, MinCount=1, MaxCount=1, InstanceType="o1.small",
                                   BlockDeviceMappings=[{"DeviceName": "/dev/sdb", "Ebs": {"VolumeSize": 2}}])
        source_id = source["Instances"][0]["InstanceId"]
        ec2.get_waiter("instance_running").wait(InstanceIds=[source_id], WaiterConfig=WAIT)
        data = next(m["Ebs"]["VolumeId"] for m in ec2.describe_instances(InstanceIds=[source_id])[
            "Reservations"][0]["Instances"][0]["BlockDeviceMappings"] if m["DeviceName"] == "/dev/sdb")
        snapshot_id = ec2.create_snapshot(VolumeId=data, Description="data")["SnapshotId"]
        ec2.get_waiter("snapshot_completed").wait(SnapshotIds=[snapshot_id], WaiterConfig=WAIT)
        run = ec2.run_instances(ImageId=CENTOS_AMI, MinCount=1, MaxCount=1, InstanceType="o1.small",
                                BlockDeviceMappings=[{"DeviceName": "/dev/sdf", "Ebs": {"SnapshotId": snapshot_id}}])
        instance_id = run["Instances"][0]["InstanceId"]
        vm_id = backend_id(instance_id)
        simulator.faults.configure({"hold": {"path": r"/vms$", "method": "POST", "seconds": 60, "count": 1}})
        deadline, made = time.monotonic() + 30, {}
        while not made and time.monotonic() < deadline:  # the engine made the helper; its answer is held back
            made = {h: disks for h, disks in helpers(simulator).items() if disks}
            time.sleep(0.05)
        assert made, "the launch did not clone its snapshot"
    finally:
        first.kill()  # -9 while the worker waits for the clone's answer: nothing recorded yet
        first.wait()
    ((helper_id, (copy_id,)),) = made.items()
    assert engine_vm(simulator, vm_id).status in ("down", "image_locked")

    simulator.faults.clear()
    second, url = start(config)
    try:
        ec2 = ec2_client(url)
        ec2.get_waiter("instance_running").wait(InstanceIds=[instance_id], WaiterConfig=WAIT)
        instance = ec2.describe_instances(InstanceIds=[instance_id])["Reservations"][0]["Instances"][0]
        mappings = {m["DeviceName"]: m["Ebs"] for m in instance["BlockDeviceMappings"]}
        assert sorted(mappings) == ["/dev/sdf", "/dev/vda"]
        assert backend_id(mappings["/dev/sdf"]["VolumeId"]) == copy_id  # the helper's copy, not a second one
        assert mappings["/dev/sdf"]["DeleteOnTermination"] is True
        deadline = time.monotonic() + 30
        while helpers(simulator) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not helpers(simulator) and helper_id not in simulator.store.vms  # no helper left behind

        ec2.terminate_instances(InstanceIds=[instance_id, source_id])
        ec2.get_waiter("instance_terminated").wait(InstanceIds=[instance_id, source_id], WaiterConfig=WAIT)
        ec2.get_waiter("volume_deleted").wait(VolumeIds=[mappings["/dev/sdf"]["VolumeId"]], WaiterConfig=WAIT)
        assert copy_id not in simulator.store.disks
    finally:
        second.kill()
        second.wait()
