"""Networks: the logical networks of the scoped data center (read only)."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, Response

from gateway.errors import NotFound
from gateway.model import Network

from ..context import Context, current
from ..listing import register_collection, resource_response
from ..schema import common_attributes


def network_entry(ctx: Context, network: Network) -> dict[str, Any]:
    entry = common_attributes(ctx.href("networks", network.id), network.name, description=network.description,
                              properties={"vlan": str(network.vlan)} if network.vlan is not None else None)
    entry.update({"state": "STARTED", "networkType": "PRIVATE"})
    if network.mtu:
        entry["mtu"] = network.mtu
    return entry


def list_networks(ctx: Context) -> list[dict[str, Any]]:
    return [network_entry(ctx, n) for n in ctx.driver.networks(ctx.scope)]


def get_network(network_id: str) -> Response:
    ctx = current()
    for network in ctx.driver.networks(ctx.scope):
        if network.id == network_id:
            return resource_response(ctx, "Network", network_entry(ctx, network))
    raise NotFound("network", network_id)


def install(bp: Blueprint) -> None:
    register_collection("networks", "Network", list_networks, available=lambda ctx: ctx.driver.can("networks"))
    bp.add_url_rule("/networks/<network_id>", "get_network", get_network, methods=["GET"])
