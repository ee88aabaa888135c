"""The servers bench_load.py measures, run from whichever checkout is the working directory (the baseline
worktree or this one), with the same virtualenv:

    python bench/load_servers.py simulator SPEC_JSON   # the oVirt simulator alone (always this checkout's)
    python bench/load_servers.py embedded SPEC_JSON    # simulator and gateway in one process, as `cloudgw serve`

Either way the simulator's WSGI app is wrapped in `CountingApp`, the counting proxy: it counts every engine
request and answers `GET /__bench__/stats` with the total. It is bench code, not the checkout's, so the
baseline (whose simulator has no counters) is counted the same way. When a simulator has no per-VM listing
cost of its own (`list_cost_ms`, added with the engine's event log), the proxy sleeps it after a VM listing.

The first line printed is `ready <simulator url> [<gateway url>]`.
"""
from __future__ import annotations

import json
import os
import sys
import threading
import time
from typing import Any, Callable, Iterable

sys.path.insert(0, os.getcwd())  # the checkout being measured, before the virtualenv's editable install


class CountingApp:
    """WSGI middleware: counts requests; sleeps `list_cost_ms` per VM after a VM listing when asked to."""

    def __init__(self, app: Callable[..., Iterable[bytes]], list_cost_ms: float = 0.0) -> None:
        self.app = app
        self.list_cost_ms = list_cost_ms
        self.total = 0
        self.lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == "/__bench__/stats":
            body = json.dumps({"total": self.total}).encode()
            start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
            return [body]
        with self.lock:
            self.total += 1
        answer = self.app(environ, start_response)
        if self.list_cost_ms <= 0 or environ.get("REQUEST_METHOD") != "GET" \
                or not environ.get("PATH_INFO", "").endswith("/vms"):
            return answer
        body = b"".join(answer)  # a listing's whole body, then its cost, then the answer
        time.sleep(body.count(b"<vm href=") * self.list_cost_ms / 1000)
        return [body]


def start_simulator(spec: dict[str, Any]) -> tuple[Any, str]:
    from drivers.ovirt.simulator.server import Simulator, serve_in_thread

    sim = Simulator(speed=spec["speed"], vms=spec["vms"])
    proxy_cost = spec["list_cost_ms"]
    if hasattr(sim, "list_cost_ms"):  # the simulator's own speed model
        sim.list_cost_ms, proxy_cost = spec["list_cost_ms"], 0.0
    counting = CountingApp(sim.app, proxy_cost)
    sim.app = counting
    handle = serve_in_thread(sim, port=spec["simulator_port"])
    return handle, handle.url


def serve_gateway(config_path: str, port_line: str) -> None:
    """The gateway as `cloudgw serve` runs the embedded default: werkzeug, threaded, in this process."""
    from werkzeug.serving import make_server

    from gateway.app import create_app
    from gateway.config import load

    cfg = load(config_path)
    server = make_server(cfg.host, cfg.port, create_app(cfg), threaded=True)
    print(port_line, flush=True)
    server.serve_forever()


def main() -> None:
    role, spec = sys.argv[1], json.loads(sys.argv[2])
    handle, url = start_simulator(spec)
    if role == "simulator":
        print(f"ready {url}", flush=True)
        threading.Event().wait()
    serve_gateway(spec["config"], f"ready {url} {spec['gateway_url']}")


if __name__ == "__main__":
    main()
