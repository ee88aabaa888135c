"""The Deltacloud API's entry point, negotiation, provider selection and every collection, in XML and JSON,
against a gateway on its embedded default (real HTTP, the real oVirt driver, the simulator)."""
from __future__ import annotations

import socket
from urllib.parse import quote

import pytest
import requests
from lxml import etree

from .deltacloud_http import Api

FORMATS = ["xml", "json"]
COLLECTIONS = {"drivers", "realms", "images", "hardware_profiles", "instances", "instance_states", "keys",
               "storage_volumes", "storage_snapshots", "networks", "metrics",
               "subnets", "firewalls"}  # the default has OVN
INSTANCE_TYPES = {"Tiny": (512, 1), "Small": (2048, 1), "Medium": (4096, 2), "Large": (8192, 2)}


@pytest.fixture(params=FORMATS)
def api(request: pytest.FixtureRequest, gateway) -> Api:
    return Api(gateway.api_url, request.param, gateway.admin)


def barcelona_provider(gateway) -> str:
    providers = etree.fromstring(requests.get(f"{gateway.api_url}/drivers/rhevm", auth=gateway.admin,
                                              timeout=30).content)
    for provider in providers.findall("provider"):
        if provider.find("entrypoint").get("kind") == "barcelona":
            return provider.findtext("entrypoint")
    raise AssertionError("no barcelona provider listed")


# --- the entry point ------------------------------------------------------------------------------
def test_entry_point_links_every_collection_with_absolute_hrefs(api: Api, gateway) -> None:
    response = api.checked("GET", gateway.api_url, 200)
    assert response.headers["Server"].startswith("Apache-Deltacloud/1.1.3") or \
        "Apache-Deltacloud/1.1.3" in response.headers["Server"]
    assert response.headers["ETag"]
    assert response.headers["X-Deltacloud-Driver"] == "rhevm"
    if api.fmt == "json":
        doc = response.json()["api"]
        assert (doc["version"], doc["driver"]) == ("1.1.3", "rhevm")
        links = {link["rel"]: link for link in doc["links"]}
        features = {f["name"] for group in links["instances"]["features"] for f in group}
        hrefs = [link["href"] for link in doc["links"]]
    else:
        root = etree.fromstring(response.content)
        assert (root.tag, root.get("version"), root.get("driver")) == ("api", "1.1.3", "rhevm")
        assert root.get("provider").endswith(";Default")
        links = {link.get("rel"): link for link in root.findall("link")}
        features = {f.get("name") for f in links["instances"].findall("feature")}
        hrefs = [link.get("href") for link in root.findall("link")]
    assert set(links) == COLLECTIONS
    assert all(href.startswith(gateway.url + "/api/") for href in hrefs)
    assert {"user_data", "authentication_key", "hardware_profiles", "realm_filter", "user_name"} <= features


def test_entry_point_answers_a_matching_etag_with_304(gateway) -> None:
    first = requests.get(gateway.api_url, timeout=30)
    again = requests.get(gateway.api_url, headers={"If-None-Match": first.headers["ETag"]}, timeout=30)
    assert again.status_code == 304 and not again.content


@pytest.mark.parametrize("auth, status", [(("admin@internal", "admin"), 200), (("admin@internal", "wrong"), 401),
                                          (None, 401)])
def test_force_auth_checks_the_credentials_with_the_engine(gateway, auth, status) -> None:
    response = requests.get(gateway.api_url, params={"force_auth": "1"}, auth=auth, timeout=30)
    assert response.status_code == status
    if status == 401:
        assert response.headers["WWW-Authenticate"].startswith('Basic realm="rhevm-deltacloud@')
    # without force_auth the entry point needs no credentials at all
    assert requests.get(gateway.api_url, auth=auth, timeout=30).status_code == 200


def test_options_lists_the_collections(gateway) -> None:
    response = requests.options(gateway.api_url, timeout=30)
    assert set(response.headers["Allow"].split(",")) == COLLECTIONS


