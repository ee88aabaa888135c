"""Deltacloud driven by generated requests: paths with matrix parameters, query strings, headers, forms.

Any request is answered without a 500, in Deltacloud's own format (never Werkzeug's HTML), with no
traceback, and a 4xx changes nothing; a create that would be valid but for one parameter holding a
character XML cannot carry is a 400 that creates nothing.
"""
from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import pytest
import requests
from hypothesis import given, settings
from hypothesis import strategies as st

from .formats import check_deltacloud
from .strategies import header_value, path_segment, text, unwritable_text, words
from .world import World

COLLECTIONS = ["instances", "images", "realms", "hardware_profiles", "keys", "storage_volumes",
               "storage_snapshots", "networks", "drivers", "instance_states"]
PARAMS = ["image_id", "hwp_id", "hwp_memory", "hwp_cpu", "hwp_storage", "realm_id", "name", "keyname", "user_data",
          "capacity", "description", "instance_id", "volume_id", "public_key", "state", "id", "architecture",
          "owner_id", "device", "format", "driver", "provider"]


def encoded(pairs: dict[str, str]) -> str:
    """A form or query string as a careless client encodes it (lone surrogates as invalid UTF-8)."""
    return urlencode(pairs, encoding="utf-8", errors="surrogatepass")


def matrix(pairs: dict[str, str]) -> str:
    return "".join(f";{path_segment(k)}={path_segment(v)}" for k, v in pairs.items())


def requests_strategy() -> st.SearchStrategy[dict[str, Any]]:
    junk_id = st.one_of(st.sampled_from(["x", "00000000-0000-4000-8000-000000000000"]), text).map(path_segment)
    params = st.dictionaries(st.one_of(st.sampled_from(PARAMS), text), st.one_of(words, st.sampled_from(
        ["1", "0.5", "1e9", "tiny", "flexible", "RUNNING", "x86_64", "http://evil.example/api", "not base64!"])),
        max_size=4)
    segment_matrix = st.one_of(st.just({}), st.just({}), params)
    path = st.one_of(
        st.just(""), st.sampled_from(COLLECTIONS).map(lambda c: "/" + c),
        st.tuples(st.sampled_from(COLLECTIONS), junk_id).map(lambda t: f"/{t[0]}/{t[1]}"),
        st.tuples(junk_id, st.sampled_from(["start", "stop", "reboot", "destroy", "dance"])).map(
            lambda t: f"/instances/{t[0]}/{t[1]}"),
        st.tuples(junk_id, st.sampled_from(["attach", "detach"])).map(lambda t: f"/storage_volumes/{t[0]}/{t[1]}"),
        junk_id.map(lambda i: "/" + i))
    headers = st.fixed_dictionaries({}, optional={
        "Accept": st.one_of(st.sampled_from(["application/xml", "application/json", "*/*", "text/html"]),
                            header_value()),
        "X-Deltacloud-Provider": st.one_of(st.sampled_from(["default", "http://evil.example/api;Default"]),
                                           header_value()),
        "X-Deltacloud-Driver": st.one_of(st.sampled_from(["rhevm", "ec2"]), header_value()),
        "Content-Type": st.sampled_from(["application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
                                         "application/json", "text/plain"])})
    return st.fixed_dictionaries({
        "method": st.sampled_from(["GET", "GET", "POST", "POST", "PUT", "DELETE", "HEAD"]), "path": path,
        "api_matrix": segment_matrix, "path_matrix": segment_matrix, "query": params, "form": params,
        "headers": headers, "auth": st.sampled_from(["admin", "admin", "admin", "none", "wrong"])})


def test_any_deltacloud_request_is_answered_in_deltacloud_without_a_500(world: World, gateway) -> None:
    session = requests.Session()

    @settings(max_examples=120)
    @given(spec=requests_strategy())
    def any_request(spec: dict[str, Any]) -> None:
        url = f"{gateway.url}/api{matrix(spec['api_matrix'])}{spec['path']}{matrix(spec['path_matrix'])}"
        if spec["query"]:
            url += "?" + encoded(spec["query"])
        headers = dict(spec["headers"])
        data = encoded(spec["form"]).encode() if spec["method"] in ("POST", "PUT") and spec["form"] else None
        if data is not None:
            headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
        auth = {"admin": gateway.admin, "none": None, "wrong": ("admin@internal", "wrong")}[spec["auth"]]
        what = f"{spec['method']} {url} {headers} {data!r:.300}"
        before = world.quick() if spec["method"] not in ("GET", "HEAD") else None
        response = session.request(spec["method"], url, headers=headers, data=data, auth=auth, timeout=60)
        world.check_status(response, what)
        if spec["method"] != "HEAD":
            check_deltacloud(response, what)
        world.check_log(what)
        if before is not None:
            world.unchanged(before, response, what)

    any_request()


@pytest.fixture(scope="module")
def image_id(gateway) -> str:
    images = requests.get(f"{gateway.api_url}/images", params={"format": "json"}, auth=gateway.admin,
                          timeout=30).json()["images"]
    return next(i["id"] for i in images if i["name"] == "debian-12")


CREATES = {
    "instances": {"image_id": "{image}", "name": "ok", "hwp_id": "tiny", "user_data": "aGVsbG8="},
    "storage_volumes": {"capacity": "1", "name": "ok", "description": "d"},
    "keys": {"name": "ok-key"},
}


def test_a_create_spoiled_by_unwritable_text_is_refused_before_any_side_effect(world: World, gateway,
                                                                                image_id: str) -> None:
    session = requests.Session()
    session.auth = gateway.admin

    @settings(max_examples=40)
    @given(collection=st.sampled_from(sorted(CREATES)), data=st.data(), bad=unwritable_text(surrogates=False),
           where=st.sampled_from(["form", "query", "matrix"]), fmt=st.sampled_from(["xml", "json"]))
    def spoiled_create(collection: str, data: st.DataObject, bad: str, where: str, fmt: str) -> None:
        params = {k: (image_id if v == "{image}" else v) for k, v in CREATES[collection].items()}
        spoiled = data.draw(st.sampled_from(sorted(params)))
        params[spoiled] = bad
        url = f"{gateway.api_url}/{collection}"
        form = None
        if where == "form":
            form = encoded(params).encode()
        elif where == "query":
            url += "?" + encoded(params)
        else:
            url += matrix(params)
        what = f"POST {url} {form!r} ({fmt})"
        before = world.quick()
        response = session.post(url, data=form, timeout=60, headers={
            "Accept": f"application/{fmt}", "Content-Type": "application/x-www-form-urlencoded"})
        world.check_status(response, what)
        check_deltacloud(response, what)
        world.check_log(what)
        assert response.status_code == 400, f"{what}: {response.status_code} {response.text[:300]}"
        world.unchanged(before, response, what)

    spoiled_create()
