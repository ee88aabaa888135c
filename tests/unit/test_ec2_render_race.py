"""Many threads rendering RunInstances from a cold plan cache (a fresh gunicorn worker's first requests)
never see a half-built plan: issue 10's `KeyError: 'Monitoring'`."""
from __future__ import annotations

import sys
import threading
from datetime import datetime, timezone
from typing import Any, Iterator

import pytest

from frontends.ec2 import render

from .test_ec2_render import INSTANCE

THREADS = 16
ROUNDS = 10
RESERVATION = {"ReservationId": "r-1", "OwnerId": "123", "Groups": [],
               "Instances": [dict(INSTANCE, Monitoring={"State": "disabled"},
                                  LaunchTime=datetime(2026, 1, 2, tzinfo=timezone.utc))]}


@pytest.fixture
def switchy() -> Iterator[None]:
    """Switch threads often, as a loaded worker does, so the window between publish and fill is hit."""
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(interval)


def render_concurrently() -> list[BaseException | bytes]:
    render._plans.clear()  # cold, as in a fresh worker
    barrier = threading.Barrier(THREADS)
    results: list[Any] = [None] * THREADS

    def one(index: int) -> None:
        barrier.wait()
        try:
            results[index] = render.render_response("RunInstances", RESERVATION, f"req-{index}", None)
        except BaseException as exc:  # noqa: BLE001 - the failure under test is any exception
            results[index] = exc

    threads = [threading.Thread(target=one, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_cold_plan_cache_renders_correctly_from_many_threads(switchy: None) -> None:
    for _ in range(ROUNDS):
        results = render_concurrently()
        failures = [r for r in results if isinstance(r, BaseException)]
        assert not failures, f"{len(failures)} of {THREADS} renders failed: {failures[0]!r}"
        assert len(set(results)) == THREADS  # each names its own request id
        assert all(b"<monitoring><state>disabled</state></monitoring>" in r for r in results)  # type: ignore[operator]
