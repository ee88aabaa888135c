"""What every part of the oVirt driver shares: engine clients, the scoped data center, lookups.

A scope names its data center by name or id (or not at all: the provider's default, else `Default`).
Resolving it costs four engine requests (data centers, its clusters and storage domains, vNIC profiles), so the
answer is kept for a short time per (engine, identity, data center): listings then cost one request. When it
is missing or runs out, one request reads it again: the others wait for it when there is no reading yet, and
go on with the last one when there is (gateway/expiring.py).
"""
from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Mapping, TypeVar

from lxml import etree

from gateway.driver import Driver
from gateway.errors import BackendError, NotFound
from gateway.expiring import ExpiringCache
from gateway.model import Realm, Region
from gateway.scope import Scope

from . import mapping
from .client import EngineClient
from .recent_lookups import RecentLookups

if TYPE_CHECKING:
    from gateway.config import Config, ProviderConfig
    from gateway.operations import OperationRunner
    from gateway.store import Store

Element = etree._Element
DEFAULT_DATACENTER = "Default"
PLACE_TTL_SECONDS = 30.0
SEARCH_PLAIN = re.compile(r"^[A-Za-z0-9_.-]+$")
INSTANCE_META = "ovirt.instance"  # store entity kind: what oVirt cannot hold about a VM (key name)
VM_FOLLOW = "nics.reported_devices,disk_attachments"
LAUNCH_MARK = "cloudgw-launch-"  # + the run operation's id: the comment that lets a takeover find the VM
HELPER_MARK = "cloudgw-helper-"  # + an operation's id: the comment of a helper VM the gateway owns, never listed


def is_helper(vm: Element) -> bool:
    """A VM the gateway made for its own work (a snapshot's copy): no frontend ever lists it."""
    return (vm.findtext("comment") or "").startswith(HELPER_MARK)
T = TypeVar("T")


def search_value(value: str) -> str:
    """A value for the engine's search language, quoted when it is not a plain word."""
    if SEARCH_PLAIN.match(value):
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def launch_mark(operation_id: str) -> str:
    """The comment of the VM a launch (run operation) makes: how a takeover finds it."""
    return LAUNCH_MARK + operation_id


@dataclass(frozen=True)
class Place:
    """The scoped data center as the engine described it a moment ago."""

    provider_name: str
    region: Region
    realms: dict[str, Realm]
    networks_of_profiles: dict[str, str] = field(default_factory=dict)
    storage_domains: dict[str, str] = field(default_factory=dict)  # id -> name

    @property
    def key(self) -> str:
        """Where tombstones and per-place records live: (engine, data center id)."""
        return f"{self.provider_name}|{self.region.id}"

    @property
    def search(self) -> str:
        """The engine search clause selecting this data center's objects."""
        return f"datacenter={search_value(self.region.name)}"

    @property
    def disk_search(self) -> str:
        """Disks are searched by storage domain (the engine's disk search has no data-center field)."""
        names = sorted(self.storage_domains.values())
        return " or ".join(f"storage={search_value(n)}" for n in names) or "id=none"

    def realm_by_name(self, name: str) -> Realm | None:
        return next((r for r in self.realms.values() if r.name == name), None)


