"""The simulated ovirt-provider-ovn's objects: the Neutron v2.0 subset it serves, kept in memory.

Shapes and rules follow the provider (oVirt/ovirt-provider-ovn) and the Neutron API reference: one IPv4
subnet per network (an OVN logical switch has one `subnet` option), a port's address from its subnet's
allocation pool (gateway first, then the pool in order), one fixed IP per port (400 for more), a new security
group with Neutron's two egress rules (IPv4 and IPv6, any protocol), 409 for a duplicate rule, a network with
ports, a subnet with a router interface, a router with interfaces, and a group used by a port or named by
another group's rule.
"""
from __future__ import annotations

import ipaddress
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any

TENANT = "00000000000000000000000000000001"  # ovirt-provider-ovn's single tenant (its `tenant_id` setting)
DEVICE_ROUTER = "network:router_interface"
OVN_MTU = 1442  # Geneve overhead on a 1500-byte underlay: the provider's default network MTU


class NeutronError(Exception):
    """An error answer: `{"error": {"message", "code", "title"}}` as the provider's base handler writes it."""

    TITLES = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 409: "Conflict"}

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message

    def body(self) -> dict[str, Any]:
        return {"error": {"message": self.message, "code": self.status, "title": self.TITLES.get(self.status, "")}}


def _new_id() -> str:
    return str(uuid.uuid4())


