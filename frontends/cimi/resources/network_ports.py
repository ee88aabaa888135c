"""NetworkPorts: the VMs' NICs seen from the network side (read only; a machine's networkInterfaces add and
remove them). Each names its Network, the engine's logical network it is on."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, Response

from gateway.errors import NotFound
from gateway.model import NetworkInterface

from ..context import Context, current
from ..listing import register_collection, resource_response
from ..schema import common_attributes


def port_entry(ctx: Context, nic: NetworkInterface) -> dict[str, Any]:
    entry = common_attributes(ctx.href("networkPorts", nic.id), nic.name,
                              properties={"machine": ctx.href("machines", nic.instance_id),
                                          **({"macAddress": nic.mac} if nic.mac else {})})
    entry["state"] = "STARTED" if nic.plugged and nic.linked else "STOPPED"
    if nic.network_id:
        entry["network"] = {"href": ctx.href("networks", nic.network_id)}
    entry["portType"] = "ACCESS"
    return entry


def list_ports(ctx: Context) -> list[dict[str, Any]]:
    return [port_entry(ctx, nic) for nic in ctx.driver.interfaces(ctx.scope)]


def get_port(port_id: str) -> Response:
    ctx = current()
    for nic in ctx.driver.interfaces(ctx.scope):
        if nic.id == port_id:
            return resource_response(ctx, "NetworkPort", port_entry(ctx, nic))
    raise NotFound("network port", port_id)


def install(bp: Blueprint) -> None:
    register_collection("networkPorts", "NetworkPort", list_ports, available=lambda ctx: ctx.driver.can("interfaces"))
    bp.add_url_rule("/network_ports/<port_id>", "get_network_port", get_port, methods=["GET"])