@pytest.mark.parametrize("query, accept, expected", [
    ({}, None, "application/xml"),
    ({}, "*/*", "application/xml"),
    ({}, "application/json", "application/json"),
    ({}, "text/xml", "application/xml"),
    ({}, "application/xml;q=0.5, application/json", "application/json"),
    ({"format": "json"}, "application/xml", "application/json"),
    ({"format": "xml"}, "application/json", "application/xml"),
])
def test_format_comes_from_the_query_then_accept_then_defaults_to_xml(gateway, query, accept, expected) -> None:
    headers = {"Accept": accept} if accept else {}
    session = requests.Session()
    if accept is None:
        session.headers.pop("Accept", None)
    response = session.get(gateway.api_url + "/realms", params=query, headers=headers, auth=gateway.admin, timeout=30)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith(expected)


def test_collections_in_json_and_xml_agree(gateway) -> None:
    as_xml, as_json = Api(gateway.api_url, "xml", gateway.admin), Api(gateway.api_url, "json", gateway.admin)
    for rel in ("realms", "images", "hardware_profiles", "networks"):
        assert {r.id for r in as_xml.list(rel)} == {r.id for r in as_json.list(rel)}, rel


# --- collections -----------------------------------------------------------------------------------
def test_realms_are_the_default_data_centers_clusters(api: Api) -> None:
    realms = api.list("realms")
    assert [r["name"] for r in realms] == ["Default"]
    assert realms[0]["state"] == "AVAILABLE"
    shown = api.show(realms[0].href, "realm")
    assert (shown.id, shown["name"]) == (realms[0].id, "Default")


def test_hardware_profiles_have_fixed_range_and_enum_properties(api: Api) -> None:
    response = api.checked("GET", api.href("hardware_profiles"), 200)
    if api.fmt == "json":
        profiles = {p["name"]: p for p in response.json()["hardware_profiles"]}
        props = {n: {x["name"]: x for x in p["property"]} for n, p in profiles.items()}
        assert all(p["properties"].keys() == props[n].keys() for n, p in profiles.items())
        ranges = {k: (v["range"]["first"], v["range"]["last"]) for k, v in props["flexible"].items() if "range" in v}
        enum = [e["value"] for e in props["flexible"]["architecture"]["enum"]["entry"]]
    else:
        root = etree.fromstring(response.content)
        profiles = {p.findtext("name"): p for p in root.findall("hardware_profile")}
        props = {n: {x.get("name"): {**x.attrib} for x in p.findall("property")} for n, p in profiles.items()}
        flexible = profiles["flexible"]
        ranges = {x.get("name"): (int(x.find("range").get("first")), int(x.find("range").get("last")))
                  for x in flexible.findall("property") if x.find("range") is not None}
        enum = [e.get("value") for e in flexible.find("property[@name='architecture']/enum")]
        assert flexible.find("property[@name='memory']/param").get("name") == "hwp_memory"
    for name, (memory, cpus) in INSTANCE_TYPES.items():
        assert props[name]["memory"]["kind"] == "fixed"
        assert (int(props[name]["memory"]["value"]), props[name]["memory"]["unit"]) == (memory, "MB")
        assert int(props[name]["cpu"]["value"]) == cpus
    assert ranges["memory"][0] == 512 and ranges["memory"][1] >= 8192
    assert ranges["cpu"][0] == 1 and ranges["cpu"][1] >= 2
    assert enum == ["x86_64"]


def test_images_carry_owner_state_and_a_create_instance_link(api: Api, gateway) -> None:
    images = api.list("images")
    names = {i["name"] for i in images}
    assert "Blank" in names and len(images) >= 3
    for image in images:
        assert image["state"] == "AVAILABLE"
        assert image["owner_id"] is not None and image["architecture"] == "x86_64"
        href, method = image.actions["create_instance"]
        assert (href, method) == (f"{gateway.api_url}/instances;image_id={image.id}", "post")
        if api.fmt == "json":
            assert image["owner"] == image["owner_id"] and "description" in image.fields
    assert api.show(images[0].href, "image").id == images[0].id


