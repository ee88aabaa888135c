"""A cache whose entries expire, loaded once however many requests miss it together (issue 14).

Twenty pollers whose cached data-center description expires in the same second used to load it twenty times
(four engine requests each), so engine requests grew with the number of clients. Here one request loads:
the others wait for it when there is nothing to serve yet, and serve the expired value meanwhile when there
is (a launch or a termination waiting for four engine requests it does not need is what made them slow).
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

V = TypeVar("V")


class ExpiringCache(Generic[V]):
    """key -> value, each kept `ttl` seconds; `get` loads a missing or expired one, once per key at a time."""

    def __init__(self, ttl: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self.clock = clock
        self._entries: dict[Hashable, tuple[float, V]] = {}
        self._loads: dict[Hashable, threading.Lock] = {}
        self._lock = threading.Lock()

    def get(self, key: Hashable, load: Callable[[], V], *, fresh: bool = False) -> V:
        """The cached value, else `load()`'s. `fresh`: a value loaded after this call began (another request's
        load that started meanwhile will do). A load that raises caches nothing; the next waiter tries again."""
        asked = self.clock()
        with self._lock:
            entry = self._entries.get(key)
            loading = self._loads.setdefault(key, threading.Lock())
        if entry is not None and not fresh:
            if asked - entry[0] < self.ttl:
                return entry[1]
            if not loading.acquire(blocking=False):
                return entry[1]  # expired, and another request loads it: the last value serves meanwhile
        else:
            loading.acquire()
        try:
            with self._lock:
                entry = self._entries.get(key)
            now = self.clock()
            if entry is not None and (entry[0] >= asked or (not fresh and now - entry[0] < self.ttl)):
                return entry[1]  # loaded while this call waited
            value = load()
            with self._lock:
                self._entries[key] = (now, value)
            return value
        finally:
            loading.release()

    def expire(self) -> None:
        """Every entry expired, still served while it is loaded again (tests; a forced reload)."""
        with self._lock:
            self._entries = {k: (at - self.ttl - 1, v) for k, (at, v) in self._entries.items()}

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
