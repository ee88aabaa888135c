"""VPCs, subnets and security groups on the engine's OVN network provider (ovirt-provider-ovn).

The mapping, as OpenStack's ec2-api made it over Neutron, within what ovirt-provider-ovn serves:

* **VPC = a Neutron router**, named `vpc:<data center id>:<CIDR>`: routed between its subnets, isolated from
  other routers' subnets. OVN keeps no address range for a router, so its name carries the VPC's block
  (and its data center, as the provider serves every data center of the engine).
* **Subnet = a Neutron network with its one subnet** (the provider allows one IPv4 subnet per network),
  plugged into the VPC's router and imported into the data center, which makes it a logical network with
  a vNIC profile VM NICs can use. The subnet's `name` is the zone's (cluster's) id.
* **Security group = a Neutron security group** named `<router id>:<group name>`: groups are global in
  Neutron and belong to a VPC on EC2, so the name carries the VPC. Each VPC has its `default` group, made
  with the router: all traffic in from its own members, all out.

Deletes refuse what EC2 refuses (InUse, the frontends' DependencyViolation) before touching anything, and a
create that fails half-way removes what it made.
"""
from __future__ import annotations

import ipaddress
import re
import uuid
from collections.abc import Sequence
from typing import Any

from lxml import etree

from gateway.errors import BackendError, GatewayError, InUse, InvalidState, NotFound, NotSupported
from gateway.network_model import SecurityGroup, SecurityRule, Subnet, Vpc
from gateway.scope import Scope

from .base import OvirtBase
from .ovn_client import OvnClient

ROUTER_NAME = re.compile(r"^vpc:(?P<dc>[0-9a-fA-F-]{36}):(?P<cidr>[0-9./]+)$")
DEFAULT_GROUP = "default"
ROUTER_PORT = "network:router_interface"
EVERYWHERE = {"IPv4": "0.0.0.0/0", "IPv6": "::/0"}  # a rule without a remote prefix or group: Neutron's "any"


def _rule(raw: dict[str, Any]) -> SecurityRule:
    def port(name: str) -> int | None:
        value = raw.get(name)
        return None if value is None else int(value)
    ethertype = str(raw.get("ethertype") or "IPv4")
    remote_group = raw.get("remote_group_id") or None
    cidr = raw.get("remote_ip_prefix") or (None if remote_group else EVERYWHERE.get(ethertype))
    return SecurityRule(direction=str(raw.get("direction")), protocol=raw.get("protocol") or None,
                        port_min=port("port_range_min"), port_max=port("port_range_max"),
                        remote_cidr=cidr, remote_group_id=remote_group, ethertype=ethertype, description=str(raw.get("description") or ""),
                        id=str(raw.get("id", "")), group_id=str(raw.get("security_group_id", "")))


def _rule_fields(group_id: str, rule: SecurityRule) -> dict[str, Any]:
    fields: dict[str, Any] = {"security_group_id": group_id, "direction": rule.direction,
                              "ethertype": rule.ethertype, "protocol": rule.protocol,
                              "port_range_min": rule.port_min, "port_range_max": rule.port_max}
    if rule.remote_cidr is not None and rule.remote_cidr != EVERYWHERE.get(rule.ethertype):
        fields["remote_ip_prefix"] = rule.remote_cidr
    if rule.remote_group_id is not None:
        fields["remote_group_id"] = rule.remote_group_id
    if rule.description:
        fields["description"] = rule.description
    return fields


