"""What boto3 sees of the engine's passing states: an action the engine is doing already succeeds, one it
takes once a lock is gone succeeds and is done then, one it refuses is refused first with AWS's message.

The simulator's control API holds a VM in a status (reboot_in_progress, saving_state) or freezes its clock
so that a lock (disks being copied, a volume being created) lasts until the test lets it go.
"""
from __future__ import annotations

from typing import Any

import requests

from frontends.ec2 import ids
from tests.clients.ec2_helpers import expect
from tests.engine_holds import engine_frozen, hold as hold_vm

WAIT = {"Delay": 1, "MaxAttempts": 60}


def launch(ec2: Any) -> str:
    image = ec2.describe_images(Filters=[{"Name": "name", "Values": ["debian-*"]}])["Images"][0]["ImageId"]
    instance_id = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1,
                                    InstanceType="o1.tiny")["Instances"][0]["InstanceId"]
    ec2.get_waiter("instance_running").wait(InstanceIds=[instance_id], WaiterConfig=WAIT)
    return instance_id


def hold(gateway: Any, instance_id: str, status: str) -> None:
    hold_vm(gateway, ids.decode("i", instance_id), status)


def state_of(ec2: Any, instance_id: str) -> str:
    return ec2.describe_instances(InstanceIds=[instance_id])["Reservations"][0]["Instances"][0]["State"]["Name"]


def test_reboot_while_the_engine_reboots_succeeds_without_asking_again(ec2: Any, gateway: Any) -> None:
    """The engine refuses a reboot while it reboots ("VM is not up"); EC2 accepts it: it is under way."""
    instance_id = launch(ec2)
    try:
        hold(gateway, instance_id, "reboot_in_progress")
        ec2.reboot_instances(InstanceIds=[instance_id])
        assert state_of(ec2, instance_id) == "running"
        ec2.start_instances(InstanceIds=[instance_id])  # running already: nothing to do, as on EC2
    finally:
        hold(gateway, instance_id, "up")
        ec2.terminate_instances(InstanceIds=[instance_id])


def test_stop_while_the_memory_is_saved_is_refused_with_aws_words(ec2: Any, gateway: Any) -> None:
    """saving_state: the engine refuses a stop; the gateway refuses it first, in AWS's words."""
    instance_id = launch(ec2)
    try:
        hold(gateway, instance_id, "saving_state")
        error = expect("IncorrectInstanceState", ec2.stop_instances, InstanceIds=[instance_id])
        assert error.response["Error"]["Message"] == \
            f"The instance '{instance_id}' is not in a state from which it can be stopped."
        expect("IncorrectInstanceState", ec2.reboot_instances, InstanceIds=[instance_id])
    finally:
        hold(gateway, instance_id, "up")
        ec2.terminate_instances(InstanceIds=[instance_id])


def test_start_while_the_disks_are_copied_runs_the_instance_once_they_are(ec2: Any, gateway: Any) -> None:
    """A VM made stopped (CIMI initialState STOPPED) is image_locked while its disks are copied; the engine
    refuses to run it then. StartInstances succeeds, and the instance runs as soon as the copy is done."""
    api = f"{gateway.url}/cimi"
    entry = requests.get(f"{api}/cloudEntryPoint", auth=gateway.admin, headers={"Accept": "application/json"},
                         timeout=30).json()
    images = requests.get(entry["machineImages"]["href"], auth=gateway.admin,
                          headers={"Accept": "application/json"}, timeout=30).json()["machineImages"]
    image = next(i["id"] for i in images if i["name"] == "debian-12")
    with engine_frozen(gateway):
        response = requests.post(f"{api}/machines", auth=gateway.admin, timeout=30, json={
            "resourceURI": "http://schemas.dmtf.org/cimi/1/MachineCreate", "name": "copied-then-started",
            "machineTemplate": {"machineImage": {"href": image}, "initialState": "STOPPED"}},
            headers={"Accept": "application/json"})
        assert response.status_code == 201, response.text
        instance_id = ids.instance_id(response.json()["id"].rsplit("/", 1)[1])
        assert state_of(ec2, instance_id) == "pending"
        answer = ec2.start_instances(InstanceIds=[instance_id])["StartingInstances"][0]
        assert answer["CurrentState"]["Name"] == "pending"
    try:
        ec2.get_waiter("instance_running").wait(InstanceIds=[instance_id], WaiterConfig=WAIT)
    finally:
        ec2.terminate_instances(InstanceIds=[instance_id])


def test_delete_a_volume_still_being_created(ec2: Any, gateway: Any) -> None:
    """The engine refuses to remove a disk it is creating ("Related operation is currently in progress");
    DeleteVolume succeeds and the volume goes once created."""
    zone = ec2.describe_availability_zones()["AvailabilityZones"][0]["ZoneName"]
    with engine_frozen(gateway):
        volume_id = ec2.create_volume(AvailabilityZone=zone, Size=1)["VolumeId"]
        assert ec2.describe_volumes(VolumeIds=[volume_id])["Volumes"][0]["State"] == "creating"
        ec2.delete_volume(VolumeId=volume_id)
        assert ec2.describe_volumes(VolumeIds=[volume_id])["Volumes"][0]["State"] == "deleting"
    ec2.get_waiter("volume_deleted").wait(VolumeIds=[volume_id], WaiterConfig=WAIT)
