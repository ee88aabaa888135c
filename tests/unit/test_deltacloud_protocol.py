"""Deltacloud protocol pieces that need no backend: format negotiation, matrix parameters, the state
vocabulary read from gateway.lifecycle, hardware-profile descriptions and the create-time sizing check."""
from __future__ import annotations

import pytest
from werkzeug.datastructures import MIMEAccept
from werkzeug.http import parse_accept_header

from frontends.deltacloud.hardware_profiles import FLEXIBLE, all_profiles, resolve
from frontends.deltacloud.matrix import MatrixParams, raw_path_of, split_matrix
from frontends.deltacloud.negotiation import NotAcceptable, choose_format, wants_html
from frontends.deltacloud.states import (action_allowed, actions_for, canonical_states, machine, state_name)
from gateway.engine_states import GATEWAY_GIVEN
from gateway.errors import InvalidParameter
from gateway.lifecycle import ACTIONS
from gateway.model import HardwareProfile, Instance, InstanceState as S

MIB = 1 << 20


def accept(text: str) -> MIMEAccept:
    return parse_accept_header(text, MIMEAccept)


@pytest.mark.parametrize("fmt, header, expected", [
    (None, "", "xml"),
    (None, "*/*", "xml"),
    (None, "application/json", "json"),
    (None, "text/xml", "xml"),
    (None, "text/html, application/json;q=0.9", "json"),
    (None, "application/xml;q=0.2, application/json;q=0.8", "json"),
    (None, "application/json;q=0.5, */*", "xml"),
    (None, "*/*, application/json", "json"),
    ("json", "application/xml", "json"),
    ("XML", "application/json", "xml"),
])
def test_format_negotiation(fmt, header, expected) -> None:
    assert choose_format(fmt, accept(header), header) == expected


@pytest.mark.parametrize("fmt, header", [(None, "text/html"), (None, "application/json;q=0"), ("html", ""),
                                         ("yaml", "application/json")])
def test_unservable_formats_are_refused(fmt, header) -> None:
    with pytest.raises(NotAcceptable):
        choose_format(fmt, accept(header), header)


def test_matrix_parameters_are_split_per_segment_and_decoded() -> None:
    provider = "https%3A%2F%2Fengine.example%2Fovirt-engine%2Fapi%3BDefault"
    clean, matrix, api_suffix = split_matrix(f"/api;driver=rhevm;provider={provider}/instances;image_id=abc")
    assert clean == "/api/instances"
    assert matrix == {"api": {"driver": "rhevm", "provider": "https://engine.example/ovirt-engine/api;Default"},
                      "instances": {"image_id": "abc"}}
    assert api_suffix == f";driver=rhevm;provider={provider}"


def test_matrix_middleware_rewrites_only_api_paths() -> None:
    seen: dict[str, object] = {}

    def app(environ, start_response):
        seen.update(environ)
        return []

    middleware = MatrixParams(app)
    middleware({"PATH_INFO": "/api;driver=rhevm/realms", "RAW_URI": "/api;driver=rhevm/realms?x=1"}, None)
    assert seen["PATH_INFO"] == "/api/realms" and seen["cloudgw.deltacloud.matrix"] == {"api": {"driver": "rhevm"}}
    seen.clear()
    middleware({"PATH_INFO": "/cimi/machines;x=1", "RAW_URI": "/cimi/machines;x=1"}, None)
    assert seen["PATH_INFO"] == "/cimi/machines;x=1" and "cloudgw.deltacloud.matrix" not in seen
    seen.clear()
    middleware({"PATH_INFO": "/apis;x=1"}, None)
    assert seen["PATH_INFO"] == "/apis;x=1"


def test_raw_path_prefers_the_undecoded_request_uri() -> None:
    assert raw_path_of({"REQUEST_URI": "/api;provider=a%2Fb/realms?q", "PATH_INFO": "/api;provider=a/b/realms"}) \
        == "/api;provider=a%2Fb/realms"
    assert raw_path_of({"RAW_URI": "http://host:1/api;x=1/realms", "PATH_INFO": "/x"}) == "/api;x=1/realms"
    assert raw_path_of({"PATH_INFO": "/api;driver=rhevm"}) == "/api;driver=rhevm"


def test_states_use_deltacloud_names() -> None:
    assert state_name(S.SHUTTING_DOWN) == "STOPPING"  # Deltacloud 1.x, as Aeolus expects
    assert state_name(S.SUSPENDED) == "PAUSED"
    assert set(canonical_states("stopping")) == {S.STOPPING, S.SHUTTING_DOWN}
    assert canonical_states("dancing") == []


def _instance(state: S, backend_state: str = "") -> Instance:
    return Instance(id="vm", name="vm", state=state, backend_state=backend_state)


def test_actions_follow_the_lifecycle_without_suspend() -> None:
    for state, actions in ACTIONS.items():
        if state not in GATEWAY_GIVEN:  # those the gateway gives itself offer their own
            assert actions_for(_instance(state)) == [a for a in actions if a != "suspend"]
    assert action_allowed(_instance(S.RUNNING), "stop") and not action_allowed(_instance(S.RUNNING), "start")
    assert not action_allowed(_instance(S.RUNNING), "suspend")