class OvirtBase(Driver):
    """Engine access and data-center resolution; the parts of the driver build on it."""

    name = "ovirt"

    def __init__(self, config: "Config", store: "Store", operations: "OperationRunner") -> None:
        super().__init__(config, store, operations)
        store.keep_records("instance", INSTANCE_META)  # key names: housekeeping drops them with a vanished VM
        self._clients: dict[str, EngineClient] = {}
        self._places: ExpiringCache[Place] = ExpiringCache(PLACE_TTL_SECONDS)
        self._clock: Callable[[], float] = time.monotonic
        self._recent = RecentLookups(PLACE_TTL_SECONDS, lambda: self._clock())  # a launch's template and type
        self._lock = threading.Lock()

    def client_for(self, provider: "ProviderConfig") -> EngineClient:
        """The shared client of an engine (one pooled session and token cache each)."""
        key = provider.normalized_url()
        with self._lock:
            client = self._clients.get(key)
            if client is None:
                client = self._clients[key] = EngineClient(provider, self.config)
            return client

    def close(self) -> None:
        with self._lock:
            clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            client.close()

    # --- engine requests ----------------------------------------------------------------------------
    def _call(self, scope: Scope, method: str, path: str, *, params: Mapping[str, str] | None = None,
              body: Element | None = None, idempotent: bool | None = None,
              what: tuple[str, str] | None = None) -> Element | None:
        answer = self.client_for(scope.provider).request(scope, method, path, params=params, body=body,
                                                         idempotent=idempotent, what=what)
        if method != "GET":
            self._recent.forget(path)
            self._note_write(scope, method, path, answer)
        return answer

    def _note_write(self, scope: Scope, method: str, path: str, answer: Element | None) -> None:
        """The engine accepted a change (the inventory view refetches what it touched; see inventory.py)."""

    def _get(self, scope: Scope, path: str, params: Mapping[str, str] | None = None,
             what: tuple[str, str] | None = None) -> Element:
        found = self._call(scope, "GET", path, params=params, what=what)
        if found is None:
            raise BackendError(f"The engine answered GET {path} with an empty body")
        return found

    # --- the scoped data center ----------------------------------------------------------------------
    def _place(self, scope: Scope, *, fresh: bool = False) -> Place:
        """The scope's data center with its clusters; NotFound('region') if the engine has no such one."""
        wanted = scope.datacenter or scope.provider.default_datacenter or DEFAULT_DATACENTER
        return self._places.get((scope.cache_key, wanted), lambda: self._load_place(scope, wanted), fresh=fresh)

    def _load_place(self, scope: Scope, wanted: str) -> Place:
        dcs = self._get(scope, "datacenters")
        chosen = next((dc for dc in dcs if dc.get("id") == wanted), None)
        if chosen is None:
            chosen = next((dc for dc in dcs if dc.findtext("name") == wanted), None)
        if chosen is None:
            chosen = next((dc for dc in dcs if (dc.findtext("name") or "").lower() == wanted.lower()), None)
        if chosen is None:
            raise NotFound("region", wanted)
        region = mapping.region(chosen)
        clusters = self._get(scope, f"datacenters/{region.id}/clusters", what=("region", wanted))
        realms = {c.get("id", ""): mapping.realm(c, region) for c in clusters}
        profiles = self._get(scope, "vnicprofiles")
        networks_of_profiles = {p.get("id", ""): mapping.link_id(p, "network") or "" for p in profiles}
        domains = self._get(scope, f"datacenters/{region.id}/storagedomains")
        storage_domains = {d.get("id", ""): d.findtext("name") or "" for d in domains}
        return Place(scope.provider.name, region, realms, networks_of_profiles, storage_domains)

    def _get_recent(self, scope: Scope, path: str, params: Mapping[str, str] | None = None,
                    what: tuple[str, str] | None = None, *, keep: Callable[[Element], bool] = lambda _: True,
                    reused: list[str] | None = None) -> Element:
        """`_get`, answered from an answer of the last PLACE_TTL_SECONDS when there is one (see recent_lookups);
        kept only when `keep(answer)`. Appends `path` to `reused` when it was answered so."""
        key = path + ("?" + "&".join(f"{k}={v}" for k, v in sorted(params.items())) if params else "")
        found = self._recent.get(scope.cache_key, key)
        if found is not None:
            if reused is not None:
                reused.append(key)
            return found
        found = self._get(scope, path, params, what)
        if keep(found):
            self._recent.keep(scope.cache_key, key, found)
        return found

    def _forget_places(self) -> None:
        self._places.clear()

    # --- lookups shared by the parts ------------------------------------------------------------------
    def _vm(self, scope: Scope, place: Place, vm_id: str, *, follow: str | None = None) -> Element:
        """One VM of the scoped data center; NotFound when absent or in another data center."""
        params = {"follow": follow} if follow else None
        vm = self._get(scope, f"vms/{vm_id}", params, what=("instance", vm_id))
        if mapping.link_id(vm, "cluster") not in place.realms or is_helper(vm):
            raise NotFound("instance", vm_id)
        return vm

    @staticmethod
    def _vm_params(place: Place, follow: str | None, extra_search: str) -> dict[str, Any]:
        params: dict[str, Any] = {"search": place.search + (f" and {extra_search}" if extra_search else "")}
        if follow:
            params["follow"] = follow
        return params

    @staticmethod
    def _secret(scope: Scope) -> dict[str, str]:
        """The credentials a durable operation acts with (kept encrypted in the store)."""
        return {"username": scope.credentials.username, "password": scope.credentials.password}

    @staticmethod
    def _scope_data(scope: Scope, place: Place) -> dict[str, object]:
        """What a durable operation needs to rebuild the request's scope in a worker."""
        return {"provider": scope.provider.name, "engine": scope.provider.url, "datacenter": place.region.id,
                "user_level": scope.user_level, "request_id": scope.request_id, "place": place.key}

    def _vms(self, scope: Scope, place: Place, *, follow: str | None = None, extra_search: str = "",
             helpers: bool = False) -> list[Element]:
        """Every VM of the scoped data center in one request (what `follow` names inlined); the gateway's
        helper VMs only when asked for."""
        found = list(self._get(scope, "vms", self._vm_params(place, follow, extra_search)))
        return [vm for vm in found if mapping.link_id(vm, "cluster") in place.realms and (helpers or not is_helper(vm))]

    def _vms_mapped(self, scope: Scope, place: Place, each: Callable[[Element], T], *, follow: str | None = None,
                    extra_search: str = "") -> list[T]:
        """`each` of every VM the one request answers, mapped while its body streams in (never the whole tree).

        No cluster check: the caller maps the VMs anyway and checks the realm of what it mapped (cheaper).
        """
        return self.client_for(scope.provider).collection(scope, "vms", "vm", each,
                                                          params=self._vm_params(place, follow, extra_search))

    def _templates(self, scope: Scope, place: Place) -> list[Element]:
        """Templates usable in the data center (its own and Blank), disks inlined for their sizes and
        permissions for whom they are shared with."""
        found = list(self._get(scope, "templates", {"search": place.search,
                                                    "follow": "disk_attachments.disk,permissions"}))
        if not any(t.get("id") == mapping.BLANK_TEMPLATE_ID for t in found):
            try:
                found.insert(0, self._get(scope, f"templates/{mapping.BLANK_TEMPLATE_ID}"))
            except NotFound:  # a user-level view may not see Blank
                pass
        return [t for t in found if mapping.link_id(t, "cluster") in (None, *place.realms)]
