"""What the CIMI network resources are made of, read once per request.

A CIMI Network is a logical network of the engine, by its engine id as before; where it is a subnet of the
network provider (an OVN network with its address block, imported into the data center), it also carries
its block, zone and ForwardingGroup, and clients create and delete it. Keeping the engine id means a
machine's NIC names its Network without asking the provider anything. A ForwardingGroup is a VPC: the
provider's router joining its subnets. Where the provider entry has no network provider, or the provider
refuses the user (ovirt-provider-ovn admits the users its authorisation plugin names), only the logical
networks are seen, as EC2 shows them.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from gateway.errors import AuthFailure, NotSupported
from gateway.model import Network
from gateway.network_model import Subnet, Vpc

from .context import Context


@dataclass
class NetworkView:
    networks: list[Network] = field(default_factory=list)  # the data center's logical networks
    vpcs: list[Vpc] = field(default_factory=list)
    subnets: list[Subnet] = field(default_factory=list)
    tags: dict[str, dict[str, str]] = field(default_factory=dict)  # VPC or subnet id -> its tags

    def name_of(self, resource_id: str) -> str | None:
        return self.tags.get(resource_id, {}).get("Name")

    def properties_of(self, resource_id: str) -> dict[str, str]:
        """A VPC's or subnet's tags but `Name` (which is its `name`): what its `properties` were made with."""
        return {k: v for k, v in self.tags.get(resource_id, {}).items() if k != "Name"}

    def subnet_of(self, network_id: str) -> Subnet | None:
        """The provider subnet that the logical network `network_id` is, if it is one."""
        return next((s for s in self.subnets if s.network_id == network_id), None)


def has_network_provider(ctx: Context) -> bool:
    return bool(ctx.scope.provider.ovn_url) and ctx.driver.can("create_subnet")


def provider_parts(ctx: Context) -> tuple[list[Vpc], list[Subnet]]:
    if not has_network_provider(ctx):
        return [], []
    try:
        return ctx.driver.vpcs(ctx.scope), ctx.driver.subnets(ctx.scope)
    except (NotSupported, AuthFailure):
        return [], []


def network_view(ctx: Context, *, logical: bool = True) -> NetworkView:
    vpcs, subnets = provider_parts(ctx)
    networks = ctx.driver.networks(ctx.scope) if logical else []
    ids = [v.id for v in vpcs] + [s.id for s in subnets]
    tags = ctx.driver.tags(ctx.scope, ids) if ids and ctx.driver.can("tags") else {}
    return NetworkView(networks, vpcs, subnets, tags)
