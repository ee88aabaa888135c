"""Network interfaces made on their own (EC2 CreateNetworkInterface) on the OVN provider: Neutron ports.

An interface of its own is a port holding its subnet's address and its groups, named `eni:<description>`,
with no device while it is `available`. The engine binds a NIC to a port made beforehand as it does to its
own: when a NIC on an external network is plugged, its provider proxy looks for the port whose `device_owner`
is `oVirt` and `device_id` the NIC's id (`locatePort`) and makes one only if there is none; unplugging or
removing the NIC deletes that port. So attaching adds the NIC unplugged (with the port's MAC), names it in
the port, then plugs it; detaching takes the NIC's name out of the port first, so the port (its address,
groups and id) outlives the NIC, as a detached interface does on EC2.

A detachment is remembered in the store (a tombstone of the NIC, kind `interface-attachment`, under the data
center's place: durable and shared by every process) with the interface, instance and device index it had,
for DETACHMENT_SECONDS or until the interface is attached again or deleted; see interface_detachments.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from lxml import etree

from gateway.errors import GatewayError, InUse, InvalidParameter, NotFound
from gateway.network_model import InterfaceDetachment, ReservedInterface
from gateway.scope import Scope

from .networking import NetworkingMixin

NAME_PREFIX = "eni:"
ENGINE_OWNER = "oVirt"  # the engine's device_owner for its NICs' ports
DETACHMENT = "interface-attachment"  # tombstone kind: a NIC that held an interface of its own, detached
DETACHMENT_SECONDS = 600  # clients ask for a detachment right after it (Terraform's wait, at most 10 min)


def _reserved(port: dict[str, Any]) -> ReservedInterface:
    fixed = (port.get("fixed_ips") or [{}])[0]
    return ReservedInterface(port["id"], str(fixed.get("subnet_id", "")), str(fixed.get("ip_address", "")),
                             str(port.get("mac_address", "")), list(port.get("security_groups") or []),
                             str(port.get("name", ""))[len(NAME_PREFIX):],
                             bool(port.get("port_security_enabled", True)))


def _device_index(nic_name: str) -> int:
    """The device index an attachment was made at: its NIC is `nic<index + 1>` (see attach_interface)."""
    digits = nic_name[3:] if nic_name.startswith("nic") else ""
    return int(digits) - 1 if digits.isdigit() and int(digits) > 0 else 0


class InterfacePortsMixin(NetworkingMixin):
    """CreateNetworkInterface's ports: listed, made and removed through the provider's Neutron API."""

    def _interface_ports(self, scope: Scope) -> list[dict[str, Any]]:
        """The ports of interfaces of their own on the scoped data center's subnets, attached or not."""
        subnets = {s.id for s in self.subnets(scope)}
        return [p for p in self._ovn(scope).list(scope, "ports")
                if str(p.get("name", "")).startswith(NAME_PREFIX) and p.get("device_owner") in ("", ENGINE_OWNER)
                and any(ip.get("subnet_id") in subnets for ip in p.get("fixed_ips") or [])]

    def _reserved_ports(self, scope: Scope) -> list[dict[str, Any]]:
        return [p for p in self._interface_ports(scope) if not p.get("device_owner")]

    def reserved_interfaces(self, scope: Scope) -> list[ReservedInterface]:
        return [_reserved(p) for p in self._reserved_ports(scope)]

    def attached_interfaces(self, scope: Scope) -> dict[str, ReservedInterface]:
        """VM NIC id -> the interface of its own that NIC holds."""
        return {str(p["device_id"]): _reserved(p) for p in self._interface_ports(scope)
                if p.get("device_owner") == ENGINE_OWNER}

    def create_interface(self, scope: Scope, subnet_id: str, group_ids: Sequence[str], ip: str | None,
                         description: str) -> ReservedInterface:
        """A port on the subnet's network (no groups given: the VPC's default group)."""
        subnet = next((s for s in self.subnets(scope) if s.id == subnet_id), None)
        if subnet is None:
            raise NotFound("subnet", subnet_id)
        groups = list(group_ids) or [g.id for g in self.security_groups(scope)
                                     if g.vpc_id == subnet.vpc_id and g.name == "default"]
        ovn = self._ovn(scope)
        network_id = ovn.request(scope, "GET", f"subnets/{subnet_id}")["subnet"]["network_id"]
        fixed: dict[str, str] = {"subnet_id": subnet_id}
        if ip:
            fixed["ip_address"] = ip
        port = ovn.create(scope, "ports", "port", {"network_id": network_id, "name": f"{NAME_PREFIX}{description}",
                                                   "fixed_ips": [fixed], "security_groups": groups,
                                                   "device_id": "", "device_owner": ""})
        return _reserved(port)

    def delete_interface(self, scope: Scope, interface_id: str) -> None:
        """NotFound unless it is an interface of its own; InUse while a NIC holds it."""
        port = next((p for p in self._interface_ports(scope) if p["id"] == interface_id), None)
        if port is None:
            raise NotFound("network interface", interface_id)
        if port.get("device_owner"):
            raise InUse(f"Interface: [{interface_id}] in use.")
        self._ovn(scope).delete(scope, "ports", interface_id)
        self._forget_detachments(scope, interface_id)

    def attach_interface(self, scope: Scope, interface_id: str, vm_id: str, device_index: int) -> str:
        """A NIC `nic<index + 1>` of the VM on the subnet's vNIC profile, bound to the interface's port; returns
        the NIC's id. InvalidParameter when the VM has a NIC of that name (that device index) already."""
        port = next((p for p in self._reserved_ports(scope) if p["id"] == interface_id), None)
        if port is None:
            raise NotFound("network interface", interface_id)
        reserved = _reserved(port)
        subnet = next((s for s in self.subnets(scope) if s.id == reserved.subnet_id), None)
        if subnet is None or not subnet.profile_id:
            raise NotFound("subnet", reserved.subnet_id)
        self._vm(scope, self._place(scope), vm_id)
        name = f"nic{device_index + 1}"
        if any(n.findtext("name") == name for n in self._get(scope, f"vms/{vm_id}/nics", what=("instance", vm_id))):
            raise InvalidParameter(f"The instance already has an interface at device index {device_index}")
        body = etree.Element("nic")
        etree.SubElement(body, "name").text = name
        etree.SubElement(body, "vnic_profile", id=subnet.profile_id)
        etree.SubElement(etree.SubElement(body, "mac"), "address").text = reserved.mac
        etree.SubElement(body, "plugged").text = "false"
        nic = self._call(scope, "POST", f"vms/{vm_id}/nics", body=body, what=("instance", vm_id))
        nic_id = nic.get("id", "") if nic is not None else ""
        ovn = self._ovn(scope)
        try:
            ovn.request(scope, "PUT", f"ports/{interface_id}", {"port": {"device_owner": ENGINE_OWNER,
                                                                         "device_id": nic_id}})
            self._plug(scope, vm_id, nic_id, True)
        except GatewayError:
            self._undo(lambda: ovn.request(scope, "PUT", f"ports/{interface_id}",
                                           {"port": {"device_owner": "", "device_id": ""}}),
                       lambda: self._call(scope, "DELETE", f"vms/{vm_id}/nics/{nic_id}", idempotent=True))
            raise
        self._forget_detachments(scope, interface_id)
        return nic_id

    def detach_interface(self, scope: Scope, nic_id: str) -> None:
        """The NIC goes (unplugged, then removed); the port it held stays, `available`. NotFound unless the NIC
        holds an interface of its own (an instance's own NICs come and go with it)."""
        port = next((p for p in self._interface_ports(scope)
                     if p.get("device_owner") == ENGINE_OWNER and p.get("device_id") == nic_id), None)
        if port is None:
            raise NotFound("network interface attachment", nic_id)
        nic = next((n for n in self.interfaces(scope) if n.id == nic_id), None)
        ovn = self._ovn(scope)
        ovn.request(scope, "PUT", f"ports/{port['id']}", {"port": {"device_owner": "", "device_id": ""}})
        if nic is not None:
            self._plug(scope, nic.instance_id, nic_id, False)
            self._call(scope, "DELETE", f"vms/{nic.instance_id}/nics/{nic_id}", idempotent=True)
            self.store.add_tombstone(self._place(scope).key, nic_id, DETACHMENT, {
                "interface_id": port["id"], "instance_id": nic.instance_id, "device_index": _device_index(nic.name)})

    def interface_detachments(self, scope: Scope) -> list[InterfaceDetachment]:
        """The last detachment of each interface of its own, newest first, for DETACHMENT_SECONDS (no longer
        than the configured tombstone lifetime, after which housekeeping purges it)."""
        window = min(DETACHMENT_SECONDS, self.config.tombstone_seconds)
        found: dict[str, InterfaceDetachment] = {}
        for stone in self.store.tombstones(self._place(scope).key, DETACHMENT, window):
            data = stone["data"]
            found.setdefault(data["interface_id"], InterfaceDetachment(
                stone["resource_id"], data["interface_id"], data["instance_id"], int(data["device_index"]),
                stone["deleted_at"]))
        return list(found.values())

    def _forget_detachments(self, scope: Scope, interface_id: str) -> None:
        """An interface attached again or deleted has no detached attachment to show any more."""
        place = self._place(scope).key
        for stone in self.store.tombstones(place, DETACHMENT, self.config.tombstone_seconds):
            if stone["data"].get("interface_id") == interface_id:
                self.store.remove_tombstone(place, stone["resource_id"])

    def _plug(self, scope: Scope, vm_id: str, nic_id: str, plugged: bool) -> None:
        body = etree.Element("nic")
        etree.SubElement(body, "plugged").text = "true" if plugged else "false"
        self._call(scope, "PUT", f"vms/{vm_id}/nics/{nic_id}", body=body, idempotent=True, what=("instance", vm_id))

    def update_interface(self, scope: Scope, interface_id: str, *, group_ids: Sequence[str] | None = None,
                         description: str | None = None, source_dest_check: bool | None = None) -> None:
        """Change an interface's port: an interface of its own (by its port's id) or a VM NIC's (by the NIC's
        id; its description is the NIC's name, not changed here). `source_dest_check` is the port's security."""
        ovn = self._ovn(scope)
        ports = ovn.list(scope, "ports")
        own = {p["id"]: p for p in self._interface_ports(scope)}
        port = own.get(interface_id) or next((p for p in ports if p.get("device_owner") == ENGINE_OWNER
                                              and p.get("device_id") == interface_id), None)
        if port is None:
            raise NotFound("network interface", interface_id)
        change: dict[str, Any] = {}
        if group_ids is not None:
            change["security_groups"] = list(group_ids)
        if description is not None:
            if port["id"] not in own:
                raise InvalidParameter("The description of an instance's own interface is its NIC's name")
            change["name"] = f"{NAME_PREFIX}{description}"
        if source_dest_check is not None:
            change["port_security_enabled"] = source_dest_check
        if change:
            ovn.request(scope, "PUT", f"ports/{port['id']}", {"port": change})

    def addresses_in_use(self, scope: Scope, subnet_id: str) -> set[str]:
        """The subnet's addresses its ports hold (the gateway's, instances', interfaces of their own)."""
        return {str(ip.get("ip_address")) for p in self._ovn(scope).list(scope, "ports")
                for ip in p.get("fixed_ips") or [] if ip.get("subnet_id") == subnet_id}
