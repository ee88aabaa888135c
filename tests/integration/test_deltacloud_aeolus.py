"""The call sequence of Aeolus Conductor (with the Ruby deltacloud-client it bundles) against the Deltacloud
API, in XML, as listed in the clients reference (section 3.2): validate credentials and provider, sync
realms and hardware profiles, match a profile, create a key and an instance with hwp overrides and
keyname, poll, decide valid actions from instance_states, and act through the instance's own links.
"""
from __future__ import annotations

import base64
import time
import uuid

import requests
from lxml import etree

SKIPPED_PROFILES = ("opaque", "t1.micro")  # Conductor never offers these


class AeolusConnection:
    """What `DeltaCloud.new(user, pass, url).with_config(driver:, provider:)` sends: Basic auth, XML,
    the driver and provider headers, on every request."""

    def __init__(self, api_url: str, username: str, password: str, provider: str) -> None:
        self.api_url = api_url
        self.session = requests.Session()
        token = base64.encodebytes(f"{username}:{password}".encode()).decode().replace("\n", "")
        self.session.headers.update({"Authorization": f"Basic {token}", "Accept": "application/xml",
                                     "X-Deltacloud-Driver": "rhevm", "X-Deltacloud-Provider": provider})

    def xml(self, method: str, url: str, status: int = 200, **kwargs) -> etree._Element:
        response = self.session.request(method, url, timeout=60, **kwargs)
        assert response.status_code == status, (method, url, response.status_code, response.text[:600])
        return etree.fromstring(response.content) if response.content else None

    def entry_points(self) -> tuple[etree._Element, dict[str, str]]:
        api = self.xml("GET", self.api_url)
        return api, {link.get("rel"): link.get("href") for link in api.findall("link")}

    def instance(self, href: str) -> etree._Element | None:
        response = self.session.get(href, timeout=60)
        if response.status_code == 404:
            return None  # dbomatic: missing means vanished
        assert response.status_code == 200, response.text
        return etree.fromstring(response.content)


def valid_credentials(api_url: str, auth: tuple[str, str]) -> bool:
    """`DeltaCloud::valid_credentials?`: GET /api?force_auth=1, 200 or 401."""
    status = requests.get(api_url, params={"force_auth": "1"}, auth=auth, headers={"Accept": "application/xml"},
                          timeout=60).status_code
    assert status in (200, 401)
    return status == 200


def hwp_properties(profile: etree._Element) -> dict[str, dict[str, object]]:
    """`add_properties`: memory, storage, cpu, architecture with kind, unit, value, range and enum entries."""
    found = {}
    for prop in profile.findall("property"):
        if prop.get("name") not in ("memory", "storage", "cpu", "architecture"):
            continue
        rng = prop.find("range")
        found[prop.get("name")] = {
            "kind": prop.get("kind"), "unit": prop.get("unit"), "value": prop.get("value"),
            "range_first": rng.get("first") if rng is not None else None,
            "range_last": rng.get("last") if rng is not None else None,
            "enum": [e.get("value") for e in prop.findall("enum/entry")],
        }
    return found


def matches(prop: dict[str, object] | None, wanted: float) -> bool:
    """`match_hardware_profile_property`: fixed >= wanted, range last >= wanted, any enum entry >= wanted."""
    if prop is None:
        return False
    if prop["kind"] == "fixed":
        return float(prop["value"]) >= wanted
    if prop["kind"] == "range":
        return float(prop["range_last"]) >= wanted
    return any(float(v) >= wanted for v in prop["enum"])


def wait_state(conn: AeolusConnection, href: str, wanted: set[str], timeout: float = 45) -> etree._Element:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        instance = conn.instance(href)
        assert instance is not None, "instance vanished while waiting"
        if instance.findtext("state") in wanted:
            return instance
        time.sleep(0.25)
    raise AssertionError(f"{href} never reached {wanted}")


def do_action(conn: AeolusConnection, instance: etree._Element, action: str, status: int) -> None:
    """`dcloud_instance.send(:#{action}!)`: the action link's href with its method."""
    link = instance.find(f"actions/link[@rel='{action}']")
    assert link is not None, f"{action} not offered in {instance.findtext('state')}"
    conn.xml(link.get("method").upper(), link.get("href"), status)


def valid_actions(states: etree._Element, api_version: str, state: str) -> set[str]:
    """`InstanceTask.valid_actions_for_instance_state` with `dc_version_compatible_state`."""
    if state == "SHUTTING_DOWN" and int(api_version.split(".")[0]) >= 1:
        state = "STOPPING"
    node = states.find(f"state[@name='{state.lower()}']")
    return {t.get("action") for t in node.findall("transition") if t.get("action")}


