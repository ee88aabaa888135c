"""CIMI driven by generated requests: paths, query strings, headers, JSON and XML bodies.

Two properties: any request at all (mostly nonsense, sometimes nearly right) is answered without a 500,
in CIMI's format, with no traceback, and a 4xx changes nothing; and a create body that would be valid but
for one piece of text XML cannot carry is a 400 that stores nothing and asks nothing of the engine (it
used to store an unlistable entity, or create a VM and then fail).
"""
from __future__ import annotations

from typing import Any
from urllib.parse import urlencode
from xml.sax.saxutils import quoteattr

import pytest
import requests
from hypothesis import given, settings
from hypothesis import strategies as st

from .formats import check_cimi, json_text
from .strategies import header_value, path_segment, text, unwritable_text, words
from .world import World

NS = "http://schemas.dmtf.org/cimi/1"
COLLECTIONS = ["machines", "machine_images", "machine_configurations", "machine_templates", "volumes",
               "volume_configurations", "volume_templates", "networks", "network_ports", "forwarding_groups",
               "credentials", "jobs", "resource_metadata", "meters", "meter_configurations"]
FIELDS = ["name", "description", "properties", "machineTemplate", "machineImage", "machineConfig", "credential",
          "volumeTemplate", "volumeConfig", "href", "capacity", "cpu", "memory", "initialState", "userData", "key",
          "credentialTemplate", "action", "force", "format", "type", "realm", "imageLocation", "resourceURI",
          "volume", "initialLocation", "networkTemplate", "networkConfig", "forwardingGroup", "cidr",
          "forwardingGroupTemplate", "network", "addresses", "networkType"]
TYPES = ["MachineCreate", "Machine", "VolumeCreate", "VolumeConfiguration", "VolumeTemplate", "MachineTemplate",
         "CredentialCreate", "Credential", "Action", "MachineImage", "MachineVolume", "NetworkCreate",
         "ForwardingGroupCreate", "MachineNetworkInterface", "Nope"]


@pytest.fixture(scope="module")
def refs(gateway) -> dict[str, str]:
    """Real references a body may carry (never a path a generated DELETE could reach)."""
    session = requests.Session()
    session.auth = gateway.admin
    session.headers["Accept"] = "application/json"
    configs = session.get(f"{gateway.url}/cimi/machine_configurations", timeout=30).json()["machineConfigurations"]
    images = session.get(f"{gateway.url}/cimi/machine_images", timeout=30).json()["machineImages"]
    return {"config": next(c["id"] for c in configs if c["name"] == "Tiny"),
            "image": next(i["id"] for i in images if i["name"] == "debian-12")}


def scalars(config_href: str) -> st.SearchStrategy[Any]:
    return st.one_of(words, st.integers(-2, 2 ** 40), st.floats(allow_nan=False), st.booleans(), st.none(),
                     st.sampled_from([config_href, "STOPPED", "STARTED", NS + "/action/stop", "ssh-rsa AAAA",
                                      "X-Injected: 1", "aGVsbG8=", f"{NS}/MachineCreate"]))


def documents(config_href: str) -> st.SearchStrategy[Any]:
    """JSON-shaped bodies: CIMI's own field names (and some junk) over scalars, nested a few levels."""
    keys = st.one_of(st.sampled_from(FIELDS), text)
    return st.recursive(scalars(config_href), lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(keys, inner, max_size=4)), max_leaves=8)


def xml_text(tag: str, value: Any) -> str:
    """A body in XML as a sloppy client writes it: no escaping of control characters, attributes for href."""
    if isinstance(value, dict):
        attrs = "".join(f" {k}={quoteattr(str(v))}" for k, v in value.items() if k == "href" and not isinstance(v, dict | list))
        inner = "".join(xml_text(str(k) or "x", v) for k, v in value.items() if k != "href" or isinstance(v, dict | list))
        return f"<{tag}{attrs}>{inner}</{tag}>"
    if isinstance(value, list):
        return "".join(xml_text(tag, v) for v in value)
    return f"<{tag}>{'' if value is None else str(value).replace('&', '&amp;').replace('<', '&lt;')}</{tag}>"


def requests_for(config_href: str) -> st.SearchStrategy[dict[str, Any]]:
    junk_id = st.one_of(st.sampled_from(["x", "00000000-0000-4000-8000-000000000000"]), text).map(path_segment)
    path = st.one_of(
        st.sampled_from(["cloudEntryPoint", ""] + COLLECTIONS),
        st.builds(lambda c, i: f"{c}/{i}", st.sampled_from(COLLECTIONS), junk_id),
        st.builds(lambda i, v: f"machines/{i}/{v}", junk_id, st.sampled_from(["start", "stop", "volumes", "disks", "x"])),
        junk_id)
    query = st.dictionaries(st.sampled_from(["$filter", "$select", "$expand", "$first", "$last", "$format", "x"]),
                            st.one_of(words, st.sampled_from(["name='a'", "*", "xml", "json", "1", "cpu>1 and"])),
                            max_size=3)
    headers = st.fixed_dictionaries({}, optional={
        "Accept": st.one_of(st.sampled_from(["application/xml", "application/json", "*/*", "text/html"]),
                            header_value()),
        "CIMI-Specification-Version": st.one_of(st.just("1.0.1"), header_value()),
        "Content-Type": st.one_of(st.sampled_from(["application/json", "application/xml", "text/plain"]),
                                  header_value()),
        "X-Deltacloud-Provider": header_value()})
    body = st.one_of(
        st.none(),
        documents(config_href).map(lambda d: ("application/json", json_text(d).encode())),
        st.tuples(st.sampled_from(TYPES), documents(config_href)).map(
            lambda t: ("application/xml", xml_text(t[0], t[1]).encode("utf-8", "surrogatepass"))),
        st.binary(max_size=40).map(lambda b: ("application/json", b)))
    return st.fixed_dictionaries({
        "method": st.sampled_from(["GET", "GET", "POST", "POST", "PUT", "DELETE"]), "path": path, "query": query,
        "headers": headers, "body": body, "auth": st.sampled_from(["admin", "admin", "admin", "none", "wrong"])})


