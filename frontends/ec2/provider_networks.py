"""VPCs, subnets and security groups that clients create, as EC2 shows them (see gateway.network_model).

They exist where the provider entry names a network provider (OVN); elsewhere `ProviderNetworks.of` is
empty and only the read-only views of ..networks remain. Ids are the backend UUIDs behind EC2's prefixes
(`vpc-`, `subnet-`, `sg-`, `sgr-`), as everywhere (docs/mapping.md "Ids"). A security group's rules become
EC2 permissions grouped by (protocol, ports), each with its CIDR ranges and group pairs.
"""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Any

from gateway.errors import AuthFailure, BackendError, BackendUnavailable, NotSupported
from gateway.model import Instance, NetworkInterface, Realm
from gateway.network_model import SecurityGroup, SecurityRule, Subnet, Vpc, rule_ports

from . import ids, networks
from .call import Call
from .errors import Ec2Error, invalid_value

PROTOCOLS = {"-1": None, "all": None, "tcp": "tcp", "6": "tcp", "udp": "udp", "17": "udp", "icmp": "icmp", "1": "icmp"}
RESERVED_PER_SUBNET = 5  # EC2 keeps 5 addresses of each subnet; Neutron a gateway and the network address


@dataclass
class ProviderNetworks:
    """The scope's VPCs, subnets and groups of its network provider (all empty without one)."""

    vpcs: list[Vpc] = field(default_factory=list)
    subnets: list[Subnet] = field(default_factory=list)
    groups: list[SecurityGroup] = field(default_factory=list)

    @classmethod
    def of(cls, call: Call, *, groups: bool = False, changing: bool = False) -> "ProviderNetworks":
        """For a listing, a user the provider does not authorize (ovirt-provider-ovn admits only the users
        its authorization plugin names, by default the engine's admin) sees none of its objects, as without
        a provider; for a change (`changing`) the provider's refusal is the answer."""
        try:
            return cls(call.driver.vpcs(call.scope), call.driver.subnets(call.scope),
                       call.driver.security_groups(call.scope) if groups else [])
        except NotSupported:
            return cls()
        except AuthFailure:
            if changing:
                raise
            return cls()

    def imported_networks(self) -> set[str]:
        """The logical networks that are these subnets (not VPCs of their own in the read-only views)."""
        return {s.network_id for s in self.subnets if s.network_id}

    def vpc(self, vpc_id: str, given: str) -> Vpc:
        found = next((v for v in self.vpcs if v.id == vpc_id), None)
        if found is None:
            raise Ec2Error("InvalidVpcID.NotFound", f"The vpc ID '{given[:100]}' does not exist")
        return found


def cidr_block(text: str, code: str, parameter: str = "cidrBlock") -> ipaddress.IPv4Network:
    """An IPv4 block EC2 accepts for a VPC or subnet (/16 to /28, host bits clear); `code` refuses others."""
    try:
        block = ipaddress.IPv4Network(text, strict=True)
    except ValueError:
        raise invalid_value(f"Value ({text[:100]}) for parameter {parameter} is invalid. "
                            "This is not a valid CIDR block.") from None
    if not 16 <= block.prefixlen <= 28:
        raise Ec2Error(code, f"The CIDR '{block}' is invalid: the block must be between a /16 and a /28.")
    return block


def vpc_item(vpc: Vpc, owner_id: str, tags: dict[str, str] | None) -> dict[str, Any]:
    ec2_id = ids.encode("vpc", vpc.id)
    return {
        "VpcId": ec2_id, "CidrBlock": vpc.cidr, "State": "available", "DhcpOptionsId": ids.encode("dopt", vpc.id),
        "InstanceTenancy": "default", "IsDefault": False, "OwnerId": owner_id,
        "CidrBlockAssociationSet": [{"AssociationId": ids.encode("vpc-cidr-assoc", vpc.id), "CidrBlock": vpc.cidr,
                                     "CidrBlockState": {"State": "associated"}}],
        "Ipv6CidrBlockAssociationSet": [], "BlockPublicAccessStates": {"InternetGatewayBlockMode": "off"},
        "Tags": [{"Key": k, "Value": v} for k, v in sorted((tags or {}).items())],
    }


