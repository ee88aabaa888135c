"""An in-process view of an engine's inventory, shared by every request of the process (issue 14).

Twenty pollers asking for the same thousand instances used to cost twenty full engine listings a
second. A view holds one data center's instances as the engine last described them, kept fresh by the
driver from the engine's change feed (for oVirt: its audit log, `GET /events?from=`), by refetching the
instances that events do not cover (`watched`: those in transitional states or still without addresses),
and by a full relisting every `resync_seconds` or whenever the feed has a gap. The gateway's own writes
mark what they touched (`note_write`) so that the next read refetches it first: a client reads its own
writes at once.

Beside the instances, a view holds `listings` of other kinds (volumes, images), read by the same poll of
the same feed: their events need not name what changed (a real engine's disk events do not), so a change
only marks the kind `stale` and the next read of that kind lists it again in full, once.

Each stored instance keeps the stamp of the engine read that brought it (`begin_read`): an answer whose
read began before the stored one's is dropped, so engine reads need no lock to stay in order, and a listing
never waits for a poll under way. Each also keeps a version, carried by the copies handed out, on which
frontends key what they make of an instance (`content_key`).

Driver-neutral: it stores model objects and hands out copies, which each request may decorate freely. A
view that is not `ready` (never filled, or its last refresh failed) is not used: reads take the
per-request path, slower but never wrong.
"""
from __future__ import annotations

import copy
import itertools
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

from .inventory_marks import MarksRead
from .model import Image, Instance, Volume

Clock = Callable[[], float]
T = TypeVar("T")
_versions = itertools.count(1)  # process-wide: a version is never reused, whichever view stored it
_stamps = itertools.count(1)  # when an engine read began, in order: see InventoryView.begin_read


def shallow_copy(item: T) -> T:
    """A copy of a plain dataclass instance (its fields shared): copy.copy and dataclasses.replace cost
    several times as much (reduce protocol, __init__), and a listing copies a thousand of them."""
    copied = object.__new__(type(item))
    copied.__dict__.update(item.__dict__)
    return copied


def instance_copy(instance: Instance) -> Instance:
    """A copy a request may change (tags, device names, state overlays) without touching the view's."""
    made = shallow_copy(instance)
    made.attachments = [shallow_copy(a) for a in instance.attachments]
    made.tags, made.extra = dict(instance.tags), dict(instance.extra)
    made.addresses, made.interfaces = list(instance.addresses), [shallow_copy(n) for n in instance.interfaces]
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


def volume_copy(volume: Volume) -> Volume:
    """A copy a request may attach, tag and mark without touching the view's."""
    copied = shallow_copy(volume)
    copied.attachments = [shallow_copy(a) for a in volume.attachments]
    copied.tags = dict(volume.tags)
    return copied


def image_copy(image: Image) -> Image:
    """A copy a request may name, tag and mark without touching the view's."""
    return replace(image, tags=dict(image.tags), extra=copy.deepcopy(image.extra),
                   volumes=[replace(v) for v in image.volumes])


@dataclass
class Listing:
    """One kind of a data center's resources as last listed in full, in the engine's order (the driver's
    rows, never changed once stored: a request copies what it serves)."""

    rows: list[Any] = field(default_factory=list)
    ready: bool = False
    began: int = 0  # the stamp of the listing's engine read


