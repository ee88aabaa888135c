"""A driver wired as the gateway wires it (store, operation runner, scope) against a simulator on a port.

Time is in the tests' hands: the simulator runs on a frozen clock and the runner on a fake one, and
`settle()` moves both forward together, running due operation steps between moves.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from drivers.ovirt.driver import OvirtDriver
from drivers.ovirt.simulator.clock import Clock
from drivers.ovirt.simulator.server import ServerHandle, Simulator, serve_in_thread
from gateway.config import Config, ProviderConfig
from gateway.operations import OperationRunner
from gateway.scope import Credentials, Scope
from gateway.store import Store, load_or_create_key

ADMIN = Credentials("admin@internal", "admin")
USER = Credentials("user@internal", "user")
CENTOS = "7e000000-0000-4000-8000-000000000011"
DEBIAN = "7e000000-0000-4000-8000-000000000012"
DEFAULT_DC = "dc000000-0000-4000-8000-000000000001"
DEFAULT_CLUSTER = "c1000000-0000-4000-8000-000000000001"
TINY = "00000003-0003-0003-0003-0000000000be"


@dataclass
class Engine:
    """A simulator served on a free port, with its control API."""

    simulator: Simulator
    handle: ServerHandle

    @property
    def url(self) -> str:
        return self.handle.api_url

    def control(self, path: str, **body: Any) -> dict[str, Any]:
        response = requests.post(f"{self.handle.url}/__simulator__/{path}", json=body, timeout=10)
        response.raise_for_status()
        return response.json()

    def clear_faults(self) -> None:
        requests.delete(f"{self.handle.url}/__simulator__/faults", timeout=10).raise_for_status()


@contextmanager
def running_engine(vms: int = 0) -> Iterator[Engine]:
    simulator = Simulator(clock=Clock(frozen=True), vms=vms, control_api=True)
    handle = serve_in_thread(simulator)
    try:
        yield Engine(simulator, handle)
    finally:
        handle.shutdown()


class FakeTime:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Gateway:
    """One gateway process's worth of driver state; `restart()` gives a new one on the same database."""

    engine: Engine
    data_dir: Path
    time: FakeTime = field(default_factory=FakeTime)
    sent: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)  # method, URL, headers

    def __post_init__(self) -> None:
        self.provider = ProviderConfig(name="sim", url=self.engine.url)
        self.config = Config(providers=(self.provider,), default_provider="sim", engine_retries=1,
                             engine_connect_timeout=2.0, engine_read_timeout=10.0, tombstone_seconds=3600)
        self.store = Store(f"sqlite:///{self.data_dir / 'cloudgw.db'}", load_or_create_key(self.data_dir / "key"))
        self.runner = OperationRunner(self.store, poll_seconds=2.0, lease_seconds=30.0, max_attempts=50,
                                      clock=self.time)
        self.driver = OvirtDriver(self.config, self.store, self.runner)
        for kind in self.driver.operation_kinds():
            self.runner.register(kind)
        session = self.driver.client_for(self.provider).session
        session.hooks["response"].append(
            lambda r, *a, **k: self.sent.append((r.request.method, r.url, dict(r.request.headers))))

    @property
    def requests(self) -> list[str]:
        """The engine requests made so far (since `forget_requests`), as 'METHOD URL'."""
        return [f"{method} {url}" for method, url, _ in self.sent]

    def forget_requests(self) -> None:
        self.sent.clear()

    def headers_sent_to(self, fragment: str) -> list[dict[str, str]]:
        return [headers for _, url, headers in self.sent if fragment in url]

    def scope(self, credentials: Credentials = ADMIN, datacenter: str | None = None, user_level: bool = False,
              request_id: str = "test-request") -> Scope:
        return Scope(self.provider, datacenter, credentials, user_level=user_level, request_id=request_id)

    def settle(self, seconds: float = 60.0, step: float = 2.0) -> None:
        """Let `seconds` pass on both clocks, running every operation step that falls due."""
        elapsed = 0.0
        while elapsed < seconds:
            self.runner.run_until_idle()
            self.engine.simulator.clock.advance(step)
            self.time.now += step
            elapsed += step
        self.runner.run_until_idle()

    def restart(self) -> "Gateway":
        """A new process: new store connection, runner (another worker id) and driver; same database."""
        self.close()
        return Gateway(self.engine, self.data_dir, self.time)

    def close(self) -> None:
        self.runner.stop()  # as a process that dies: its heartbeat stops renewing the leases it held
        self.driver.close()
        self.store.close()
