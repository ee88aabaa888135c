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

import itertools
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TypeVar

from .inventory_marks import MarksRead
from .model import Instance

Clock = Callable[[], float]
T = TypeVar("T")
_versions = itertools.count(1)  # process-wide: a version is never reused, whichever view stored it


def _shallow(obj: T) -> T:
    """A shallow copy of a plain dataclass instance: copy.copy and dataclasses.replace cost several times as
    much (reduce protocol, __init__), and a listing copies a thousand instances."""
    made = object.__new__(obj.__class__)
    made.__dict__.update(obj.__dict__)
    return made


def instance_copy(instance: Instance) -> Instance:
    """A copy a request may change (tags, device names, state overlays) without touching the view's."""
    made = _shallow(instance)
    made.attachments = [_shallow(a) for a in instance.attachments]
    made.tags, made.extra = dict(instance.tags), dict(instance.extra)
    made.addresses, made.interfaces = list(instance.addresses), list(instance.interfaces)
    made.launch_group_ids = list(instance.launch_group_ids)
    return made


def content_key(instance: Instance) -> tuple | None:
    """Equal for two copies of the view only if they are equal: the stored version they copy, and what a
    request may have changed on its copy since (what drivers decorate a listing with: names, tags, key names,
    device names, state overlays, interfaces' networks). None for an instance not from a view: nothing may
    be kept for it."""
    if instance.revision is None:
        return None
    return (instance.revision, instance.owner, instance.name, instance.state, instance.state_reason,
            instance.key_name, instance.root_device, instance.image_id, instance.realm_id, instance.launch_subnet_id,
            tuple(instance.launch_group_ids), tuple(instance.tags.items()), tuple(instance.extra.items()),
            tuple((a.volume_id, a.device, a.delete_on_termination, a.active) for a in instance.attachments),
            tuple((n.id, n.network_id) for n in instance.interfaces))


@dataclass
class InventoryView:
    """One data center's instances; `cursor` is the change-feed position they are current to."""

    key: str
    instances: dict[str, Instance] = field(default_factory=dict)
    versions: dict[str, int] = field(default_factory=dict)  # instance id -> version of the stored object
    cursor: int | None = None
    ready: bool = False
    polled_at: float = 0.0
    resynced_at: float = 0.0
    dirty: set[str] = field(default_factory=set)
    marks: MarksRead = field(default_factory=MarksRead)  # the gateway's writes read from the store
    lock: threading.Lock = field(default_factory=threading.Lock)  # guards the fields above
    refreshing: threading.Lock = field(default_factory=threading.Lock)  # one refresher at a time

    def fill(self, instances: Iterable[Instance], cursor: int, now: float) -> None:
        """A full listing, current to `cursor`, replaces everything."""
        with self.lock:
            old, old_versions = self.instances, self.versions
            self.instances, self.versions = {}, {}
            for instance in instances:
                self._store(instance, old.get(instance.id), old_versions.get(instance.id))
            self.cursor, self.ready, self.polled_at, self.resynced_at = cursor, True, now, now

    def apply(self, fetched: dict[str, Instance | None], cursor: int | None, now: float) -> None:
        """Refetched instances (None: gone); the feed's new position."""
        with self.lock:
            for instance_id, instance in fetched.items():
                if instance is None:
                    self.instances.pop(instance_id, None)
                    self.versions.pop(instance_id, None)
                else:
                    self._store(instance, self.instances.get(instance_id), self.versions.get(instance_id))
            if cursor is not None:
                self.cursor = cursor
            self.polled_at = now

    def _store(self, instance: Instance, previous: Instance | None, version: int | None) -> None:
        """Keep an unchanged instance's stored object and version, so what was made of it stays valid."""
        if previous is not None and version is not None and previous == instance:
            self.instances[instance.id], self.versions[instance.id] = previous, version
        else:
            self.instances[instance.id], self.versions[instance.id] = instance, next(_versions)

    def note_writes(self, instance_ids: Iterable[str]) -> None:
        with self.lock:
            self.dirty.update(instance_ids)

    def written(self) -> set[str]:
        """Written instances not yet refetched. They stay here until refetched (`refetched`), so that a request
        arriving meanwhile waits for the refresh under way instead of answering without them."""
        with self.lock:
            return set(self.dirty)

    def refetched(self, instance_ids: Iterable[str]) -> None:
        with self.lock:
            self.dirty.difference_update(instance_ids)

    def invalidate(self) -> None:
        """Not to be read until filled again (a refresh failed, or the feed went backwards)."""
        with self.lock:
            self.ready = False

    def snapshot(self) -> list[Instance]:
        """Copies, each with the version of the object it copies as its `revision`."""
        with self.lock:
            held = [(i, self.versions[i.id]) for i in self.instances.values()]
        found = []
        for instance, version in held:
            made = instance_copy(instance)
            made.revision = version
            found.append(made)
        return found


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
            v.note_writes([instance_id])

    def due(self, view: InventoryView) -> tuple[bool, bool]:
        """(poll now, resync now) for this view."""
        now = self.clock()
        with view.lock:
            if not view.ready:
                return False, True
            return now - view.polled_at >= self.poll_seconds, now - view.resynced_at >= self.resync_seconds
