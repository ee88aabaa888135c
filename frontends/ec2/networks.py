"""oVirt logical networks as EC2 VPCs and subnets, and the default security group each VPC has.

The mapping (DESIGN section 4: logical network / vNIC profile -> VPC / subnet):

* **VPC = logical network** of the scoped data center, `vpc-` + the network's UUID. Logical networks are
  isolated layer-2 segments (VLANs, bridges), not routed to one another, which is what separate VPCs
  are; one VPC per data center would claim a routing that oVirt does not do.
* **Subnet = a logical network in one cluster**. An EC2 subnet lies in exactly one availability zone
  (here a cluster), and a logical network spans the clusters of its data center, so each (network,
  cluster) pair is one subnet. Its id is `subnet-` + a UUID named (UUID5) from the two UUIDs: stable,
  stateless, computed again by any gateway process, never stored.
* **The default VPC** is the management network (`ovirtmgmt`, or a network used as `management`), the
  one every host carries and new VMs are usually plugged into; failing that, the first network by name.
  Its subnets are `DefaultForAz`, so Ansible's `ec2_instance` (which looks up the default VPC and its
  default-for-az subnets when no subnet is given) finds one per zone.
* **An instance's VpcId/SubnetId** are those of its first NIC's network in its cluster, so what
  DescribeInstances says resolves with DescribeVpcs/DescribeSubnets and the `subnet-id` filter finds
  the instance again. An instance without NICs has neither.
* **CIDR blocks are learned** (see ..cidrs): the engine keeps no address range for a logical network
  (addresses come from whatever DHCP serves the VLAN), so a subnet's block is the one holding the
  addresses its instances report, and its VPC's the one holding its subnets'. Before any instance
  reports one, they are placeholders derived from the UUIDs (10.x.0.0/16 per VPC, 10.x.y.0/24 per
  subnet), stable and distinct enough.
* **Security groups**: oVirt filters no traffic between VMs by group (its network filters are per vNIC
  profile and not client-managed), so each VPC has exactly one group, `default`, allowing everything in
  and out, `sg-` + the network's UUID. Creating or changing groups is refused (UnsupportedOperation).

Names: a VPC's `Name` tag is the network's name, a subnet's `<network>/<cluster>`; other tags (and a
`Name` of the client's own) are kept by the gateway, as oVirt has no home for them.
"""
from __future__ import annotations

import functools
import hashlib
import uuid
from dataclasses import dataclass
from typing import Any

from gateway.model import Instance, Network, Realm

from . import ids
from .errors import Ec2Error

MANAGEMENT_NETWORK = "ovirtmgmt"
SUBNET_NAMESPACE = uuid.UUID("5b1c6e0e-7c1f-4f53-9d0a-6f7a3c2d9e10")  # names (network, cluster) subnet UUIDs
ALL_TRAFFIC = {"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}], "Ipv6Ranges": [{"CidrIpv6": "::/0"}],
               "PrefixListIds": [], "UserIdGroupPairs": []}
SUBNET_USABLE_ADDRESSES = 251  # a /24 less the 5 addresses EC2 reserves; as much a placeholder as the CIDR


@dataclass(frozen=True)
class Subnet:
    id: str  # the subnet's UUID (not an oVirt object's: named from network and cluster)
    network: Network
    realm: Realm


def vpc_id(network_id: str) -> str:
    return ids.encode("vpc", network_id)


def group_id(network_id: str) -> str:
    return ids.encode("sg", network_id)


@functools.lru_cache(maxsize=4096)
def subnet_uuid(network_id: str, realm_id: str) -> str:
    return str(uuid.uuid5(SUBNET_NAMESPACE, f"{network_id.lower()}/{realm_id.lower()}"))


def group_tag_key(network_id: str) -> str:
    """The store key of a security group's tags: named from its network's UUID, as the group's own id
    is that UUID too and the VPC's tags are kept under it."""
    return str(uuid.uuid5(SUBNET_NAMESPACE, f"security-group/{network_id.lower()}"))


def subnet_id(network_id: str, realm_id: str) -> str:
    return ids.encode("subnet", subnet_uuid(network_id, realm_id))


def octet(text: str) -> int:
    return hashlib.sha256(text.lower().encode()).digest()[0]


def vpc_cidr(network_id: str) -> str:
    return f"10.{octet(network_id)}.0.0/16"


def subnet_cidr(network_id: str, realm_id: str) -> str:
    return f"10.{octet(network_id)}.{octet(realm_id)}.0/24"


def default_network(networks: list[Network]) -> Network | None:
    """The default VPC's network: the management network, else the first by name."""
    if not networks:
        return None
    ordered = sorted(networks, key=lambda n: (n.name, n.id))
    for wanted in (lambda n: n.name == MANAGEMENT_NETWORK, lambda n: n.is_management):
        found = next((n for n in ordered if wanted(n)), None)
        if found is not None:
            return found
    return ordered[0]


def subnets(networks: list[Network], realms: list[Realm]) -> list[Subnet]:
    return [Subnet(subnet_uuid(n.id, r.id), n, r) for n in networks for r in realms]


def instance_placement(instance: Instance) -> dict[str, Any]:
    """VpcId, SubnetId and SecurityGroups members of an instance item: its first NIC's network in its
    cluster, with that VPC's one group; no VPC at all for an instance without a NIC on a network."""
    for nic in instance.interfaces:
        if nic.network_id:
            members: dict[str, Any] = {"VpcId": vpc_id(nic.network_id),
                                       "SecurityGroups": [default_group(nic.network_id)]}
            if instance.realm_id:
                members["SubnetId"] = subnet_id(nic.network_id, instance.realm_id)
            return members
    return {"SecurityGroups": []}