def subnet_item(subnet: Subnet, realms: dict[str, Realm], owner_id: str, region: str,
                tags: dict[str, str] | None) -> dict[str, Any]:
    ec2_id = ids.encode("subnet", subnet.id)
    realm = realms.get(subnet.realm_id or "")
    usable = max(0, ipaddress.IPv4Network(subnet.cidr).num_addresses - RESERVED_PER_SUBNET) if subnet.cidr else 0
    taken = max(0, (ipaddress.IPv4Network(subnet.cidr).num_addresses - 3) - subnet.free_addresses) if subnet.cidr else 0
    return {
        "SubnetId": ec2_id, "VpcId": ids.encode("vpc", subnet.vpc_id), "State": "available",
        "AvailabilityZone": realm.name if realm else "", "AvailabilityZoneId": realm.id if realm else "",
        "CidrBlock": subnet.cidr, "AvailableIpAddressCount": max(0, usable - taken), "DefaultForAz": False,
        "MapPublicIpOnLaunch": False, "MapCustomerOwnedIpOnLaunch": False, "AssignIpv6AddressOnCreation": False,
        "Ipv6CidrBlockAssociationSet": [], "OwnerId": owner_id, "EnableDns64": False, "Ipv6Native": False,
        "PrivateDnsNameOptionsOnLaunch": {"HostnameType": "ip-name", "EnableResourceNameDnsARecord": False,
                                          "EnableResourceNameDnsAAAARecord": False},
        "BlockPublicAccessStates": {"InternetGatewayBlockMode": "off"},
        "SubnetArn": f"arn:aws:ec2:{region}:{owner_id}:subnet/{ec2_id}",
        "Tags": [{"Key": k, "Value": v} for k, v in sorted((tags or {}).items())],
    }


def _ports(rule: SecurityRule) -> tuple[int | None, int | None]:
    """EC2's FromPort/ToPort of a rule: none for all protocols, -1 for "every" ICMP type or code or port."""
    if rule.protocol is None:
        return None, None
    low = -1 if rule.port_min is None else rule.port_min
    high = -1 if rule.port_max is None else rule.port_max
    if rule.protocol in ("tcp", "udp") and rule.port_min is None:
        return 0, 65535
    return low, high


def permissions(group: SecurityGroup, direction: str, owner_id: str) -> list[dict[str, Any]]:
    """A group's rules in one direction as EC2 IpPermissions, grouped by (protocol, ports)."""
    grouped: dict[tuple[Any, ...], dict[str, Any]] = {}
    for rule in group.rules:
        if rule.direction != direction:
            continue
        low, high = _ports(rule)
        key = (rule.protocol or "-1", low, high)
        permission = grouped.setdefault(key, {"IpProtocol": rule.protocol or "-1", "IpRanges": [], "Ipv6Ranges": [],
                                              "PrefixListIds": [], "UserIdGroupPairs": []})
        if low is not None:
            permission.update(FromPort=low, ToPort=high)
        described = {"Description": rule.description} if rule.description else {}
        if rule.remote_group_id:
            permission["UserIdGroupPairs"].append({"GroupId": ids.encode("sg", rule.remote_group_id),
                                                   "UserId": owner_id, **described})
        elif rule.ethertype == "IPv6":
            permission["Ipv6Ranges"].append({"CidrIpv6": rule.remote_cidr or "::/0", **described})
        else:
            permission["IpRanges"].append({"CidrIp": rule.remote_cidr or "0.0.0.0/0", **described})
    return list(grouped.values())


def group_item(group: SecurityGroup, owner_id: str, tags: dict[str, str] | None) -> dict[str, Any]:
    return {
        "GroupId": ids.encode("sg", group.id), "GroupName": group.name, "Description": group.description,
        "VpcId": ids.encode("vpc", group.vpc_id), "OwnerId": owner_id,
        "IpPermissions": permissions(group, "ingress", owner_id),
        "IpPermissionsEgress": permissions(group, "egress", owner_id),
        "Tags": [{"Key": k, "Value": v} for k, v in sorted((tags or {}).items())],
    }


