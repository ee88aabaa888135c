"""Networks: the logical networks of the scoped data center."""
from __future__ import annotations

from flask import Response

from gateway.errors import NotFound
from gateway.model import Network

from . import context, respond
from .blueprint import bp
from .description import Element, Entity, JsonOnly, Value


def describe(network: Network) -> Entity:
    return Entity("network", network.id, context.api_url("networks", network.id), [
        Value("name", network.name),
        Value("description", network.description or None),
        Value("state", "UP"),
        Value("vlan", network.vlan),
        Value("mtu", network.mtu),
        Element("address_blocks", []),
        Element("subnets", []),
        JsonOnly("address_blocks", []),
        JsonOnly("subnets", []),
    ])


def _networks() -> list[Network]:
    return context.driver().networks(context.scope())


@bp.route("/networks", methods=["GET"])
def networks_index() -> Response:
    wanted = context.param(context.params(), "id")
    return respond.collection("networks", [describe(n) for n in _networks() if wanted is None or n.id == wanted])


@bp.route("/networks/<network_id>", methods=["GET"])
def network_show(network_id: str) -> Response:
    for network in _networks():
        if network.id == network_id:
            return respond.entity(describe(network))
    raise NotFound("network", network_id)
