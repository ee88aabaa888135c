"""An in-process view of an engine's inventory, shared by every request of the process (issue 14).

Twenty pollers asking for the same thousand instances used to cost twenty full engine listings a
second. A view holds one data center's instances as the engine last described them, kept fresh by the
driver from the engine's change feed (for oVirt: its audit log, `GET /events?from=`), by refetching the
instances that events do not cover (`watched`: those in transitional states or still without addresses),
and by a full relisting every `resync_seconds` or whenever the feed has a gap. The gateway's own writes
mark what they touched (`note_write`) so that the next read refetches it first: a client reads its own
writes at once.

Driver-neutral: it stores model objects and hands out copies, which each request may decorate freely. A
view that is not `ready` (never filled, or its last refresh failed) is not used: reads take the
per-request path, slower but never wrong.
"""
from __future__ import annotations

import copy
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace

from .model import Instance

Clock = Callable[[], float]


def instance_copy(instance: Instance) -> Instance:
    """A copy a request may change (tags, device names, state overlays) without touching the view's."""
    return replace(instance, attachments=[replace(a) for a in instance.attachments], tags=dict(instance.tags),
                   extra=copy.copy(instance.extra), addresses=list(instance.addresses),
                   interfaces=list(instance.interfaces))


@dataclass
class InventoryView:
    """One data center's instances; `cursor` is the change-feed position they are current to."""

    key: str
    instances: dict[str, Instance] = field(default_factory=dict)
    cursor: int | None = None
    ready: bool = False
    polled_at: float = 0.0
    resynced_at: float = 0.0
    dirty: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)  # guards the fields above
    refreshing: threading.Lock = field(default_factory=threading.Lock)  # one refresher at a time

    def fill(self, instances: Iterable[Instance], cursor: int, now: float) -> None:
        """A full listing, current to `cursor`, replaces everything."""
        with self.lock:
            self.instances = {i.id: i for i in instances}
            self.cursor, self.ready, self.polled_at, self.resynced_at = cursor, True, now, now

    def apply(self, fetched: dict[str, Instance | None], cursor: int | None, now: float) -> None:
        """Refetched instances (None: gone); the feed's new position."""
        with self.lock:
            for instance_id, instance in fetched.items():
                if instance is None:
                    self.instances.pop(instance_id, None)
                else:
                    self.instances[instance_id] = instance
            if cursor is not None:
                self.cursor = cursor
            self.polled_at = now

    def note_write(self, instance_id: str) -> None:
        with self.lock:
            self.dirty.add(instance_id)

    def take_dirty(self) -> set[str]:
        with self.lock:
            dirty, self.dirty = self.dirty, set()
            return dirty

    def invalidate(self) -> None:
        """Not to be read until filled again (a refresh failed, or the feed went backwards)."""
        with self.lock:
            self.ready = False

    def snapshot(self) -> list[Instance]:
        with self.lock:
            held = list(self.instances.values())
        return [instance_copy(i) for i in held]


class Inventory:
    """Every view of the process, by key (the driver's: engine and data center)."""

    def __init__(self, poll_seconds: float, resync_seconds: float, clock: Clock = time.monotonic) -> None:
        self.poll_seconds = poll_seconds
        self.resync_seconds = resync_seconds
        self.clock = clock
        self._views: dict[str, InventoryView] = {}
        self._lock = threading.Lock()

    def view(self, key: str) -> InventoryView:
        with self._lock:
            found = self._views.get(key)
            if found is None:
                found = self._views[key] = InventoryView(key)
            return found

    def note_write(self, key_prefix: str, instance_id: str) -> None:
        """The gateway changed this instance: every view of the engine (`key_prefix`) refetches it first."""
        with self._lock:
            views = [v for k, v in self._views.items() if k.startswith(key_prefix)]
        for v in views:
            v.note_write(instance_id)

    def due(self, view: InventoryView) -> tuple[bool, bool]:
        """(poll now, resync now) for this view."""
        now = self.clock()
        with view.lock:
            if not view.ready:
                return False, True
            return now - view.polled_at >= self.poll_seconds, now - view.resynced_at >= self.resync_seconds
