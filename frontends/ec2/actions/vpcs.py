"""DescribeVpcs and DescribeSubnets: the scoped data center's logical networks (see ..networks for why
a VPC is a logical network and a subnet is that network in one cluster). Creating or deleting them is
an oVirt administrator's job (they need hosts wired for the VLAN), so those actions are refused."""
from __future__ import annotations

from typing import Any

from gateway.tag_rules import non_vm_tags

from .. import cidrs, ids, inventory, networks, provider_networks
from ..call import Call
from ..errors import Ec2Error
from ..filters import apply_filters, page_size, paginate
from ..provider_networks import ProviderNetworks
from . import action

VPC_FILTERS = {
    "vpc-id": lambda v: [v["VpcId"]],
    "is-default": lambda v: [v["IsDefault"]],
    "isDefault": lambda v: [v["IsDefault"]],
    "state": lambda v: [v["State"]],
    "cidr": lambda v: [v["CidrBlock"]],
    "cidr-block": lambda v: [v["CidrBlock"]],  # not in EC2's documentation, but EC2 takes it and Ansible sends it
    "cidrBlock": lambda v: [v["CidrBlock"]],
    "cidr-block-association.cidr-block": lambda v: [a["CidrBlock"] for a in v["CidrBlockAssociationSet"]],
    "cidr-block-association.association-id": lambda v: [a["AssociationId"] for a in v["CidrBlockAssociationSet"]],
    "cidr-block-association.state": lambda v: [a["CidrBlockState"]["State"] for a in v["CidrBlockAssociationSet"]],
    "dhcp-options-id": lambda v: [v["DhcpOptionsId"]],
    "owner-id": lambda v: [v["OwnerId"]],
}
SUBNET_FILTERS = {
    "subnet-id": lambda s: [s["SubnetId"]],
    "vpc-id": lambda s: [s["VpcId"]],
    "availability-zone": lambda s: [s["AvailabilityZone"]],
    "availabilityZone": lambda s: [s["AvailabilityZone"]],
    "availability-zone-id": lambda s: [s["AvailabilityZoneId"]],
    "default-for-az": lambda s: [s["DefaultForAz"]],
    "defaultForAz": lambda s: [s["DefaultForAz"]],
    "state": lambda s: [s["State"]],
    "cidr-block": lambda s: [s["CidrBlock"]],
    "cidr": lambda s: [s["CidrBlock"]],
    "cidrBlock": lambda s: [s["CidrBlock"]],
    "available-ip-address-count": lambda s: [s["AvailableIpAddressCount"]],
    "map-public-ip-on-launch": lambda s: [s["MapPublicIpOnLaunch"]],
    "owner-id": lambda s: [s["OwnerId"]],
    "subnet-arn": lambda s: [s["SubnetArn"]],
}


def learned_cidrs(call: Call) -> cidrs.LearnedCidrs:
    return cidrs.LearnedCidrs(call.driver.instances(call.scope))


def logical_networks(call: Call, provided: ProviderNetworks) -> list[Any]:
    """The logical networks that are VPCs of their own: all but those the network provider's subnets are."""
    imported = provided.imported_networks()
    return [n for n in call.driver.networks(call.scope) if n.id not in imported]


def _vpcs(call: Call) -> list[dict[str, Any]]:
    provided = ProviderNetworks.of(call)
    found = logical_networks(call, provided)
    default = networks.default_network(found)
    owner = inventory.account_id(call)
    learned = learned_cidrs(call)
    tags = non_vm_tags(call.driver, call.scope, [n.id for n in found] + [v.id for v in provided.vpcs])
    return ([networks.vpc_item(n, default=n is default, owner_id=owner, cidr=learned.vpc(n.id), tags=tags.get(n.id))
             for n in found]
            + [provider_networks.vpc_item(v, owner, tags.get(v.id)) for v in provided.vpcs])


