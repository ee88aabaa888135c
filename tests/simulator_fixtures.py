"""Helpers for the simulator's own tests: a simulator on a free port, control API calls.

Import explicitly (`from tests.simulator_fixtures import ...`); fixtures are defined in the test
modules that use them so nothing leaks into other suites.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import requests

from drivers.ovirt.simulator.clock import Clock
from drivers.ovirt.simulator.server import ServerHandle, Simulator, serve_in_thread

ADMIN = ("admin@internal", "admin")
USER = ("user@internal", "user")
DC_DEFAULT = "dc000000-0000-4000-8000-000000000001"
DC_BARCELONA = "dc000000-0000-4000-8000-000000000002"
CLUSTER_DEFAULT = "c1000000-0000-4000-8000-000000000001"
CLUSTER_BARCELONA = "c1000000-0000-4000-8000-000000000002"
TEMPLATE_CENTOS_DEFAULT = "7e000000-0000-4000-8000-000000000011"
TEMPLATE_DEBIAN_BARCELONA = "7e000000-0000-4000-8000-000000000022"
BLANK = "00000000-0000-0000-0000-000000000000"


@contextmanager
def running_simulator(speed: float = 1.0, frozen: bool = False, vms: int = 0,
                      control_api: bool = True) -> Iterator[tuple[Simulator, ServerHandle]]:
    """A simulator served on a free port; with `frozen` its clock only moves when advanced."""
    clock = Clock(speed=speed, frozen=frozen)
    sim = Simulator(clock=clock, vms=vms, control_api=control_api)
    handle = serve_in_thread(sim)
    try:
        yield sim, handle
    finally:
        handle.shutdown()


def control(handle: ServerHandle, method: str, path: str, **json: Any) -> dict[str, Any]:
    response = requests.request(method, f"{handle.url}/__simulator__/{path}", json=json or None, timeout=10)
    response.raise_for_status()
    return response.json()


def advance(handle: ServerHandle, seconds: float) -> None:
    control(handle, "POST", "clock/advance", seconds=seconds)


def wait_until(predicate: Callable[[], bool], timeout: float = 10.0, poll: float = 0.01) -> None:
    """Poll `predicate` (tiny sleeps; the simulator's clock is fast in the tests that use this)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(poll)
