"""boto3 against a gateway whose OVN network provider cannot be reached: what does not need the provider keeps
working (a launch into the default VPC is answered, so a client never retries it into a second instance), and
what needs it answers EC2's Unavailable (503) rather than a view without the provider's objects."""
from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config

from drivers.ovirt.simulator.server import Simulator, serve_in_thread
from gateway.config import load
from gateway.store import Store
from tests.clients.ec2_helpers import expect
from tests.conftest import free_port
from tests.integration.gateway_process import start

CENTOS = "ami-7e000000000040008000000000000011"


def _gateway(tmp_path: Path, engine: Any, name: str, ovn: str) -> tuple[Any, Any]:
    """A gateway process on `engine` whose provider entry names the OVN provider by the lines `ovn`."""
    config = tmp_path / f"{name}.toml"
    config.write_text(f'[server]\ndata_dir = "{tmp_path / name}"\n\n'
                      f'[[providers]]\nname = "lab"\nurl = "{engine.api_url}"\ndefault_datacenter = "Default"\n'
                      f'{ovn}region_aliases = {{ "us-east-1" = "Default" }}\n')
    Store.from_config(load(config)).create_credential("admin@internal", "admin", access_key=f"AK{name.upper()}",
                                                      secret_key=f"{name}-secret", provider="lab")
    process, url = start(config)
    return process, boto3.client("ec2", endpoint_url=f"{url}/", region_name="us-east-1",
                                 aws_access_key_id=f"AK{name.upper()}", aws_secret_access_key=f"{name}-secret",
                                 config=Config(retries={"max_attempts": 0}))


@pytest.fixture(scope="module")
def clients(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, Any]]:
    """Two gateways on one simulator: `up` reaches its OVN provider; `down` names one on a port nobody listens on."""
    tmp_path: Path = tmp_path_factory.mktemp("ovn-down")
    engine = serve_in_thread(Simulator())
    base = f"{engine.url}/ovirt-provider-ovn"
    up = _gateway(tmp_path, engine, "up", f'ovn_url = "{base}/neutron/v2.0"\novn_auth_url = "{base}/keystone/v2.0"\n')
    down = _gateway(tmp_path, engine, "down", f'ovn_url = "http://127.0.0.1:{free_port()}/v2.0"\n')
    try:
        yield up[1], down[1]
    finally:
        for process, _ in (up, down):
            process.kill()
            process.wait()
        engine.shutdown()


@pytest.fixture(scope="module")
def ec2(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A gateway, on a simulator of its own, whose OVN provider is on a port nobody listens on."""
    engine = serve_in_thread(Simulator())
    process, client = _gateway(tmp_path_factory.mktemp("ovn-down-only"), engine, "down",
                               f'ovn_url = "http://127.0.0.1:{free_port()}/v2.0"\n')
    try:
        yield client
    finally:
        process.kill()
        process.wait()
        engine.shutdown()


def test_an_instance_on_a_provider_subnet_is_unavailable_not_misplaced(clients: tuple[Any, Any]) -> None:
    up, down = clients
    down.describe_instances()  # the data center as `down` caches it: before the subnet's vNIC profile exists
    vpc_id = up.create_vpc(CidrBlock="10.70.0.0/16")["Vpc"]["VpcId"]
    subnet_id = up.create_subnet(VpcId=vpc_id, CidrBlock="10.70.1.0/24")["Subnet"]["SubnetId"]
    instance_id = up.run_instances(ImageId=CENTOS, MinCount=1, MaxCount=1, InstanceType="o1.small",
                                   SubnetId=subnet_id)["Instances"][0]["InstanceId"]
    up.get_waiter("instance_running").wait(InstanceIds=[instance_id], WaiterConfig={"Delay": 1, "MaxAttempts": 60})
    assert up.describe_instances(InstanceIds=[instance_id])["Reservations"][0]["Instances"][0]["VpcId"] == vpc_id
    # through the gateway that cannot reach the provider: 503, never the logical network's default VPC
    assert expect("Unavailable", down.describe_instances, InstanceIds=[instance_id]).response[
        "ResponseMetadata"]["HTTPStatusCode"] == 503
    up.terminate_instances(InstanceIds=[instance_id])


def test_a_launch_into_the_default_vpc_is_answered_while_the_provider_is_down(ec2: Any) -> None:
    launched = ec2.run_instances(ImageId=CENTOS, MinCount=1, MaxCount=1, InstanceType="o1.small")["Instances"]
    assert len(launched) == 1
    deadline = time.monotonic() + 60
    while True:  # until the engine has made the VM and its NIC (on the engine's own network)
        listed = [i for r in ec2.describe_instances()["Reservations"] for i in r["Instances"]]
        assert [i["InstanceId"] for i in listed] == [launched[0]["InstanceId"]]  # one instance: no retried launch
        if listed[0].get("VpcId") or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert listed[0]["VpcId"].startswith("vpc-")
    # a launch naming the default VPC's subnet and group, as Terraform and Ansible do, needs nothing of the provider
    again = ec2.run_instances(ImageId=CENTOS, MinCount=1, MaxCount=1, InstanceType="o1.small",
                              SubnetId=listed[0]["SubnetId"], SecurityGroupIds=[listed[0]["SecurityGroups"][0]["GroupId"]])
    ec2.terminate_instances(InstanceIds=[again["Instances"][0]["InstanceId"]])
    # these need the provider's objects (interfaces: its ports not attached to any instance)
    for call in (ec2.describe_vpcs, ec2.describe_security_groups, ec2.describe_network_interfaces):
        assert expect("Unavailable", call).response["ResponseMetadata"]["HTTPStatusCode"] == 503
    ec2.terminate_instances(InstanceIds=[launched[0]["InstanceId"]])
