"""Subnet and VPC blocks learned from the addresses guests report (frontends/ec2/cidrs.py)."""
from __future__ import annotations

import ipaddress

from frontends.ec2.cidrs import LearnedCidrs, covering
from gateway.model import Instance, InstanceState, NetworkInterface

NET, OTHER = "00000000-0000-4000-8000-00000000000a", "00000000-0000-4000-8000-00000000000b"


def vm(realm: str, network: str, *addresses: str) -> Instance:
    nic = NetworkInterface(id="n", instance_id="i", name="nic1", network_id=network, ipv4=list(addresses))
    return Instance(id="i", name="vm", state=InstanceState.RUNNING, realm_id=realm, interfaces=[nic])


def test_the_smallest_block_holding_every_address_at_most_the_given_prefix() -> None:
    hosts = [ipaddress.IPv4Network(a) for a in ("10.0.0.5", "10.0.0.200")]
    assert str(covering(hosts, 24)) == "10.0.0.0/24"
    assert str(covering([*hosts, ipaddress.IPv4Network("10.0.3.1")], 24)) == "10.0.0.0/22"
    assert str(covering([ipaddress.IPv4Network("10.0.0.0/24")], 16)) == "10.0.0.0/16"
    assert covering([], 24) is None


def test_subnets_hold_their_instances_and_lie_in_their_vpc() -> None:
    learned = LearnedCidrs([vm("r1", NET, "10.0.0.7"), vm("r1", NET, "10.0.0.9", "not-an-address"),
                            vm("r2", NET, "10.0.1.3"), vm("r1", OTHER)])
    assert learned.subnet(NET, "r1") == "10.0.0.0/24" and learned.subnet(NET, "r2") == "10.0.1.0/24"
    assert learned.vpc(NET) == "10.0.0.0/16"
    assert learned.subnet(OTHER, "r1") is None and learned.vpc(OTHER) is None  # no address: the placeholder
    placed = learned.placeholder_in_vpc(NET, "r3", octet=0)  # a subnet without instances in a learned VPC
    assert placed is not None and placed not in ("10.0.0.0/24", "10.0.1.0/24")
    assert ipaddress.ip_network(placed).subnet_of(ipaddress.ip_network("10.0.0.0/16"))