def _subnets(call: Call) -> list[dict[str, Any]]:
    provided = ProviderNetworks.of(call)
    found = logical_networks(call, provided)
    default = networks.default_network(found)
    owner = inventory.account_id(call)
    learned = learned_cidrs(call)
    realms = call.driver.realms(call.scope)
    every = networks.subnets(found, realms)
    tags = non_vm_tags(call.driver, call.scope, [s.id for s in every] + [s.id for s in provided.subnets])
    by_id = {r.id: r for r in realms}
    return ([networks.subnet_item(s, default=s.network is default, owner_id=owner, region=call.region,
                                  cidr=subnet_cidr(learned, s), tags=tags.get(s.id)) for s in every]
            + [provider_networks.subnet_item(s, by_id, owner, call.region, tags.get(s.id)) for s in provided.subnets])


def subnet_cidr(learned: cidrs.LearnedCidrs, subnet: networks.Subnet) -> str | None:
    """The learned block, else a /24 inside the VPC's learned block, else None (the placeholder)."""
    network_id, realm_id = subnet.network.id, subnet.realm.id
    return (learned.subnet(network_id, realm_id)
            or learned.placeholder_in_vpc(network_id, realm_id, networks.octet(realm_id)))


def _narrow(items: list[dict[str, Any]], key: str, wanted: list[str] | None, code: str, noun: str,
            prefix: str) -> list[dict[str, Any]]:
    """The items with the wanted ids, in the order asked; `code` names every id that does not exist."""
    if wanted is None:
        return items
    by_id = {item[key]: item for item in items}
    wanted_ids = [ids.encode(prefix, w) for w in dict.fromkeys(wanted)]
    absent = [w for w in wanted_ids if w not in by_id]
    if absent:
        raise Ec2Error(code, f"The {noun} ID{'s' if len(absent) > 1 else ''} "
                             f"'{', '.join(absent)}' do{'' if len(absent) > 1 else 'es'} not exist")
    return [by_id[w] for w in wanted_ids]


@action("DescribeVpcs")
def describe_vpcs(call: Call) -> dict[str, Any]:
    wanted = networks.decode_ids("vpc", call.get("VpcIds"), "VpcID")
    size = page_size(call.get("MaxResults"), with_ids=bool(wanted), ids_name="VpcIds")
    call.check_dry_run()
    items = _narrow(_vpcs(call), "VpcId", wanted, "InvalidVpcID.NotFound", "vpc", "vpc")
    items = apply_filters(items, call.get("Filters"), VPC_FILTERS)
    page, token = paginate(items, lambda v: v["VpcId"], size, call.get("NextToken"))
    return {"Vpcs": page, "NextToken": token}


@action("DescribeSubnets")
def describe_subnets(call: Call) -> dict[str, Any]:
    wanted = networks.decode_ids("subnet", call.get("SubnetIds"), "SubnetID")
    size = page_size(call.get("MaxResults"), with_ids=bool(wanted), ids_name="SubnetIds")
    call.check_dry_run()
    items = _narrow(_subnets(call), "SubnetId", wanted, "InvalidSubnetID.NotFound", "subnet", "subnet")
    items = apply_filters(items, call.get("Filters"), SUBNET_FILTERS)
    page, token = paginate(items, lambda s: s["SubnetId"], size, call.get("NextToken"))
    return {"Subnets": page, "NextToken": token}


def _refuse(what: str) -> Any:
    def refuse(call: Call) -> dict[str, Any]:
        raise Ec2Error("UnsupportedOperation", f"{call.action} is not supported: {what}")
    return refuse


NETWORK_ADMIN = ("oVirt logical networks are created by the engine's administrator (hosts must carry the "
                 "network), so VPCs and subnets are read-only here")
for _name in ("ModifySubnetAttribute", "CreateDefaultVpc", "CreateDefaultSubnet"):
    action(_name, mutating=True)(_refuse(NETWORK_ADMIN))