@dataclass
class OvnState:
    """Every Neutron object of the simulated provider, under one lock."""

    networks: dict[str, dict[str, Any]] = field(default_factory=dict)
    subnets: dict[str, dict[str, Any]] = field(default_factory=dict)
    ports: dict[str, dict[str, Any]] = field(default_factory=dict)
    routers: dict[str, dict[str, Any]] = field(default_factory=dict)
    groups: dict[str, dict[str, Any]] = field(default_factory=dict)
    rules: dict[str, dict[str, Any]] = field(default_factory=dict)
    lock: threading.RLock = field(default_factory=threading.RLock)

    # -- lookups ----------------------------------------------------------------------------------------
    def get(self, kind: str, object_id: str) -> dict[str, Any]:
        found = getattr(self, kind).get(object_id)
        if found is None:
            noun = {"groups": "security_group", "rules": "security_group_rule"}.get(kind, kind[:-1])
            raise NeutronError(404, f"Cannot find {noun} with id {object_id}")
        return found

    def group_view(self, group: dict[str, Any]) -> dict[str, Any]:
        rules = [r for r in self.rules.values() if r["security_group_id"] == group["id"]]
        return {**group, "security_group_rules": rules}

    # -- networks ---------------------------------------------------------------------------------------
    def add_network(self, body: dict[str, Any]) -> dict[str, Any]:
        network = {"id": _new_id(), "name": str(body.get("name", "")), "admin_state_up": True, "status": "ACTIVE",
                   "subnets": [], "tenant_id": TENANT, "project_id": TENANT, "shared": False,
                   "mtu": int(body.get("mtu") or OVN_MTU),
                   "port_security_enabled": bool(body.get("port_security_enabled", True))}
        self.networks[network["id"]] = network
        return network

    def delete_network(self, network_id: str) -> None:
        self.get("networks", network_id)
        if any(p["network_id"] == network_id for p in self.ports.values()):
            raise NeutronError(409, f"Unable to complete operation on network {network_id}. "
                                    "There are one or more ports still in use on the network.")
        for subnet_id in [s for s, v in self.subnets.items() if v["network_id"] == network_id]:
            del self.subnets[subnet_id]
        del self.networks[network_id]

    # -- subnets ----------------------------------------------------------------------------------------
    def add_subnet(self, body: dict[str, Any]) -> dict[str, Any]:
        network = self.get("networks", str(body.get("network_id", "")))
        if body.get("ip_version", 4) != 4:
            raise NeutronError(400, "Only IPv4 subnets are supported here")
        try:
            block = ipaddress.IPv4Network(str(body.get("cidr", "")), strict=True)
        except ValueError as exc:
            raise NeutronError(400, f"Invalid input for cidr: {exc}") from None
        if block.num_addresses < 4:
            raise NeutronError(400, f"Invalid input for cidr: {block} is too small")
        if network["subnets"]:
            raise NeutronError(400, f"Unable to create more than one subnet for network {network['id']}")
        hosts = list(block.hosts())
        gateway = str(body.get("gateway_ip") or hosts[0])
        subnet = {"id": _new_id(), "name": str(body.get("name", "")), "network_id": network["id"],
                  "cidr": str(block), "ip_version": 4, "gateway_ip": gateway,
                  "enable_dhcp": bool(body.get("enable_dhcp", True)),
                  "allocation_pools": [{"start": str(hosts[1]), "end": str(hosts[-1])}],
                  "dns_nameservers": list(body.get("dns_nameservers") or []), "host_routes": [],
                  "tenant_id": TENANT, "project_id": TENANT}
        self.subnets[subnet["id"]] = subnet
        network["subnets"] = [subnet["id"]]
        return subnet

    def delete_subnet(self, subnet_id: str) -> None:
        subnet = self.get("subnets", subnet_id)
        if any(ip["subnet_id"] == subnet_id for p in self.ports.values() for ip in p["fixed_ips"]):
            raise NeutronError(409, f"Unable to complete operation on subnet {subnet_id}: "
                                    "One or more ports have an IP allocation from this subnet.")
        del self.subnets[subnet_id]
        network = self.networks.get(subnet["network_id"])
        if network is not None:
            network["subnets"] = []

    def free_address(self, subnet: dict[str, Any], wanted: str | None) -> str:
        """`wanted` if it is in the pool and free (400/409 otherwise), else the pool's first free address."""
        pool = subnet["allocation_pools"][0]
        start, end = ipaddress.IPv4Address(pool["start"]), ipaddress.IPv4Address(pool["end"])
        taken = {ip["ip_address"] for p in self.ports.values() for ip in p["fixed_ips"]
                 if ip["subnet_id"] == subnet["id"]}
        if wanted is not None:
            if wanted == subnet["gateway_ip"] and wanted not in taken:
                return wanted
            try:
                address = ipaddress.IPv4Address(wanted)
            except ValueError:
                raise NeutronError(400, f"Invalid input for ip_address: {wanted!r}") from None
            if not start <= address <= end:
                raise NeutronError(400, f"IP address {wanted} is not a valid IP for the specified subnet.")
            if wanted in taken:
                raise NeutronError(409, f"IP address {wanted} already allocated in subnet {subnet['id']}")
            return wanted
        for number in range(int(start), int(end) + 1):
            if str(ipaddress.IPv4Address(number)) not in taken:
                return str(ipaddress.IPv4Address(number))
        raise NeutronError(409, f"No more IP addresses available on network {subnet['network_id']}.")

    # -- ports ------------------------------------------------------------------------------------------
    @staticmethod
    def _one_fixed_ip(body: dict[str, Any]) -> None:
        """The provider's port mapper takes one fixed IP per port (OVN could hold more; the provider does not)."""
        if len(body.get("fixed_ips") or []) > 1:
            raise NeutronError(400, "Specifying more then one fixed_ips value is not allowed")

    def add_port(self, body: dict[str, Any]) -> dict[str, Any]:
        network = self.get("networks", str(body.get("network_id", "")))
        self._one_fixed_ip(body)
        fixed = body.get("fixed_ips") or [{}]
        subnet_id = fixed[0].get("subnet_id") or (network["subnets"][0] if network["subnets"] else None)
        fixed_ips = []
        if subnet_id is not None:
            subnet = self.get("subnets", subnet_id)
            fixed_ips = [{"subnet_id": subnet_id, "ip_address": self.free_address(subnet, fixed[0].get("ip_address"))}]
        groups = list(body.get("security_groups") or [])
        for group_id in groups:
            self.get("groups", group_id)
        port = {"id": _new_id(), "name": str(body.get("name", "")), "network_id": network["id"],
                "device_id": str(body.get("device_id", "")), "device_owner": str(body.get("device_owner", "")),
                "mac_address": str(body.get("mac_address") or _mac()), "fixed_ips": fixed_ips,
                "admin_state_up": bool(body.get("admin_state_up", True)), "security_groups": groups,
                "port_security_enabled": bool(body.get("port_security_enabled", network["port_security_enabled"])),
                "tenant_id": TENANT, "project_id": TENANT}
        self.ports[port["id"]] = port
        return port

    def update_port(self, port_id: str, body: dict[str, Any]) -> dict[str, Any]:
        port = self.get("ports", port_id)
        self._one_fixed_ip(body)
        if "security_groups" in body:
            for group_id in body["security_groups"] or []:
                self.get("groups", group_id)
            port["security_groups"] = list(body["security_groups"] or [])
        for key in ("name", "device_id", "device_owner", "admin_state_up", "port_security_enabled"):
            if key in body:
                port[key] = body[key]
        return port

    def delete_port(self, port_id: str) -> None:
        self.get("ports", port_id)
        del self.ports[port_id]

    # -- routers ----------------------------------------------------------------------------------------
    def add_router(self, body: dict[str, Any]) -> dict[str, Any]:
        router = {"id": _new_id(), "name": str(body.get("name", "")), "admin_state_up": True, "status": "ACTIVE",
                  "external_gateway_info": None, "routes": [], "tenant_id": TENANT, "project_id": TENANT}
        self.routers[router["id"]] = router
        return router

    def delete_router(self, router_id: str) -> None:
        self.get("routers", router_id)
        if any(p["device_id"] == router_id for p in self.ports.values()):
            raise NeutronError(409, f"Router {router_id} still has ports")
        del self.routers[router_id]

    def add_router_interface(self, router_id: str, body: dict[str, Any]) -> dict[str, Any]:
        self.get("routers", router_id)
        subnet = self.get("subnets", str(body.get("subnet_id", "")))
        if any(p["device_id"] == router_id and p["network_id"] == subnet["network_id"] for p in self.ports.values()):
            raise NeutronError(400, f"Router already has a port on subnet {subnet['id']}")
        port = self.add_port({"network_id": subnet["network_id"], "device_id": router_id,
                              "device_owner": DEVICE_ROUTER,
                              "fixed_ips": [{"subnet_id": subnet["id"], "ip_address": subnet["gateway_ip"]}]})
        return {"id": router_id, "subnet_id": subnet["id"], "subnet_ids": [subnet["id"]], "port_id": port["id"],
                "network_id": subnet["network_id"], "tenant_id": TENANT, "project_id": TENANT}

    def remove_router_interface(self, router_id: str, body: dict[str, Any]) -> dict[str, Any]:
        self.get("routers", router_id)
        subnet_id = str(body.get("subnet_id", ""))
        port = next((p for p in self.ports.values() if p["device_id"] == router_id
                     and any(ip["subnet_id"] == subnet_id for ip in p["fixed_ips"])), None)
        if port is None:
            raise NeutronError(404, f"Router {router_id} has no interface on subnet {subnet_id}")
        del self.ports[port["id"]]
        return {"id": router_id, "subnet_id": subnet_id, "subnet_ids": [subnet_id], "port_id": port["id"],
                "network_id": port["network_id"], "tenant_id": TENANT, "project_id": TENANT}

    # -- security groups --------------------------------------------------------------------------------
    def add_group(self, body: dict[str, Any]) -> dict[str, Any]:
        group = {"id": _new_id(), "name": str(body.get("name", "")), "description": str(body.get("description", "")),
                 "tenant_id": TENANT, "project_id": TENANT}
        self.groups[group["id"]] = group
        for ethertype in ("IPv4", "IPv6"):
            self.add_rule({"security_group_id": group["id"], "direction": "egress", "ethertype": ethertype})
        return self.group_view(group)

    def delete_group(self, group_id: str) -> None:
        self.get("groups", group_id)
        if any(group_id in p["security_groups"] for p in self.ports.values()):
            raise NeutronError(409, f"Security Group {group_id} in use.")
        if any(r["remote_group_id"] == group_id and r["security_group_id"] != group_id for r in self.rules.values()):
            raise NeutronError(409, f"Security Group {group_id} in use.")
        for rule_id in [r for r, v in self.rules.items() if v["security_group_id"] == group_id]:
            del self.rules[rule_id]
        del self.groups[group_id]

    def add_rule(self, body: dict[str, Any]) -> dict[str, Any]:
        self.get("groups", str(body.get("security_group_id", "")))
        if body.get("direction") not in ("ingress", "egress"):
            raise NeutronError(400, f"Invalid input for direction: {body.get('direction')!r}")
        ethertype = body.get("ethertype", "IPv4")
        if ethertype not in ("IPv4", "IPv6"):
            raise NeutronError(400, f"Invalid input for ethertype: {ethertype!r}")
        protocol = body.get("protocol")
        if protocol not in (None, "tcp", "udp", "icmp"):
            raise NeutronError(400, f"Security group rule protocol {protocol} not supported.")
        if body.get("remote_group_id") is not None:
            self.get("groups", str(body["remote_group_id"]))
            if body.get("remote_ip_prefix") is not None:
                raise NeutronError(400, "Only remote_ip_prefix or remote_group_id may be provided.")
        low, high = body.get("port_range_min"), body.get("port_range_max")
        if protocol in ("tcp", "udp") and low is not None and high is not None and int(low) > int(high):
            raise NeutronError(400, "For TCP/UDP protocols, port_range_min must be <= port_range_max")
        rule = {"security_group_id": body["security_group_id"], "direction": body["direction"],
                "ethertype": ethertype, "protocol": protocol, "port_range_min": low, "port_range_max": high,
                "remote_ip_prefix": body.get("remote_ip_prefix"), "remote_group_id": body.get("remote_group_id"),
                "description": str(body.get("description", ""))}
        same = [k for k in rule if k != "description"]
        if any(all(r[k] == rule[k] for k in same) for r in self.rules.values()):
            raise NeutronError(409, "Security group rule already exists.")
        rule.update({"id": _new_id(), "tenant_id": TENANT, "project_id": TENANT})
        self.rules[rule["id"]] = rule
        return rule

    def delete_rule(self, rule_id: str) -> None:
        self.get("rules", rule_id)
        del self.rules[rule_id]


def _mac() -> str:
    tail = uuid.uuid4().bytes[:3]
    return "56:6f:" + ":".join(f"{b:02x}" for b in (0x4d,) + tuple(tail))
