"""The engine's side of a VM NIC on an external (OVN) network: a provider port for the NIC.

As the engine's external network manager does, a NIC whose vNIC profile belongs to a network imported
from the provider gets a port there (named as the NIC, its MAC, `device_id` the NIC's id, `device_owner`
`oVirt`), which takes an address from the subnet's allocation pool; the guest then reports that address.
The port goes with the NIC (removed or unplugged) or its VM. As the engine's `locatePort` does, a port that
already names the NIC (`device_owner` `oVirt`, `device_id` the NIC's id) is the NIC's: it is bound to the NIC
(its MAC set to the NIC's) instead of a new one being made; that is how a port made beforehand becomes a NIC's.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from .entities import Nic
from .errors import conflict
from .ovn_state import NeutronError

if TYPE_CHECKING:
    from .server import Simulator
    from .store import Store

DEVICE_OWNER = "oVirt"


def allocate(sim: "Simulator", store: "Store", nic: Nic) -> None:
    """A port for the NIC when its profile's network is the provider's (409 when the pool is empty)."""
    profile = store.vnicprofiles.get(nic.vnic_profile_id or "")
    network = store.networks.get(profile.network_id) if profile else None
    if network is None or not network.external_provider_id:
        return
    with sim.ovn.lock:
        external = next((n for n in sim.ovn.networks.values() if n["name"] == network.name), None)
        if external is None:
            raise conflict(f"Failed to communicate with the external provider: network {network.name} is gone")
        port = next((p for p in sim.ovn.ports.values()
                     if p["device_owner"] == DEVICE_OWNER and p["device_id"] == nic.id), None)
        if port is not None:
            port["mac_address"] = nic.mac
            nic.external_ip = port["fixed_ips"][0]["ip_address"] if port["fixed_ips"] else ""
            return
        try:
            port = sim.ovn.add_port({"network_id": external["id"], "name": nic.name, "mac_address": nic.mac,
                                     "device_id": nic.id, "device_owner": DEVICE_OWNER})
        except NeutronError as error:
            raise conflict(f"Failed to communicate with the external provider: {error.message}") from None
    nic.external_ip = port["fixed_ips"][0]["ip_address"] if port["fixed_ips"] else ""


def release(sim: "Simulator", nics: list[Nic]) -> None:
    """Remove the ports of these NICs (those on no provider network have none)."""
    ids = {n.id for n in nics}
    with sim.ovn.lock:
        for port_id in [p["id"] for p in sim.ovn.ports.values()
                        if p["device_owner"] == DEVICE_OWNER and p["device_id"] in ids]:
            sim.ovn.delete_port(port_id)
    for nic in nics:
        nic.external_ip = ""
