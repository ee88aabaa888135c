"""DescribeNetworkInterfaces and tag calls on a plain engine (no network provider) list the VMs once: an
interface's tags are the store's, and NICs are looked up only when an eni- id is involved."""
from __future__ import annotations

from pathlib import Path

from .test_listing_engine_requests import engine_requests, gateway_over


def test_interface_and_network_tags_cost_no_extra_vm_listing(tmp_path: Path) -> None:
    with gateway_over(tmp_path, 4) as (ec2, simulator_url):
        described = engine_requests(simulator_url, ec2.describe_network_interfaces)
        vpc_id = ec2.describe_vpcs()["Vpcs"][0]["VpcId"]
        tagged = engine_requests(simulator_url, lambda: ec2.create_tags(Resources=[vpc_id], Tags=[
            {"Key": "team", "Value": "net"}]))
        tags = ec2.describe_tags(Filters=[{"Name": "resource-id", "Values": [vpc_id]}])["Tags"]
    assert described.get("GET /vms") == 1, described
    assert "GET /vms" not in tagged and not [p for p in tagged if "nics" in p], tagged
    assert [(t["Key"], t["Value"]) for t in tags] == [("team", "net")]
