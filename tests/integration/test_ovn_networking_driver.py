"""The driver's networking part against the simulator's OVN provider over real HTTP: one token per identity,
asked again once when the provider forgets it, only the configured URLs contacted, the provider's answers
mapped to gateway errors, and a half-made subnet undone."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from drivers.ovirt.driver import OvirtDriver
from gateway.config import Config, ProviderConfig
from gateway.errors import AlreadyExists, AuthFailure, BackendUnavailable, InUse, InvalidParameter, NotFound, NotSupported
from gateway.network_model import SecurityRule
from gateway.operations import OperationRunner
from gateway.scope import Credentials, Scope
from gateway.store import Store, load_or_create_key

from .ovirt_env import ADMIN, DEFAULT_CLUSTER, Engine


class Wired:
    """A driver whose provider entry names the simulator's OVN provider, recording every OVN request."""

    def __init__(self, engine: Engine, data_dir: Path, **provider: Any) -> None:
        base = engine.handle.url
        self.provider = ProviderConfig(name="sim", url=engine.url, **{
            "ovn_url": f"{base}/ovirt-provider-ovn/neutron/v2.0",
            "ovn_auth_url": f"{base}/ovirt-provider-ovn/keystone/v2.0", **provider})
        config = Config(providers=(self.provider,), default_provider="sim", engine_retries=0)
        self.store = Store(f"sqlite:///{data_dir / 'cloudgw.db'}", load_or_create_key(data_dir / "key"))
        self.driver = OvirtDriver(config, self.store, OperationRunner(self.store))
        self.sent: list[str] = []

    def scope(self, credentials: Credentials = ADMIN) -> Scope:
        return Scope(self.provider, None, credentials)

    def record(self, scope: Scope) -> None:
        session = self.driver._ovn(scope).session
        session.hooks["response"].append(lambda r, *a, **k: self.sent.append(f"{r.request.method} {r.url}"))

    def close(self) -> None:
        self.driver.close()
        self.store.close()


@pytest.fixture
def wired(engine: Engine, tmp_path: Path) -> Iterator[Wired]:
    engine.simulator.reset()
    made = Wired(engine, tmp_path)
    yield made
    made.close()


def test_one_token_per_identity_renewed_once_when_the_provider_forgets_it(wired: Wired, engine: Engine) -> None:
    scope = wired.scope()
    wired.record(scope)
    for _ in range(3):
        wired.driver.vpcs(scope)
    tokens = [s for s in wired.sent if s.endswith("/tokens")]
    assert len(tokens) == 1 and len(wired.sent) == 4
    engine.control("faults", expire_tokens=True)
    wired.sent.clear()
    wired.driver.vpcs(scope)
    assert [s.split()[0] + " " + s.rsplit("/", 1)[1] for s in wired.sent] == [
        "GET routers", "POST tokens", "GET routers"]
    base = engine.handle.url + "/ovirt-provider-ovn/"
    assert all(s.split()[1].startswith(base) for s in wired.sent)  # nothing but the configured URLs


def test_refused_credentials_and_a_missing_provider(wired: Wired, engine: Engine, tmp_path: Path) -> None:
    with pytest.raises(AuthFailure):
        wired.driver.vpcs(wired.scope(Credentials("admin@internal", "wrong")))
    plain = ProviderConfig(name="plain", url=engine.url)
    with pytest.raises(NotSupported) as refused:
        wired.driver.create_vpc(Scope(plain, None, ADMIN), "10.0.0.0/16")
    assert "'plain'" in str(refused.value) and "ovn_url" in str(refused.value)


def test_provider_answers_map_to_gateway_errors(wired: Wired) -> None:
    scope = wired.scope()
    vpc = wired.driver.create_vpc(scope, "10.50.0.0/16")
    with pytest.raises(NotFound) as missing:
        wired.driver.create_subnet(scope, "0badc0de-0000-4000-8000-000000000000", "10.50.1.0/24", DEFAULT_CLUSTER)
    assert missing.value.kind == "vpc"
    group = wired.driver.create_security_group(scope, vpc.id, "web", "web")
    rule = SecurityRule("ingress", "tcp", 22, 22, remote_cidr="10.0.0.0/8")
    wired.driver.add_security_rules(scope, group.id, [rule])
    with pytest.raises(AlreadyExists):  # the provider's 409 "already exists"
        wired.driver.add_security_rules(scope, group.id, [SecurityRule("ingress", "udp", 53, 53), rule])
    rules = {(r.direction, r.protocol) for g in wired.driver.security_groups(scope) if g.id == group.id for r in g.rules}
    assert rules == {("egress", None), ("ingress", "tcp")}  # the udp rule added before the refusal is undone
    with pytest.raises(InvalidParameter):
        wired.driver.add_security_rules(scope, group.id, [SecurityRule("ingress", "sctp")])
    with pytest.raises(InUse):
        wired.driver.delete_vpc(scope, vpc.id)


