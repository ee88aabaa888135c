"""A TerminateInstances whose gateway is killed with -9 between its steps: after the engine detached the
volume to keep and before the VM's removal (the simulator holds the engine's answer to the detach, and the
gateway dies waiting for it). The gateway started again on the same store takes the durable operation over
once its lease expires: the VM is removed, the kept volume is `available` under the same id, and the root
volume, deleted on termination, is gone. And DeleteOnTermination changed just before a kill -9 holds after
the restart."""
from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config

from drivers.ovirt.simulator.server import ServerHandle, Simulator, serve_in_thread
from gateway.config import load
from gateway.store import Store

from .gateway_process import start

CENTOS_AMI = "ami-7e000000000040008000000000000011"
WAIT = {"Delay": 0.5, "MaxAttempts": 120}


def ec2_client(url: str) -> Any:
    return boto3.client("ec2", endpoint_url=f"{url}/", region_name="us-east-1", aws_access_key_id="AKTERMINATE",
                        aws_secret_access_key="terminate-secret", config=Config(retries={"max_attempts": 0}))


@pytest.fixture
def engine_and_config(tmp_path: Path) -> Iterator[tuple[Simulator, Path]]:
    simulator = Simulator(speed=20)
    engine: ServerHandle = serve_in_thread(simulator)
    config = tmp_path / "cloudgw.toml"
    config.write_text(f'[server]\ndata_dir = "{tmp_path / "data"}"\n\n'
                      '[operations]\nlease_seconds = 2\npoll_seconds = 0.2\n\n'
                      f'[[providers]]\nname = "lab"\nurl = "{engine.api_url}"\ndefault_datacenter = "Default"\n'
                      'region_aliases = { "us-east-1" = "Default" }\n')
    Store.from_config(load(config)).create_credential("admin@internal", "admin", access_key="AKTERMINATE",
                                                      secret_key="terminate-secret", provider="lab")
    try:
        yield simulator, config
    finally:
        simulator.faults.clear()
        engine.shutdown()


def backend_id(ec2_id: str) -> str:
    return str(uuid.UUID(hex=ec2_id.split("-", 1)[1]))


def engine_vm(simulator: Simulator, vm_id: str) -> Any:
    with simulator.store.lock:
        return simulator.store.vms.get(vm_id)


def launch_with_volume(ec2: Any) -> tuple[str, str, str]:
    """A running instance with a new volume attached at /dev/sdf: (instance, its root volume, the volume)."""
    run = ec2.run_instances(ImageId=CENTOS_AMI, MinCount=1, MaxCount=1, InstanceType="o1.small")
    instance_id = run["Instances"][0]["InstanceId"]
    ec2.get_waiter("instance_running").wait(InstanceIds=[instance_id], WaiterConfig=WAIT)
    instance = ec2.describe_instances(InstanceIds=[instance_id])["Reservations"][0]["Instances"][0]
    root = next(m["Ebs"]["VolumeId"] for m in instance["BlockDeviceMappings"]
                if m["DeviceName"] == instance["RootDeviceName"])
    volume_id = ec2.create_volume(Size=1, AvailabilityZone=instance["Placement"]["AvailabilityZone"])["VolumeId"]
    ec2.get_waiter("volume_available").wait(VolumeIds=[volume_id], WaiterConfig=WAIT)
    ec2.attach_volume(VolumeId=volume_id, InstanceId=instance_id, Device="/dev/sdf")
    ec2.get_waiter("volume_in_use").wait(VolumeIds=[volume_id], WaiterConfig=WAIT)
    return instance_id, root, volume_id


def assert_kept(ec2: Any, volume_id: str) -> None:
    ec2.get_waiter("volume_available").wait(VolumeIds=[volume_id], WaiterConfig=WAIT)
    (volume,) = ec2.describe_volumes(VolumeIds=[volume_id])["Volumes"]
    assert (volume["VolumeId"], volume["State"], volume["Attachments"]) == (volume_id, "available", [])


def test_a_terminate_killed_after_the_detach_finishes_after_restart(engine_and_config) -> None:
    simulator, config = engine_and_config
    first, url = start(config)
    try:
        ec2 = ec2_client(url)
        instance_id, root, volume_id = launch_with_volume(ec2)
        vm_id, disk_id = backend_id(instance_id), backend_id(volume_id)
        simulator.faults.configure({"hold": {"path": rf"/vms/{vm_id}/diskattachments/{disk_id}$",
                                             "method": "DELETE", "seconds": 60, "count": 1}})
        ec2.terminate_instances(InstanceIds=[instance_id])
        deadline, detached = time.monotonic() + 20, False
        while not detached and time.monotonic() < deadline:  # the engine detached; its answer is held back
            vm = engine_vm(simulator, vm_id)
            detached = vm is not None and disk_id not in [a.disk_id for a in vm.attachments]
            time.sleep(0.05)
        assert detached, "the terminate did not detach the volume before removing the VM"
    finally:
        first.kill()  # -9 while the gateway waits for the detach's answer: the VM is not removed yet
        first.wait()
    assert engine_vm(simulator, vm_id) is not None
    assert disk_id in simulator.store.disks

    simulator.faults.clear()
    second, url = start(config)
    try:
        ec2 = ec2_client(url)
        ec2.get_waiter("instance_terminated").wait(InstanceIds=[instance_id], WaiterConfig=WAIT)
        assert engine_vm(simulator, vm_id) is None
        assert_kept(ec2, volume_id)
        ec2.get_waiter("volume_deleted").wait(VolumeIds=[root], WaiterConfig=WAIT)
        assert backend_id(root) not in simulator.store.disks
    finally:
        second.kill()
        second.wait()


def test_delete_on_termination_changed_before_a_kill_9_holds_after_restart(engine_and_config) -> None:
    simulator, config = engine_and_config
    first, url = start(config)
    try:
        ec2 = ec2_client(url)
        instance_id, root, volume_id = launch_with_volume(ec2)
        root_device = ec2.describe_instances(InstanceIds=[instance_id])["Reservations"][0]["Instances"][0][
            "RootDeviceName"]
        ec2.modify_instance_attribute(InstanceId=instance_id, BlockDeviceMappings=[
            {"DeviceName": root_device, "Ebs": {"DeleteOnTermination": False}},
            {"DeviceName": "/dev/sdf", "Ebs": {"DeleteOnTermination": True}}])
    finally:
        first.kill()  # -9 straight after the answer
        first.wait()
    second, url = start(config)
    try:
        ec2 = ec2_client(url)
        instance = ec2.describe_instances(InstanceIds=[instance_id])["Reservations"][0]["Instances"][0]
        assert {m["Ebs"]["VolumeId"]: m["Ebs"]["DeleteOnTermination"] for m in instance["BlockDeviceMappings"]} == {
            root: False, volume_id: True}
        ec2.terminate_instances(InstanceIds=[instance_id])
        ec2.get_waiter("instance_terminated").wait(InstanceIds=[instance_id], WaiterConfig=WAIT)
        assert_kept(ec2, root)
        ec2.get_waiter("volume_deleted").wait(VolumeIds=[volume_id], WaiterConfig=WAIT)
    finally:
        second.kill()
        second.wait()
