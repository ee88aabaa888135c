"""boto3 over real HTTP: VPCs, subnets and security groups on the embedded default's OVN network provider
(the simulator's ovirt-provider-ovn beside its engine), and what a provider without one answers.

Each scenario checks the objects where they live too: the OVN provider's routers, networks, subnets and
rules (its Neutron API, with a token from its Identity API) and the engine's imported logical networks.
"""
from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests
from botocore.config import Config

from drivers.ovirt.simulator.server import Simulator, serve_in_thread
from gateway.config import load
from gateway.store import Store
from tests.clients.ec2_helpers import addressed_instances, ec2_client, expect
from tests.integration.gateway_process import start


@pytest.fixture(scope="module")
def ec2(net_gateway: Any) -> Any:
    return ec2_client(net_gateway)


def neutron(gateway: Any, collection: str) -> list[dict[str, Any]]:
    """A collection of the simulated OVN provider, asked as any Neutron client asks it."""
    base = f"{gateway.simulator_url}/ovirt-provider-ovn"
    token = requests.post(f"{base}/keystone/v2.0/tokens", timeout=10, json={
        "auth": {"passwordCredentials": {"username": "admin@internal", "password": "admin"}}}).json()
    answer = requests.get(f"{base}/neutron/v2.0/{collection}", timeout=10,
                          headers={"X-Auth-Token": token["access"]["token"]["id"]})
    answer.raise_for_status()
    return answer.json()[collection.replace("-", "_")]


def engine_networks(gateway: Any) -> list[dict[str, str]]:
    answer = requests.get(f"{gateway.engine_url}/networks", auth=("admin@internal", "admin"), timeout=10,
                          headers={"Accept": "application/json"})
    answer.raise_for_status()
    from lxml import etree
    root = etree.fromstring(answer.content)
    return [{"id": n.get("id"), "name": n.findtext("name"),
             "external": n.find("external_provider").get("id") if n.find("external_provider") is not None else ""}
            for n in root.iterfind("network")]


def test_a_vpc_with_two_subnets_is_a_router_with_two_imported_networks(net_gateway: Any, ec2: Any) -> None:
    vpc = ec2.create_vpc(CidrBlock="10.20.0.0/16",
                         TagSpecifications=[{"ResourceType": "vpc", "Tags": [{"Key": "Name", "Value": "lab"}]}])["Vpc"]
    vpc_id = vpc["VpcId"]
    assert vpc["CidrBlock"] == "10.20.0.0/16" and vpc_id.startswith("vpc-")
    listed = ec2.describe_vpcs(VpcIds=[vpc_id])["Vpcs"][0]
    assert listed["CidrBlock"] == "10.20.0.0/16" and {"Key": "Name", "Value": "lab"} in listed["Tags"]
    zone = ec2.describe_availability_zones()["AvailabilityZones"][0]["ZoneName"]
    first = ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.20.1.0/24", AvailabilityZone=zone)["Subnet"]
    second = ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.20.2.0/28", AvailabilityZone=zone)["Subnet"]
    subnets = {s["SubnetId"]: s for s in ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["Subnets"]}
    assert set(subnets) == {first["SubnetId"], second["SubnetId"]}
    assert subnets[first["SubnetId"]]["CidrBlock"] == "10.20.1.0/24"
    assert subnets[first["SubnetId"]]["AvailableIpAddressCount"] == 251  # a /24 less EC2's five
    assert subnets[second["SubnetId"]]["AvailableIpAddressCount"] == 11 and subnets[first["SubnetId"]]["AvailabilityZone"] == zone
    # where they live: one router, two provider networks each with its subnet on it, both imported
    router_id = str(__import__("uuid").UUID(hex=vpc_id[4:]))
    assert any(r["id"] == router_id for r in neutron(net_gateway, "routers"))
    cidrs = {s["cidr"] for s in neutron(net_gateway, "subnets")}
    assert {"10.20.1.0/24", "10.20.2.0/28"} <= cidrs
    interfaces = [p for p in neutron(net_gateway, "ports") if p["device_id"] == router_id]
    assert sorted(ip["ip_address"] for p in interfaces for ip in p["fixed_ips"]) == ["10.20.1.1", "10.20.2.1"]
    imported = [n for n in engine_networks(net_gateway) if n["external"]]
    assert len(imported) == 2
    # an imported network is the subnet, not a VPC of its own
    vpc_ids = {v["VpcId"] for v in ec2.describe_vpcs()["Vpcs"]}
    assert not any(f"vpc-{n['id'].replace('-', '')}" in vpc_ids for n in imported)


