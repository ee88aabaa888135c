"""The exact call sequences Terraform's aws_instance and Ansible's amazon.aws.ec2_instance make, replayed
against the gateway with SigV4-signed requests (botocore's signer, the wire parameter names of the
captured logs in shared/reference/client-wire-logs/, real ids substituted), every answer parsed with
botocore's own parser. Each call must succeed, and what each tool reads from one answer to make the
next call must be consistent: the account STS names owns the instance, the instance's VpcId is found
by DescribeVpcs, its root VolumeId by DescribeVolumes, Ansible's default subnet is the instance's.

Where a tool polls (Terraform waiting for running/terminated, Ansible's waiters), the replay polls the
same call until the state the tool waits for, as the tool would against a real engine.
"""
from __future__ import annotations

import base64
import time
import uuid
from typing import Any
from urllib.parse import urlencode

import botocore.session
import pytest
import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.parsers import create_parser

from tests.clients.ec2_helpers import REGION

VERSIONS = {"ec2": "2016-11-15", "sts": "2011-06-15"}
ACTIVE_STATES = ["pending", "running", "stopping", "stopped"]  # Ansible's instance-state-name filter
POLL_SECONDS, POLL_LIMIT = 0.3, 400


class Wire:
    """One tool's session: form-encoded POSTs to the endpoint root, signed for `ec2` or `sts`."""

    def __init__(self, gateway: Any) -> None:
        self.url = gateway.url + "/"
        self.credentials = Credentials(gateway.access_key, gateway.secret_key)
        session = botocore.session.get_session()
        self.models = {name: session.get_service_model(name) for name in VERSIONS}
        self.calls: list[str] = []

    def __call__(self, action: str, params: dict[str, str] | None = None, *, service: str = "ec2") -> dict[str, Any]:
        body = urlencode({"Action": action, "Version": VERSIONS[service], **(params or {})})
        request = AWSRequest(method="POST", url=self.url, data=body.encode(),
                             headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
        SigV4Auth(self.credentials, service, REGION).add_auth(request)
        prepared = request.prepare()
        response = requests.post(self.url, data=prepared.body, headers=dict(prepared.headers), timeout=30)
        assert response.status_code == 200, f"{action} {params}: {response.status_code} {response.text[:500]}"
        model = self.models[service]
        parsed = create_parser(model.metadata["protocol"]).parse(
            {"body": response.content, "headers": dict(response.headers), "status_code": 200},
            model.operation_model(action).output_shape)
        self.calls.append(action)
        return parsed

    def instance(self, instance_id: str) -> dict[str, Any]:
        """DescribeInstances InstanceId.1, with Terraform's eventual-consistency check on the id."""
        reservations = self("DescribeInstances", {"InstanceId.1": instance_id})["Reservations"]
        found = [i for r in reservations for i in r["Instances"]]
        assert [i["InstanceId"] for i in found] == [instance_id]
        return found[0]

    def poll(self, instance_id: str, state: str) -> dict[str, Any]:
        for _ in range(POLL_LIMIT):
            found = self.instance(instance_id)
            if found["State"]["Name"] == state:
                return found
            time.sleep(POLL_SECONDS)
        raise AssertionError(f"{instance_id} never became {state}")

    def poll_address(self, instance_id: str) -> None:
        """Until the guest agent has reported the instance's address (seconds after it is up, on oVirt)."""
        for _ in range(POLL_LIMIT):
            if self.instance(instance_id).get("PrivateIpAddress"):
                return
            time.sleep(POLL_SECONDS)
        raise AssertionError(f"{instance_id} never reported an address")


@pytest.fixture(scope="module")
def image_id(gateway: Any) -> str:
    wire = Wire(gateway)
    images = wire("DescribeImages", {"Filter.1.Name": "name", "Filter.1.Value.1": "debian-*"})["Images"]
    return images[0]["ImageId"]


def terraform_token() -> str:
    return f"terraform-{time.strftime('%Y%m%d%H%M%S')}{uuid.uuid4().int % 10**12:012d}"


def terraform_read(wire: Wire, instance_id: str, instance_type: str) -> dict[str, Any]:
    """resourceInstanceRead: the reads of one refresh, in the logged order; returns what Terraform keeps."""
    instance = wire.instance(instance_id)
    types = wire("DescribeInstanceTypes", {"InstanceType.1": instance["InstanceType"]})["InstanceTypes"]
    assert [t["InstanceType"] for t in types] == [instance_type]  # the provider fails without it
    assert types[0].get("BurstablePerformanceSupported") is not True  # or it asks for credit specifications
    launch_template = wire("DescribeTags", {"Filter.1.Name": "key", "Filter.1.Value.1": "aws:ec2launchtemplate:id",
                                            "Filter.2.Name": "resource-id", "Filter.2.Value.1": instance_id})
    assert launch_template["Tags"] == []
    vpcs = wire("DescribeVpcs", {"VpcId.1": instance["VpcId"]})["Vpcs"]
    assert [v["VpcId"] for v in vpcs] == [instance["VpcId"]]
    shutdown = wire("DescribeInstanceAttribute", {"Attribute": "instanceInitiatedShutdownBehavior",
                                                  "InstanceId": instance_id})
    root = [m for m in instance["BlockDeviceMappings"] if m["DeviceName"] == instance["RootDeviceName"]]
    assert len(root) == 1, "Terraform finds the root device by RootDeviceName"
    root_id = root[0]["Ebs"]["VolumeId"]
    volumes = wire("DescribeVolumes", {"VolumeId.1": root_id})["Volumes"]
    assert [v["VolumeId"] for v in volumes] == [root_id]
    assert volumes[0]["Attachments"][0]["InstanceId"] == instance_id
    assert volumes[0]["Attachments"][0]["Device"] == instance["RootDeviceName"]
    stop = wire("DescribeInstanceAttribute", {"Attribute": "disableApiStop", "InstanceId": instance_id})
    termination = wire("DescribeInstanceAttribute", {"Attribute": "disableApiTermination", "InstanceId": instance_id})
    user_data = wire("DescribeInstanceAttribute", {"Attribute": "userData", "InstanceId": instance_id})
    return {"instance": instance, "vpc": vpcs[0], "root": volumes[0],
            "shutdown": shutdown["InstanceInitiatedShutdownBehavior"]["Value"],
            "disable_api_stop": stop["DisableApiStop"]["Value"],
            "disable_api_termination": termination["DisableApiTermination"]["Value"],
            "user_data": user_data["UserData"].get("Value")}


def terraform_destroy(wire: Wire, instance_id: str, instance_type: str) -> None:
    wire("GetCallerIdentity", service="sts")
    terraform_read(wire, instance_id, instance_type)
    wire("GetCallerIdentity", service="sts")
    wire("GetCallerIdentity", service="sts")
    wire("ModifyInstanceAttribute", {"DisableApiTermination.Value": "false", "InstanceId": instance_id})
    terminating = wire("TerminateInstances", {"InstanceId.1": instance_id})["TerminatingInstances"]
    assert [t["InstanceId"] for t in terminating] == [instance_id]
    wire.poll(instance_id, "terminated")  # Terraform takes terminated for gone


def test_terraform_apply_refresh_destroy(gateway: Any, image_id: str) -> None:
    """terraform_calls_with_sts.log: apply, plan (refresh), destroy of `aws_instance {ami, instance_type}`."""
    wire, instance_type = Wire(gateway), "o1.small"
    identity = wire("GetCallerIdentity", service="sts")
    assert wire("GetCallerIdentity", service="sts")["Account"] == identity["Account"]
    run = wire("RunInstances", {"ClientToken": terraform_token(), "DisableApiTermination": "false",
                                "EbsOptimized": "false", "HibernationOptions.Configured": "false",
                                "ImageId": image_id, "InstanceType": instance_type, "MaxCount": "1", "MinCount": "1"})
    assert run["OwnerId"] == identity["Account"]
    assert identity["Arn"] == f"arn:aws:iam::{run['OwnerId']}:user/admin@internal"
    instance_id = run["Instances"][0]["InstanceId"]
    try:
        wire.instance(instance_id)
        wire.poll(instance_id, "running")
        wire.poll_address(instance_id)  # the default VPC's CIDR is learned from the addresses guests report
        applied = terraform_read(wire, instance_id, instance_type)
        assert applied["vpc"]["IsDefault"] and applied["root"]["State"] == "in-use"
        assert applied["root"]["AvailabilityZone"] == applied["instance"]["Placement"]["AvailabilityZone"]
        assert (applied["shutdown"], applied["disable_api_stop"], applied["disable_api_termination"]) == (
            "stop", False, False)

        assert wire("GetCallerIdentity", service="sts")["Account"] == identity["Account"]  # plan: refresh
        refreshed = terraform_read(wire, instance_id, instance_type)
        assert refreshed["vpc"] == applied["vpc"] and refreshed["root"]["VolumeId"] == applied["root"]["VolumeId"]
        assert refreshed["instance"]["SubnetId"] == applied["instance"]["SubnetId"]
    finally:
        terraform_destroy(wire, instance_id, instance_type)
    assert wire.calls.count("GetCallerIdentity") == 6


def test_terraform_with_tags_and_user_data(gateway: Any, image_id: str) -> None:
    """terraform_runinstances_keys.log: the same life with `tags = {Name}`, `user_data` and monitoring."""
    wire, instance_type = Wire(gateway), "o1.small"
    user_data = "#cloud-config\nruncmd: [echo terraform]\n"
    run = wire("RunInstances", {
        "ClientToken": terraform_token(), "DisableApiTermination": "false", "EbsOptimized": "false",
        "HibernationOptions.Configured": "false", "ImageId": image_id, "InstanceType": instance_type,
        "MaxCount": "1", "MinCount": "1", "Monitoring.Enabled": "false",
        "TagSpecification.1.ResourceType": "instance", "TagSpecification.1.Tag.1.Key": "Name",
        "TagSpecification.1.Tag.1.Value": "tf-web", "UserData": base64.b64encode(user_data.encode()).decode()})
    instance_id = run["Instances"][0]["InstanceId"]
    try:
        wire.instance(instance_id)
        wire.poll(instance_id, "running")
        read = terraform_read(wire, instance_id, instance_type)
        assert {"Key": "Name", "Value": "tf-web"} in read["instance"]["Tags"]
        assert base64.b64decode(read["user_data"]).decode() == user_data
        terraform_read(wire, instance_id, instance_type)
    finally:
        terraform_destroy(wire, instance_id, instance_type)


def test_terraform_root_and_ebs_block_devices(gateway: Any, image_id: str) -> None:
    """`aws_instance` with `root_block_device {volume_size = 12}` and `ebs_block_device {device_name =
    "/dev/sdf", volume_size = 1}`: the provider asks the AMI's RootDeviceName (fetchRootDeviceName, which
    falls back to the first mapping when the root is not among them), sends DeleteOnTermination always and
    sizes when set, then reads every mapping's volume with one DescribeVolumes and sorts root from ebs by
    RootDeviceName."""
    wire, instance_type = Wire(gateway), "o1.small"
    (image,) = wire("DescribeImages", {"ImageId.1": image_id})["Images"]
    root_name = image["RootDeviceName"]
    assert root_name in [m["DeviceName"] for m in image["BlockDeviceMappings"]]
    run = wire("RunInstances", {
        "ClientToken": terraform_token(), "DisableApiTermination": "false", "EbsOptimized": "false",
        "HibernationOptions.Configured": "false", "ImageId": image_id, "InstanceType": instance_type,
        "MaxCount": "1", "MinCount": "1",
        "BlockDeviceMapping.1.DeviceName": "/dev/sdf", "BlockDeviceMapping.1.Ebs.DeleteOnTermination": "true",
        "BlockDeviceMapping.1.Ebs.VolumeSize": "1",
        "BlockDeviceMapping.2.DeviceName": root_name, "BlockDeviceMapping.2.Ebs.DeleteOnTermination": "true",
        "BlockDeviceMapping.2.Ebs.VolumeSize": "12"})
    instance_id = run["Instances"][0]["InstanceId"]
    assert run["Instances"][0]["RootDeviceName"] == root_name
    try:
        wire.poll(instance_id, "running")
        instance = terraform_read(wire, instance_id, instance_type)["instance"]
        by_volume = {m["Ebs"]["VolumeId"]: m for m in instance["BlockDeviceMappings"]}
        params = {f"VolumeId.{n}": v for n, v in enumerate(by_volume, 1)}
        read = {}
        for volume in wire("DescribeVolumes", params)["Volumes"]:
            mapping = by_volume[volume["VolumeId"]]
            kind = "root" if mapping["DeviceName"] == instance["RootDeviceName"] else mapping["DeviceName"]
            read[kind] = (volume["Size"], volume["VolumeType"], mapping["Ebs"]["DeleteOnTermination"])
        assert read == {"root": (12, "standard", True), "/dev/sdf": (1, "standard", True)}
    finally:
        terraform_destroy(wire, instance_id, instance_type)


def ansible_default_subnet(wire: Wire) -> tuple[dict[str, Any], dict[str, Any]]:
    """get_default_vpc() then get_default_subnet(): the first default-for-az subnet by zone."""
    vpcs = wire("DescribeVpcs", {"Filter.1.Name": "isDefault", "Filter.1.Value.1": "true"})["Vpcs"]
    assert len(vpcs) >= 1, "No default subnet could be found"
    subnets = wire("DescribeSubnets", {
        "Filter.1.Name": "vpc-id", "Filter.1.Value.1": vpcs[0]["VpcId"], "Filter.2.Name": "state",
        "Filter.2.Value.1": "available", "Filter.3.Name": "default-for-az", "Filter.3.Value.1": "true"})["Subnets"]
    assert subnets and {s["VpcId"] for s in subnets} == {vpcs[0]["VpcId"]}
    return vpcs[0], sorted(subnets, key=lambda s: s["AvailabilityZone"])[0]


def ansible_find(wire: Wire, subnet_id: str, name: str, image_id: str) -> list[dict[str, Any]]:
    """find_instances() for `name` + `image_id` with no subnet given: the default subnet is a filter."""
    params = {"Filter.1.Name": "subnet-id", "Filter.1.Value.1": subnet_id, "Filter.2.Name": "tag:Name",
              "Filter.2.Value.1": name, "Filter.3.Name": "image-id", "Filter.3.Value.1": image_id,
              "Filter.4.Name": "instance-state-name"}
    params.update({f"Filter.4.Value.{n}": state for n, state in enumerate(ACTIVE_STATES, 1)})
    return [i for r in wire("DescribeInstances", params)["Reservations"] for i in r["Instances"]]


def ansible_find_by_id(wire: Wire, instance_id: str) -> list[dict[str, Any]]:
    params = {"Filter.1.Name": "instance-id", "Filter.1.Value.1": instance_id, "Filter.2.Name": "instance-state-name"}
    params.update({f"Filter.2.Value.{n}": state for n, state in enumerate(ACTIVE_STATES, 1)})
    return [i for r in wire("DescribeInstances", params)["Reservations"] for i in r["Instances"]]


def test_ansible_create_wait_stop_terminate(gateway: Any, image_id: str) -> None:
    """ansible_ec2_instance_calls.log: `ec2_instance` with name, image_id, instance_type and no subnet,
    state running, then stopped, then absent (by instance id)."""
    wire, name = Wire(gateway), f"ansible-{uuid.uuid4().hex[:8]}"
    vpc, subnet = ansible_default_subnet(wire)
    assert ansible_find(wire, subnet["SubnetId"], name, image_id) == []
    again_vpc, again_subnet = ansible_default_subnet(wire)
    assert (again_vpc, again_subnet) == (vpc, subnet)
    run = wire("RunInstances", {
        "ClientToken": uuid.uuid4().hex, "ImageId": image_id, "InstanceType": "o1.small", "MaxCount": "1",
        "MinCount": "1", "NetworkInterface.1.DeleteOnTermination": "true", "NetworkInterface.1.DeviceIndex": "0",
        "NetworkInterface.1.SubnetId": subnet["SubnetId"],
        "TagSpecification.1.ResourceType": "instance", "TagSpecification.1.Tag.1.Key": "Name",
        "TagSpecification.1.Tag.1.Value": name, "TagSpecification.2.ResourceType": "volume",
        "TagSpecification.2.Tag.1.Key": "Name", "TagSpecification.2.Tag.1.Value": name})
    instance_id = run["Instances"][0]["InstanceId"]
    assert run["Instances"][0]["Placement"]["AvailabilityZone"] == subnet["AvailabilityZone"]
    try:
        wire.instance(instance_id)  # waiter instance_exists
        statuses = wire("DescribeInstanceStatus", {"IncludeAllInstances": "true", "InstanceId.1": instance_id})
        assert [s["InstanceId"] for s in statuses["InstanceStatuses"]] == [instance_id]
        instance_type = wire("DescribeInstanceAttribute", {"Attribute": "instanceType", "InstanceId": instance_id})
        assert instance_type["InstanceType"]["Value"] == "o1.small"
        running = wire.poll(instance_id, "running")  # waiter instance_running
        assert running["SubnetId"] == subnet["SubnetId"] and running["VpcId"] == vpc["VpcId"]
        assert {"Key": "Name", "Value": name} in running["Tags"]
        root_id = next(m["Ebs"]["VolumeId"] for m in running["BlockDeviceMappings"]
                       if m["DeviceName"] == running["RootDeviceName"])
        root = wire("DescribeVolumes", {"VolumeId.1": root_id})["Volumes"][0]
        assert root["Tags"] == [{"Key": "Name", "Value": name}]  # the volume TagSpecification, on the disk made
        # a second run of the same task finds it (idempotency), through the default subnet it filters on
        assert [i["InstanceId"] for i in ansible_find(wire, subnet["SubnetId"], name, image_id)] == [instance_id]

        assert [i["InstanceId"] for i in ansible_find_by_id(wire, instance_id)] == [instance_id]  # state: stopped
        wire.instance(instance_id)
        ansible_find_by_id(wire, instance_id)
        stopping = wire("StopInstances", {"InstanceId.1": instance_id})["StoppingInstances"]
        assert stopping[0]["PreviousState"]["Name"] == "running"
        wire.poll(instance_id, "stopped")  # waiter instance_stopped
        assert ansible_find_by_id(wire, instance_id)[0]["State"]["Name"] == "stopped"  # state: absent
        ansible_find_by_id(wire, instance_id)
    finally:
        terminating = wire("TerminateInstances", {"InstanceId.1": instance_id})["TerminatingInstances"]
        assert [t["InstanceId"] for t in terminating] == [instance_id]
        wire.poll(instance_id, "terminated")  # waiter instance_terminated
    assert ansible_find_by_id(wire, instance_id) == []