def test_a_subnet_the_engine_cannot_import_leaves_nothing_behind(wired: Wired, engine: Engine) -> None:
    scope = wired.scope()
    vpc = wired.driver.create_vpc(scope, "10.60.0.0/16")
    engine.control("faults", error={"path": "/import$", "method": "POST", "status": 500})
    with pytest.raises(BackendUnavailable):
        wired.driver.create_subnet(scope, vpc.id, "10.60.1.0/24", DEFAULT_CLUSTER)
    engine.clear_faults()
    ovn = engine.simulator.ovn
    assert not ovn.networks and not ovn.subnets and not [p for p in ovn.ports.values() if p["device_id"] == vpc.id]
    subnet = wired.driver.create_subnet(scope, vpc.id, "10.60.1.0/24", DEFAULT_CLUSTER)
    assert subnet.network_id and subnet.profile_id and subnet.gateway_ip == "10.60.1.1"
    assert subnet.free_addresses == 253  # a /24 less the network, broadcast and gateway addresses



def test_an_import_answered_too_late_leaves_no_logical_network(engine: Engine, tmp_path: Path) -> None:
    """The engine imports the network but its answer misses the read timeout: the undo removes the imported
    logical network (and its vNIC profile) too, not only the provider's network."""
    engine.simulator.reset()
    base = engine.handle.url
    provider = ProviderConfig(name="sim", url=engine.url, ovn_url=f"{base}/ovirt-provider-ovn/neutron/v2.0",
                              ovn_auth_url=f"{base}/ovirt-provider-ovn/keystone/v2.0")
    config = Config(providers=(provider,), default_provider="sim", engine_retries=0, engine_read_timeout=1.0)
    store = Store(f"sqlite:///{tmp_path / 'cloudgw.db'}", load_or_create_key(tmp_path / "key"))
    driver = OvirtDriver(config, store, OperationRunner(store))
    try:
        scope = Scope(provider, None, ADMIN)
        vpc = driver.create_vpc(scope, "10.61.0.0/16")
        external = {n.id for n in engine.simulator.store.networks.values() if n.external_provider_id}
        engine.control("faults", hold={"path": "/import$", "method": "POST", "seconds": 2, "count": 1})
        with pytest.raises(BackendUnavailable):
            driver.create_subnet(scope, vpc.id, "10.61.1.0/24", DEFAULT_CLUSTER)
        engine.clear_faults()
        assert {n.id for n in engine.simulator.store.networks.values() if n.external_provider_id} == external
        assert not engine.simulator.ovn.networks and not engine.simulator.ovn.subnets
    finally:
        driver.close()
        store.close()



def test_entries_sharing_an_ovn_url_keep_their_own_tls_settings(wired: Wired, engine: Engine) -> None:
    """Two provider entries naming the same OVN URL, one verifying its certificate and one not: each request
    goes with its own entry's TLS setting, never with whichever entry asked first."""
    insecure = ProviderConfig(name="lax", url=engine.url, ovn_url=wired.provider.ovn_url,
                              ovn_auth_url=wired.provider.ovn_auth_url, ovn_insecure=True)
    lax = wired.driver._ovn(Scope(insecure, None, ADMIN))
    strict = wired.driver._ovn(wired.scope())
    assert lax.session.verify is False
    assert strict.session.verify is True


BLANK = "00000000-0000-0000-0000-000000000000"


