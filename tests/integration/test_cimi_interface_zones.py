"""A machine takes interfaces only on networks of its own zone, in CIMI as in EC2's AttachNetworkInterface.

The data center `Default` needs two zones (clusters) for that, which the packaged seed has not: a simulator
on a seed with a second cluster, and a gateway in front of it with the simulator's OVN provider.
"""
from __future__ import annotations

import json
import time
from pathlib import Path
from types import SimpleNamespace

import requests
from lxml import etree

from drivers.ovirt.simulator.seed import DEFAULT_SEED
from drivers.ovirt.simulator.server import Simulator, serve_in_thread

from .cimi_client import CimiClient
from .gateway_process import start
from .ovirt_env import CENTOS

ENGINE_ADMIN = ("admin@internal", "admin")
SECOND = {"id": "c1000000-0000-4000-8000-0000000000a2", "name": "Default-2", "description": "a second zone",
          "hosts": [{"id": "b0570000-0000-4000-8000-0000000000a2", "name": "host-default-2",
                     "address": "host-default-2.sim.ovirt.local"}]}


def test_an_interface_on_a_network_of_another_zone_is_refused(tmp_path: Path) -> None:
    seed = json.loads(DEFAULT_SEED.read_text(encoding="utf-8"))
    seed["data_centers"][0]["clusters"].append(SECOND)
    (tmp_path / "seed.json").write_text(json.dumps(seed), encoding="utf-8")
    engine = serve_in_thread(Simulator(seed_path=str(tmp_path / "seed.json"), speed=20))
    base = engine.url
    config = tmp_path / "cloudgw.toml"
    config.write_text(f'[server]\ndata_dir = "{tmp_path / "data"}"\n\n'
                      f'[[providers]]\nname = "lab"\nurl = "{engine.api_url}"\ndefault_datacenter = "Default"\n'
                      f'ovn_url = "{base}/ovirt-provider-ovn/neutron/v2.0"\n'
                      f'ovn_auth_url = "{base}/ovirt-provider-ovn/keystone/v2.0"\n')
    process, url = start(config)
    try:
        made = requests.post(f"{engine.api_url}/vms", auth=ENGINE_ADMIN, timeout=10,
                             headers={"Content-Type": "application/xml"},
                             data=f'<vm><name>zone-one</name><cluster id="c1000000-0000-4000-8000-000000000001"/>'
                                  f'<template id="{CENTOS}"/></vm>')
        made.raise_for_status()
        vm_id = etree.fromstring(made.content).get("id")
        deadline = time.monotonic() + 60  # made at 20x speed: unlocked (down) in well under a second
        while etree.fromstring(requests.get(f"{engine.api_url}/vms/{vm_id}", auth=ENGINE_ADMIN,
                                            timeout=10).content).findtext("status") != "down":
            assert time.monotonic() < deadline, "the VM stayed locked"
            time.sleep(0.1)
        cimi = CimiClient(SimpleNamespace(cimi_url=f"{url}/cimi/cloudEntryPoint", admin=ENGINE_ADMIN), "json")
        group = cimi.parse(cimi.post(cimi.collection_url("forwardingGroups"),
                                     {"forwardingGroupTemplate": {"cidr": "10.90.0.0/16"}}))
        network = cimi.parse(cimi.post(cimi.collection_url("networks"), {"networkTemplate": {
            "networkConfig": {"cidr": "10.90.1.0/24"}, "forwardingGroup": {"href": group["id"]},
            "realm": SECOND["name"]}}))
        assert network["realm"] == SECOND["id"]
        interfaces_url = f"{cimi.collection_url('machines')}/{vm_id}/network_interfaces"
        refused = cimi.request("POST", interfaces_url, {"network": {"href": network["id"]}})
        assert refused.status_code == 400 and "zone" in refused.json()["message"], refused.text[:300]
        assert len(cimi.get(interfaces_url)["machineNetworkInterfaces"]) <= 1  # nothing added
    finally:
        process.kill()
        process.wait()
        engine.shutdown()