def test_aeolus_conductor_sequence(gateway) -> None:
    admin = gateway.admin
    api_url = gateway.api_url
    assert valid_credentials(api_url, admin)
    assert not valid_credentials(api_url, ("admin@internal", "not-the-password"))

    # Provider#valid_provider?: the provider string must be one /api/drivers/rhevm lists
    driver = etree.fromstring(requests.get(f"{api_url}/drivers/rhevm", auth=admin, timeout=60,
                                           headers={"Accept": "application/xml"}).content)
    entrypoints = {p.find("entrypoint").get("kind"): p.findtext("entrypoint") for p in driver.findall("provider")}
    provider = entrypoints["Default"]
    conn = AeolusConnection(api_url, *admin, provider)

    api, links = conn.entry_points()
    assert int(api.get("version").split(".")[0]) >= 1 and api.get("driver") == "rhevm"
    assert {"instances", "images", "realms", "hardware_profiles", "keys", "instance_states", "drivers"} <= set(links)
    features = {f.get("name") for f in api.findall("link[@rel='instances']/feature")}
    assert "authentication_key" in features  # client.feature?(:instances, :authentication_key)

    realms = conn.xml("GET", links["realms"]).findall("realm")
    realm = realms[0]
    assert realm.findtext("state").lower() == "available"

    profiles = {p.get("id"): (p.findtext("name"), hwp_properties(p))
                for p in conn.xml("GET", links["hardware_profiles"]).findall("hardware_profile")
                if p.findtext("name") not in SKIPPED_PROFILES}
    wanted_memory, wanted_cpu = 1024, 1
    candidates = [(float(props["memory"]["value"]), hwp_id) for hwp_id, (_, props) in profiles.items()
                  if props["memory"]["kind"] == "fixed" and matches(props.get("memory"), wanted_memory)
                  and matches(props.get("cpu"), wanted_cpu)]
    _, match_id = min(candidates)
    match = profiles[match_id][1]
    assert float(match["memory"]["value"]) >= wanted_memory and match["memory"]["unit"] == "MB"
    flexible_id, flexible = next((i, p) for i, (name, p) in profiles.items() if p["memory"]["kind"] == "range")
    assert matches(flexible["memory"], 4096) and flexible["architecture"]["kind"] == "enum"

    image = next(i for i in conn.xml("GET", links["images"]).findall("image") if i.findtext("name") != "Blank")

    key = conn.xml("POST", links["keys"], 201, data={"name": f"aeolus-{uuid.uuid4().hex[:8]}"})
    key_id, pem = key.get("id"), key.findtext("pem")
    assert pem and pem.strip().startswith("-----BEGIN")

    # Taskomatic.create_dcloud_instance: user_data is base64 of "1|<endpoint>|<uuid>|<secret>", which the
    # Ruby client base64-encodes once more (encode64, with line breaks)
    inner = base64.b64encode(f"1|https://config.example:443|{uuid.uuid4()}|{uuid.uuid4().hex}".encode())
    launched = []
    for hwp_id, memory, cpu in ((match_id, match["memory"]["value"], match["cpu"]["value"]),
                                (flexible_id, "1024", "2")):
        created = conn.xml("POST", links["instances"], 201, data={
            "image_id": image.get("id"), "hwp_id": hwp_id, "name": f"aeolus/deployment-{len(launched)}".replace("/", "-"),
            "hwp_memory": memory, "hwp_cpu": cpu, "hwp_storage": "", "keyname": key_id,
            "realm_id": realm.get("id"), "user_data": base64.encodebytes(inner).decode()})
        assert created.get("id") and created.findtext("state") in ("PENDING", "RUNNING", "STOPPED")
        launched.append(created)

    states = conn.xml("GET", links["instance_states"])
    for created, memory, cpu in zip(launched, (match["memory"]["value"], "1024"), (match["cpu"]["value"], "2")):
        href = created.get("href")
        # dbomatic polls; a RHEV instance may stop after creation and then needs one explicit start
        instance = wait_state(conn, href, {"RUNNING", "STOPPED"})
        if instance.findtext("state") == "STOPPED":
            do_action(conn, instance, "start", 202)
            instance = wait_state(conn, href, {"RUNNING"})
        sizes = {p.get("name"): p.get("value") for p in instance.findall("hardware_profile/property")}
        assert (sizes["memory"], sizes["cpu"]) == (memory, cpu)
        assert instance.findtext("authentication/login/keyname") == key_id
        deadline = time.monotonic() + 20
        while not instance.findall("public_addresses/address[@type='ipv4']") and time.monotonic() < deadline:
            time.sleep(0.3)
            instance = conn.instance(href)
        assert instance.findall("public_addresses/address[@type='ipv4']")

        offered = {link.get("rel") for link in instance.findall("actions/link")}
        assert {"stop", "reboot", "destroy"} <= valid_actions(states, api.get("version"), "RUNNING")
        assert offered == {"stop", "reboot", "destroy"}
        do_action(conn, instance, "stop", 202)
        instance = wait_state(conn, href, {"STOPPED"})
        assert "start" in valid_actions(states, api.get("version"), instance.findtext("state"))
        do_action(conn, instance, "destroy", 204)
        deadline = time.monotonic() + 45
        while conn.instance(href) is not None:
            assert time.monotonic() < deadline, "destroyed instance never vanished"
            time.sleep(0.25)

    # Instance#destroy_auth_key: connect.key(name).destroy!
    key = conn.xml("GET", f"{links['keys']}/{key_id}")
    assert key.findtext("pem") is None
    do_action(conn, key, "destroy", 204)