def interface_placement(instance: Instance, network_id: str | None) -> dict[str, str]:
    """VpcId/SubnetId members of one NIC item (empty when the NIC's network is unknown)."""
    if not network_id:
        return {}
    members = {"VpcId": vpc_id(network_id)}
    if instance.realm_id:
        members["SubnetId"] = subnet_id(network_id, instance.realm_id)
    return members


def default_group(network_id: str) -> dict[str, str]:
    """The `GroupIdentifier` of the one security group a VPC has."""
    return {"GroupId": group_id(network_id), "GroupName": "default"}


def named(name: str, tags: dict[str, str] | None) -> list[dict[str, str]]:
    """`Name` from oVirt unless the client gave one, then the client's tags, as an EC2 tag list."""
    merged = {"Name": name, **(tags or {})}
    return [{"Key": k, "Value": v} for k, v in sorted(merged.items())]


def dhcp_options_id(network_id: str) -> str:
    return ids.encode("dopt", network_id)


def vpc_item(network: Network, *, default: bool, owner_id: str, cidr: str | None = None,
             tags: dict[str, str] | None = None) -> dict[str, Any]:
    cidr = cidr or vpc_cidr(network.id)
    return {
        "VpcId": vpc_id(network.id), "CidrBlock": cidr, "State": "available",
        "DhcpOptionsId": dhcp_options_id(network.id),
        "InstanceTenancy": "default", "IsDefault": default, "OwnerId": owner_id,
        "CidrBlockAssociationSet": [{"AssociationId": ids.encode("vpc-cidr-assoc", network.id), "CidrBlock": cidr,
                                     "CidrBlockState": {"State": "associated"}}],
        "Ipv6CidrBlockAssociationSet": [], "BlockPublicAccessStates": {"InternetGatewayBlockMode": "off"},
        "Tags": named(network.name, tags),
    }


def subnet_item(subnet: Subnet, *, default: bool, owner_id: str, region: str, cidr: str | None = None,
                tags: dict[str, str] | None = None) -> dict[str, Any]:
    ec2_id = ids.encode("subnet", subnet.id)
    return {
        "SubnetId": ec2_id, "VpcId": vpc_id(subnet.network.id), "State": "available",
        "AvailabilityZone": subnet.realm.name, "AvailabilityZoneId": subnet.realm.id,
        "CidrBlock": cidr or subnet_cidr(subnet.network.id, subnet.realm.id),
        "AvailableIpAddressCount": SUBNET_USABLE_ADDRESSES, "DefaultForAz": default,
        "MapPublicIpOnLaunch": False, "MapCustomerOwnedIpOnLaunch": False, "AssignIpv6AddressOnCreation": False,
        "Ipv6CidrBlockAssociationSet": [], "OwnerId": owner_id, "EnableDns64": False, "Ipv6Native": False,
        "PrivateDnsNameOptionsOnLaunch": {"HostnameType": "ip-name", "EnableResourceNameDnsARecord": False,
                                          "EnableResourceNameDnsAAAARecord": False},
        "BlockPublicAccessStates": {"InternetGatewayBlockMode": "off"},
        "SubnetArn": f"arn:aws:ec2:{region}:{owner_id}:subnet/{ec2_id}",
        "Tags": named(f"{subnet.network.name}/{subnet.realm.name}", tags),
    }


def security_group_item(network: Network, *, owner_id: str, tags: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "GroupId": group_id(network.id), "GroupName": "default", "VpcId": vpc_id(network.id), "OwnerId": owner_id,
        "Description": "default VPC security group: oVirt filters no traffic by group, all traffic is allowed",
        "IpPermissions": [dict(ALL_TRAFFIC)], "IpPermissionsEgress": [dict(ALL_TRAFFIC)],
        "Tags": [{"Key": k, "Value": v} for k, v in sorted((tags or {}).items())],
    }


def decode_ids(prefix: str, given: list[str] | None, kind: str) -> list[str] | None:
    """Backend UUIDs of `vpc-`/`subnet-`/`sg-` ids; Invalid<Kind>ID.Malformed (AWS's code) otherwise."""
    if not given:
        return None
    decoded = []
    for ec2_id in given:
        try:
            decoded.append(ids.decode(prefix, ec2_id))
        except Ec2Error:
            raise Ec2Error(f"Invalid{kind}.Malformed",
                           f"Invalid id: \"{ec2_id[:100]}\" (expecting \"{prefix}-...\")") from None
    return decoded


def subnet_realm(driver: Any, scope: Any, subnet_ec2_id: str) -> Realm:
    """The cluster a RunInstances `SubnetId` places the instance in (InvalidSubnetID.NotFound/.Malformed).

    Only the zone can be honoured: the Driver's InstanceSpec names no network, so the instance's NICs
    are the template's, and its SubnetId is that of the network they are on (usually the same, the
    default VPC's, as templates' NICs are on the management network).
    """
    (wanted,) = decode_ids("subnet", [subnet_ec2_id], "SubnetID") or [""]
    realms = driver.realms(scope)
    for network in driver.networks(scope):
        for realm in realms:
            if subnet_uuid(network.id, realm.id) == wanted:
                return realm
    raise Ec2Error("InvalidSubnetID.NotFound", f"The subnet ID '{subnet_ec2_id[:100]}' does not exist")
