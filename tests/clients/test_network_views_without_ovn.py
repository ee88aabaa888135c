"""CIMI and Deltacloud against a provider entry with no network provider (a plain engine): the logical
networks stay read-only views, the collections of the network provider are not offered, and every write
says in the client's own error format that the entry names no network provider.
"""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from drivers.ovirt.simulator.server import Simulator, serve_in_thread
from tests.integration.cimi_client import CimiClient
from tests.integration.deltacloud_http import Api, error_of
from tests.integration.gateway_process import start

ADMIN = ("admin@internal", "admin")


@pytest.fixture(scope="module")
def plain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A gateway whose one provider entry, 'lab', names no network provider, on a simulator of its own."""
    tmp_path: Path = tmp_path_factory.mktemp("plain-views")
    engine = serve_in_thread(Simulator())
    config = tmp_path / "cloudgw.toml"
    config.write_text(f'[server]\ndata_dir = "{tmp_path / "data"}"\n\n'
                      f'[[providers]]\nname = "lab"\nurl = "{engine.api_url}"\ndefault_datacenter = "Default"\n')
    process, url = start(config)
    try:
        yield SimpleNamespace(url=url, admin=ADMIN, cimi_url=f"{url}/cimi/cloudEntryPoint", api_url=f"{url}/api")
    finally:
        process.kill()
        process.wait()
        engine.shutdown()


def names_the_entry(message: str) -> bool:
    return "'lab'" in message and "network provider" in message and "ovn_url" in message


@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_cimi_networks_stay_read_only_and_creates_are_refused(plain: Any, fmt: str) -> None:
    cimi = CimiClient(plain, fmt)
    cep = cimi.cep()
    assert not {"forwardingGroups", "networkTemplates", "networkConfigs"} & set(cep) and "networks" in cep
    networks = cimi.get(cep["networks"]["href"])
    assert cimi.operation(networks, "add") is None
    listed = cimi.entries("networks")
    assert listed and all("cidr" not in n and cimi.operation(n, "delete") is None for n in listed)
    body = {"networkTemplate": {"networkConfig": {"cidr": "10.80.1.0/24"},
                                "forwardingGroup": {"href": cep["baseURI"] + "forwarding_groups/x"}}}
    refused = cimi.request("POST", cep["networks"]["href"], body, expect=501)
    assert names_the_entry(refused.text)
    refused = cimi.request("POST", cep["baseURI"] + "forwarding_groups",
                           {"resourceURI": "http://schemas.dmtf.org/cimi/1/ForwardingGroupCreate",
                            "forwardingGroupTemplate": {"cidr": "10.80.0.0/16"}}, expect=501)
    assert names_the_entry(refused.text)
    assert cimi.request("DELETE", listed[0]["id"], expect=501).status_code == 501


@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_deltacloud_offers_no_subnets_or_firewalls_and_refuses_networks(plain: Any, fmt: str) -> None:
    api = Api(plain.api_url, fmt, ADMIN)
    entry = api.entry()
    assert "networks" in entry and "subnets" not in entry and "firewalls" not in entry
    for url, data in ((entry["networks"], {"address_block": "10.80.0.0/16"}),
                      (f"{plain.api_url}/subnets", {"network_id": "x", "address_block": "10.80.1.0/24"}),
                      (f"{plain.api_url}/firewalls", {"name": "web", "description": "web"})):
        code, message = error_of(api.call("POST", url, data=data))
        assert code == 412 and names_the_entry(message), (url, message)
    assert api.list("networks") and all("destroy" not in n.actions for n in api.list("networks"))
