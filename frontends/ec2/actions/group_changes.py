"""CreateSecurityGroup, DeleteSecurityGroup, Authorize/RevokeSecurityGroupIngress/Egress and
DescribeSecurityGroupRules, on the network provider's groups (see ..provider_networks).

EC2's rules are checked here before the provider is asked: a group's name is unique in its VPC
(InvalidGroup.Duplicate) and `default` is reserved; a rule the group has already is InvalidPermission.Duplicate
and one it lacks InvalidPermission.NotFound; a VPC's default group cannot go (CannotDelete) and a group in use
(by a network interface, or named by another group's rule) is DependencyViolation. The read-only `default`
groups of logical networks (..networks) stay unchangeable: UnsupportedOperation.
"""
from __future__ import annotations

from typing import Any

from gateway.network_model import SecurityGroup

from .. import ids, inventory, networks
from ..call import Call
from ..errors import Ec2Error, invalid_value
from ..filters import apply_filters, page_size, paginate
from ..provider_networks import ProviderNetworks, requested_rules, rule_item
from ..tag_specifications import tags_for
from . import action
from .security_groups import NO_GROUPS

DEFAULT_GROUP = "default"
RULE_FILTERS = {
    "group-id": lambda r: [r["GroupId"]],
    "security-group-rule-id": lambda r: [r["SecurityGroupRuleId"]],
    "is-egress": lambda r: [r["IsEgress"]],
    "ip-protocol": lambda r: [r["IpProtocol"]],
    "cidr-ipv4": lambda r: [r.get("CidrIpv4")],
    "referenced-group-id": lambda r: [r.get("ReferencedGroupInfo", {}).get("GroupId")],
}


def _group(call: Call, provided: ProviderNetworks) -> SecurityGroup:
    """The group GroupId names (GroupName: only in the default VPC, as on EC2, which here is read-only)."""
    given = call.get("GroupId")
    if not given:
        name = call.need("GroupName")
        if name == DEFAULT_GROUP:
            raise Ec2Error("UnsupportedOperation", f"{call.action} is not supported: {NO_GROUPS}")
        raise Ec2Error("InvalidGroup.NotFound", f"The security group '{name[:100]}' does not exist in the default VPC")
    (group_id,) = networks.decode_ids("sg", [given], "GroupId") or [""]
    found = next((g for g in provided.groups if g.id == group_id), None)
    if found is not None:
        return found
    if any(networks.group_id(n.id) == ids.encode("sg", group_id) for n in call.driver.networks(call.scope)):
        raise Ec2Error("UnsupportedOperation", f"{call.action} is not supported: {NO_GROUPS}")
    raise Ec2Error("InvalidGroup.NotFound", f"The security group '{given[:100]}' does not exist")


@action("CreateSecurityGroup", mutating=True)
def create_security_group(call: Call) -> dict[str, Any]:
    name, description = call.need("GroupName"), call.need("Description")
    if len(name) > 255 or len(description) > 255:
        raise invalid_value("GroupName and Description are at most 255 characters long")
    if name.lower() == DEFAULT_GROUP or name.startswith("sg-"):
        raise invalid_value(f"Value ({name[:100]}) for parameter GroupName is invalid. Group names may not be "
                            "'default' nor start with 'sg-'.")
    tags = tags_for(call, "security-group")
    call.driver.vpcs(call.scope)  # UnsupportedOperation, naming the provider, without a network provider
    provided = ProviderNetworks.of(call, groups=True)
    given = call.get("VpcId")
    if not given:
        raise Ec2Error("UnsupportedOperation", "CreateSecurityGroup is not supported in the default VPC: it is a "
                                               f"logical network whose only group is its read-only 'default' ({NO_GROUPS}); "
                                               "name a VPC made with CreateVpc")
    (vpc_id,) = networks.decode_ids("vpc", [given], "VpcID") or [""]
    provided.vpc(vpc_id, given)
    if any(g.vpc_id == vpc_id and g.name == name for g in provided.groups):
        raise Ec2Error("InvalidGroup.Duplicate", f"The security group '{name[:100]}' already exists for VPC "
                                                 f"'{ids.encode('vpc', vpc_id)}'")
    call.check_dry_run()
    group = call.driver.create_security_group(call.scope, vpc_id, name, description)
    if tags:
        call.driver.set_tags(call.scope, "security-group", [networks.group_tag_key(group.id)], tags)
    return {"GroupId": ids.encode("sg", group.id), "Tags": [{"Key": k, "Value": v} for k, v in sorted(tags.items())]}


