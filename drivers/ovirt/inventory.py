"""Instance listings from the process's inventory view (gateway/inventory.py), fed by the engine's events.

Off unless `[inventory] enabled = true`. Only confirmed administrators read the view (it holds what an
administrator sees; anyone else's answer stays the engine's own filtered listing). A read:

1. cold, or every `resync_seconds`, or when the feed went backwards (an engine restored): the newest event
   index is read *before* the full listing, so changes made during the listing replay afterwards;
2. every `poll_seconds` (by whichever request comes first; the others serve the view meanwhile):
   `GET events?from=<cursor>` (strictly newer), and the VMs its events link refetched by id, with the
   `watched` ones that events miss: transitional states, and running VMs whose guest has not yet reported
   an address (guest-agent reports log no event on a real engine);
3. the gateway's own writes (any non-GET request on `vms/...`) mark the VM, in the process and in the store
   (gateway/inventory_marks.py), and the next read of any process refetches it before answering (or waits
   for the request refetching it): a client reads its own writes whichever process or host serves it. A
   read never waits for a poll under way; every engine answer carries the stamp of when its read began, and
   an older answer never overwrites a newer one (gateway/inventory.py).

The same poll keeps the data center's disks and templates (volume and image listings, `storage_rows`): an
event whose code says disks or templates changed (event_kinds.py), a gateway write on disks, attachments,
snapshots, templates or a VM made or removed, a resync, or a disk or template still locked at a poll marks
the kind stale, and its next read lists it again in full (once, whoever reads it). Volume listings take
their attachments from the view's instances (the gateway's helper VMs included, marked, for that).
Any engine error makes the view unready, so the request takes the per-request listing and reports the
error in its client's terms. An engine without an event log (404) is never asked again.
"""
from __future__ import annotations

import time
from collections.abc import Iterable
from typing import NamedTuple

from gateway.errors import GatewayError, NotFound
from gateway.inventory import Inventory, InventoryView, instance_copy
from gateway.inventory_marks import WriteMarks
from gateway.model import Instance, InstanceState
from gateway.scope import Scope

from . import event_kinds, mapping, storage_rows
from .base import VM_FOLLOW, Element, OvirtBase, Place, is_helper

CHUNK = 50  # VMs refetched by id in one search
FRESH_BY_ID = 100  # a request naming at most this many instances gets them from the engine, not the view
WATCH_MAX = 200
ADMINISTRATOR_SECONDS = 60.0  # how long a confirmed administrator is not asked again
TRANSITIONAL = frozenset({"image_locked", "wait_for_launch", "powering_up", "powering_down", "reboot_in_progress",
                          "saving_state", "restoring_state", "migrating", "unassigned", "unknown", "not_responding"})
KIND_MARK = "@"  # a store mark naming a kind to list again (disks, templates), not an instance
HELPER = "helper"  # Instance.extra key: a helper VM of the gateway's, kept in the view for its attachments only
LOCKED = "locked"  # a disk's or template's status while the engine works on it


class NoEventLog(GatewayError):
    """The engine answered 404 for its event log: an engine without one (asked again after resync_seconds)."""


class Changes(NamedTuple):
    """What a poll of the feed learnt: its new position, the VMs its events link, the listings they make stale,
    and whether the feed went backwards (an engine restored: list everything again)."""

    cursor: int
    vms: set[str]
    kinds: set[str]
    gap: bool


def watched(instances: Iterable[Instance], turn: int = 0) -> set[str]:
    """Instances whose next change may log no event: moving between states (all of them, up to WATCH_MAX), and
    running without an address yet, in turns from `turn` when there are more than the room left (VMs without
    a guest agent never report one: a fixed pick would starve the others until the resync)."""
    moving, waiting = [], []
    for i in instances:
        if i.backend_state in TRANSITIONAL:
            moving.append(i.id)
        elif i.state is InstanceState.RUNNING and not i.addresses_of("ipv4"):
            waiting.append(i.id)
    room = max(0, WATCH_MAX - len(moving))
    if len(waiting) > room:
        start = turn % len(waiting)
        waiting = (waiting[start:] + waiting[:start])[:room]
    return set(moving[:WATCH_MAX]) | set(waiting)


