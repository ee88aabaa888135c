"""The control API (`/__simulator__/...`, only when enabled): the clock, fault injection, reset.

JSON in, JSON out. See the package docstring for the list of endpoints.
"""

from __future__ import annotations

import json
import resource
from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Request, Response

from .entities import Vm
from .vm_statistics import Load

if TYPE_CHECKING:
    from .server import Simulator

VM_STATUSES = ("unassigned", "down", "up", "powering_up", "paused", "migrating", "unknown", "not_responding",
               "wait_for_launch", "reboot_in_progress", "saving_state", "restoring_state", "suspended",
               "image_locked", "powering_down")


def _json(data: Any, status: int = 200) -> Response:
    return Response(json.dumps(data), status=status, content_type="application/json")


def _body(request: Request) -> dict[str, Any]:
    if not request.get_data(cache=True).strip():
        return {}
    data = json.loads(request.get_data(cache=True)[: 64 * 1024])
    if not isinstance(data, dict):
        raise ValueError("the body must be a JSON object")
    return data


def handle_control(sim: "Simulator", request: Request) -> Response:
    path = request.path[len("/__simulator__"):].rstrip("/")
    method = request.method
    try:
        body = _body(request) if method in ("POST", "PUT") else {}
        if path == "/clock" and method == "GET":
            return _json(sim.clock.describe())
        if path == "/clock/advance" and method == "POST":
            sim.clock.advance(float(body.get("seconds", 0)))
            with sim.store.lock:
                sim.store.settle()
            return _json(sim.clock.describe())
        if path == "/clock" and method == "POST":
            if "speed" in body:
                sim.clock.set_speed(float(body["speed"]))
            if "frozen" in body:
                sim.clock.freeze(bool(body["frozen"]))
            return _json(sim.clock.describe())
        if path == "/faults" and method == "GET":
            return _json(sim.faults.describe())
        if path == "/faults" and method == "POST":
            sim.faults.configure(body)
            expired = sim.sessions.expire_all() if body.get("expire_tokens") else 0
            return _json({**sim.faults.describe(), "expired_tokens": expired})
        if path == "/faults" and method == "DELETE":
            sim.faults.clear()
            return _json(sim.faults.describe())
        if path == "/costs" and method == "GET":
            return _json({"list_cost_ms": sim.list_cost_ms})
        if path == "/costs" and method == "POST":
            sim.list_cost_ms = max(0.0, float(body.get("list_cost_ms", sim.list_cost_ms)))
            return _json({"list_cost_ms": sim.list_cost_ms})
        if path == "/events/gap" and method == "POST":
            with sim.store.lock:
                sim.store.events.lost += max(0, int(body.get("skip", 0)))
            return _json({"lost": sim.store.events.lost})
        if path == "/stats" and method == "GET":
            return _json(sim.stats.describe())
        if path == "/stats" and method == "DELETE":
            sim.stats.reset()
            return _json(sim.stats.describe())
        if path == "/reset" and method == "POST":
            sim.reset()
            return _json({"reset": True, "vms": len(sim.store.vms)})
        if path == "/state" and method == "GET":
            store = sim.store
            with store.lock:
                store.settle()
                return _json({"vms": len(store.vms), "templates": len(store.templates), "disks": len(store.disks),
                              "jobs": len(store.jobs), "pending_steps": store.pending_steps(),
                              "max_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
                              "clock": sim.clock.describe()})
        if path == "/load" and method == "POST":
            return _set_load(sim, body)
        parts = path.split("/")
        if len(parts) == 4 and parts[1] == "vms" and parts[3] == "status" and method == "POST":
            return _set_status(sim, parts[2], str(body.get("status", "")))
    except (ValueError, TypeError, KeyError) as exc:
        return _json({"error": str(exc)}, 400)
    return _json({"error": f"no such control endpoint: {method} {request.path}"}, 404)


def _set_status(sim: "Simulator", vm_id: str, status: str) -> Response:
    """Force a VM into any status (e.g. not_responding, unknown, paused) to test a client's handling."""
    if status not in VM_STATUSES:
        return _json({"error": f"unknown VM status {status!r}"}, 400)
    store = sim.store
    with store.lock:
        store.settle()
        vm: Vm | None = store.vms.get(vm_id)
        if vm is None:
            return _json({"error": "no such VM"}, 404)
        vm.generation += 1        # pending transitions no longer apply
        vm.status = status
        if status == "down":
            vm.host_id = None
            vm.guest_reported = False
        vm.touch()
        return _json({"id": vm.id, "status": vm.status})


def _set_load(sim: "Simulator", body: dict[str, Any]) -> Response:
    """What a VM does while it runs (its statistics): CPU and memory percent, network and disk bytes a
    second, disk operations a second; fields not given keep their value (at first, the idle load)."""
    store = sim.store
    with store.lock:
        store.settle()
        vm: Vm | None = store.vms.get(str(body.get("vm", "")))
        if vm is None:
            return _json({"error": "no such VM (give its id as \"vm\")"}, 404)
        load = Load.from_json(body, store.statistics.load(vm.id))
        store.statistics.set_load(vm, load, store.now())
        return _json({"vm": vm.id, **load.as_json()})
