"""Logical networks as VPCs, subnets and default security groups, parsed back with botocore's EC2 parser."""
from __future__ import annotations

import pytest

from frontends.ec2 import networks
from frontends.ec2.errors import Ec2Error
from gateway.model import Instance, InstanceState, Network, NetworkInterface, Realm

from .ec2_roundtrip import parsed

MGMT = Network(id="0e000000-0000-4000-8000-000000000001", name="ovirtmgmt", is_management=True)
STORAGE = Network(id="0e000000-0000-4000-8000-0000000000aa", name="backend")
ZONE_A = Realm(id="c1000000-0000-4000-8000-000000000001", name="Default", region_id="dc", region_name="Default")
ZONE_B = Realm(id="c1000000-0000-4000-8000-000000000002", name="Other", region_id="dc", region_name="Default")


def test_vpcs_round_trip_and_the_management_network_is_default() -> None:
    assert networks.default_network([STORAGE, MGMT]) is MGMT
    assert networks.default_network([STORAGE]) is STORAGE and networks.default_network([]) is None
    items = [networks.vpc_item(n, default=n is MGMT, owner_id="123456789012") for n in (MGMT, STORAGE)]
    vpcs = parsed("DescribeVpcs", {"Vpcs": items})["Vpcs"]
    assert vpcs == items
    assert vpcs[0]["VpcId"] == "vpc-0e000000000040008000000000000001" and vpcs[0]["IsDefault"] is True
    assert vpcs[1]["IsDefault"] is False and vpcs[0]["CidrBlock"] != vpcs[1]["CidrBlock"]
    assert {"Key": "Name", "Value": "ovirtmgmt"} in vpcs[0]["Tags"]


def test_a_subnet_is_a_network_in_one_zone_with_a_stable_id() -> None:
    found = networks.subnets([MGMT, STORAGE], [ZONE_A, ZONE_B])
    assert len(found) == 4 and len({s.id for s in found}) == 4
    items = [networks.subnet_item(s, default=s.network is MGMT, owner_id="1", region="us-east-1") for s in found]
    subnets = parsed("DescribeSubnets", {"Subnets": items})["Subnets"]
    assert subnets == items
    first = subnets[0]
    assert first["SubnetId"] == networks.subnet_id(MGMT.id, ZONE_A.id)  # computed again, never stored
    assert first["SubnetId"].startswith("subnet-") and len(first["SubnetId"]) == len("subnet-") + 32
    assert first["AvailabilityZone"] == "Default" and first["DefaultForAz"] and first["State"] == "available"
    assert first["CidrBlock"].startswith(networks.vpc_cidr(MGMT.id).rsplit(".", 2)[0])
    assert [s["DefaultForAz"] for s in subnets] == [True, True, False, False]


def test_an_instance_sits_in_its_first_nics_network_in_its_cluster() -> None:
    nic = NetworkInterface(id="n1", instance_id="vm", name="nic1", network_id=MGMT.id)
    instance = Instance(id="vm", name="vm", state=InstanceState.RUNNING, realm_id=ZONE_B.id, interfaces=[nic])
    placement = networks.instance_placement(instance)
    assert placement["VpcId"] == networks.vpc_id(MGMT.id)
    assert placement["SubnetId"] == networks.subnet_id(MGMT.id, ZONE_B.id)
    assert placement["SecurityGroups"] == [{"GroupId": networks.group_id(MGMT.id), "GroupName": "default"}]
    bare = Instance(id="vm2", name="vm2", state=InstanceState.STOPPED, realm_id=ZONE_A.id)
    assert networks.instance_placement(bare) == {"SecurityGroups": []}


def test_default_security_group_allows_everything() -> None:
    group = networks.security_group_item(MGMT, owner_id="1")
    out = parsed("DescribeSecurityGroups", {"SecurityGroups": [group]})["SecurityGroups"][0]
    assert out["GroupName"] == "default" and out["VpcId"] == networks.vpc_id(MGMT.id)
    assert out["IpPermissions"][0]["IpProtocol"] == "-1"
    assert out["IpPermissionsEgress"][0]["IpRanges"] == [{"CidrIp": "0.0.0.0/0"}]


def test_malformed_ids_use_aws_codes() -> None:
    assert networks.decode_ids("vpc", [networks.vpc_id(MGMT.id)], "VpcID") == [MGMT.id]
    for prefix, kind, bad in (("vpc", "VpcID", "vpc-xyz"), ("subnet", "SubnetID", "vpc-0e00"),
                              ("sg", "GroupId", "sg-1")):
        with pytest.raises(Ec2Error) as caught:
            networks.decode_ids(prefix, [bad], kind)
        assert caught.value.code == f"Invalid{kind}.Malformed"