def test_instance_states_expose_the_lifecycle(api: Api) -> None:
    response = api.checked("GET", api.href("instance_states"), 200)
    if api.fmt == "json":
        states = {s["name"]: {(t["to"], t.get("action") or "auto") for t in s["transitions"]} for s in response.json()}
    else:
        states = {s.get("name"): {(t.get("to"), t.get("action") or ("auto" if t.get("auto") == "true" else None))
                                  for t in s} for s in etree.fromstring(response.content)}
    assert ("pending", "create") in states["start"]
    assert {("running", "auto"), ("stopped", "auto")} <= states["pending"]
    assert {("stopping", "stop"), ("running", "reboot"), ("stopping", "destroy")} <= states["running"]
    assert ("pending", "start") in states["stopped"]
    assert not any(action == "suspend" for edges in states.values() for _, action in edges)


def test_networks_list_the_data_centers_logical_networks(api: Api) -> None:
    networks = api.list("networks")
    assert "ovirtmgmt" in {n["name"] for n in networks}
    assert api.show(networks[0].href, "network").id == networks[0].id


def test_drivers_list_rhevm_and_its_data_centers_as_providers(api: Api, gateway) -> None:
    listing = api.checked("GET", api.href("drivers"), 200)
    shown = api.checked("GET", f"{gateway.api_url}/drivers/rhevm", 200)
    if api.fmt == "json":
        assert [d["id"] for d in listing.json()["drivers"]] == ["rhevm"]
        providers = {e["kind"]: e["url"] for p in shown.json()["driver"]["providers"] for e in p["entrypoints"]}
    else:
        assert [d.get("id") for d in etree.fromstring(listing.content)] == ["rhevm"]
        providers = {p.find("entrypoint").get("kind"): p.findtext("entrypoint")
                     for p in etree.fromstring(shown.content).findall("provider")}
    assert set(providers) == {"Default", "barcelona"}
    assert all(url.startswith(gateway.engine_url + ";dc") for url in providers.values())


# --- provider selection ----------------------------------------------------------------------------
def test_provider_header_selects_another_data_center(gateway) -> None:
    provider = barcelona_provider(gateway)
    api = Api(gateway.api_url, "xml", gateway.admin, {"X-Deltacloud-Provider": provider,
                                                      "X-Deltacloud-Driver": "rhevm"})
    assert [r["name"] for r in api.list("realms")] == ["barcelona-cluster"]
    response = api.call("GET", gateway.api_url + "/realms")
    assert response.headers["X-Deltacloud-Provider"].endswith(provider.split(";")[1])


def test_matrix_parameters_select_the_driver_and_provider(gateway) -> None:
    provider = barcelona_provider(gateway)
    base = f"{gateway.api_url};driver=rhevm;provider={quote(provider, safe='')}"
    api = Api(base, "json", gateway.admin)
    entry = api.entry()
    assert entry["realms"].startswith(base + "/")  # links keep the selection
    assert [r["name"] for r in api.list("realms")] == ["barcelona-cluster"]
    # POST /api with driver/provider redirects to the matrix URL, as Deltacloud's form did
    moved = requests.post(gateway.api_url, data={"driver": "rhevm", "provider": provider}, allow_redirects=False,
                          timeout=30)
    assert moved.status_code == 301 and moved.headers["Location"] == base


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_provider_outside_the_allow_list_is_refused_without_being_contacted(gateway, fmt) -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        listener.settimeout(0.5)
        foreign = f"http://127.0.0.1:{listener.getsockname()[1]}/ovirt-engine/api;Default"
        for headers, url in (({"X-Deltacloud-Provider": foreign}, gateway.api_url + "/realms"),
                             ({}, f"{gateway.api_url};provider={quote(foreign, safe='')}/realms")):
            response = requests.get(url, headers={**headers, "Accept": f"application/{fmt}"}, auth=gateway.admin,
                                    timeout=30)
            assert response.status_code == 400, response.text
            assert "not one this gateway is configured to use" in response.text
        with pytest.raises(socket.timeout):
            listener.accept()


def test_an_unknown_driver_is_refused(gateway) -> None:
    response = requests.get(gateway.api_url + "/realms", headers={"X-Deltacloud-Driver": "ec2"}, auth=gateway.admin,
                            timeout=30)
    assert response.status_code == 400 and "Unknown driver 'ec2'" in response.text
