"""Periodic housekeeping: what the store keeps only for a while is purged here, and only here.

Tombstones (and the records that follow them, such as EC2's per-instance record), finished durable
operations and finished CIMI Jobs would otherwise grow without bound. Each is a task registered by whoever
owns that data (the gateway for its own tables, a frontend for its entities: the gateway cannot import
frontends). The operation worker thread calls `maybe_run()` on every turn of its loop; the tasks run at
most once per `interval` (the first turn runs them at once, so start-up cleans what expired while the
gateway was down). Every purge is an idempotent DELETE, so several processes sharing a database may all
run it without coordinating. Reads never write: listings stay cheap and only this loop deletes.
"""
from __future__ import annotations

import logging
import threading
import time
from typing import Callable

log = logging.getLogger("cloudgw.housekeeping")

DEFAULT_INTERVAL = 300.0  # seconds between two passes

Task = Callable[[], int]  # purges what has expired; returns how many records it removed


class Housekeeping:
    """Named purge tasks, run together at most once per `interval` seconds of `clock`."""

    def __init__(self, *, interval: float = DEFAULT_INTERVAL, clock: Callable[[], float] = time.time) -> None:
        self.interval = interval
        self.clock = clock
        self.tasks: dict[str, Task] = {}
        self._last: float | None = None
        self._lock = threading.Lock()

    def add(self, name: str, task: Task) -> None:
        """Register (or replace) the task called `name`."""
        self.tasks[name] = task

    def due(self) -> bool:
        return self._last is None or self.clock() - self._last >= self.interval

    def maybe_run(self) -> dict[str, int] | None:
        """Run every task if a pass is due; returns {task: removed} for a pass, None when not due."""
        with self._lock:
            if not self.due():
                return None
            self._last = self.clock()
        return self.run()

    def run(self) -> dict[str, int]:
        """Run every task now. A failing task (store unreachable, ...) is logged and tried next pass."""
        removed: dict[str, int] = {}
        for name, task in list(self.tasks.items()):
            try:
                removed[name] = task()
            except Exception:  # one task's failure must neither stop the others nor the worker loop
                log.exception("housekeeping task %s failed", name)
                continue
            if removed[name]:
                log.info("housekeeping: %s removed %d", name, removed[name])
        return removed
