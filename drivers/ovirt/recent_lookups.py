"""Engine answers a launch reuses for a short time: the image's template and the instance type it names.

Under load every engine request a RunInstances makes costs it a wait among busy threads, and a burst of
launches asks about the same few templates and types. Each answer is kept per (engine, identity, path) for
`ttl` seconds; any change the gateway asks of the engine under that path (a template removed, renamed,
shared) forgets it at once, and a launch the engine refuses after a reused answer looks again before it
answers the client (a change made elsewhere), so no client is told anything a fresh look would not say.
"""
from __future__ import annotations

import threading
import time
from typing import Callable

from lxml import etree

Element = etree._Element
KEPT_COLLECTIONS = ("templates", "instancetypes")


class RecentLookups:
    """(identity, path) -> (when, answer), thread-safe; answers are shared, so callers never change them."""

    def __init__(self, ttl: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self.clock = clock
        self._kept: dict[tuple[str, str], tuple[float, Element]] = {}
        self._lock = threading.Lock()

    def get(self, identity: str, path: str) -> Element | None:
        with self._lock:
            found = self._kept.get((identity, path))
        if found is None or self.clock() - found[0] >= self.ttl:
            return None
        return found[1]

    def keep(self, identity: str, path: str, answer: Element) -> None:
        with self._lock:
            if len(self._kept) > 1000:  # many identities or images: drop what has run out
                now = self.clock()
                self._kept = {k: v for k, v in self._kept.items() if now - v[0] < self.ttl}
            self._kept[(identity, path)] = (self.clock(), answer)

    def forget(self, path: str) -> None:
        """The gateway changed something at `path` (or under it): every identity's answer about it goes."""
        parts = path.strip("/").split("/")
        if parts[0] not in KEPT_COLLECTIONS:
            return
        prefix = "/".join(parts[:2])
        with self._lock:
            for key in [k for k in self._kept if (base := k[1].split("?", 1)[0]) == prefix
                        or base.startswith(prefix + "/")]:
                del self._kept[key]

    def drop(self, identity: str, keys: list[str]) -> None:
        """These answers may be out of date (the engine refused what they allowed): the next use asks again."""
        with self._lock:
            for key in keys:
                self._kept.pop((identity, key), None)
