"""The request log line: how CIMI and Deltacloud routes name their action, and how both formats write fields."""
from __future__ import annotations

import json
import logging

import pytest

from gateway import request_stats
from gateway.logs import JsonLines, Text
from gateway.request_log import rest_action


@pytest.mark.parametrize("rule, method, args, status, expected", [
    ("/api/instances", "GET", {}, 200, "instances.list"),
    ("/api/instances/<instance_id>", "GET", {"instance_id": "x"}, 200, "instances.get"),
    ("/api/instances", "POST", {}, 201, "instances.create"),
    ("/api/instances/<instance_id>/<action>", "POST", {"action": "Stop"}, 202, "instances.stop"),
    ("/api/instances/<instance_id>/<action>", "POST", {"action": "x" * 200}, 404, "instances.action"),
    ("/api/instances/<instance_id>", "DELETE", {}, 204, "instances.delete"),
    ("/api", "GET", {}, 200, "entry_point.get"),
    ("/api/<path:rest>", "GET", {"rest": "anything/at/all"}, 404, "unknown"),
    ("/api/<anypath:rest>", "POST", {"rest": "anything/at/all"}, 404, "unknown"),
    ("/cimi/<anypath:rest>", "DELETE", {"rest": "x"}, 405, "unknown"),
    ("/cimi/cloudEntryPoint", "GET", {}, 200, "cloudEntryPoint.get"),
    ("/cimi/machines/<machine_id>", "PUT", {}, 200, "machines.edit"),
    ("/cimi/machines/<machine_id>", "POST", {}, 202, "machines.action"),
    ("/cimi/machines/<machine_id>/volumes/<volume_id>", "GET", {}, 200, "machines/volumes.get"),
])
def test_rest_routes_name_resource_and_operation(rule: str, method: str, args: dict, status: int,
                                                 expected: str) -> None:
    prefix = "/api" if rule.startswith("/api") else "/cimi"
    assert rest_action(rule, prefix, method, args, status) == expected


def record(fields: dict) -> logging.LogRecord:
    entry = logging.LogRecord("cloudgw.request", logging.INFO, __file__, 1, "GET /api/realms 200 3.1ms", (), None)
    entry.request_id = "rid-1"
    entry.fields = fields
    return entry


FIELDS = {"method": "GET", "path": "/api/realms", "status": 200, "duration_ms": 3.1, "frontend": "deltacloud",
          "action": "realms.list", "identity": "user name", "provider": "lab", "datacenter": "Default",
          "engine_requests": 2, "engine_ms": 1.5}


def test_json_lines_write_the_fields_by_name() -> None:
    line = json.loads(JsonLines().format(record(FIELDS)))
    assert line["request_id"] == "rid-1" and line["message"] == "GET /api/realms 200 3.1ms"
    assert {k: line[k] for k in FIELDS} == FIELDS


def test_text_lines_append_the_fields_not_in_the_message_as_key_value() -> None:
    line = Text("%(levelname)s %(name)s%(rid)s: %(message)s").format(record(FIELDS))
    assert line == ('INFO cloudgw.request [rid-1]: GET /api/realms 200 3.1ms frontend=deltacloud action=realms.list '
                    'identity="user name" provider=lab datacenter=Default engine_requests=2 engine_ms=1.5')


def test_engine_requests_are_counted_for_the_open_request_only() -> None:
    seen: list[tuple[str, str, float]] = []
    request_stats.observe_engine_requests(lambda *args: seen.append(args))
    request_stats.engine_request("GET", "200", 0.25)  # outside a request: only observers hear of it
    stats, token = request_stats.begin()
    try:
        request_stats.engine_request("GET", "200", 0.5)
        request_stats.engine_request("POST", "error", 0.25)
    finally:
        request_stats.end(token)
    assert (stats.engine_requests, stats.engine_seconds) == (2, 0.75)
    assert request_stats.current() is None
    assert seen[-3:] == [("GET", "200", 0.25), ("GET", "200", 0.5), ("POST", "error", 0.25)]