def test_actions_are_those_the_engine_accepts_in_its_status() -> None:
    """A VM rebooting reads RUNNING, but the engine refuses another reboot until it is up."""
    assert actions_for(_instance(S.RUNNING, "up")) == ["stop", "reboot", "destroy"]
    assert actions_for(_instance(S.RUNNING, "reboot_in_progress")) == ["stop", "destroy"]
    assert not action_allowed(_instance(S.RUNNING, "reboot_in_progress"), "reboot")
    assert actions_for(_instance(S.PENDING, "image_locked")) == ["start", "destroy"]


def test_state_machine_has_deltacloud_entry_edge_and_lifecycle_edges() -> None:
    states = dict(machine())
    assert [(t.to, t.action) for t in states["start"]] == [("pending", "create")]
    assert ("running", None) in [(t.to, t.action) for t in states["pending"]]
    assert ("finish", None) in [(t.to, t.action) for t in states["stopping"]]
    assert states["finish"] == []
    assert not any(t.action == "suspend" for edges in states.values() for t in edges)


CATALOGUE = [
    HardwareProfile("t1", "Tiny", 512 * MIB, 1),
    HardwareProfile("t2", "Medium", 4096 * MIB, 2, disk_bytes=10 * (1 << 30) + 1),
    HardwareProfile("t3", "Arm", 2048 * MIB, 4, architecture="aarch64"),
]


def test_profiles_are_fixed_plus_one_flexible_spanning_the_catalogue() -> None:
    profiles = {p.id: p for p in all_profiles(CATALOGUE)}
    medium = {p.name: p for p in profiles["t2"].properties}
    assert (medium["memory"].kind, medium["memory"].value, medium["cpu"].value) == ("fixed", 4096, 2)
    assert medium["storage"].value == 11  # GB, rounded up
    assert "storage" not in {p.name for p in profiles["t1"].properties}
    flexible = {p.name: p for p in profiles[FLEXIBLE].properties}
    assert (flexible["memory"].kind, flexible["memory"].first, flexible["memory"].last) == ("range", 512, 4096)
    assert (flexible["cpu"].first, flexible["cpu"].last) == (1, 4)
    assert (flexible["architecture"].kind, flexible["architecture"].entries) == ("enum", ["aarch64", "x86_64"])
    assert all_profiles([]) == []


def test_sizing_resolves_against_the_advertised_profiles() -> None:
    assert resolve(CATALOGUE, None, {}).__dict__ == {"hardware_profile_id": None, "memory_bytes": None, "cpus": None}
    fixed = resolve(CATALOGUE, "t2", {"memory": "4096", "cpu": "2", "storage": None})
    assert (fixed.hardware_profile_id, fixed.memory_bytes, fixed.cpus) == ("t2", 4096 * MIB, 2)
    flexible = resolve(CATALOGUE, FLEXIBLE, {"memory": "1536", "cpu": "3", "architecture": "aarch64"})
    assert (flexible.hardware_profile_id, flexible.memory_bytes, flexible.cpus) == (None, 1536 * MIB, 3)
    implied = resolve(CATALOGUE, None, {"memory": "1024"})  # overrides without a profile: the flexible one
    assert (implied.hardware_profile_id, implied.memory_bytes) == (None, 1024 * MIB)


@pytest.mark.parametrize("hwp_id, overrides, fragment", [
    ("nope", {}, "Unknown hardware profile"),
    ("t2", {"memory": "2048"}, "not allowed"),
    ("t1", {"storage": "10"}, "no property 'storage'"),
    (FLEXIBLE, {"memory": "99999"}, "512..4096"),
    (FLEXIBLE, {"cpu": "two"}, "must be a number"),
    (FLEXIBLE, {"cpu": "1.5"}, "whole number"),
    (FLEXIBLE, {"architecture": "sparc"}, "aarch64, x86_64"),
])
def test_sizing_refuses_what_the_profiles_do_not_allow(hwp_id, overrides, fragment) -> None:
    with pytest.raises(InvalidParameter, match=fragment):
        resolve(CATALOGUE, hwp_id, overrides)


@pytest.mark.parametrize("fmt, header, html", [
    ("html", "", True),
    ("HTML", "application/json", True),
    ("json", "text/html", False),
    (None, "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", True),  # a browser
    (None, "text/html, application/json;q=0.9", True),
    (None, "application/json, text/html", False),  # a tie goes to the API's formats
    (None, "application/xml", False),
    (None, "*/*", False),
    (None, "", False),
])
def test_browsers_are_told_apart(fmt, header, html) -> None:
    assert wants_html(fmt, accept(header)) is html


JAVA_ACCEPT = "text/html, image/gif, image/jpeg, *; q=.2, */*; q=.2"  # HttpURLConnection's default


def test_an_api_client_is_never_taken_for_a_browser() -> None:
    assert wants_html(None, accept(JAVA_ACCEPT)) is True  # anonymous: it looks like a browser
    assert wants_html(None, accept(JAVA_ACCEPT), api_client=True) is False
    assert wants_html("html", accept(""), api_client=True) is False