def test_subnet_blocks_follow_ec2s_rules(ec2: Any) -> None:
    vpc_id = ec2.create_vpc(CidrBlock="172.16.0.0/20")["Vpc"]["VpcId"]
    expect("InvalidVpc.Range", ec2.create_vpc, CidrBlock="10.0.0.0/8")
    expect("InvalidSubnet.Range", ec2.create_subnet, VpcId=vpc_id, CidrBlock="172.17.0.0/24")
    ec2.create_subnet(VpcId=vpc_id, CidrBlock="172.16.0.0/24")
    expect("InvalidSubnet.Conflict", ec2.create_subnet, VpcId=vpc_id, CidrBlock="172.16.0.128/25")
    expect("InvalidVpcID.NotFound", ec2.create_subnet, VpcId="vpc-" + "0" * 32, CidrBlock="172.16.1.0/24")
    expect("InvalidParameterValue", ec2.create_subnet, VpcId=vpc_id, CidrBlock="172.16.1.0/24",
           AvailabilityZone="atlantis")


def test_security_groups_carry_cidr_and_group_rules(net_gateway: Any, ec2: Any) -> None:
    vpc_id = ec2.create_vpc(CidrBlock="10.30.0.0/16")["Vpc"]["VpcId"]
    default = ec2.describe_security_groups(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["SecurityGroups"]
    assert [g["GroupName"] for g in default] == ["default"]
    assert default[0]["IpPermissions"][0]["UserIdGroupPairs"][0]["GroupId"] == default[0]["GroupId"]
    web = ec2.create_security_group(VpcId=vpc_id, GroupName="web", Description="web tier")["GroupId"]
    app = ec2.create_security_group(VpcId=vpc_id, GroupName="app", Description="app tier")["GroupId"]
    expect("InvalidGroup.Duplicate", ec2.create_security_group, VpcId=vpc_id, GroupName="web", Description="again")
    ec2.authorize_security_group_ingress(GroupId=web, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "10.0.0.0/8", "Description": "ssh"}]},
        {"IpProtocol": "tcp", "FromPort": 80, "ToPort": 443, "UserIdGroupPairs": [{"GroupId": app}]},
        {"IpProtocol": "icmp", "FromPort": -1, "ToPort": -1, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]},
        {"IpProtocol": "udp", "FromPort": 53, "ToPort": 53, "IpRanges": [{"CidrIp": "10.30.0.0/16"}]}])
    expect("InvalidPermission.Duplicate", ec2.authorize_security_group_ingress, GroupId=web, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "10.0.0.0/8"}]}])
    expect("InvalidParameterValue", ec2.authorize_security_group_ingress, GroupId=web, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 90, "ToPort": 80, "IpRanges": [{"CidrIp": "10.0.0.0/8"}]}])
    group = ec2.describe_security_groups(GroupIds=[web])["SecurityGroups"][0]
    ingress = {(p["IpProtocol"], p.get("FromPort"), p.get("ToPort")): p for p in group["IpPermissions"]}
    assert set(ingress) == {("tcp", 22, 22), ("tcp", 80, 443), ("icmp", -1, -1), ("udp", 53, 53)}
    assert ingress[("tcp", 22, 22)]["IpRanges"] == [{"CidrIp": "10.0.0.0/8", "Description": "ssh"}]
    assert [p["GroupId"] for p in ingress[("tcp", 80, 443)]["UserIdGroupPairs"]] == [app]
    assert group["IpPermissionsEgress"] == [{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}],
                                             "Ipv6Ranges": [], "PrefixListIds": [], "UserIdGroupPairs": []}]
    rules = ec2.describe_security_group_rules(Filters=[{"Name": "group-id", "Values": [web]}])["SecurityGroupRules"]
    assert len(rules) == 5 and sum(r["IsEgress"] for r in rules) == 1
    # the rules are the provider's: Neutron holds them with the group
    web_uuid = str(__import__("uuid").UUID(hex=web[3:]))
    held = [r for r in neutron(net_gateway, "security-group-rules") if r["security_group_id"] == web_uuid]
    assert sorted((r["direction"], r["protocol"], r["port_range_min"]) for r in held) == sorted([
        ("egress", None, None), ("ingress", "tcp", 22), ("ingress", "tcp", 80), ("ingress", "icmp", None),
        ("ingress", "udp", 53)])
    # revoking: by permission, by rule id, and one that is not there
    ec2.revoke_security_group_ingress(GroupId=web, IpPermissions=[
        {"IpProtocol": "udp", "FromPort": 53, "ToPort": 53, "IpRanges": [{"CidrIp": "10.30.0.0/16"}]}])
    icmp = next(r["SecurityGroupRuleId"] for r in rules if r["IpProtocol"] == "icmp")
    ec2.revoke_security_group_ingress(GroupId=web, SecurityGroupRuleIds=[icmp])
    expect("InvalidPermission.NotFound", ec2.revoke_security_group_ingress, GroupId=web, IpPermissions=[
        {"IpProtocol": "udp", "FromPort": 53, "ToPort": 53, "IpRanges": [{"CidrIp": "10.30.0.0/16"}]}])
    left = ec2.describe_security_groups(GroupIds=[web])["SecurityGroups"][0]["IpPermissions"]
    assert {(p["IpProtocol"], p.get("FromPort")) for p in left} == {("tcp", 22), ("tcp", 80)}
    ec2.revoke_security_group_egress(GroupId=web, IpPermissions=[{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
    assert ec2.describe_security_groups(GroupIds=[web])["SecurityGroups"][0]["IpPermissionsEgress"] == []


def test_deletes_in_the_wrong_order_are_dependency_violations(net_gateway: Any, ec2: Any) -> None:
    vpc_id = ec2.create_vpc(CidrBlock="10.40.0.0/16")["Vpc"]["VpcId"]
    subnet_id = ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.40.0.0/24")["Subnet"]["SubnetId"]
    web = ec2.create_security_group(VpcId=vpc_id, GroupName="web", Description="web")["GroupId"]
    app = ec2.create_security_group(VpcId=vpc_id, GroupName="app", Description="app")["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=web, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 8080, "ToPort": 8080, "UserIdGroupPairs": [{"GroupId": app}]}])
    default = ec2.describe_security_groups(Filters=[{"Name": "vpc-id", "Values": [vpc_id]},
                                                    {"Name": "group-name", "Values": ["default"]}])["SecurityGroups"][0]
    expect("DependencyViolation", ec2.delete_vpc, VpcId=vpc_id)
    expect("DependencyViolation", ec2.delete_security_group, GroupId=app)  # web's rule names it
    expect("CannotDelete", ec2.delete_security_group, GroupId=default["GroupId"])
    ec2.delete_subnet(SubnetId=subnet_id)
    expect("DependencyViolation", ec2.delete_vpc, VpcId=vpc_id)  # its groups
    ec2.delete_security_group(GroupId=web)
    ec2.delete_security_group(GroupId=app)
    expect("InvalidGroup.NotFound", ec2.delete_security_group, GroupId=app)
    ec2.delete_vpc(VpcId=vpc_id)
    expect("InvalidVpcID.NotFound", ec2.describe_vpcs, VpcIds=[vpc_id])
    expect("InvalidSubnetID.NotFound", ec2.delete_subnet, SubnetId=subnet_id)
    router_id = str(__import__("uuid").UUID(hex=vpc_id[4:]))
    assert not any(r["id"] == router_id for r in neutron(net_gateway, "routers"))
    assert not any(s["cidr"] == "10.40.0.0/24" for s in neutron(net_gateway, "subnets"))


def test_the_logical_networks_stay_read_only_views(ec2: Any) -> None:
    default = next(v for v in ec2.describe_vpcs()["Vpcs"] if v["IsDefault"])
    error = expect("UnsupportedOperation", ec2.delete_vpc, VpcId=default["VpcId"])
    assert "administrator" in error.response["Error"]["Message"]
    group = ec2.describe_security_groups(Filters=[{"Name": "vpc-id", "Values": [default["VpcId"]]}])["SecurityGroups"][0]
    expect("UnsupportedOperation", ec2.authorize_security_group_ingress, GroupId=group["GroupId"], IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "10.0.0.0/8"}]}])


