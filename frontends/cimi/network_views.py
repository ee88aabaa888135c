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

from gateway.errors import AuthFailure, InUse, InvalidParameter, MissingParameter, NotSupported, echo
from gateway.network_blocks import subnet_address
from gateway.model import Network
from gateway.network_model import Subnet, Vpc
from gateway.tag_rules import non_vm_tags

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


def provider_parts(ctx: Context, *, changing: bool = False) -> tuple[list[Vpc], list[Subnet]]:
    """For a change (`changing`), the provider's refusal of the user is the answer, as in EC2."""
    if not has_network_provider(ctx):
        return [], []
    try:
        return ctx.driver.vpcs(ctx.scope), ctx.driver.subnets(ctx.scope)
    except NotSupported:
        return [], []
    except AuthFailure:
        if changing:
            raise
        return [], []


def network_view(ctx: Context, *, logical: bool = True, changing: bool = False) -> NetworkView:
    vpcs, subnets = provider_parts(ctx, changing=changing)
    networks = ctx.driver.networks(ctx.scope) if logical else []
    ids = [v.id for v in vpcs] + [s.id for s in subnets]
    tags = non_vm_tags(ctx.driver, ctx.scope, ids)
    return NetworkView(networks, vpcs, subnets, tags)


def template_interface(ctx: Context, value: object) -> dict[str, str]:
    """A MachineTemplate's `networkInterfaces` as what a launch takes: {'network_id', 'subnet_id', 'ip'?}.

    One interface on a network of the network provider (a subnet), optionally with one address: the machine's
    one NIC, as EC2's RunInstances with SubnetId and PrivateIpAddress. A logical network of the engine is a
    400: a machine is placed only on the provider's networks (else it keeps its image's NICs)."""
    items = value if isinstance(value, list) else [value]
    if len(items) != 1 or not isinstance(items[0], dict):
        raise InvalidParameter("networkInterfaces takes one interface ({\"network\": {\"href\": ...}}): a machine is "
                               "made with one NIC; add more through its networkInterfaces", parameter="networkInterfaces")
    network = items[0].get("network")
    if not isinstance(network, dict) or "href" not in network:
        raise MissingParameter("A template's network interface needs a network (a reference to a Network)",
                               parameter="networkInterfaces.network")
    network_id = ctx.id_from_href(network["href"], "networks", "network")
    view = network_view(ctx, changing=True)
    subnet = view.subnet_of(network_id)
    if subnet is None:
        if any(n.id == network_id for n in view.networks):
            raise InvalidParameter(f"The network '{echo(network_id)}' is a logical network of the engine: machines are "
                                   "placed on the network provider's networks", parameter="networkInterfaces")
        raise InvalidParameter(f"There is no network '{echo(network_id)}'", parameter="networkInterfaces")
    placed = {"network_id": network_id, "subnet_id": subnet.id}
    addresses = items[0].get("addresses")
    if addresses:
        if isinstance(addresses, dict):
            addresses = [addresses]
        if not isinstance(addresses, list) or len(addresses) != 1 or not isinstance(addresses[0], dict) \
                or not isinstance(addresses[0].get("ip"), str):
            raise InvalidParameter("A template's network interface takes one address ({\"ip\": ...})",
                                   parameter="networkInterfaces.addresses")
        placed["ip"] = addresses[0]["ip"].strip()
    return placed


def launch_realm(ctx: Context, subnet_id: str, ip: str | None, realm_id: str | None) -> str:
    """The zone a machine placed on the subnet runs in (the subnet's: another one given is a 400), after
    checking its fixed address (400 outside the block, 409 taken), as EC2's RunInstances does."""
    subnet = next((s for s in ctx.driver.subnets(ctx.scope) if s.id == subnet_id), None)
    if subnet is None or not subnet.realm_id:
        raise InvalidParameter("The template's network no longer exists", parameter="networkInterfaces")
    if realm_id not in (None, subnet.realm_id):
        raise InvalidParameter("The template's realm is not its network's (a network is in one realm)",
                               parameter="realm")
    if ip:
        subnet_address(ip, subnet, "networkInterfaces.addresses")
        if ip in ctx.driver.addresses_in_use(ctx.scope, subnet.id):
            raise InUse(f"The address {ip} is in use")
    return subnet.realm_id
