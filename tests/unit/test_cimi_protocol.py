"""Version and format negotiation, machine states and operations from the canonical model, error bodies."""
from __future__ import annotations

import json

import flask
import pytest
from lxml import etree

from frontends.cimi.errors import error_response
from frontends.cimi.protocol import NotAcceptable, negotiate_version, response_format
from frontends.cimi.states import MACHINE_STATES, action_name, can_capture, machine_actions, machine_state
from gateway.driver import Driver
from gateway.errors import InvalidParameter
from gateway.model import Instance, InstanceState


@pytest.mark.parametrize("header, version", [(None, "1.0.1"), ("", "1.0.1"), ("1.0.1", "1.0.1"), ("1.0", "1.0.1"),
                                             ("1", "1.0.1"), ("2.0.0, 1.0", "1.0.1"), (" 1.1 ,1.0.1 ", "1.0.1")])
def test_version_negotiation(header: str | None, version: str) -> None:
    assert negotiate_version(header) == version


@pytest.mark.parametrize("header", ["1.1", "2.0.0", "1.0.0", "1.0.2, 2"])
def test_unsupported_versions_are_400(header: str) -> None:
    with pytest.raises(InvalidParameter):
        negotiate_version(header)


@pytest.mark.parametrize("param, accept, fmt", [
    (None, None, "xml"), (None, "application/json", "json"), (None, "application/xml", "xml"),
    (None, "text/xml", "xml"), (None, "*/*", "json"), ("xml", "application/json", "xml"), ("JSON", None, "json"),
    (None, "application/xml;q=0.5, application/json", "json"), (None, "text/html, application/xml;q=0.1", "xml"),
    # A named type overrides a range of equal quality (RFC 9110 12.5.1); parameters do not hide the type.
    (None, "*/*, application/xml", "xml"), (None, 'application/json; charset="utf-8", */*;q=0.1', "json"),
])
def test_format_negotiation(param: str | None, accept: str | None, fmt: str) -> None:
    assert response_format(param, accept) == fmt


def test_unacceptable_and_bad_format() -> None:
    with pytest.raises(NotAcceptable):
        response_format(None, "text/html")
    with pytest.raises(InvalidParameter):
        response_format("yaml", None)


class _Everything(Driver):
    """A driver that claims every instance operation (only its capabilities are read here)."""

    def start_instance(self, scope, instance_id):  # type: ignore[override]
        raise AssertionError

    def stop_instance(self, scope, instance_id, force=False):  # type: ignore[override]
        raise AssertionError

    def reboot_instance(self, scope, instance_id):  # type: ignore[override]
        raise AssertionError

    def create_image(self, scope, instance_id, name, description=""):  # type: ignore[override]
        raise AssertionError


def _instance(state: InstanceState, backend: str = "") -> Instance:
    return Instance(id="i", name="i", state=state, backend_state=backend)


@pytest.mark.parametrize("state, backend, cimi", [
    (InstanceState.PENDING, "image_locked", "CREATING"), (InstanceState.PENDING, "powering_up", "STARTING"),
    (InstanceState.RUNNING, "up", "STARTED"), (InstanceState.STOPPING, "powering_down", "STOPPING"),
    (InstanceState.STOPPING, "saving_state", "SUSPENDING"), (InstanceState.STOPPED, "down", "STOPPED"),
    (InstanceState.SUSPENDED, "suspended", "SUSPENDED"), (InstanceState.PAUSED, "paused", "PAUSED"),
    (InstanceState.SHUTTING_DOWN, "", "DELETING"), (InstanceState.ERROR, "not_responding", "ERROR"),
])
def test_machine_states_come_from_the_cimi_list(state: InstanceState, backend: str, cimi: str) -> None:
    assert machine_state(_instance(state, backend)) == cimi
    assert cimi in MACHINE_STATES


def test_operations_are_what_the_engine_accepts_narrowed_to_the_driver() -> None:
    driver = _Everything.__new__(_Everything)
    up = _instance(InstanceState.RUNNING, "up")
    assert machine_actions(up, driver) == ["stop", "restart"]  # no suspend_instance
    assert machine_actions(_instance(InstanceState.RUNNING, "reboot_in_progress"), driver) == ["stop"]
    assert machine_actions(_instance(InstanceState.STOPPED, "down"), driver) == ["start"]
    assert machine_actions(_instance(InstanceState.PENDING, "image_locked"), driver) == ["start"]  # once copied
    assert machine_actions(_instance(InstanceState.PENDING, "powering_up"), driver) == ["stop", "restart"]
    assert machine_actions(_instance(InstanceState.PENDING), driver) == []  # a launch yet to start it
    assert can_capture(_instance(InstanceState.STOPPED, "down"), driver)
    assert not can_capture(up, driver)
    assert machine_actions(up, Driver.__new__(Driver)) == []


def test_a_machine_being_captured_reads_capturing() -> None:
    capturing = _instance(InstanceState.PENDING, "image_locked")
    capturing.extra["image_lock"] = "capture"
    assert machine_state(capturing) == "CAPTURING" and "CAPTURING" in MACHINE_STATES


def test_action_name_tolerates_garbled_uris() -> None:
    assert action_name(" http://http://schemas.dmtf.org/cimi/1/action/stop") == "stop"
    assert action_name("http://schemas.dmtf.org/cimi/1/action/Restart/") == "restart"
    assert action_name(None) == ""


def test_error_bodies_in_both_formats() -> None:
    app = flask.Flask("t")
    with app.test_request_context("/cimi/x"):
        flask.g.request_id = "req-1"
        as_json = error_response(404, "The machine 'x' does not exist", "json")
        assert as_json.status_code == 404 and as_json.headers["Content-Type"] == "application/json"
        assert json.loads(as_json.get_data()) == {"status": 404, "code": "NotFound",
                                                  "message": "The machine 'x' does not exist", "requestId": "req-1"}
        as_xml = error_response(409, "conflict", "xml")
        root = etree.fromstring(as_xml.get_data())
        assert as_xml.headers["Content-Type"] == "application/xml" and root.get("status") == "409"
        assert as_xml.headers["CIMI-Specification-Version"] == "1.0.1"