@dataclass
class InventoryView:
    """One data center's instances and listings of other kinds; `cursor` is the change-feed position they
    are current to (a stale listing: once it is listed again)."""

    key: str
    instances: dict[str, Instance] = field(default_factory=dict)
    versions: dict[str, int] = field(default_factory=dict)  # instance id -> version of the stored object
    cursor: int | None = None
    ready: bool = False
    polled_at: float = 0.0
    resynced_at: float = 0.0
    dirty: dict[str, int] = field(default_factory=dict)  # written instance id -> stamp of its last write noted
    floor: int = 0  # the stamp of the last full listing: no answer read before it may be applied
    watch_turn: int = 0  # where the next poll's turn of watched instances starts (the driver's `watched`)
    failure: tuple[float, BaseException] | None = None  # the last failed poll or resync, and when (monotonic)
    marks: MarksRead = field(default_factory=MarksRead)  # the gateway's writes read from the store
    listings: dict[str, Listing] = field(default_factory=dict)
    stale: set[str] = field(default_factory=set)  # kinds to list again before their next read
    read_at: dict[str, int] = field(default_factory=dict)  # instance id -> stamp of the read that stored it
    lock: threading.Lock = field(default_factory=threading.Lock)  # guards the fields above
    # Engine reads are never serialized for correctness (stamps order them): these locks only keep two requests
    # from doing the same work. A poll or resync runs in one request while the others answer from the view;
    # written instances are refetched by one request while the others wait for it (read-your-writes); each
    # stale listing is listed again by one request while its other readers wait.
    refreshing: threading.Lock = field(default_factory=threading.Lock)
    writing: threading.Lock = field(default_factory=threading.Lock)
    relisting: dict[str, threading.Lock] = field(default_factory=dict)

    @staticmethod
    def begin_read() -> int:
        """A stamp taken before an engine read: of two answers about an instance, the later-begun one stands."""
        return next(_stamps)

    def fill(self, instances: Iterable[Instance], cursor: int, now: float, stamp: int = 0) -> None:
        """A full listing begun at `stamp`, current to `cursor`, replaces everything but what reads begun later
        stored meanwhile."""
        with self.lock:
            old, old_versions = self.instances, self.versions
            newer = {i: s for i, s in self.read_at.items() if s > stamp}
            self.instances, self.versions, self.read_at, self.floor = {}, {}, newer, max(self.floor, stamp)
            for instance in instances:
                if instance.id not in newer:
                    self._store(instance, old.get(instance.id), old_versions.get(instance.id))
            for instance_id in newer.keys() & old.keys():
                self.instances[instance_id], self.versions[instance_id] = old[instance_id], old_versions[instance_id]
            self.cursor, self.ready, self.polled_at, self.resynced_at = cursor, True, now, now
            self.stale |= self.listings.keys()  # a resync relists every kind too, each at its next read

    def apply(self, fetched: dict[str, Instance | None], cursor: int | None = None, now: float | None = None,
              stamp: int | None = None) -> None:
        """Refetched instances (None: gone) read from `stamp` on (default: now), except where a read begun later
        was applied first; the feed's new position and the poll's time, if given."""
        stamp = self.begin_read() if stamp is None else stamp
        with self.lock:
            for instance_id, instance in fetched.items():
                if max(self.read_at.get(instance_id, -1), self.floor) > stamp:
                    continue  # an older answer never overwrites a newer one, nor the full listing after it
                self.read_at[instance_id] = stamp
                if instance is None:
                    self.instances.pop(instance_id, None)
                    self.versions.pop(instance_id, None)
                else:
                    self._store(instance, self.instances.get(instance_id), self.versions.get(instance_id))
            if cursor is not None:
                self.cursor = cursor
            if now is not None:
                self.polled_at = now

    def relisting_lock(self, kind: str) -> threading.Lock:
        with self.lock:
            return self.relisting.setdefault(kind, threading.Lock())

    def _store(self, instance: Instance, previous: Instance | None, version: int | None) -> None:
        """Keep an unchanged instance's stored object and version, so what was made of it stays valid."""
        if previous is not None and version is not None and previous == instance:
            self.instances[instance.id], self.versions[instance.id] = previous, version
        else:
            self.instances[instance.id], self.versions[instance.id] = instance, next(_versions)

    def note_writes(self, instance_ids: Iterable[str]) -> None:
        with self.lock:
            for instance_id in instance_ids:
                self.dirty[instance_id] = next(_stamps)

    def written(self, before: int | None = None) -> dict[str, int]:
        """Written instances not yet refetched (those noted before the stamp `before`), each with the stamp of
        its last write noted. They stay here until refetched (`refetched`), so that a request arriving meanwhile
        waits for the refetch under way instead of answering without them."""
        with self.lock:
            return {i: s for i, s in self.dirty.items() if before is None or s < before}

    def refetched(self, taken: dict[str, int]) -> None:
        """Done with what `written` gave: an instance written again meanwhile stays, for the next refetch."""
        with self.lock:
            for instance_id, noted in taken.items():
                if self.dirty.get(instance_id) == noted:
                    del self.dirty[instance_id]

    def mark_stale(self, kinds: Iterable[str]) -> None:
        with self.lock:
            self.stale.update(kinds)

    def needs(self, kinds: Iterable[str]) -> set[str]:
        """The kinds among `kinds` to list before they are read: stale, or never listed."""
        with self.lock:
            return self._needed(kinds)

    def take_stale(self, kinds: Iterable[str]) -> set[str]:
        """`needs(kinds)`, no longer marked: the caller lists them now (and marks them again if it fails)."""
        with self.lock:
            taken = self._needed(kinds)
            self.stale -= taken
            return taken

    def _needed(self, kinds: Iterable[str]) -> set[str]:
        return {k for k in kinds if k in self.stale or k not in self.listings or not self.listings[k].ready}

    def fill_listing(self, kind: str, rows: Iterable[Any], began: int = 0) -> None:
        with self.lock:
            self.listings[kind] = Listing(list(rows), ready=True, began=began)

    def listed_since(self, kind: str, stamp: int) -> bool:
        """Whether the kind's listing was read after `stamp` (a request that asked then needs no newer one)."""
        with self.lock:
            found = self.listings.get(kind)
            return found is not None and found.ready and found.began > stamp

    def rows(self, kind: str) -> list[Any] | None:
        """The kind's rows as last listed, or None when the view may not be read (not ready, never listed)."""
        with self.lock:
            found = self.listings.get(kind)
            return list(found.rows) if self.ready and found is not None and found.ready else None

    def resync_soon(self) -> None:
        """Everything to be listed again at the next read (the marks it relies on may be gone), still serving
        meanwhile."""
        with self.lock:
            self.resynced_at = float("-inf")
            self.stale |= self.listings.keys()

    def invalidate(self) -> None:
        """Not to be read until filled again (a refresh failed, or the feed went backwards)."""
        with self.lock:
            self.ready = False

    def refresh_failed(self, exc: BaseException) -> None:
        """A poll or resync failed: unready, and the requests that waited for it fail with it at once (each
        trying the full listing again in turn would make the last wait one engine timeout per request)."""
        with self.lock:
            self.ready, self.failure = False, (time.monotonic(), exc)

    def raise_refresh_failure_since(self, asked: float) -> None:
        with self.lock:
            failure = self.failure
        if failure is not None and failure[0] >= asked:
            raise failure[1]

    def snapshot(self, keep: Callable[[Instance], bool] | None = None) -> list[Instance]:
        """Copies of the instances (those `keep` accepts), each with the version of the object it copies as
        its `revision`."""
        with self.lock:
            held = [(i, self.versions[i.id]) for i in self.instances.values() if keep is None or keep(i)]
        found = []
        for instance, version in held:
            made = instance_copy(instance)
            made.revision = version
            found.append(made)
        return found

    def held(self) -> list[Instance]:
        """The view's own instances, to read and never change (a refresh replaces them, never edits them)."""
        with self.lock:
            return list(self.instances.values())


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

    def note_stale(self, key_prefix: str, kinds: Iterable[str]) -> None:
        """The gateway changed resources of these kinds: every view of the engine lists them before their next read."""
        with self._lock:
            views = [v for k, v in self._views.items() if k.startswith(key_prefix)]
        for v in views:
            v.mark_stale(kinds)

    def due(self, view: InventoryView) -> tuple[bool, bool]:
        """(poll now, resync now) for this view."""
        now = self.clock()
        with view.lock:
            if not view.ready:
                return False, True
            return now - view.polled_at >= self.poll_seconds, now - view.resynced_at >= self.resync_seconds