def test_a_vm_nic_on_a_subnet_gets_a_port_with_an_address_from_its_pool(wired: Wired, engine: Engine) -> None:
    import requests
    from lxml import etree
    scope = wired.scope()
    vpc = wired.driver.create_vpc(scope, "10.70.0.0/16")
    subnet = wired.driver.create_subnet(scope, vpc.id, "10.70.3.0/24", DEFAULT_CLUSTER)
    engine_api = requests.Session()
    engine_api.auth = ("admin@internal", "admin")
    vm = etree.fromstring(engine_api.post(f"{engine.url}/vms", timeout=10, data=(
        f'<vm><name>on-ovn</name><cluster id="{DEFAULT_CLUSTER}"/><template id="{BLANK}"/></vm>')).content)
    added = engine_api.post(f"{engine.url}/vms/{vm.get('id')}/nics", timeout=10,
                            data=f'<nic><name>ovn0</name><vnic_profile id="{subnet.profile_id}"/></nic>')
    assert added.status_code == 201, added.text
    nic_id = etree.fromstring(added.content).get("id")
    ports = [p for p in engine.simulator.ovn.ports.values() if p["device_id"] == nic_id]
    assert [ip["ip_address"] for p in ports for ip in p["fixed_ips"]] == ["10.70.3.2"]  # the pool's first
    vm_url = f"{engine.url}/vms/{vm.get('id')}"
    assert engine_api.post(f"{vm_url}/start", data="<action/>", timeout=10).status_code == 200
    engine.simulator.clock.advance(300)  # up, with the guest agent reporting
    reported = etree.fromstring(engine_api.get(f"{engine.url}/vms/{vm.get('id')}/nics/{nic_id}/reporteddevices",
                                               timeout=10).content)
    assert "10.70.3.2" in [ip.findtext("address") for ip in reported.iter("ip")]
    assert next(s for s in wired.driver.subnets(scope) if s.id == subnet.id).free_addresses == 252
    with pytest.raises(InUse):
        wired.driver.delete_subnet(scope, subnet.id)
    assert engine_api.post(f"{vm_url}/stop", data="<action/>", timeout=10).status_code == 200
    engine.simulator.clock.advance(300)
    assert engine_api.delete(f"{vm_url}/nics/{nic_id}", timeout=10).status_code == 200
    assert not [p for p in engine.simulator.ovn.ports.values() if p["device_id"] == nic_id]
    wired.driver.delete_subnet(scope, subnet.id)
    assert not engine.simulator.ovn.subnets


def test_the_provider_requests_of_placing_a_launch_are_constant_in_rules_and_ports(wired: Wired, engine: Engine) -> None:
    import requests
    from lxml import etree
    scope = wired.scope()
    wired.record(scope)
    vpc = wired.driver.create_vpc(scope, "10.80.0.0/16")
    subnet = wired.driver.create_subnet(scope, vpc.id, "10.80.0.0/22", DEFAULT_CLUSTER)
    engine_api = requests.Session()
    engine_api.auth = ("admin@internal", "admin")

    def placing_costs(name: str) -> int:
        vm = etree.fromstring(engine_api.post(f"{engine.url}/vms", timeout=10, data=(
            f'<vm><name>{name}</name><cluster id="{DEFAULT_CLUSTER}"/><template id="{BLANK}"/></vm>')).content)
        wired.sent.clear()
        wired.driver.place_on_subnet(scope, vm.get("id"), subnet.id, [])
        return len(wired.sent)

    few = placing_costs("few")
    group = wired.driver.create_security_group(scope, vpc.id, "many", "many")
    wired.driver.add_security_rules(scope, group.id, [SecurityRule("ingress", "tcp", p, p, remote_cidr="10.0.0.0/8")
                                                      for p in range(1, 51)])
    with engine.simulator.ovn.lock:
        for index in range(50):
            engine.simulator.ovn.add_port({"network_id": engine.simulator.ovn.subnets[subnet.id]["network_id"],
                                           "name": f"other{index}"})
    assert placing_costs("many") == few == 8


def test_a_nic_plugged_takes_the_port_that_names_it_and_unplugged_loses_it(wired: Wired, engine: Engine) -> None:
    """As the engine's provider proxy (locatePort): plugging a NIC on an external network reuses the port whose
    device_owner is oVirt and device_id the NIC's id, else makes one; unplugging deallocates it."""
    import requests
    from lxml import etree
    scope = wired.scope()
    vpc = wired.driver.create_vpc(scope, "10.71.0.0/16")
    subnet = wired.driver.create_subnet(scope, vpc.id, "10.71.3.0/24", DEFAULT_CLUSTER)
    engine_api = requests.Session()
    engine_api.auth = ("admin@internal", "admin")
    vm = etree.fromstring(engine_api.post(f"{engine.url}/vms", timeout=10, data=(
        f'<vm><name>plugging</name><cluster id="{DEFAULT_CLUSTER}"/><template id="{BLANK}"/></vm>')).content)
    nics_url = f"{engine.url}/vms/{vm.get('id')}/nics"
    added = engine_api.post(nics_url, timeout=10, data=f'<nic><name>ovn0</name><vnic_profile id="{subnet.profile_id}"/>'
                                                       '<plugged>false</plugged></nic>')
    assert added.status_code == 201, added.text
    nic = etree.fromstring(added.content)
    nic_id = nic.get("id")
    assert nic.findtext("plugged") == "false"
    assert not [p for p in engine.simulator.ovn.ports.values() if p["device_id"] == nic_id]  # unplugged: no port
    network_id = engine.simulator.ovn.subnets[subnet.id]["network_id"]
    made = wired.driver._ovn(scope).create(scope, "ports", "port", {
        "network_id": network_id, "device_owner": "oVirt", "device_id": nic_id,
        "fixed_ips": [{"subnet_id": subnet.id, "ip_address": "10.71.3.77"}]})
    plugged = engine_api.put(f"{nics_url}/{nic_id}", timeout=10, data="<nic><plugged>true</plugged></nic>")
    assert plugged.status_code == 200, plugged.text
    ports = [p for p in engine.simulator.ovn.ports.values() if p["device_id"] == nic_id]
    assert [p["id"] for p in ports] == [made["id"]] and ports[0]["mac_address"] == nic.findtext("mac/address")
    unplugged = engine_api.put(f"{nics_url}/{nic_id}", timeout=10, data="<nic><plugged>false</plugged></nic>")
    assert unplugged.status_code == 200 and etree.fromstring(unplugged.content).findtext("plugged") == "false"
    assert made["id"] not in engine.simulator.ovn.ports
    engine_api.put(f"{nics_url}/{nic_id}", timeout=10, data="<nic><plugged>true</plugged></nic>")
    [own] = [p for p in engine.simulator.ovn.ports.values() if p["device_id"] == nic_id]  # none named it: a new one
    assert own["id"] != made["id"] and own["fixed_ips"][0]["ip_address"] == "10.71.3.2"


