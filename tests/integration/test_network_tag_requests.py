"""DescribeVpcs, DescribeSubnets and DescribeSecurityGroups read their objects' tags from the store alone: a
VPC, subnet or group is never a VM, and the driver's `tags` lists every VM only to name them."""
from __future__ import annotations

from pathlib import Path

from .test_listing_engine_requests import engine_requests, gateway_over


def test_network_listings_list_no_vm_for_their_tags(tmp_path: Path) -> None:
    with gateway_over(tmp_path, 4) as (ec2, simulator_url):
        vpc_id = ec2.describe_vpcs()["Vpcs"][0]["VpcId"]
        group_id = ec2.describe_security_groups()["SecurityGroups"][0]["GroupId"]
        ec2.create_tags(Resources=[vpc_id, group_id], Tags=[{"Key": "team", "Value": "net"}])
        vpcs = engine_requests(simulator_url, ec2.describe_vpcs)
        subnets = engine_requests(simulator_url, ec2.describe_subnets)
        groups = engine_requests(simulator_url, ec2.describe_security_groups)
        vpc = ec2.describe_vpcs(VpcIds=[vpc_id])["Vpcs"][0]
        group = ec2.describe_security_groups(GroupIds=[group_id])["SecurityGroups"][0]
    # the VPCs' and subnets' one VM listing is for the CIDRs learned from the instances' addresses
    assert vpcs.get("GET /vms") == 1, vpcs
    assert subnets.get("GET /vms") == 1, subnets
    assert "GET /vms" not in groups, groups
    assert {"Key": "team", "Value": "net"} in vpc["Tags"] and {"Key": "team", "Value": "net"} in group["Tags"]