class NetworkingMixin(OvirtBase):
    """The driver's networking part; every method needs the provider entry's `ovn_url`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._ovn_clients: dict[str, OvnClient] = {}

    def _ovn(self, scope: Scope) -> OvnClient:
        provider = scope.provider
        if not provider.ovn_url:
            raise NotSupported(f"The provider '{provider.name}' has no network provider configured "
                               "(ovn_url in its [[providers]] entry), so its networks are read-only")
        key = f"{provider.ovn_url}|{provider.ovn_identity_url}|{provider.ovn_tls_verify}"  # an entry's TLS is its own
        with self._lock:
            client = self._ovn_clients.get(key)
            if client is None:
                client = self._ovn_clients[key] = OvnClient(provider, self.config)
            return client

    def close(self) -> None:
        with self._lock:
            clients, self._ovn_clients = list(self._ovn_clients.values()), {}
        for client in clients:
            client.close()
        super().close()

    def _engine_provider_id(self, scope: Scope) -> str:
        """The OVN provider's id among the engine's external network providers (by its configured name)."""
        wanted = scope.provider.ovn_engine_name
        for found in self._get(scope, "openstacknetworkproviders"):
            if found.findtext("name") == wanted:
                return found.get("id", "")
        raise NotSupported(f"The engine has no external network provider named '{wanted}' "
                           "(ovn_engine_name in the provider entry)")

    # --- VPCs -------------------------------------------------------------------------------------------
    def vpcs(self, scope: Scope) -> list[Vpc]:
        place = self._place(scope)
        found = []
        for router in self._ovn(scope).list(scope, "routers"):
            named = ROUTER_NAME.match(str(router.get("name", "")))
            if named and named["dc"].lower() == place.region.id.lower():
                found.append(Vpc(router["id"], named["cidr"], place.region.id))
        return found

    def _vpc(self, scope: Scope, vpc_id: str) -> Vpc:
        found = next((v for v in self.vpcs(scope) if v.id == vpc_id), None)
        if found is None:
            raise NotFound("vpc", vpc_id)
        return found

    def create_vpc(self, scope: Scope, cidr: str) -> Vpc:
        """A router for the block, and its default group (all in from its members, all out)."""
        ovn = self._ovn(scope)
        place = self._place(scope)
        router = ovn.create(scope, "routers", "router", {"name": f"vpc:{place.region.id}:{cidr}"})
        try:
            group = self._new_group(scope, router["id"], DEFAULT_GROUP, "default VPC security group")
            self._add_rules(scope, group.id, [SecurityRule("ingress", remote_group_id=group.id)])
        except GatewayError:
            self._undo(lambda: self._drop_groups(scope, router["id"]), lambda: ovn.delete(scope, "routers", router["id"]))
            raise
        return Vpc(router["id"], cidr, place.region.id)

    def delete_vpc(self, scope: Scope, vpc_id: str) -> None:
        """Refused (InUse) while it has subnets or groups other than its default one."""
        self._vpc(scope, vpc_id)
        if any(s.vpc_id == vpc_id for s in self.subnets(scope)):
            raise InUse(f"The vpc '{vpc_id}' has dependencies (subnets) and cannot be deleted.")
        groups = [g for g in self.security_groups(scope) if g.vpc_id == vpc_id]
        if any(g.name != DEFAULT_GROUP for g in groups):
            raise InUse(f"The vpc '{vpc_id}' has dependencies (security groups) and cannot be deleted.")
        self._drop_groups(scope, vpc_id)
        self._ovn(scope).delete(scope, "routers", vpc_id)

    def _drop_groups(self, scope: Scope, vpc_id: str) -> None:
        ovn = self._ovn(scope)
        for group in ovn.list(scope, "security-groups"):
            if str(group.get("name", "")).startswith(f"{vpc_id}:"):
                ovn.delete(scope, "security-groups", group["id"])

    # --- subnets ----------------------------------------------------------------------------------------
    def subnets(self, scope: Scope) -> list[Subnet]:
        """The VPCs' subnets in the scoped data center: five provider requests and one engine request."""
        ovn = self._ovn(scope)
        place = self._place(scope)
        vpcs = {v.id for v in self.vpcs(scope)}
        if not vpcs:  # one request where the data center has no VPC of the provider
            return []
        networks = {n["id"]: n for n in ovn.list(scope, "networks")}
        ports = ovn.list(scope, "ports")
        router_of = {p["network_id"]: p["device_id"] for p in ports if p.get("device_owner") == ROUTER_PORT}
        used: dict[str, int] = {}
        for port in ports:
            for ip in port.get("fixed_ips") or []:
                used[ip.get("subnet_id", "")] = used.get(ip.get("subnet_id", ""), 0) + 1
        engine = {n.findtext("name"): n.get("id", "")
                  for n in self._get(scope, f"datacenters/{place.region.id}/networks") if n.find("external_provider") is not None}
        profiles = {network_id: profile_id for profile_id, network_id in place.networks_of_profiles.items()}
        found = []
        for raw in ovn.list(scope, "subnets"):
            router = router_of.get(raw.get("network_id", ""))
            if router not in vpcs:
                continue
            network = networks.get(raw["network_id"], {})
            engine_id = engine.get(network.get("name"))
            pool = (raw.get("allocation_pools") or [{}])[0]
            size = (int(ipaddress.IPv4Address(pool["end"])) - int(ipaddress.IPv4Address(pool["start"])) + 1
                    if pool.get("start") and pool.get("end") else 0)
            found.append(Subnet(raw["id"], router, raw.get("cidr", ""), raw.get("name") or None, engine_id,
                                profiles.get(engine_id or ""), raw.get("gateway_ip"),
                                max(0, size - used.get(raw["id"], 0) + 1)))  # the gateway's port is not in the pool
        return found

    def create_subnet(self, scope: Scope, vpc_id: str, cidr: str, realm_id: str) -> Subnet:
        """A provider network and its subnet, plugged into the VPC's router and imported into the data center."""
        ovn = self._ovn(scope)
        place = self._place(scope)
        self._vpc(scope, vpc_id)
        if realm_id not in place.realms:
            raise NotFound("availability zone", realm_id)
        provider_id = self._engine_provider_id(scope)
        name = f"subnet-{uuid.uuid4().hex[:17]}"
        network = ovn.create(scope, "networks", "network", {"name": name})
        undo = [lambda: ovn.delete(scope, "networks", network["id"])]
        try:
            raw = ovn.create(scope, "subnets", "subnet", {"network_id": network["id"], "cidr": cidr, "ip_version": 4,
                                                          "name": realm_id})
            ovn.request(scope, "PUT", f"routers/{vpc_id}/add_router_interface", {"subnet_id": raw["id"]})
            undo.insert(0, lambda: ovn.request(scope, "PUT", f"routers/{vpc_id}/remove_router_interface",
                                               {"subnet_id": raw["id"]}))
            action = etree.Element("action")
            etree.SubElement(action, "data_center", id=place.region.id)
            # an import whose answer is lost (a timeout) may have been done: its logical network goes too
            undo.insert(0, lambda: self._drop_imported(scope, place.region.id, name))
            self._call(scope, "POST", f"openstacknetworkproviders/{provider_id}/networks/{network['id']}/import",
                       body=action)
        except GatewayError:
            self._undo(*undo)
            raise
        self._forget_places()  # the new vNIC profile
        made = next((s for s in self.subnets(scope) if s.id == raw["id"]), None)
        if made is None:
            raise BackendError("The network provider made the subnet but does not list it")
        return made

    def _drop_imported(self, scope: Scope, datacenter_id: str, name: str) -> None:
        """Remove the data center's logical network imported under `name`, if the engine made one."""
        for network in self._get(scope, f"datacenters/{datacenter_id}/networks"):
            if network.findtext("name") == name and network.find("external_provider") is not None:
                self._call(scope, "DELETE", f"networks/{network.get('id', '')}", idempotent=True)
                self._forget_places()

    def delete_subnet(self, scope: Scope, subnet_id: str) -> None:
        """Refused (InUse) while a VM's NIC or another port uses it; else the logical network goes, then the
        router interface, then the provider network with its subnet."""
        ovn = self._ovn(scope)
        subnet = next((s for s in self.subnets(scope) if s.id == subnet_id), None)
        if subnet is None:
            raise NotFound("subnet", subnet_id)
        raw = ovn.request(scope, "GET", f"subnets/{subnet_id}")["subnet"]
        ports = [p for p in ovn.list(scope, "ports") if p.get("network_id") == raw["network_id"]
                 and p.get("device_owner") != ROUTER_PORT]
        if ports:
            raise InUse(f"The subnet '{subnet_id}' has dependencies (network interfaces) and cannot be deleted.")
        if subnet.network_id:
            try:
                self._call(scope, "DELETE", f"networks/{subnet.network_id}", idempotent=True)
            except InvalidState as exc:
                raise InUse(f"The subnet '{subnet_id}' has dependencies and cannot be deleted: {exc}") from None
            self._forget_places()
        ovn.request(scope, "PUT", f"routers/{subnet.vpc_id}/remove_router_interface", {"subnet_id": subnet_id})
        ovn.delete(scope, "networks", raw["network_id"])

    # --- security groups -------------------------------------------------------------------------------
    def security_groups(self, scope: Scope) -> list[SecurityGroup]:
        vpcs = {v.id for v in self.vpcs(scope)}
        if not vpcs:
            return []
        found = []
        for raw in self._ovn(scope).list(scope, "security-groups"):
            vpc_id, sep, name = str(raw.get("name", "")).partition(":")
            if sep and vpc_id in vpcs:
                found.append(SecurityGroup(raw["id"], vpc_id, name, str(raw.get("description") or ""),
                                           [_rule(r) for r in raw.get("security_group_rules") or []]))
        return found

    def _new_group(self, scope: Scope, vpc_id: str, name: str, description: str) -> SecurityGroup:
        """A group as EC2 makes one: Neutron's IPv4 egress rule stays, its IPv6 one goes (the VPC has no IPv6)."""
        ovn = self._ovn(scope)
        raw = ovn.create(scope, "security-groups", "security_group", {"name": f"{vpc_id}:{name}",
                                                                      "description": description})
        rules = [_rule(r) for r in raw.get("security_group_rules") or []]
        for rule in [r for r in rules if r.ethertype == "IPv6"]:
            ovn.delete(scope, "security-group-rules", rule.id)
        return SecurityGroup(raw["id"], vpc_id, name, description, [r for r in rules if r.ethertype != "IPv6"])

    def create_security_group(self, scope: Scope, vpc_id: str, name: str, description: str) -> SecurityGroup:
        self._vpc(scope, vpc_id)
        return self._new_group(scope, vpc_id, name, description)

    def delete_security_group(self, scope: Scope, group_id: str) -> None:
        """InUse while a port has it (the provider refuses) or another group's rule names it (checked here:
        Neutron would drop such rules with the group, which EC2 refuses as a DependencyViolation)."""
        users = [g for g in self.security_groups(scope)
                 if g.id != group_id and any(r.remote_group_id == group_id for r in g.rules)]
        if users:
            raise InUse(f"The security group '{group_id}' has a dependent object (a rule of the group "
                        f"'{users[0].name}', {users[0].id}) and cannot be deleted.")
        self._ovn(scope).delete(scope, "security-groups", group_id)

    def add_security_rules(self, scope: Scope, group_id: str, rules: Sequence[SecurityRule]) -> list[SecurityRule]:
        return self._add_rules(scope, group_id, rules)

    def _add_rules(self, scope: Scope, group_id: str, rules: Sequence[SecurityRule]) -> list[SecurityRule]:
        """All or none: a rule the provider refuses removes those added before it."""
        ovn = self._ovn(scope)
        added: list[SecurityRule] = []
        try:
            for rule in rules:
                added.append(_rule(ovn.create(scope, "security-group-rules", "security_group_rule",
                                              _rule_fields(group_id, rule))))
        except GatewayError:
            self._undo(*[lambda rule_id=r.id: ovn.delete(scope, "security-group-rules", rule_id) for r in added])
            raise
        return added

    def remove_security_rules(self, scope: Scope, rule_ids: Sequence[str]) -> None:
        ovn = self._ovn(scope)
        for rule_id in rule_ids:
            ovn.delete(scope, "security-group-rules", rule_id)

    # --- instances' interfaces -------------------------------------------------------------------------
    def place_on_subnet(self, scope: Scope, vm_id: str, subnet_id: str, group_ids: Sequence[str],
                        ip: str | None = None) -> None:
        """Before a launched VM's first start: its one NIC on the subnet's vNIC profile (the image's NICs go),
        its provider port in `group_ids` (none given: the VPC's default group). With `ip`, the NIC is added
        unplugged and its port made with that address before it is plugged, which the engine's provider proxy
        then takes as the NIC's (see .interface_ports). Safe to repeat."""
        subnet = next((s for s in self.subnets(scope) if s.id == subnet_id), None)
        if subnet is None or not subnet.profile_id:
            raise NotFound("subnet", subnet_id)
        nics = list(self._get(scope, f"vms/{vm_id}/nics", what=("instance", vm_id)))
        placed = next((n for n in nics if (n.find("vnic_profile") is not None
                                           and n.find("vnic_profile").get("id") == subnet.profile_id)), None)
        if placed is None:
            for nic in nics:
                self._call(scope, "DELETE", f"vms/{vm_id}/nics/{nic.get('id')}", idempotent=True)
            body = etree.Element("nic")
            etree.SubElement(body, "name").text = "nic1"
            etree.SubElement(body, "vnic_profile", id=subnet.profile_id)
            if ip:
                etree.SubElement(body, "plugged").text = "false"
            placed = self._call(scope, "POST", f"vms/{vm_id}/nics", body=body, what=("instance", vm_id))
        nic_id = placed.get("id", "") if placed is not None else ""
        if not nic_id:  # an empty device id would match (and regroup) every port bound to no device
            raise BackendError("The engine added the instance's interface but did not say which it is")
        groups = list(group_ids) or [g.id for g in self.security_groups(scope)
                                     if g.vpc_id == subnet.vpc_id and g.name == DEFAULT_GROUP]
        ovn = self._ovn(scope)
        if ip and placed is not None and placed.findtext("plugged") != "true":
            self._fixed_port(scope, vm_id, placed, subnet_id, groups, ip)
        for port in ovn.list(scope, "ports", device_id=nic_id):
            if sorted(port.get("security_groups") or []) != sorted(groups):
                ovn.request(scope, "PUT", f"ports/{port['id']}", {"port": {"security_groups": groups}})

    def _fixed_port(self, scope: Scope, vm_id: str, nic: Any, subnet_id: str, groups: list[str], ip: str) -> None:
        """The unplugged NIC's port with the address `ip` (made unless a crashed try made it), then the NIC plugged."""
        ovn = self._ovn(scope)
        nic_id = nic.get("id", "")
        if not ovn.list(scope, "ports", device_id=nic_id):
            network_id = ovn.request(scope, "GET", f"subnets/{subnet_id}")["subnet"]["network_id"]
            ovn.create(scope, "ports", "port", {
                "network_id": network_id, "name": nic.findtext("name") or "", "mac_address": nic.findtext("mac/address"),
                "fixed_ips": [{"subnet_id": subnet_id, "ip_address": ip}], "security_groups": groups,
                "device_owner": "oVirt", "device_id": nic_id})
        body = etree.Element("nic")
        etree.SubElement(body, "plugged").text = "true"
        self._call(scope, "PUT", f"vms/{vm_id}/nics/{nic_id}", body=body, idempotent=True, what=("instance", vm_id))

    def interface_groups(self, scope: Scope) -> dict[str, list[str]]:
        """VM NIC id -> the security groups of its provider port (NICs on logical networks have none)."""
        return {p["device_id"]: list(p.get("security_groups") or []) for p in self._ovn(scope).list(scope, "ports")
                if p.get("device_owner") == "oVirt" and p.get("device_id")}

    @staticmethod
    def _undo(*steps: Any) -> None:
        """Best effort: what a failed create made goes; a step that fails leaves the rest to be tried."""
        for step in steps:
            try:
                step()
            except GatewayError:
                pass