def rule_item(rule: SecurityRule, owner_id: str) -> dict[str, Any]:
    """One rule as DescribeSecurityGroupRules (and Authorize*'s answer) shows it."""
    low, high = _ports(rule)
    item: dict[str, Any] = {"SecurityGroupRuleId": ids.encode("sgr", rule.id), "GroupId": ids.encode("sg", rule.group_id),
                            "GroupOwnerId": owner_id, "IsEgress": rule.direction == "egress",
                            "IpProtocol": rule.protocol or "-1", "FromPort": -1 if low is None else low,
                            "ToPort": -1 if high is None else high, "Tags": []}
    if rule.description:  # absent when empty, as AWS answers: Terraform reads "" as a change from no description
        item["Description"] = rule.description
    if rule.remote_group_id:
        item["ReferencedGroupInfo"] = {"GroupId": ids.encode("sg", rule.remote_group_id), "UserId": owner_id}
    elif rule.ethertype == "IPv6":
        item["CidrIpv6"] = rule.remote_cidr or "::/0"
    else:
        item["CidrIpv4"] = rule.remote_cidr or "0.0.0.0/0"
    return item


def _int(value: Any, name: str) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise invalid_value(f"Invalid value '{str(value)[:50]}' for {name}") from None


def requested_rules(call: Call, direction: str, group: SecurityGroup,
                    groups: list[SecurityGroup]) -> list[SecurityRule]:
    """The rules an Authorize*/Revoke* call names: IpPermissions.N, or the legacy top-level parameters."""
    given = list(call.get("IpPermissions") or [])
    if not given and (call.get("IpProtocol") or call.get("CidrIp") or call.get("SourceSecurityGroupName")):
        given = [{"IpProtocol": call.get("IpProtocol") or "-1", "FromPort": call.get("FromPort"),
                  "ToPort": call.get("ToPort"),
                  "IpRanges": [{"CidrIp": call.get("CidrIp")}] if call.get("CidrIp") else [],
                  "UserIdGroupPairs": ([{"GroupName": call.get("SourceSecurityGroupName")}]
                                       if call.get("SourceSecurityGroupName") else [])}]
    if not given:
        raise Ec2Error("MissingParameter", "No IpPermissions given: name at least one rule")
    rules = []
    for permission in given:
        text = str(permission.get("IpProtocol") or "").lower()
        if text not in PROTOCOLS:
            raise invalid_value(f"Invalid value '{text[:20]}' for IP protocol. Supported here: tcp, udp, icmp, -1")
        protocol = PROTOCOLS[text]
        low, high = _int(permission.get("FromPort"), "FromPort"), _int(permission.get("ToPort"), "ToPort")
        if protocol in ("tcp", "udp"):
            if low is None or high is None or not 0 <= low <= high <= 65535:
                raise invalid_value(f"Invalid port range {low}-{high} for {protocol}: give FromPort <= ToPort "
                                    "within 0-65535")
        elif protocol == "icmp":
            low = None if low in (None, -1) else low
            high = None if high in (None, -1) else high
            if (low is not None and not 0 <= low <= 255) or (high is not None and not 0 <= high <= 255):
                raise invalid_value("Invalid ICMP type or code: give -1 or 0-255")
        else:
            low = high = None
        low, high = rule_ports(protocol, low, high)
        sources: list[dict[str, Any]] = []
        for block in permission.get("IpRanges") or []:
            cidr = _cidr(block.get("CidrIp") or "", ipaddress.IPv4Network)
            sources.append({"remote_cidr": cidr, "ethertype": "IPv4", "description": block.get("Description") or ""})
        for block in permission.get("Ipv6Ranges") or []:
            cidr = _cidr(block.get("CidrIpv6") or "", ipaddress.IPv6Network)
            sources.append({"remote_cidr": cidr, "ethertype": "IPv6", "description": block.get("Description") or ""})
        for pair in permission.get("UserIdGroupPairs") or []:
            other = _peer(pair, group, groups)
            sources.append({"remote_group_id": other.id, "description": pair.get("Description") or ""})
        if permission.get("PrefixListIds"):
            raise Ec2Error("UnsupportedOperation", "Prefix lists are not supported here")
        if not sources:
            raise Ec2Error("MissingParameter", "Each permission needs IpRanges, Ipv6Ranges or UserIdGroupPairs")
        for source in sources:
            rules.append(SecurityRule(direction=direction, protocol=protocol, port_min=low, port_max=high,
                                      remote_cidr=source.get("remote_cidr"), remote_group_id=source.get("remote_group_id"),
                                      ethertype=source.get("ethertype", "IPv4"), description=source["description"]))
    return rules


