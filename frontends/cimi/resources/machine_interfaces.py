"""A machine's networkInterfaces: list and get (vNICs with the addresses the guest reports), add and delete.

Adding a MachineNetworkInterface puts a new NIC on a Network that is a subnet of the network provider,
through the calls EC2's CreateNetworkInterface and AttachNetworkInterface make: a provider port on the subnet
(with the first address of `addresses` if given, else the next free one; the VPC's default security group),
then a NIC of the machine bound to it. That port is an EC2 network interface (eni-) from then on, whichever API
made it: deleting the machine's interface detaches it, as EC2's DetachNetworkInterface does, and the port lives
on `available` (address, groups, description and tags kept) until EC2's DeleteNetworkInterface removes it. So
the three APIs agree on what one DELETE does, and CIMI never removes an interface that Terraform or Ansible
manage through EC2. A NIC the machine was made with is not removed here (409): it is the machine's own, as an
instance's primary interface is.
"""
from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, Response

from gateway.errors import GatewayError, InvalidParameter, InvalidState, MissingParameter, NotFound, NotSupported, echo
from gateway.model import NetworkInterface
from gateway.network_blocks import subnet_address
from gateway.network_model import ReservedInterface

from ..context import Context, current
from ..listing import created_response, resource_response, sub_collection_response
from ..network_views import has_network_provider, network_view
from ..protocol import respond
from ..reading import nested, text
from .machine_parts import interface_entries, interface_entry

NIC_NAME = re.compile(r"^nic(\d+)$")


def _added(ctx: Context) -> dict[str, ReservedInterface]:
    """NIC id -> the provider port added through networkInterfaces (or EC2's AttachNetworkInterface)."""
    if not has_network_provider(ctx):
        return {}
    try:
        return ctx.driver.attached_interfaces(ctx.scope)
    except NotSupported:
        return {}


def _with_ports(entries: list[dict[str, Any]], added: dict[str, ReservedInterface]) -> list[dict[str, Any]]:
    for entry in entries:
        port = added.get(entry["id"].rsplit("/", 1)[-1])
        if port is None:
            continue
        known = entry.setdefault("addresses", [])
        if port.ip and all(a["ip"] != port.ip for a in known):  # the provider's address, before the guest reports it
            known.insert(0, {"ip": port.ip, "allocation": "static", "protocol": "IPv4"})
        entry["operations"] = [{"rel": "delete", "href": entry["id"]}]
    return entries


def _entries(ctx: Context, machine_id: str) -> list[dict[str, Any]]:
    return _with_ports(interface_entries(ctx, ctx.driver.instance(ctx.scope, machine_id)), _added(ctx))


def _free_device_index(nics: list[NetworkInterface]) -> int:
    """The first device index from 1 (0 is the primary's) that no NIC has: EC2 counts a NIC's position among
    the VM's NICs, and the driver names the NIC `nic<index + 1>`, so both must be free."""
    taken = set(range(len(nics))) | {int(m.group(1)) - 1 for n in nics if (m := NIC_NAME.match(n.name))}
    return next(i for i in range(1, len(taken) + 2) if i not in taken)


def list_interfaces(machine_id: str) -> Response:
    ctx = current()
    entries = _entries(ctx, machine_id)
    return sub_collection_response(ctx, "MachineNetworkInterface",
                                   ctx.href("machines", machine_id) + "/network_interfaces", entries,
                                   add=has_network_provider(ctx) and ctx.driver.can("attach_interface"))


def get_interface(machine_id: str, nic_id: str) -> Response:
    ctx = current()
    for entry in _entries(ctx, machine_id):
        if entry["id"].endswith("/" + nic_id):
            return resource_response(ctx, "MachineNetworkInterface", entry)
    raise NotFound("network interface", nic_id)