def test_an_interface_the_engine_adds_without_naming_it_regroups_no_port(wired: Wired, engine: Engine) -> None:
    """An engine answer without the new NIC's id is a BackendError, not a placement on device id "", which
    would put every port bound to no device (interfaces made with CreateNetworkInterface) in the groups."""
    import requests
    from lxml import etree

    from gateway.errors import BackendError
    scope = wired.scope()
    vpc = wired.driver.create_vpc(scope, "10.81.0.0/16")
    subnet = wired.driver.create_subnet(scope, vpc.id, "10.81.0.0/22", DEFAULT_CLUSTER)
    group = wired.driver.create_security_group(scope, vpc.id, "spare", "spare")
    network_id = engine.simulator.ovn.subnets[subnet.id]["network_id"]
    with engine.simulator.ovn.lock:
        spare = engine.simulator.ovn.add_port({"network_id": network_id, "name": "spare",
                                               "security_groups": [group.id]})
    vm = etree.fromstring(requests.post(f"{engine.url}/vms", auth=("admin@internal", "admin"), timeout=10, data=(
        f'<vm><name>nameless-nic</name><cluster id="{DEFAULT_CLUSTER}"/><template id="{BLANK}"/></vm>')).content)
    engine.simulator.faults.configure({"error": {"path": r"/vms/[^/]+/nics$", "method": "POST", "status": 201,
                                                 "body": "", "content_type": "application/xml", "count": 1}})
    with pytest.raises(BackendError):
        wired.driver.place_on_subnet(scope, vm.get("id"), subnet.id, [])
    assert engine.simulator.ovn.ports[spare["id"]]["security_groups"] == [group.id]


def test_a_detachment_is_remembered_by_every_process_for_ten_minutes(wired: Wired, engine: Engine,
                                                                     tmp_path: Path) -> None:
    """The last attachment of an interface detached is kept in the store (so another process, or this one
    restarted, sees it) until it is attached again or DETACHMENT_SECONDS have passed."""
    import requests
    from lxml import etree
    scope = wired.scope()
    vpc = wired.driver.create_vpc(scope, "10.72.0.0/16")
    subnet = wired.driver.create_subnet(scope, vpc.id, "10.72.3.0/24", DEFAULT_CLUSTER)
    vm = etree.fromstring(requests.post(f"{engine.url}/vms", auth=("admin@internal", "admin"), timeout=10, data=(
        f'<vm><name>detaching</name><cluster id="{DEFAULT_CLUSTER}"/><template id="{BLANK}"/></vm>')).content)
    reserved = wired.driver.create_interface(scope, subnet.id, [], None, "second leg")
    first = wired.driver.attach_interface(scope, reserved.id, vm.get("id"), 2)
    assert wired.driver.interface_detachments(scope) == []
    wired.driver.detach_interface(scope, first)
    now = wired.store.clock()
    other = Wired(engine, tmp_path)  # another process on the same database
    try:
        other.store.clock = lambda: now + 599
        [seen] = other.driver.interface_detachments(other.scope())
        assert (seen.attachment_id, seen.interface_id, seen.instance_id, seen.device_index) == (
            first, reserved.id, vm.get("id"), 2)
        other.store.clock = lambda: now + 601
        assert other.driver.interface_detachments(other.scope()) == []
    finally:
        other.close()
    second = wired.driver.attach_interface(scope, reserved.id, vm.get("id"), 1)
    assert wired.driver.interface_detachments(scope) == []  # attached again: the old one is gone
    wired.driver.detach_interface(scope, second)
    assert [d.attachment_id for d in wired.driver.interface_detachments(scope)] == [second]
    wired.driver.delete_interface(scope, reserved.id)
    assert wired.driver.interface_detachments(scope) == []
