"""Holding the session gateway's embedded engine in a passing state, through the simulator's control API:
a VM kept in one status, or the engine's clock frozen so that what it has locked stays locked."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


def hold(gateway: Any, vm_id: str, status: str) -> None:
    """Put the VM in `status` and keep it there (its pending transitions are dropped)."""
    gateway.simulator_control(f"vms/{vm_id}/status", status=status).raise_for_status()


@contextmanager
def engine_frozen(gateway: Any) -> Iterator[None]:
    """The engine's clock stands still inside the block: disks, VMs and templates it is copying stay locked."""
    gateway.simulator_control("clock", frozen=True).raise_for_status()
    try:
        yield
    finally:
        gateway.simulator_control("clock", frozen=False).raise_for_status()
