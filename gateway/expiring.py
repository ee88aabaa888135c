"""A cache whose entries expire, loaded once however many requests miss it together (issue 14).

Twenty pollers whose cached data-center description expires in the same second used to load it twenty times
(four engine requests each), so engine requests grew with the number of clients. Here the requests that miss
an entry at once wait for one load: engine requests per period stay one load's, whatever the clients.
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
        if entry is not None and not fresh and asked - entry[0] < self.ttl:
            return entry[1]
        with loading:
            with self._lock:
                entry = self._entries.get(key)
            now = self.clock()
            if entry is not None and (entry[0] >= asked or (not fresh and now - entry[0] < self.ttl)):
                return entry[1]  # loaded while this call waited
            value = load()
            with self._lock:
                self._entries[key] = (now, value)
            return value

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
