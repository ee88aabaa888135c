"""The CIDR blocks of VPCs and subnets, learned from the addresses guests report.

The engine keeps no address range for a logical network: guests get theirs from whatever DHCP serves
the VLAN. So the only honest source of a subnet's range is the addresses its instances report: a
subnet's CIDR is the smallest block (at most a /24, as narrow as EC2 allows it to be useful) holding
every IPv4 address reported by instances on that network in that cluster; a VPC's is the smallest
block (at most a /16) holding its subnets'. Where no instance reports an address yet, the placeholders
of ..networks stand (stable ones derived from the ids), which is all a client can be told.
"""
from __future__ import annotations

import ipaddress
from collections import defaultdict
from typing import Iterable

from gateway.model import Instance

SUBNET_PREFIX = 24  # the narrowest block a learned subnet gets
VPC_PREFIX = 16  # the narrowest block a learned VPC gets
Network = ipaddress.IPv4Network


def covering(blocks: Iterable[Network], widest_first: int) -> Network | None:
    """The smallest block of prefix <= `widest_first` that holds every block given (None for none)."""
    blocks = list(blocks)
    if not blocks:
        return None
    prefix = min(widest_first, *(b.prefixlen for b in blocks))
    while prefix > 0:
        candidate = blocks[0].supernet(new_prefix=prefix)
        if all(b.subnet_of(candidate) for b in blocks):
            return candidate
        prefix -= 1
    return ipaddress.IPv4Network("0.0.0.0/0")


def reported(instances: Iterable[Instance]) -> dict[tuple[str, str], list[Network]]:
    """(network id, realm id) -> the /32 of each IPv4 address guests report on a NIC of that network."""
    found: dict[tuple[str, str], list[Network]] = defaultdict(list)
    for instance in instances:
        if not instance.realm_id:
            continue
        for nic in instance.interfaces:
            if not nic.network_id:
                continue
            for ip in nic.ipv4:
                try:
                    address = ipaddress.IPv4Address(ip)
                except ValueError:
                    continue
                found[(nic.network_id, instance.realm_id)].append(Network(address))
    return found


class LearnedCidrs:
    """Subnet and VPC CIDRs from the instances' reported addresses, or None where nothing is known."""

    def __init__(self, instances: Iterable[Instance]) -> None:
        self.subnets: dict[tuple[str, str], Network] = {}
        by_vpc: dict[str, list[Network]] = defaultdict(list)
        for (network_id, realm_id), addresses in reported(instances).items():
            block = covering(addresses, SUBNET_PREFIX)
            if block is not None:
                self.subnets[(network_id, realm_id)] = block
                by_vpc[network_id].append(block)
        self.vpcs = {network_id: covering(blocks, VPC_PREFIX) for network_id, blocks in by_vpc.items()}

    def subnet(self, network_id: str, realm_id: str) -> str | None:
        block = self.subnets.get((network_id, realm_id))
        return str(block) if block is not None else None

    def vpc(self, network_id: str) -> str | None:
        block = self.vpcs.get(network_id)
        return str(block) if block is not None else None

    def placeholder_in_vpc(self, network_id: str, realm_id: str, octet: int) -> str | None:
        """A subnet without reported addresses in a VPC whose block is learned: a /24 of that block (the
        `octet`th, or the next one free of the learned subnets), so that it lies inside its VPC."""
        vpc = self.vpcs.get(network_id)
        if vpc is None or vpc.prefixlen > SUBNET_PREFIX:
            return None
        taken = [b for (n, _), b in self.subnets.items() if n == network_id]
        count = 1 << (SUBNET_PREFIX - vpc.prefixlen)
        for step in range(min(count, 4096)):
            candidate = Network((int(vpc.network_address) + ((octet + step) % count) * 256, SUBNET_PREFIX))
            if not any(candidate.overlaps(t) for t in taken):
                return str(candidate)
        return None
