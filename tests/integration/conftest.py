"""Fixtures of the driver tests: a simulator per test module, a fresh gateway core (store, runner, driver) per test."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from .ovirt_env import Engine, Gateway, running_engine


@pytest.fixture(scope="module")
def engine() -> Iterator[Engine]:
    with running_engine() as running:
        yield running


@pytest.fixture
def gw(engine: Engine, tmp_path: Path) -> Iterator[Gateway]:
    engine.simulator.reset()
    gateway = Gateway(engine, tmp_path)
    yield gateway
    gateway.close()
    engine.clear_faults()