def _cidr(text: str, kind: Any) -> str:
    try:
        return str(kind(text, strict=False))
    except ValueError:
        raise invalid_value(f"Value ({text[:100]}) for parameter cidrIp is invalid. This is not a valid CIDR block.") from None


def _peer(pair: dict[str, Any], group: SecurityGroup, groups: list[SecurityGroup]) -> SecurityGroup:
    """The group a UserIdGroupPair names (by id, or by name in the same VPC)."""
    if pair.get("GroupId"):
        (wanted,) = networks.decode_ids("sg", [pair["GroupId"]], "GroupId") or [""]
        found = next((g for g in groups if g.id == wanted), None)
    else:
        found = next((g for g in groups if g.vpc_id == group.vpc_id and g.name == pair.get("GroupName")), None)
    if found is None:
        raise Ec2Error("InvalidGroup.NotFound",
                       f"The security group '{str(pair.get('GroupId') or pair.get('GroupName'))[:100]}' does not exist")
    if found.vpc_id != group.vpc_id:
        raise invalid_value("A rule may only name a security group of the same VPC")
    return found


def launch_placement(call: Call, subnet_given: str | None, groups_given: list[str]) -> tuple[Subnet | None, list[str]]:
    """The provider subnet a RunInstances `SubnetId` names (None for a logical network's, the read-only view)
    and the backend ids of the groups `SecurityGroupId.N` names, which must be of that subnet's VPC."""
    if not subnet_given and not groups_given:
        return None, []
    if _engine_networks_only(call, subnet_given, groups_given):
        return None, []
    provided = ProviderNetworks.of(call, groups=bool(groups_given))  # a user the provider refuses: its views
    subnet = None
    if subnet_given:
        (wanted,) = networks.decode_ids("subnet", [subnet_given], "SubnetID") or [""]
        subnet = next((s for s in provided.subnets if s.id == wanted), None)
    chosen = []
    for given in groups_given:
        (wanted,) = networks.decode_ids("sg", [given], "GroupId") or [""]
        group = next((g for g in provided.groups if g.id == wanted), None)
        if group is None and subnet is None:
            continue  # a logical network's allow-all default group, as before: nothing to apply
        if group is None:
            raise Ec2Error("InvalidGroup.NotFound", f"The security group '{given[:100]}' does not exist in the "
                                                    f"subnet's VPC")
        if subnet is None or group.vpc_id != subnet.vpc_id:
            raise Ec2Error("InvalidParameter", f"Security group {given[:100]} and subnet "
                                               f"{(subnet_given or 'of the default VPC')[:100]} belong to different networks.")
        chosen.append(group.id)
    return subnet, chosen


def _engine_networks_only(call: Call, subnet_given: str | None, groups_given: list[str]) -> bool:
    """Whether a launch names only a read-only view's subnet and default groups (the engine's own networks, as
    Terraform and Ansible name the default VPC's): it needs nothing of the provider, and works while it is down."""
    try:
        subnet = networks.decode_ids("subnet", [subnet_given], "SubnetID")[0] if subnet_given else None
        groups = networks.decode_ids("sg", groups_given, "GroupId") or []
    except Ec2Error:
        return False  # the provider's path answers the malformed id
    own = [n for n in call.driver.networks(call.scope) if not n.external]
    if subnet is not None and subnet not in {s.id for s in networks.subnets(own, call.driver.realms(call.scope))}:
        return False
    return all(g in {n.id for n in own} for g in groups)