def send(gateway, session: requests.Session, spec: dict[str, Any]) -> requests.Response:
    headers = dict(spec["headers"])
    data = None
    if spec["body"] is not None:
        headers.setdefault("Content-Type", spec["body"][0])
        data = spec["body"][1]
    auth = {"admin": gateway.admin, "none": None, "wrong": ("admin@internal", "wrong")}[spec["auth"]]
    url = f"{gateway.url}/cimi/{spec['path']}"
    if spec["query"]:  # encoded here: requests cannot encode a lone surrogate, a careless client can
        url += "?" + urlencode(spec["query"], encoding="utf-8", errors="surrogatepass")
    return session.request(spec["method"], url, headers=headers, data=data, auth=auth, timeout=60)


def test_any_cimi_request_is_answered_in_cimi_without_a_500(world: World, gateway, refs: dict[str, str]) -> None:
    session = requests.Session()

    @settings(max_examples=120)
    @given(spec=requests_for(refs["config"]))
    def any_request(spec: dict[str, Any]) -> None:
        what = f"{spec['method']} /cimi/{spec['path']} {spec['query']} {spec['headers']} {spec['body']!r:.300}"
        before = world.quick() if spec["method"] != "GET" else None
        response = send(gateway, session, spec)
        world.check_status(response, what)
        check_cimi(response, what)
        world.check_log(what)
        if before is not None:
            world.unchanged(before, response, what)

    any_request()


# Bodies valid in every respect but one: `{bad}` marks where the unwritable text goes.
CREATES = {
    "machines": {"resourceURI": NS + "/MachineCreate", "name": "{bad}", "description": "d",
                 "properties": {"owner": "p"}, "machineTemplate": {
                     "machineConfig": {"href": "{config}"}, "machineImage": {"href": "{image}"},
                     "initialState": "STOPPED"}},
    "volume_configurations": {"resourceURI": NS + "/VolumeConfiguration", "name": "n", "description": "d",
                              "capacity": 1024, "format": "ext4", "properties": {"owner": "p"}},
    "volume_templates": {"resourceURI": NS + "/VolumeTemplate", "name": "n", "description": "d",
                         "volumeConfig": {"capacity": 1024, "format": "ext4"}, "properties": {"owner": "p"}},
    "machine_templates": {"resourceURI": NS + "/MachineTemplate", "name": "n", "description": "d",
                          "machineConfig": {"href": "{config}"}, "machineImage": {"href": "{image}"},
                          "properties": {"owner": "p"}},
    "credentials": {"resourceURI": NS + "/CredentialCreate", "name": "n", "description": "d",
                    "properties": {"owner": "p"}, "credentialTemplate": {}},
    "volumes": {"resourceURI": NS + "/VolumeCreate", "name": "n", "description": "d", "properties": {"owner": "p"},
                "volumeTemplate": {"volumeConfig": {"capacity": 1024}}},
}


def _places(document: Any, path: tuple = ()) -> list[tuple]:
    """Every place a text may go: each text value, each dict key (as ('key', ...))."""
    found: list[tuple] = []
    if isinstance(document, dict):
        for key, value in document.items():
            if key != "resourceURI":
                found.append((*path, ("key", key)))
                found.extend(_places(value, (*path, key)))
    elif isinstance(document, str) or isinstance(document, int):
        found.append(path)
    return found


def _put(document: Any, place: tuple, bad: str) -> Any:
    if not place:
        return bad
    head, rest = place[0], place[1:]
    if isinstance(head, tuple):  # rename a key
        return {(bad if k == head[1] else k): v for k, v in document.items()}
    return {k: (_put(v, rest, bad) if k == head else v) for k, v in document.items()}


def _fill(document: Any, refs: dict[str, str]) -> Any:
    if isinstance(document, dict):
        return {k: _fill(v, refs) for k, v in document.items()}
    if document == "{config}":
        return refs["config"]
    if document == "{image}":
        return refs["image"]
    return "ok" if document == "{bad}" else document


@st.composite
def spoiled_creates(draw: st.DrawFn, refs: dict[str, str]) -> tuple[str, Any]:
    collection = draw(st.sampled_from(sorted(CREATES)))
    document = _fill(CREATES[collection], refs)
    place = draw(st.sampled_from(_places(document)))
    return collection, _put(document, place, draw(unwritable_text()))


def test_a_create_spoiled_by_unwritable_text_is_refused_before_any_side_effect(world: World, gateway,
                                                                                refs: dict[str, str]) -> None:
    session = requests.Session()
    session.auth = gateway.admin

    @settings(max_examples=40)
    @given(spoiled=spoiled_creates(refs), fmt=st.sampled_from(["application/json", "application/xml"]))
    def spoiled_create(spoiled: tuple[str, Any], fmt: str) -> None:
        collection, document = spoiled
        what = f"POST /cimi/{collection} {json_text(document)} (Accept {fmt})"
        before = world.quick()
        response = session.post(f"{gateway.url}/cimi/{collection}", data=json_text(document).encode(),
                                headers={"Content-Type": "application/json", "Accept": fmt}, timeout=60)
        world.check_status(response, what)
        check_cimi(response, what)
        world.check_log(what)
        assert response.status_code == 400, f"{what}: {response.status_code} {response.text[:300]}"
        world.unchanged(before, response, what)

    spoiled_create()