@action("DeleteSecurityGroup", mutating=True)
def delete_security_group(call: Call) -> dict[str, Any]:
    provided = ProviderNetworks.of(call, groups=True)
    group = _group(call, provided)
    if group.name == DEFAULT_GROUP:
        raise Ec2Error("CannotDelete", f"The security group '{ids.encode('sg', group.id)}' is its VPC's default "
                                       "group and cannot be deleted by a user")
    call.check_dry_run()
    call.driver.delete_security_group(call.scope, group.id)  # InUse (DependencyViolation) while a rule names it
    return {"Return": True, "GroupId": ids.encode("sg", group.id)}


def _authorize(call: Call, direction: str) -> dict[str, Any]:
    provided = ProviderNetworks.of(call, groups=True)
    group = _group(call, provided)
    rules = requested_rules(call, direction, group, provided.groups)
    for index, rule in enumerate(rules):
        if any(rule.same_traffic(other) for other in group.rules + rules[:index]):
            peer = rule.remote_cidr or ids.encode("sg", rule.remote_group_id or "")
            raise Ec2Error("InvalidPermission.Duplicate",
                           f'the specified rule "peer: {peer}, {(rule.protocol or "ALL").upper()}, from port: '
                           f'{rule.port_min}, to port: {rule.port_max}, ALLOW" already exists')
    call.check_dry_run()
    added = call.driver.add_security_rules(call.scope, group.id, rules)
    owner = inventory.account_id(call)
    return {"Return": True, "SecurityGroupRules": [rule_item(r, owner) for r in added]}


def _revoke(call: Call, direction: str) -> dict[str, Any]:
    provided = ProviderNetworks.of(call, groups=True)
    group = _group(call, provided)
    mine = [r for r in group.rules if r.direction == direction]
    if call.get("SecurityGroupRuleIds"):
        by_id = {ids.encode("sgr", r.id): r for r in mine}
        absent = [i for i in call.get("SecurityGroupRuleIds") if i not in by_id]
        if absent:
            raise Ec2Error("InvalidSecurityGroupRuleId.NotFound",
                           f"The security group rule ID '{absent[0][:100]}' does not exist")
        doomed = [by_id[i].id for i in call.get("SecurityGroupRuleIds")]
    else:
        doomed = []
        for rule in requested_rules(call, direction, group, provided.groups):
            match = next((r for r in mine if r.same_traffic(rule)), None)
            if match is None:
                raise Ec2Error("InvalidPermission.NotFound", "The specified rule does not exist in this security group.")
            doomed.append(match.id)
    call.check_dry_run()
    call.driver.remove_security_rules(call.scope, list(dict.fromkeys(doomed)))
    return {"Return": True}


action("AuthorizeSecurityGroupIngress", mutating=True)(lambda call: _authorize(call, "ingress"))
action("AuthorizeSecurityGroupEgress", mutating=True)(lambda call: _authorize(call, "egress"))
action("RevokeSecurityGroupIngress", mutating=True)(lambda call: _revoke(call, "ingress"))
action("RevokeSecurityGroupEgress", mutating=True)(lambda call: _revoke(call, "egress"))


@action("DescribeSecurityGroupRules")
def describe_security_group_rules(call: Call) -> dict[str, Any]:
    size = page_size(call.get("MaxResults"), low=5, with_ids=bool(call.get("SecurityGroupRuleIds")),
                     ids_name="SecurityGroupRuleIds")
    call.check_dry_run()
    owner = inventory.account_id(call)
    items = [rule_item(r, owner) for g in ProviderNetworks.of(call, groups=True).groups for r in g.rules]
    wanted = call.get("SecurityGroupRuleIds")
    if wanted:
        known = {i["SecurityGroupRuleId"] for i in items}
        absent = [w for w in wanted if w not in known]
        if absent:
            raise Ec2Error("InvalidSecurityGroupRuleId.NotFound",
                           f"The security group rule ID '{absent[0][:100]}' does not exist")
        items = [i for i in items if i["SecurityGroupRuleId"] in wanted]
    items = apply_filters(items, call.get("Filters"), RULE_FILTERS)
    page, token = paginate(items, lambda r: r["SecurityGroupRuleId"], size, call.get("NextToken"))
    return {"SecurityGroupRules": page, "NextToken": token}