class Placements:
    """Where instances' interfaces are, for rendering them: on a provider subnet, its VPC, subnet and the
    groups of its port; elsewhere the read-only views' (..networks). Asked of the provider once, and only
    when an instance is rendered (one request when the data center has no VPC of the provider)."""

    def __init__(self, call: Call) -> None:
        self._call = call
        self._loaded = False
        self.subnets: dict[str, Subnet] = {}  # logical network id -> the provider subnet it is
        self.groups: dict[str, SecurityGroup] = {}
        self.interface_groups: dict[str, list[str]] = {}
        self.unavailable: BackendUnavailable | BackendError | None = None  # why the provider could not be asked
        self.external: set[str] = set()  # with `unavailable`: the engine's networks imported from the provider

    def _load(self) -> None:
        if self._loaded:
            return
        self._loaded = True
        driver, scope = self._call.driver, self._call.scope
        try:
            if not driver.vpcs(scope):
                return
            self.subnets = {s.network_id: s for s in driver.subnets(scope) if s.network_id}
            self.groups = {g.id: g for g in driver.security_groups(scope)}
            self.interface_groups = driver.interface_groups(scope)
        except (NotSupported, AuthFailure):  # no provider, or one that does not admit this user
            self.subnets, self.groups, self.interface_groups = {}, {}, {}
        except (BackendUnavailable, BackendError) as exc:
            # The provider is down: instances on the engine's own networks render as ever (a launch into the
            # default VPC is answered, not retried into a second VM); one on a provider network answers the
            # provider's unavailability, never a wrong VPC that would make Terraform replace it.
            self.subnets, self.groups, self.interface_groups = {}, {}, {}
            self.unavailable = exc
            self.external = {n.id for n in driver.networks(scope) if n.external}

    def fingerprint(self) -> str | None:
        """Equal for two requests whose instances this renders alike; None while the provider is unreachable
        (rendering may then refuse an instance, which must never be cached)."""
        self._load()
        if self.unavailable is not None:
            return None
        return repr((sorted(self.subnets.items()), sorted(self.groups.items()), sorted(self.interface_groups.items())))

    def _check_reachable(self, network_id: str | None) -> None:
        if self.unavailable is not None and network_id in self.external:
            raise self.unavailable

    def _groups(self, nic_id: str) -> list[dict[str, str]]:
        return [{"GroupId": ids.encode("sg", g), "GroupName": self.groups[g].name}
                for g in self.interface_groups.get(nic_id, []) if g in self.groups]

    def _launching(self, instance: Instance) -> tuple[Subnet, list[dict[str, str]]] | None:
        """The subnet and groups a launch asked for while the instance's interface is not there yet (the
        launch places it just before the first start); None once it is, or for a launch into no subnet."""
        subnet = next((s for s in self.subnets.values() if s.id == instance.launch_subnet_id), None)
        if subnet is None or any(n.network_id == subnet.network_id for n in instance.interfaces):
            return None
        group_ids = instance.launch_group_ids or [g.id for g in self.groups.values()
                                                  if g.vpc_id == subnet.vpc_id and g.name == "default"]
        return subnet, [{"GroupId": ids.encode("sg", g), "GroupName": self.groups[g].name}
                        for g in group_ids if g in self.groups]

    def instance(self, instance: Instance) -> dict[str, Any]:
        """VpcId, SubnetId and SecurityGroups of an instance item (its first NIC on a network decides; while
        its launch has not placed it, the subnet and groups the launch asked for)."""
        self._load()
        launching = self._launching(instance) if instance.launch_subnet_id else None
        if launching is not None:
            subnet, groups = launching
            return {"VpcId": ids.encode("vpc", subnet.vpc_id), "SubnetId": ids.encode("subnet", subnet.id),
                    "SecurityGroups": groups}
        for nic in instance.interfaces:
            if nic.network_id in self.subnets:
                subnet = self.subnets[nic.network_id]
                return {"VpcId": ids.encode("vpc", subnet.vpc_id), "SubnetId": ids.encode("subnet", subnet.id),
                        "SecurityGroups": self._groups(nic.id)}
            if nic.network_id:
                self._check_reachable(nic.network_id)
                break
        return networks.instance_placement(instance)

    def interface(self, instance: Instance, nic: NetworkInterface) -> dict[str, Any]:
        """VpcId, SubnetId and Groups of one interface item (the image's interface that a launch into a subnet
        replaces: that subnet's and groups)."""
        self._load()
        launching = self._launching(instance) if instance.launch_subnet_id else None
        if launching is not None:
            subnet, groups = launching
            return {"VpcId": ids.encode("vpc", subnet.vpc_id), "SubnetId": ids.encode("subnet", subnet.id),
                    "Groups": groups}
        self._check_reachable(nic.network_id)
        subnet = self.subnets.get(nic.network_id or "")
        if subnet is not None:
            return {"VpcId": ids.encode("vpc", subnet.vpc_id), "SubnetId": ids.encode("subnet", subnet.id),
                    "Groups": self._groups(nic.id)}
        return {**networks.interface_placement(instance, nic.network_id),
                "Groups": [networks.default_group(nic.network_id)] if nic.network_id else []}
