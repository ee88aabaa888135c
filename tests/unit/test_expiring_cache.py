"""The expiring cache behind the data center's description and the EC2 type and zone names: requests that miss
an entry together share one load (issue 14: engine requests must not grow with the number of pollers)."""
from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from gateway.expiring import ExpiringCache


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_twenty_callers_missing_together_share_one_load() -> None:
    cache: ExpiringCache[int] = ExpiringCache(30.0)
    loads: list[int] = []
    barrier = threading.Barrier(20)

    def slow_load() -> int:
        loads.append(1)
        time.sleep(0.2)
        return len(loads)

    def ask(_: int) -> int:
        barrier.wait()
        return cache.get("dc", slow_load)

    with ThreadPoolExecutor(20) as pool:
        assert set(pool.map(ask, range(20))) == {1}
    assert len(loads) == 1


def test_an_entry_expires_and_a_fresh_one_is_loaded_after_the_call_began() -> None:
    clock = Clock()
    cache: ExpiringCache[str] = ExpiringCache(30.0, clock)
    assert cache.get("k", lambda: "first") == "first"
    clock.now = 29.0
    assert cache.get("k", lambda: "second") == "first"
    assert cache.get("k", lambda: "asked fresh", fresh=True) == "asked fresh"
    clock.now = 60.0
    assert cache.get("k", lambda: "expired") == "expired"


def test_a_failed_load_caches_nothing() -> None:
    cache: ExpiringCache[str] = ExpiringCache(30.0)

    def failing() -> str:
        raise RuntimeError("engine down")

    with pytest.raises(RuntimeError):
        cache.get("k", failing)
    assert cache.get("k", lambda: "back") == "back"


def test_an_expired_entry_serves_the_others_while_one_caller_loads_it_again() -> None:
    cache: ExpiringCache[str] = ExpiringCache(30)
    cache.get("dc", lambda: "old")
    cache.expire()
    loading, release = threading.Event(), threading.Event()

    def slow_load() -> str:
        loading.set()
        release.wait(10)
        return "new"

    with ThreadPoolExecutor(1) as pool:
        reloading = pool.submit(cache.get, "dc", slow_load)
        assert loading.wait(10)
        assert cache.get("dc", lambda: pytest.fail("a second load")) == "old"  # at once, not after the load
        release.set()
        assert reloading.result(10) == "new"
    assert cache.get("dc", lambda: pytest.fail("reloaded")) == "new"


def test_callers_that_waited_for_a_failed_load_fail_with_it_and_a_failing_key_keeps_nothing() -> None:
    cache: ExpiringCache[str] = ExpiringCache(30)
    loads, started = [], threading.Event()

    def failing() -> str:
        loads.append(1)
        started.set()
        time.sleep(0.3)
        raise RuntimeError("engine unreachable")


    with ThreadPoolExecutor(8) as pool:
        first = pool.submit(cache.get, "dc", failing)
        started.wait(10)
        others = [pool.submit(cache.get, "dc", failing) for _ in range(7)]
        for future in [first, *others]:
            with pytest.raises(RuntimeError):
                future.result(10)
    assert len(loads) == 1  # not one load after another, each an engine timeout
    assert not cache._flights and not cache._entries