class InventoryMixin(OvirtBase):
    _inventory_state: Inventory | None = None
    _write_marks: WriteMarks | None = None
    _without_events: dict[str, float]  # provider -> until when its engine is taken to have no event log
    _administrators: dict[str, float]  # Scope.cache_key -> confirmed administrator until (inventory clock)

    def _inventory(self) -> Inventory | None:
        if not self.config.inventory_enabled:
            return None
        with self._lock:
            if self._inventory_state is None:
                self._inventory_state = Inventory(self.config.inventory_poll_seconds,
                                                  self.config.inventory_resync_seconds)
                self._without_events = {}
                self._administrators = {}
            return self._inventory_state

    def _marks(self) -> WriteMarks:
        with self._lock:
            if self._write_marks is None:
                self._write_marks = WriteMarks(self.store)
            return self._write_marks

    def _administrator(self, scope: Scope, inventory: Inventory) -> bool:
        """Whether the engine runs the caller's unfiltered queries (asked at most once a minute per identity).

        Without `;user` a request is not at user level, yet the engine silently filters a non-administrator's
        answers: only a confirmed administrator may read the view, which holds every VM of the data center."""
        now = inventory.clock()
        with self._lock:
            until = self._administrators.get(scope.cache_key)
        if until is not None and until > now:
            return True
        try:
            self.confirm_administrator(scope)  # type: ignore[attr-defined]  # the driver's, see driver.py
        except GatewayError:
            return False
        with self._lock:
            self._administrators[scope.cache_key] = now + ADMINISTRATOR_SECONDS
        return True

    # --- reading ------------------------------------------------------------------------------------
    def _view_instances(self, scope: Scope, place: Place, wanted: set[str] | None = None) -> list[Instance] | None:
        """The data center's instances from the view (copies, owner the caller's), or None: use the engine.

        Instances asked for by id (at most `FRESH_BY_ID`) are fetched afresh, as without the view: a waiter or an
        action's state check sees the engine's state now, and one made a moment ago through another gateway
        process is found. Only listings of the whole data center, the costly ones, are served from the view."""
        if wanted and len(wanted) <= FRESH_BY_ID:
            readable = self._readable_view(scope, place)
            return None if readable is None else self._read_afresh(scope, place, readable, wanted)
        view = self._read_view(scope, place, (), wanted)
        if view is None:
            return None
        found = view.snapshot(lambda i: HELPER not in i.extra)
        for instance in found:
            instance.owner = scope.credentials.username
        return found

    def _view_rows(self, scope: Scope, place: Place, kinds: tuple[str, ...]
                   ) -> tuple[InventoryView, dict[str, list]] | None:
        """The view (its instances current) and the rows of each kind (event_kinds.DISKS: storage_rows.DiskRow,
        TEMPLATES: TemplateRow), or None: use the engine. Rows are shared: serve copies of what they hold."""
        view = self._read_view(scope, place, kinds)
        if view is None:
            return None
        rows = {kind: view.rows(kind) for kind in kinds}
        if any(r is None for r in rows.values()):
            return None
        return view, rows  # type: ignore[return-value]  # None excluded just above

    def _readable_view(self, scope: Scope, place: Place) -> InventoryView | None:
        """The data center's view if it may answer this caller (a confirmed administrator, not at user level)."""
        inventory = self._inventory()
        if inventory is None or scope.user_level or self._without_events.get(scope.provider.name, 0) > inventory.clock() \
                or not self._administrator(scope, inventory):
            return None
        return inventory.view(place.key)

    def _read_view(self, scope: Scope, place: Place, kinds: tuple[str, ...],
                   wanted: set[str] | None = None) -> InventoryView | None:
        """The data center's view, refreshed as due with the `kinds` listings current, if it may answer this
        caller (a confirmed administrator, not at user level); None: the request takes the engine's answer."""
        inventory, view = self._inventory(), self._readable_view(scope, place)
        if inventory is None or view is None:
            return None
        try:
            self._refresh(scope, place, inventory, view, kinds)
            with view.lock:
                fresh = set(wanted or ()) - view.instances.keys()
            if fresh and view.ready:
                stamp = view.begin_read()  # a refresh under way that read them earlier will not overwrite these
                view.apply(self._fetch(scope, place, fresh), stamp=stamp)
        except NoEventLog:
            self._without_events[scope.provider.name] = inventory.clock() + inventory.resync_seconds
            view.invalidate()
            return None
        except GatewayError:  # a failed poll made the view unready; a failed refetch or relisting left what it
            return None  # needed marked: this request takes the engine's path and reports the error
        return view if view.ready else None

    def _refresh(self, scope: Scope, place: Place, inventory: Inventory, view: InventoryView,
                 kinds: tuple[str, ...] = ()) -> None:
        """Poll (or resync) as due, in one request while the others answer from the view (all wait only for
        the first fill); then the instances written and the stale listings this read needs, which it waits for."""
        self._read_marks(scope, view)
        poll, resync = inventory.due(view)
        asked = time.monotonic()
        if (poll or resync) and view.refreshing.acquire(blocking=not view.ready):
            try:
                view.raise_refresh_failure_since(asked)  # the resync this request waited for failed: so does this one
                poll, resync = inventory.due(view)  # maybe done meanwhile by the request we waited for
                try:
                    if resync:
                        self._resync(scope, place, view)
                    elif poll:
                        self._follow(scope, place, inventory, view)
                except GatewayError as exc:
                    view.refresh_failed(exc)  # unready: the next read lists everything again
                    raise
            finally:
                view.refreshing.release()
        self._refetch_written(scope, place, view)
        for kind in sorted(view.needs(kinds)):
            self._relist_if_stale(scope, place, view, kind)

    def _refetch_written(self, scope: Scope, place: Place, view: InventoryView) -> None:
        """The instances the gateway wrote, refetched before this read answers (or by the request that got
        there first, which this one waits for); a failure keeps them marked."""
        asked = view.begin_read()
        if not view.written(asked):
            return
        with view.writing:
            dirty = view.written(asked)  # writes after this request arrived are the next requests' to wait for
            if dirty:
                stamp = view.begin_read()
                view.apply(self._fetch(scope, place, set(dirty)), stamp=stamp)
                view.refetched(dirty)

    def _relist_if_stale(self, scope: Scope, place: Place, view: InventoryView, kind: str) -> None:
        """List the kind again unless a listing read after this request arrived is there: under a stream of
        writes, each waiting request listing again in turn would make the last wait for all of them."""
        asked = view.begin_read()
        with view.relisting_lock(kind):
            if view.listed_since(kind, asked) or not view.take_stale([kind]):
                return  # listed meanwhile by the request this one waited for
            began = view.begin_read()
            try:
                view.fill_listing(kind, self._relist(scope, place, kind), began)
            except BaseException:
                view.mark_stale([kind])
                raise

    def _follow(self, scope: Scope, place: Place, inventory: Inventory, view: InventoryView) -> None:
        """The feed's changes since the view's cursor, and the instances they name or that are watched."""
        changes = self._changes_since(scope, view.cursor or 0)
        if changes.gap:
            self._resync(scope, place, view)
            return
        view.mark_stale(changes.kinds | self._locked_kinds(view))
        with view.lock:
            targets = changes.vms | watched(view.instances.values(), view.watch_turn)
            view.watch_turn += WATCH_MAX
        stamp = view.begin_read()
        view.apply(self._fetch(scope, place, targets), changes.cursor, inventory.clock(), stamp)

    @staticmethod
    def _locked_kinds(view: InventoryView) -> set[str]:
        """Kinds with a disk or template the engine still works on: its end may log no event we follow."""
        found = set()
        disks, templates = view.rows(event_kinds.DISKS) or [], view.rows(event_kinds.TEMPLATES) or []
        if any(r.volume.backend_state == LOCKED for r in disks):
            found.add(event_kinds.DISKS)
        if any(r.image.backend_state == LOCKED for r in templates):
            found |= {event_kinds.TEMPLATES, event_kinds.DISKS}
        return found

    def _relist(self, scope: Scope, place: Place, kind: str) -> list:
        if kind == event_kinds.DISKS:
            return self.client_for(scope.provider).collection(scope, "disks", "disk", storage_rows.disk_row,
                                                              params={"search": place.disk_search})
        return [storage_rows.template_row(t, place.realms) for t in self._templates(scope, place)]

    def _read_afresh(self, scope: Scope, place: Place, view: InventoryView, wanted: set[str]) -> list[Instance] | None:
        """Instances named by id as the engine has them now, never waiting for anything under way (a termination's
        state check would wait behind a poll's refetches or a full listing); the view takes the answer unless a
        read begun later was applied first."""
        stamp = view.begin_read()
        try:
            fetched = self._fetch(scope, place, wanted)
        except GatewayError:
            return None  # this request takes the engine's path and reports the error; the view stays as it is
        if view.ready:
            view.apply(fetched, stamp=stamp)
        found = [instance_copy(i) for i in fetched.values() if i is not None and HELPER not in i.extra]
        for instance in found:
            instance.owner = scope.credentials.username
        return found

    def _resync(self, scope: Scope, place: Place, view: InventoryView) -> None:
        cursor = self._newest_event(scope)  # before the listing: what changes during it replays next poll
        now = self._inventory_state.clock() if self._inventory_state else time.monotonic()
        stamp = view.begin_read()
        listed = self._vms_mapped(scope, place, lambda vm: self._mapped(scope, place, vm), follow=VM_FOLLOW)
        view.fill([i for i in listed if i is not None], cursor, now, stamp)

    def _mapped(self, scope: Scope, place: Place, vm: Element) -> Instance | None:
        if mapping.link_id(vm, "cluster") not in place.realms:
            return None
        instance = mapping.instance(vm, owner=scope.credentials.username, region_id=place.region.id,
                                    networks_of_profiles=place.networks_of_profiles)
        if is_helper(vm):
            instance.extra[HELPER] = True
        return instance

    def _fetch(self, scope: Scope, place: Place, ids: set[str]) -> dict[str, Instance | None]:
        """The VMs `ids` as the engine has them now (None: gone, or no longer in this data center)."""
        found: dict[str, Instance | None] = {i: None for i in ids}
        ordered = sorted(ids)
        for start in range(0, len(ordered), CHUNK):
            search = " or ".join(f"id={vm_id}" for vm_id in ordered[start:start + CHUNK])
            for instance in self.client_for(scope.provider).collection(
                    scope, "vms", "vm", lambda vm: self._mapped(scope, place, vm),
                    params={"search": search, "follow": VM_FOLLOW}):
                if instance is not None and instance.id in found:
                    found[instance.id] = instance
        return found

    # --- the engine's events ------------------------------------------------------------------------
    def _events(self, scope: Scope, params: dict[str, str]) -> Element:
        try:
            return self._get(scope, "events", params)
        except NotFound:
            raise NoEventLog() from None

    def _newest_event(self, scope: Scope) -> int:
        newest = self._events(scope, {"max": "1"})
        return max((mapping.integer(e, "index") or 0 for e in newest), default=0)

    def _changes_since(self, scope: Scope, cursor: int) -> Changes:
        """What the events since `cursor` say changed. Asked from one before the cursor: the cursor's own event
        in the answer shows the log still reaches it (an engine restored from a backup would not), so a poll
        that finds nothing new costs one request; only when that event is gone is the newest index asked."""
        answered = [(mapping.integer(e, "index") or 0, e) for e in
                    self._events(scope, {"from": str(max(cursor - 1, 0))})]
        if cursor and not answered:
            return Changes(cursor, set(), set(), self._newest_event(scope) < cursor)
        events = [e for index, e in answered if index > cursor]
        vms = {vm_id for e in events if (vm_id := mapping.link_id(e, "vm"))}
        kinds = set().union(*(event_kinds.stale_kinds(mapping.integer(e, "code"), mapping.link_id(e, "template")
                                                      is not None) for e in events))
        return Changes(max([index for index, _ in answered] + [cursor]), vms, kinds, False)

    # --- read-your-writes ---------------------------------------------------------------------------
    def _read_marks(self, scope: Scope, view: InventoryView) -> None:
        """The gateway's writes marked in the store by any process: instances to refetch, kinds to list again
        (everything, when this view looked so long ago that marks may be gone)."""
        def act(marks: set[str], complete: bool) -> None:
            view.mark_stale([m[len(KIND_MARK):] for m in marks if m.startswith(KIND_MARK)])
            view.note_writes([m for m in marks if not m.startswith(KIND_MARK)])
            if not complete:
                view.resync_soon()

        self._marks().act_on_new(scope.provider.name, view.marks, act)

    def _note_write(self, scope: Scope, method: str, path: str, answer: Element | None) -> None:
        if not self.config.inventory_enabled or method == "GET":
            return
        parts = path.strip("/").split("/")
        kinds = event_kinds.written_kinds(method, parts)
        vm_id = None
        if parts[0] == "vms":
            vm_id = parts[1] if len(parts) > 1 else (answer.get("id") if answer is not None else None)
        prefix, inventory, marks = f"{scope.provider.name}|", self._inventory_state, self._marks()
        if inventory is not None:  # at once in this process, whatever the store says
            inventory.note_stale(prefix, kinds)
            if vm_id:
                inventory.note_write(prefix, vm_id)
        for kind in sorted(kinds):
            marks.mark(scope.provider.name, KIND_MARK + kind)
        if vm_id:
            marks.mark(scope.provider.name, vm_id)
