"""The model of networks clients create (EC2 VPCs, subnets and security groups), beside gateway.model.

A backend with a software-defined network provider (oVirt's ovirt-provider-ovn) carries them; the logical
networks of gateway.model.Network are what every engine has, these are what a network provider adds.
"""
from __future__ import annotations

from dataclasses import dataclass, field

ANY_PROTOCOL = None  # a rule's protocol when it matches every protocol (EC2's "-1")
ALL_PORTS = (0, 65535)


def rule_ports(protocol: str | None, low: int | None, high: int | None) -> tuple[int | None, int | None]:
    """A rule's ports as every frontend stores them: none for every protocol; for tcp and udp, 0-65535 is the
    open range (None, None), as Neutron keeps it; for ICMP, -1 ("any type or code") is None. Two APIs naming
    the same traffic differently would otherwise make duplicates that neither can revoke."""
    if protocol is ANY_PROTOCOL:
        return None, None
    if protocol == "icmp":
        return (None if low == -1 else low), (None if high == -1 else high)
    if protocol in ("tcp", "udp") and (low, high) == ALL_PORTS:
        return None, None
    return low, high


@dataclass
class Vpc:
    """An isolated, routed address space: a router of the network provider, in one data center."""

    id: str
    cidr: str
    region_id: str
    name: str = ""


@dataclass
class Subnet:
    """An address range of a VPC in one zone: a provider network with its one subnet, imported into the
    data center as the logical network `network_id` (VM NICs reach it through that network's vNIC profile)."""

    id: str
    vpc_id: str
    cidr: str
    realm_id: str | None
    network_id: str | None  # the engine's logical network (None until imported)
    profile_id: str | None = None  # its vNIC profile
    gateway_ip: str | None = None
    free_addresses: int = 0


@dataclass(frozen=True)
class SecurityRule:
    """One rule of a group: traffic `direction` ('ingress' or 'egress') of `protocol` ('tcp', 'udp', 'icmp' or
    ANY_PROTOCOL) on ports (ICMP: type and code) `port_min`..`port_max` from or to `remote_cidr` or the members
    of `remote_group_id`."""

    direction: str
    protocol: str | None = ANY_PROTOCOL
    port_min: int | None = None
    port_max: int | None = None
    remote_cidr: str | None = None
    remote_group_id: str | None = None
    ethertype: str = "IPv4"
    description: str = ""
    id: str = ""
    group_id: str = ""

    def same_traffic(self, other: "SecurityRule") -> bool:
        """Whether two rules allow the same traffic (what makes a second one a duplicate)."""
        keys = ("direction", "protocol", "remote_cidr", "remote_group_id", "ethertype")
        return (all(getattr(self, k) == getattr(other, k) for k in keys)
                and rule_ports(self.protocol, self.port_min, self.port_max)
                == rule_ports(other.protocol, other.port_min, other.port_max))


@dataclass
class SecurityGroup:
    id: str
    vpc_id: str
    name: str
    description: str
    rules: list[SecurityRule] = field(default_factory=list)


@dataclass
class ReservedInterface:
    """A network interface made on its own (EC2 CreateNetworkInterface): a provider port on a subnet holding
    its address and groups until a VM NIC takes them."""

    id: str
    subnet_id: str
    ip: str
    mac: str
    group_ids: list[str] = field(default_factory=list)
    description: str = ""
    source_dest_check: bool = True


@dataclass
class InterfaceDetachment:
    """The last attachment of an interface of its own, detached a moment ago (EC2 shows it `detached` for a
    while: clients wait for that status after DetachNetworkInterface). `attachment_id` is the attachment's
    backend id (the VM NIC that held the interface, gone now)."""

    attachment_id: str
    interface_id: str
    instance_id: str
    device_index: int
    detached_at: float