@pytest.fixture(scope="module")
def plain_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A gateway whose provider entry names no network provider (a plain engine), on its own simulator."""
    tmp_path: Path = tmp_path_factory.mktemp("no-ovn")
    engine = serve_in_thread(Simulator())
    config = tmp_path / "cloudgw.toml"
    config.write_text(f'[server]\ndata_dir = "{tmp_path / "data"}"\n\n'
                      f'[[providers]]\nname = "lab"\nurl = "{engine.api_url}"\ndefault_datacenter = "Default"\n'
                      'region_aliases = { "us-east-1" = "Default" }\n')
    Store.from_config(load(config)).create_credential("admin@internal", "admin", access_key="AKPLAIN",
                                                      secret_key="plain-secret", provider="lab")
    process, url = start(config)
    try:
        yield url
    finally:
        process.kill()
        process.wait()
        engine.shutdown()


def test_without_a_network_provider_writes_name_it_and_views_stay(plain_engine: str) -> None:
    ec2 = boto3.client("ec2", endpoint_url=f"{plain_engine}/", region_name="us-east-1", aws_access_key_id="AKPLAIN",
                       aws_secret_access_key="plain-secret", config=Config(retries={"max_attempts": 0}))
    for call, kwargs in ((ec2.create_vpc, {"CidrBlock": "10.0.0.0/16"}),
                         (ec2.create_security_group, {"GroupName": "web", "Description": "web",
                                                      "VpcId": "vpc-" + "1" * 32})):
        message = expect("UnsupportedOperation", call, **kwargs).response["Error"]["Message"]
        assert "'lab'" in message and "network provider" in message and "ovn_url" in message
    vpcs = ec2.describe_vpcs()["Vpcs"]
    assert [v["IsDefault"] for v in vpcs] == [True]
    ipaddress.IPv4Network(vpcs[0]["CidrBlock"])
    groups = ec2.describe_security_groups()["SecurityGroups"]
    assert [g["GroupName"] for g in groups] == ["default"] and groups[0]["IpPermissions"][0]["IpProtocol"] == "-1"


CENTOS = "ami-7e000000000040008000000000000011"


def test_an_instance_launched_into_a_subnet_has_its_address_and_groups(net_gateway: Any, ec2: Any) -> None:
    vpc_id = ec2.create_vpc(CidrBlock="10.90.0.0/16")["Vpc"]["VpcId"]
    subnet_id = ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.90.5.0/24")["Subnet"]["SubnetId"]
    web = ec2.create_security_group(VpcId=vpc_id, GroupName="web", Description="web")["GroupId"]
    other_vpc = ec2.create_vpc(CidrBlock="10.91.0.0/16")["Vpc"]["VpcId"]
    stranger = ec2.create_security_group(VpcId=other_vpc, GroupName="elsewhere", Description="x")["GroupId"]
    expect("InvalidParameter", ec2.run_instances, ImageId=CENTOS, MinCount=1, MaxCount=1, InstanceType="o1.small",
           SubnetId=subnet_id, SecurityGroupIds=[stranger])
    launched = ec2.run_instances(ImageId=CENTOS, MinCount=1, MaxCount=1, InstanceType="o1.small",
                                 SubnetId=subnet_id, SecurityGroupIds=[web])["Instances"][0]
    instance_id = launched["InstanceId"]
    ec2.get_waiter("instance_running").wait(InstanceIds=[instance_id], WaiterConfig={"Delay": 1, "MaxAttempts": 120})
    instance = ec2.describe_instances(InstanceIds=[instance_id])["Reservations"][0]["Instances"][0]
    assert (instance["VpcId"], instance["SubnetId"]) == (vpc_id, subnet_id)
    assert instance["SecurityGroups"] == [{"GroupId": web, "GroupName": "web"}]
    [interface] = instance["NetworkInterfaces"]
    assert interface["SubnetId"] == subnet_id and interface["Groups"] == [{"GroupId": web, "GroupName": "web"}]
    ports = [p for p in neutron(net_gateway, "ports") if p["device_owner"] == "oVirt"]
    web_uuid = str(__import__("uuid").UUID(hex=web[3:]))
    assert [p["security_groups"] for p in ports] == [[web_uuid]]
    address = ports[0]["fixed_ips"][0]["ip_address"]
    assert ipaddress.IPv4Address(address) in ipaddress.IPv4Network("10.90.5.0/24")
    assert addressed_instances(ec2, [instance_id])[0]["PrivateIpAddress"] == address  # the guest has the port's
    [eni] = ec2.describe_network_interfaces(Filters=[{"Name": "subnet-id", "Values": [subnet_id]}])["NetworkInterfaces"]
    assert eni["NetworkInterfaceId"] == interface["NetworkInterfaceId"] and eni["VpcId"] == vpc_id
    assert eni["Attachment"]["InstanceId"] == instance_id and eni["PrivateIpAddress"] == address
    assert eni["Groups"] == [{"GroupId": web, "GroupName": "web"}] and eni["AvailabilityZone"]
    by_group = ec2.describe_network_interfaces(Filters=[{"Name": "group-id", "Values": [web]}])["NetworkInterfaces"]
    assert [n["NetworkInterfaceId"] for n in by_group] == [eni["NetworkInterfaceId"]]
    expect("InvalidNetworkInterfaceID.NotFound", ec2.describe_network_interfaces,
           NetworkInterfaceIds=["eni-" + "0" * 32])
    found = ec2.describe_instances(Filters=[{"Name": "subnet-id", "Values": [subnet_id]}])["Reservations"]
    assert [i["InstanceId"] for r in found for i in r["Instances"]] == [instance_id]
    expect("DependencyViolation", ec2.delete_subnet, SubnetId=subnet_id)
    expect("DependencyViolation", ec2.delete_security_group, GroupId=web)  # its port has it
    ec2.terminate_instances(InstanceIds=[instance_id])
    ec2.get_waiter("instance_terminated").wait(InstanceIds=[instance_id], WaiterConfig={"Delay": 1, "MaxAttempts": 120})
    ec2.delete_security_group(GroupId=web)
    ec2.delete_subnet(SubnetId=subnet_id)
    ec2.delete_security_group(GroupId=stranger)
    ec2.delete_vpc(VpcId=vpc_id)
    ec2.delete_vpc(VpcId=other_vpc)


def test_bad_input_gets_ec2_errors_not_500s(ec2: Any) -> None:
    vpc_id = ec2.create_vpc(CidrBlock="10.95.0.0/16")["Vpc"]["VpcId"]
    group = ec2.create_security_group(VpcId=vpc_id, GroupName="g", Description="g")["GroupId"]
    for code, call, kwargs in (
            ("InvalidParameterValue", ec2.create_vpc, {"CidrBlock": "10.95.0.1/33"}),
            ("InvalidVpcID.Malformed", ec2.create_subnet, {"VpcId": "vpc-xyz", "CidrBlock": "10.95.0.0/24"}),
            ("InvalidParameterValue", ec2.create_security_group, {"VpcId": vpc_id, "GroupName": "default",
                                                                  "Description": "x"}),
            ("InvalidParameterValue", ec2.authorize_security_group_ingress, {"GroupId": group, "IpPermissions": [
                {"IpProtocol": "gre", "IpRanges": [{"CidrIp": "10.0.0.0/8"}]}]}),
            ("InvalidParameterValue", ec2.authorize_security_group_ingress, {"GroupId": group, "IpPermissions": [
                {"IpProtocol": "tcp", "FromPort": 1, "ToPort": 2, "IpRanges": [{"CidrIp": "not-a-cidr"}]}]}),
            ("InvalidGroupId.Malformed", ec2.authorize_security_group_ingress, {"GroupId": group, "IpPermissions": [
                {"IpProtocol": "tcp", "FromPort": 1, "ToPort": 2, "UserIdGroupPairs": [{"GroupId": "sg-zz"}]}]}),
            ("InvalidGroup.NotFound", ec2.authorize_security_group_ingress, {"GroupId": "sg-" + "0" * 32,
                                                                             "IpPermissions": [{"IpProtocol": "-1"}]}),
            ("MissingParameter", ec2.authorize_security_group_ingress, {"GroupId": group,
                                                                        "IpPermissions": [{"IpProtocol": "-1"}]}),
            ("InvalidSecurityGroupRuleId.NotFound", ec2.revoke_security_group_ingress,
             {"GroupId": group, "SecurityGroupRuleIds": ["sgr-" + "0" * 32]}),
            ("InvalidSecurityGroupRuleId.NotFound", ec2.describe_security_group_rules,
             {"SecurityGroupRuleIds": ["sgr-" + "0" * 32]})):
        expect(code, call, **kwargs)
    expect("DryRunOperation", ec2.create_vpc, CidrBlock="10.96.0.0/16", DryRun=True)
    assert not ec2.describe_vpcs(Filters=[{"Name": "cidr", "Values": ["10.96.0.0/16"]}])["Vpcs"]
    ec2.delete_security_group(GroupId=group)
    ec2.delete_vpc(VpcId=vpc_id)
