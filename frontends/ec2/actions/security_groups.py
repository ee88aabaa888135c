"""DescribeSecurityGroups: the network provider's groups with their rules, and a `default` group allowing all
traffic for each logical network that is a VPC of its own, which is what oVirt does there.

oVirt alone has no security groups (its vNIC-profile network filters are the administrator's, not per VM
and not client-managed): on a logical network, "one group, everything allowed" is the honest answer, and it
lets Ansible and Terraform resolve `default` by name or id. Groups that clients create and change live on
the provider's OVN network provider (..provider_networks, .group_changes); changing the read-only default
groups is refused with UnsupportedOperation (AWS's code for a valid request the service cannot do here).
"""
from __future__ import annotations

from typing import Any

from gateway.tag_rules import non_vm_tags

from .. import inventory, networks
from ..call import Call
from ..errors import Ec2Error
from ..filters import apply_filters, page_size, paginate
from ..provider_networks import ProviderNetworks, group_item
from . import action
from .vpcs import logical_networks


def _permissions(name: str, field: str, key: str) -> Any:
    return lambda g: [r[key] for p in g[field] for r in p.get(name, [])]


GROUP_FILTERS = {
    "group-id": lambda g: [g["GroupId"]],
    "group-name": lambda g: [g["GroupName"]],
    "vpc-id": lambda g: [g["VpcId"]],
    "owner-id": lambda g: [g["OwnerId"]],
    "description": lambda g: [g["Description"]],
    "ip-permission.protocol": lambda g: [p["IpProtocol"] for p in g["IpPermissions"]],
    "ip-permission.cidr": _permissions("IpRanges", "IpPermissions", "CidrIp"),
    "ip-permission.ipv6-cidr": _permissions("Ipv6Ranges", "IpPermissions", "CidrIpv6"),
    "egress.ip-permission.protocol": lambda g: [p["IpProtocol"] for p in g["IpPermissionsEgress"]],
    "egress.ip-permission.cidr": _permissions("IpRanges", "IpPermissionsEgress", "CidrIp"),
    "egress.ip-permission.ipv6-cidr": _permissions("Ipv6Ranges", "IpPermissionsEgress", "CidrIpv6"),
    "ip-permission.group-id": _permissions("UserIdGroupPairs", "IpPermissions", "GroupId"),
    "ip-permission.from-port": lambda g: [p.get("FromPort") for p in g["IpPermissions"]],
    "ip-permission.to-port": lambda g: [p.get("ToPort") for p in g["IpPermissions"]],
}
NO_GROUPS = ("oVirt has no security groups: each VPC (logical network) has only its 'default' group, which "
             "allows all traffic and cannot be changed")


@action("DescribeSecurityGroups")
def describe_security_groups(call: Call) -> dict[str, Any]:
    wanted_ids = networks.decode_ids("sg", call.get("GroupIds"), "GroupId")
    wanted_names = call.get("GroupNames")
    size = page_size(call.get("MaxResults"), with_ids=bool(wanted_ids or wanted_names), ids_name="GroupIds")
    call.check_dry_run()
    owner = inventory.account_id(call)
    provided = ProviderNetworks.of(call, groups=True)
    found = logical_networks(call, provided)
    keys = [networks.group_tag_key(n.id) for n in found] + [networks.group_tag_key(g.id) for g in provided.groups]
    tags = non_vm_tags(call.driver, call.scope, keys)
    groups = [networks.security_group_item(n, owner_id=owner, tags=tags.get(networks.group_tag_key(n.id)))
              for n in found]
    groups += [group_item(g, owner, tags.get(networks.group_tag_key(g.id))) for g in provided.groups]
    if wanted_ids is not None:
        known = {g["GroupId"]: g for g in groups}
        asked = [networks.group_id(w) for w in dict.fromkeys(wanted_ids)]
        absent = [a for a in asked if a not in known]
        if absent:
            raise Ec2Error("InvalidGroup.NotFound", f"The security group '{absent[0]}' does not exist")
        groups = [known[a] for a in asked]
    if wanted_names:  # names are looked up in the default VPC only, as on EC2
        default = networks.default_network(found)
        absent = [n for n in wanted_names if n != "default"]
        if absent or default is None:
            raise Ec2Error("InvalidGroup.NotFound",
                           f"The security group '{(absent or wanted_names)[0][:100]}' does not exist "
                           "in the default VPC")
        groups = [g for g in groups if g["VpcId"] == networks.vpc_id(default.id)]
    groups = apply_filters(groups, call.get("Filters"), GROUP_FILTERS)
    page, token = paginate(groups, lambda g: g["GroupId"], size, call.get("NextToken"))
    return {"SecurityGroups": page, "NextToken": token}


def _refuse(call: Call) -> dict[str, Any]:
    raise Ec2Error("UnsupportedOperation", f"{call.action} is not supported: {NO_GROUPS}")


for _name in ("UpdateSecurityGroupRuleDescriptionsIngress", "UpdateSecurityGroupRuleDescriptionsEgress",
              "ModifySecurityGroupRules"):
    action(_name, mutating=True)(_refuse)
