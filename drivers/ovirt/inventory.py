"""Instance listings from the process's inventory view (gateway/inventory.py), fed by the engine's events.

Off unless `[inventory] enabled = true`. Only confirmed administrators read the view (it holds what an
administrator sees; anyone else's answer stays the engine's own filtered listing). A read:

1. cold, or every `resync_seconds`, or when the feed went backwards (an engine restored): the newest event
   index is read *before* the full listing, so changes made during the listing replay afterwards;
2. every `poll_seconds` (by whichever request comes first; the others serve the view meanwhile):
   `GET events?from=<cursor>` (strictly newer), and the VMs its events link refetched by id, with the
   `watched` ones that events miss: transitional states, and running VMs whose guest has not yet reported
   an address (guest-agent reports log no event on a real engine);
3. the gateway's own writes (any non-GET request on `vms/...`) mark the VM, which the next read refetches
   before answering, waiting for a refresh under way: a client reads its own writes.
Any engine error makes the view unready, so the request takes the per-request listing and reports the
error in its client's terms. An engine without an event log (404) is never asked again.
"""
from __future__ import annotations

import time
from collections.abc import Iterable

from gateway.errors import GatewayError, NotFound
from gateway.inventory import Inventory, InventoryView, instance_copy
from gateway.model import Instance, InstanceState
from gateway.scope import Scope

from . import mapping
from .base import VM_FOLLOW, Element, OvirtBase, Place, is_helper

CHUNK = 50  # VMs refetched by id in one search
FRESH_BY_ID = 100  # a request naming at most this many instances gets them from the engine, not the view
WATCH_MAX = 200
ADMINISTRATOR_SECONDS = 60.0  # how long a confirmed administrator is not asked again
TRANSITIONAL = frozenset({"image_locked", "wait_for_launch", "powering_up", "powering_down", "reboot_in_progress",
                          "saving_state", "restoring_state", "migrating", "unassigned", "unknown", "not_responding"})


def watched(instances: Iterable[Instance]) -> set[str]:
    """Instances whose next change may log no event: moving between states, or up without an address yet."""
    found = set()
    for i in instances:
        if i.backend_state in TRANSITIONAL or (i.state is InstanceState.RUNNING and not i.addresses_of("ipv4")):
            found.add(i.id)
            if len(found) >= WATCH_MAX:
                break
    return found


