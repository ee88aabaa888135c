"""A RunInstances with a new volume (/dev/sdb) whose gateway is killed with -9 between the engine creating
that volume and the gateway recording it (the simulator holds the engine's answer to the attach). The
gateway started again on the same store takes the launch over once its lease expires: it finds the disk
the engine made by its mark instead of making a second one, records its device name, DeleteOnTermination
and tags, and starts the instance; terminating it then removes both disks, so none is left orphaned."""
from __future__ import annotations

import time
from typing import Any

from tests.integration.test_terminate_takeover import WAIT, backend_id, ec2_client, engine_and_config, engine_vm

from .gateway_process import start

__all__ = ["engine_and_config"]  # the fixture, shared with the terminate takeover tests
CENTOS_AMI = "ami-7e000000000040008000000000000011"


def test_a_launch_killed_while_its_new_volume_is_attached_finishes_after_restart_with_one_disk(
        engine_and_config: Any) -> None:
    simulator, config = engine_and_config
    simulator.faults.configure({"hold": {"path": r"/vms/[^/]+/diskattachments$", "method": "POST",
                                         "seconds": 60, "count": 1}})
    first, url = start(config)
    try:
        ec2 = ec2_client(url)
        run = ec2.run_instances(ImageId=CENTOS_AMI, MinCount=1, MaxCount=1, InstanceType="o1.small",
                                BlockDeviceMappings=[{"DeviceName": "/dev/sdb", "Ebs": {"VolumeSize": 1}}],
                                TagSpecifications=[{"ResourceType": "volume", "Tags": [{"Key": "k", "Value": "v"}]}])
        instance_id = run["Instances"][0]["InstanceId"]
        vm_id = backend_id(instance_id)
        deadline, attached = time.monotonic() + 30, False
        while not attached and time.monotonic() < deadline:  # the engine made the disk; its answer is held back
            vm = engine_vm(simulator, vm_id)
            attached = vm is not None and len(vm.attachments) == 2
            time.sleep(0.05)
        assert attached, "the launch did not attach its new volume"
    finally:
        first.kill()  # -9 while the gateway waits for the attach's answer: nothing recorded yet
        first.wait()
    assert engine_vm(simulator, vm_id).status == "down"

    simulator.faults.clear()
    second, url = start(config)
    try:
        ec2 = ec2_client(url)
        ec2.get_waiter("instance_running").wait(InstanceIds=[instance_id], WaiterConfig=WAIT)
        assert len(engine_vm(simulator, vm_id).attachments) == 2  # the volume was not made twice
        instance = ec2.describe_instances(InstanceIds=[instance_id])["Reservations"][0]["Instances"][0]
        mappings = {m["DeviceName"]: m["Ebs"] for m in instance["BlockDeviceMappings"]}
        assert sorted(mappings) == ["/dev/sdb", "/dev/vda"]
        assert mappings["/dev/sdb"]["DeleteOnTermination"] is True
        (volume,) = ec2.describe_volumes(VolumeIds=[mappings["/dev/sdb"]["VolumeId"]])["Volumes"]
        assert volume["Size"] == 1 and volume["Tags"] == [{"Key": "k", "Value": "v"}]

        ec2.terminate_instances(InstanceIds=[instance_id])
        ec2.get_waiter("instance_terminated").wait(InstanceIds=[instance_id], WaiterConfig=WAIT)
        volume_ids = [ebs["VolumeId"] for ebs in mappings.values()]
        ec2.get_waiter("volume_deleted").wait(VolumeIds=volume_ids, WaiterConfig=WAIT)
        assert not {backend_id(v) for v in volume_ids} & set(simulator.store.disks)
    finally:
        second.kill()
        second.wait()
