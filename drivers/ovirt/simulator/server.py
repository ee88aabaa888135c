"""Running the simulator: the `Simulator` object, a threaded server for tests and `cloudgw serve`,
and the foreground `run()` behind `cloudgw simulator`."""

from __future__ import annotations

import logging
import signal
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from . import seed
from .app import EngineApp
from .auth import Sessions
from .clock import Clock
from .faults import Faults
from .ovn_state import OvnState
from .stats import RequestStats
from .store import Store

log = logging.getLogger(__name__)


class Simulator:
    """A simulated oVirt engine: state, sessions, fault injection and the WSGI app (`.app`).

    `speed` scales simulated time against real time (ignored when a `clock` is given); `vms` seeds that
    many extra VMs for scale tests; `control_api` enables `/__simulator__/...`. `list_cost_ms` is what a
    VM listing costs per VM it answers, in real milliseconds, slept after rendering outside the store's
    lock (a real engine takes far longer than this simulator to produce a listing; 0, the default, adds
    nothing).
    """

    def __init__(self, seed_path: str | None = None, speed: float = 1.0, clock: Clock | None = None,
                 vms: int = 0, control_api: bool = False, list_cost_ms: float = 0.0) -> None:
        self.seed_path = seed_path
        self.list_cost_ms = list_cost_ms
        self.vm_count = vms
        self.control_api = control_api
        self.clock = clock if clock is not None else Clock(speed=speed)
        self.faults = Faults()
        self.stats = RequestStats()
        self.store = self._fresh_store()
        self.ovn = OvnState()  # the OVN network provider beside the engine (ovn_api)
        self.sessions = Sessions(self.store)
        self.app = EngineApp(self)

    def _fresh_store(self) -> Store:
        store = Store(self.clock)
        with store.lock:
            seed.load(store, self.seed_path)
            seed.add_vms(store, self.vm_count)
        return store

    def reset(self) -> None:
        """Back to the seed state, without faults; issued tokens stay valid (users keep their ids)."""
        self.faults.clear()
        store = self._fresh_store()
        self.store = store
        self.ovn = OvnState()
        self.sessions._store = store


class _QuietHandler(WSGIRequestHandler):
    """Werkzeug's handler without a log line per request (10,000-VM benchmarks make a lot of them)."""

    def log_request(self, *args: Any, **kwargs: Any) -> None:
        if log.isEnabledFor(logging.DEBUG):
            super().log_request(*args, **kwargs)

    def log_error(self, *args: Any) -> None:
        log.debug(*args) if args else None

    def log(self, type: str, message: str, *args: Any) -> None:
        if type == "error" and log.isEnabledFor(logging.DEBUG):
            super().log(type, message, *args)


@dataclass
class ServerHandle:
    """A simulator served on a background thread."""

    server: BaseWSGIServer
    thread: threading.Thread
    host: str
    port: int

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def api_url(self) -> str:
        return f"{self.url}/ovirt-engine/api"

    @property
    def ovn_url(self) -> str:
        """The simulated OVN provider's Neutron v2.0 API (its Identity API: `ovn_auth_url`)."""
        return f"{self.url}/ovirt-provider-ovn/neutron/v2.0"

    @property
    def ovn_auth_url(self) -> str:
        return f"{self.url}/ovirt-provider-ovn/keystone/v2.0"

    def shutdown(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)


class SimulatorServer:
    """Serve a `Simulator` over real HTTP (threaded werkzeug server; port 0 picks a free port)."""

    def __init__(self, simulator: Simulator, host: str = "127.0.0.1", port: int = 0) -> None:
        self.simulator = simulator
        self.server = make_server(host, port, simulator.app, threaded=True, request_handler=_QuietHandler)
        self.server.daemon_threads = True
        self.host = host
        self.port = self.server.server_port

    def start(self) -> ServerHandle:
        # A short poll interval keeps shutdown() quick (tests start and stop many servers).
        thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                                  name=f"ovirt-simulator:{self.port}", daemon=True)
        thread.start()
        return ServerHandle(self.server, thread, self.host, self.port)


def serve_in_thread(simulator: Simulator, host: str = "127.0.0.1", port: int = 0) -> ServerHandle:
    """Start serving `simulator` in a daemon thread and return its handle (`.url`, `.api_url`,
    `.port`, `.shutdown()`)."""
    return SimulatorServer(simulator, host, port).start()


def run(host: str, port: int, speed: float, vms: int, seed_path: str | None, control_api: bool,
        list_cost_ms: float = 0.0) -> None:
    """Serve in the foreground until SIGINT or SIGTERM."""
    simulator = Simulator(seed_path=seed_path, speed=speed, vms=vms, control_api=control_api,
                          list_cost_ms=list_cost_ms)
    server = make_server(host, port, simulator.app, threaded=True, request_handler=_QuietHandler)
    server.daemon_threads = True
    stop = threading.Event()

    def on_signal(signum: int, frame: Any) -> None:
        stop.set()
        threading.Thread(target=server.shutdown, daemon=True).start()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    seed_name = Path(seed_path).name if seed_path else "default seed"
    print(f"oVirt simulator on http://{host}:{server.server_port}/ovirt-engine/api "
          f"(speed {speed:g}, {len(simulator.store.vms)} VMs, {seed_name}"
          f"{', control API at /__simulator__/' if control_api else ''}); "
          "credentials admin@internal / admin", flush=True)
    try:
        server.serve_forever()
    finally:
        server.server_close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