def _requested_ip(body: dict[str, Any]) -> str | None:
    addresses = body.get("addresses")
    if addresses is None or addresses == "":
        return None
    if isinstance(addresses, dict):
        addresses = [addresses]
    if not isinstance(addresses, list) or len(addresses) != 1 or not isinstance(addresses[0], dict):
        raise InvalidParameter("'addresses' takes one address ({\"ip\": ...}) for a new interface",
                               parameter="addresses")
    return text(addresses[0], "ip") or None


def add_interface(machine_id: str) -> Response:
    ctx = current()
    _, body = ctx.body("MachineNetworkInterface")
    network = nested(body, "network")
    if network is None or "href" not in network:
        raise MissingParameter("A MachineNetworkInterface needs a network (a reference to a Network)",
                               parameter="network")
    network_id = ctx.id_from_href(network["href"], "networks", "network")
    ip = _requested_ip(body)
    if not has_network_provider(ctx):
        raise NotSupported(f"The provider '{ctx.scope.provider.name}' has no network provider configured "
                           "(ovn_url in its [[providers]] entry), so machines take no new network interfaces")
    view = network_view(ctx, changing=True)
    subnet = view.subnet_of(network_id)
    if subnet is None:
        if any(n.id == network_id for n in view.networks):
            raise InvalidParameter(f"The network '{echo(network_id)}' is a logical network of the engine: new "
                                   "interfaces go on the network provider's networks", parameter="network")
        raise NotFound("network", network_id)
    if ip:
        ip = subnet_address(ip, subnet, "addresses")
    instance = ctx.driver.instance(ctx.scope, machine_id)
    if subnet.realm_id and instance.realm_id and subnet.realm_id != instance.realm_id:
        raise InvalidParameter(f"The network '{echo(network_id)}' is in another zone than the machine: a machine "
                               "takes interfaces on networks of its own zone", parameter="network")
    index = _free_device_index(ctx.driver.interfaces(ctx.scope, instance.id))
    port = ctx.driver.create_interface(ctx.scope, subnet.id, [], ip, text(body, "description") or "")
    try:
        nic_id = ctx.driver.attach_interface(ctx.scope, port.id, instance.id, index)
    except GatewayError:
        try:
            ctx.driver.delete_interface(ctx.scope, port.id)
        except GatewayError:
            pass
        raise
    nics = ctx.driver.interfaces(ctx.scope, instance.id)
    nic = next((n for n in nics if n.id == nic_id), None)
    if nic is None:  # attached, not listed yet: answer with what the attach made
        nic = NetworkInterface(nic_id, instance.id, f"nic{index + 1}", port.mac, subnet.network_id,
                               subnet.profile_id, [port.ip] if port.ip else [])
    entry = _with_ports([interface_entry(ctx, nic)], {nic_id: port})[0]
    return created_response(ctx, "MachineNetworkInterface", entry)


def delete_interface(machine_id: str, nic_id: str) -> Response:
    ctx = current()
    nics = ctx.driver.interfaces(ctx.scope, ctx.driver.instance(ctx.scope, machine_id).id)
    if not any(n.id == nic_id for n in nics):
        raise NotFound("network interface", nic_id)
    if nic_id not in _added(ctx):
        raise InvalidState(f"The network interface '{echo(nic_id)}' came with the machine and stays with it; "
                           "only interfaces added to the machine are deleted")
    ctx.driver.detach_interface(ctx.scope, nic_id)  # the port stays, an available EC2 interface (see above)
    return respond(None, ctx.fmt, 200)


def install(bp: Blueprint) -> None:
    path = "/machines/<machine_id>/network_interfaces"
    bp.add_url_rule(path, "list_interfaces", list_interfaces, methods=["GET"])
    bp.add_url_rule(path, "add_interface", add_interface, methods=["POST"])
    bp.add_url_rule(path + "/<nic_id>", "get_interface", get_interface, methods=["GET"])
    bp.add_url_rule(path + "/<nic_id>", "delete_interface", delete_interface, methods=["DELETE"])