class InventoryMixin(OvirtBase):
    _inventory_state: Inventory | None = None
    _without_events: set[str]
    _administrators: dict[str, float]  # Scope.cache_key -> confirmed administrator until (inventory clock)

    def _inventory(self) -> Inventory | None:
        if not self.config.inventory_enabled:
            return None
        with self._lock:
            if self._inventory_state is None:
                self._inventory_state = Inventory(self.config.inventory_poll_seconds,
                                                  self.config.inventory_resync_seconds)
                self._without_events = set()
                self._administrators = {}
            return self._inventory_state

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
        inventory = self._inventory()
        if inventory is None or scope.user_level or scope.provider.name in self._without_events \
                or not self._administrator(scope, inventory):
            return None
        view = inventory.view(place.key)
        if wanted and len(wanted) <= FRESH_BY_ID:
            return self._read_afresh(scope, place, view, wanted)
        try:
            self._refresh(scope, place, inventory, view)
            with view.lock:
                fresh = set(wanted or ()) - view.instances.keys()
            if fresh and view.ready:
                with view.refreshing:  # after any refresh under way: an older answer never overwrites this one
                    view.apply(self._fetch(scope, place, fresh), None, view.polled_at)
        except NotFound:
            self._without_events.add(scope.provider.name)
            view.invalidate()
            return None
        except GatewayError:
            view.invalidate()
            return None
        if not view.ready:
            return None
        found = view.snapshot()
        for instance in found:
            instance.owner = scope.credentials.username
        return found

    def _read_afresh(self, scope: Scope, place: Place, view: InventoryView, wanted: set[str]) -> list[Instance] | None:
        """Instances named by id as the engine has them now, never waiting for a refresh under way (a termination's
        state check would wait behind a poll's refetches or a full listing). Without one, the read is the refresh
        and the view takes it; with one, the view refetches them before its next answer, so the older answer that
        refresh may hold never shows after this one."""
        refreshing = view.refreshing.acquire(blocking=False)
        try:
            fetched = self._fetch(scope, place, wanted)
            if view.ready:
                if refreshing:
                    view.apply(fetched, None, view.polled_at)
                else:
                    for instance_id in fetched:
                        view.note_write(instance_id)
        except GatewayError:
            view.invalidate()
            return None
        finally:
            if refreshing:
                view.refreshing.release()
        found = [instance_copy(i) for i in fetched.values() if i is not None]
        for instance in found:
            instance.owner = scope.credentials.username
        return found

    def _refresh(self, scope: Scope, place: Place, inventory: Inventory, view: InventoryView) -> None:
        poll, resync = inventory.due(view)
        dirty = view.take_dirty()
        if not (poll or resync or dirty):
            return
        if not view.refreshing.acquire(blocking=resync or bool(dirty)):
            return  # another request refreshes; the view as it is now is fresh enough for this one
        try:
            poll, resync = inventory.due(view)  # maybe done meanwhile by the request we waited for
            if resync:
                self._resync(scope, place, view)
                return
            targets, cursor = set(dirty), None
            if poll:
                cursor, changed, gap = self._changes_since(scope, view.cursor or 0)
                if gap:
                    self._resync(scope, place, view)
                    return
                with view.lock:
                    targets |= changed | watched(view.instances.values())
            view.apply(self._fetch(scope, place, targets), cursor, inventory.clock() if poll else view.polled_at)
        except BaseException:
            for instance_id in dirty:  # not read yet: the next request refetches them
                view.note_write(instance_id)
            raise
        finally:
            view.refreshing.release()

    def _resync(self, scope: Scope, place: Place, view: InventoryView) -> None:
        cursor = self._newest_event(scope)  # before the listing: what changes during it replays next poll
        now = self._inventory_state.clock() if self._inventory_state else time.monotonic()
        listed = self._vms_mapped(scope, place, lambda vm: self._mapped(scope, place, vm), follow=VM_FOLLOW)
        view.fill([i for i in listed if i is not None], cursor, now)

    def _mapped(self, scope: Scope, place: Place, vm: Element) -> Instance | None:
        if is_helper(vm) or mapping.link_id(vm, "cluster") not in place.realms:
            return None
        return mapping.instance(vm, owner=scope.credentials.username, region_id=place.region.id,
                                networks_of_profiles=place.networks_of_profiles)

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
    def _newest_event(self, scope: Scope) -> int:
        newest = self._get(scope, "events", {"max": "1"})
        return max((mapping.integer(e, "index") or 0 for e in newest), default=0)

    def _changes_since(self, scope: Scope, cursor: int) -> tuple[int, set[str], bool]:
        """(new cursor, VMs the events since `cursor` link, whether the feed went backwards)."""
        events = list(self._get(scope, "events", {"from": str(cursor)}))
        if not events:
            return (cursor, set(), self._newest_event(scope) < cursor) if cursor else (cursor, set(), False)
        indexes = [mapping.integer(e, "index") or 0 for e in events]
        vms = {vm_id for e in events if (vm_id := mapping.link_id(e, "vm"))}
        return max(indexes + [cursor]), vms, False

    # --- read-your-writes ---------------------------------------------------------------------------
    def _note_write(self, scope: Scope, method: str, path: str, answer: Element | None) -> None:
        inventory = self._inventory_state
        if inventory is None or method == "GET":
            return
        parts = path.strip("/").split("/")
        if parts[0] != "vms":
            return
        vm_id = parts[1] if len(parts) > 1 else (answer.get("id") if answer is not None else None)
        if vm_id:
            inventory.note_write(f"{scope.provider.name}|", vm_id)
