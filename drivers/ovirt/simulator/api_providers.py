"""The engine's side of its OVN network provider: `openstacknetworkproviders`, their networks, importing one
into a data center (a logical network with `external_provider` and a vNIC profile of the same name, as the
engine's ImportExternalNetwork command makes), and removing a logical network.

The provider entry is the one engine-setup adds (`ovirt-provider-ovn`); its URL is the simulated provider's
(see ovn_api) on the host the request came to.
"""
from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Response

from .call import Call
from .entities import Network, VnicProfile
from .errors import conflict, entity_not_found, not_found
from .ovn_api import IDENTITY, NEUTRON
from .render_common import action_xml, href
from .xmlin import parse_body, reference
from .xmlwriter import XmlWriter, document

OVN_PROVIDER_ID = "b4d9a7f2-3c1e-4f0a-9e5d-0c7a2f6b8e41"
OVN_PROVIDER_NAME = "ovirt-provider-ovn"


def _provider_xml(w: XmlWriter, call: Call) -> None:
    base = href("openstacknetworkproviders", OVN_PROVIDER_ID)
    host = call.request.host_url.rstrip("/")
    w.start("openstack_network_provider", base, OVN_PROVIDER_ID)
    w.leaf("name", OVN_PROVIDER_NAME)
    w.leaf("description", "oVirt network provider for OVN")
    w.links(base, ("certificates", "networks", "subnets"))
    w.leaf("requires_authentication", True)
    w.leaf("url", host + NEUTRON.removesuffix("/v2.0"))
    w.leaf("username", "admin@internal")
    w.leaf("authentication_url", host + IDENTITY)
    w.leaf("auto_sync", False)
    w.leaf("external_plugin_type", OVN_PROVIDER_NAME)
    w.leaf("read_only", False)
    w.leaf("type", "neutron")
    w.leaf("unmanaged", False)
    w.end("openstack_network_provider")


def _check(provider_id: str) -> None:
    if provider_id != OVN_PROVIDER_ID:
        raise not_found()


def providers(call: Call) -> Response:
    w = XmlWriter(1)
    _provider_xml(w, call)
    return call.xml(document(f"<openstack_network_providers>\n{w.getvalue()}</openstack_network_providers>\n"))


def provider(call: Call, id: str) -> Response:
    _check(id)
    w = XmlWriter()
    _provider_xml(w, call)
    return call.xml(document(w.getvalue()))


def _network_xml(w: XmlWriter, network: dict[str, Any]) -> None:
    base = href(f"openstacknetworkproviders/{OVN_PROVIDER_ID}/networks", network["id"])
    w.start("openstack_network", base, network["id"])
    w.leaf("name", network["name"])
    w.links(base, ("subnets",))
    w.ref("openstack_network_provider", href("openstacknetworkproviders", OVN_PROVIDER_ID), OVN_PROVIDER_ID)
    w.end("openstack_network")


def networks(call: Call, id: str) -> Response:
    _check(id)
    w = XmlWriter(1)
    with call.sim.ovn.lock:
        for network in call.sim.ovn.networks.values():
            _network_xml(w, network)
    return call.xml(document(f"<openstack_networks>\n{w.getvalue()}</openstack_networks>\n"))


def import_network(call: Call, id: str, network_id: str) -> Response:
    """Import a provider network into a data center: a logical network named as it is, and its vNIC profile."""
    _check(id)
    body = parse_body(call.body(), "action")
    dc_ref = reference(body, "data_center")
    dc_id = (dc_ref or (None, None))[0]
    if not dc_id or dc_id not in call.store.datacenters:
        raise entity_not_found(f"DataCenter: id={dc_id}")
    with call.sim.ovn.lock:
        external = call.sim.ovn.networks.get(network_id)
    if external is None:
        raise not_found()
    store = call.store
    if any(n.name == external["name"] and n.data_center_id == dc_id for n in store.networks.values()):
        raise conflict("Cannot import Network. The network name is already in use in the data center.")
    network = Network(store.new_id(), external["name"], dc_id, mtu=external["mtu"], usages=("vm",),
                      external_provider_id=OVN_PROVIDER_ID)
    store.networks[network.id] = network
    profile = VnicProfile(store.new_id(), external["name"], network.id)
    store.vnicprofiles[profile.id] = profile
    return call.xml(action_xml([("data_center", ("ref", href("datacenters", dc_id), dc_id))], "complete", None, None))


def remove_network(call: Call, id: str) -> Response:
    """Remove a logical network and its vNIC profiles; refused while a VM's NIC uses one of them."""
    store = call.store
    network = call.get(store.networks, id)
    profiles = {p.id for p in store.vnicprofiles.values() if p.network_id == network.id}
    if any(nic.vnic_profile_id in profiles for vm in store.vms.values() for nic in vm.nics):
        raise conflict("Cannot remove Logical Network. The Logical Network is in use by VM(s).")
    for profile_id in profiles:
        del store.vnicprofiles[profile_id]
    del store.networks[network.id]
    return Response(status=200)


ROUTES: list[tuple[str, tuple[str, ...], Any]] = [
    ("/openstacknetworkproviders", ("GET",), providers),
    ("/openstacknetworkproviders/<id>", ("GET",), provider),
    ("/openstacknetworkproviders/<id>/networks", ("GET",), networks),
    ("/openstacknetworkproviders/<id>/networks/<network_id>/import", ("POST",), import_network),
    ("/networks/<id>", ("DELETE",), remove_network),
]
