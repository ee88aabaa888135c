"""The gateway's own writes, marked in the store for every process's inventory view (issue 14).

A client reads its own writes: a RunInstances answered by one gunicorn worker (or host) must show in the next
DescribeInstances whichever worker serves it, though each keeps its own view and polls the engine's events
only every `poll_seconds`. Each write marks the instance in the store (one upsert); each read of a view first
asks the store for marks newer than it has seen (one indexed query) and refetches those instances before
answering. Marks are read with an overlap (hosts' clocks and commit delays differ: keep hosts' clocks within
that, as NTP does) and kept two minutes; a view that has not looked for longer lists everything again.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.exc import SQLAlchemyError

from .store import Store

log = logging.getLogger(__name__)

KIND = "inventory.write"  # store entity kind; owner: the provider's name, id: the instance's backend id
KEEP_SECONDS = 120.0
OVERLAP_SECONDS = 5.0


@dataclass
class MarksRead:
    """How far one view has read the marks: when it last asked, and each mark it has seen since then."""

    read_at: float = 0.0
    seen: dict[str, float] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)  # one reader at a time


class WriteMarks:
    def __init__(self, store: Store) -> None:
        self.store = store
        self._purged_at = 0.0
        self._lock = threading.Lock()

    def mark(self, provider: str, instance_id: str) -> None:
        """After the engine made the change: a store that fails loses only the mark (other processes then see
        the change at their next poll), never the client's answer."""
        now = self.store.clock()
        with self._lock:
            purge = now - self._purged_at >= KEEP_SECONDS
            if purge:
                self._purged_at = now
        try:
            self.store.put_entity(KIND, provider, instance_id, {})
            if purge:
                self.store.purge_entities(KIND, KEEP_SECONDS, lambda _data: True)
        except SQLAlchemyError as exc:
            log.warning("inventory: could not mark %s as written in the store: %s", instance_id, exc)

    def act_on_new(self, provider: str, read: MarksRead, act: Callable[[set[str], bool], None]) -> None:
        """`act(marks, complete)` on the marks made since `read` last looked, advancing it; both under its lock,
        so that a concurrent reader finds them acted on (a view marked) when it finds them seen. `complete` is
        False when `read` last looked so long ago that marks may have been purged since. Nothing while the store
        fails (the view then learns of other processes' writes at its next poll, as without marks)."""
        with read.lock:
            now = self.store.clock()
            try:
                marks = self.store.changed_since(KIND, provider, read.read_at - OVERLAP_SECONDS)
            except SQLAlchemyError as exc:
                log.warning("inventory: could not read the marks of written instances: %s", exc)
                return
            complete = not read.read_at or now - read.read_at < KEEP_SECONDS - OVERLAP_SECONDS
            act({instance_id for instance_id, at in marks.items() if read.seen.get(instance_id, -1.0) < at}, complete)
            read.read_at, read.seen = now, marks
