"""Request counts by method and path template (`GET /vms`, `GET /vms/<id>`): the benchmarks' and tests'
counting proxy, read and reset through the control API (`/__simulator__/stats`).

Counted per route rule, not per URL, so a thousand `GET /vms/<id>` read as one line; requests outside
the API (SSO) are counted under their path.
"""
from __future__ import annotations

import threading
from collections import Counter


class RequestStats:
    """Thread-safe counters of the engine requests served since the last reset."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()

    def count(self, method: str, template: str) -> None:
        with self._lock:
            self._counts[f"{method} {template}"] += 1

    def reset(self) -> None:
        with self._lock:
            self._counts.clear()

    def describe(self) -> dict[str, object]:
        with self._lock:
            counts = dict(sorted(self._counts.items()))
        return {"total": sum(counts.values()), "requests": counts}
