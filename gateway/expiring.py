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
from dataclasses import dataclass, field
from typing import Generic, TypeVar

V = TypeVar("V")


@dataclass
class Flight:
    """One load at a time for a key. Its failure is shared by the callers that waited for it (each trying
    again in turn would make the last wait one engine timeout per caller before it)."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    failed: tuple[float, BaseException] | None = None

    def raise_failure_since(self, asked: float) -> None:
        """Raise what the load this caller waited for raised, if it failed after the caller asked."""
        if self.failed is not None and self.failed[0] >= asked:
            raise self.failed[1]


class ExpiringCache(Generic[V]):
    """key -> value, each kept `ttl` seconds; `get` loads a missing or expired one, once per key at a time."""

    def __init__(self, ttl: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self.clock = clock
        self._entries: dict[Hashable, tuple[float, V]] = {}
        self._flights: dict[Hashable, Flight] = {}  # only for keys with an entry, or a load under way
        self._lock = threading.Lock()

    def get(self, key: Hashable, load: Callable[[], V], *, fresh: bool = False) -> V:
        """The cached value, else `load()`'s. `fresh`: a value loaded after this call began (another request's
        load that started meanwhile will do). A load that raises caches nothing; the next waiter tries again."""
        asked = self.clock()
        with self._lock:
            entry = self._entries.get(key)
            flight = self._flights.setdefault(key, Flight())
        if entry is not None and not fresh:
            if asked - entry[0] < self.ttl:
                return entry[1]
            if not flight.lock.acquire(blocking=False):
                return entry[1]  # expired, and another request loads it: the last value serves meanwhile
        else:
            flight.lock.acquire()
        try:
            flight.raise_failure_since(asked)
            with self._lock:
                entry = self._entries.get(key)
            now = self.clock()
            if entry is not None and (entry[0] >= asked or (not fresh and now - entry[0] < self.ttl)):
                return entry[1]  # loaded while this call waited
            try:
                value = load()
            except BaseException as exc:
                flight.failed = (self.clock(), exc)
                with self._lock:  # a key that never loaded keeps nothing (a stranger's wrong passwords)
                    if key not in self._entries and self._flights.get(key) is flight:
                        del self._flights[key]
                raise
            with self._lock:
                self._entries[key] = (now, value)
            return value
        finally:
            flight.lock.release()

    def expire(self) -> None:
        """Every entry expired, still served while it is loaded again (tests; a forced reload)."""
        with self._lock:
            self._entries = {k: (at - self.ttl - 1, v) for k, (at, v) in self._entries.items()}

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._flights.clear()
