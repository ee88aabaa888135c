"""Housekeeping of what the store keeps about backend resources that are gone, and of old ClientTokens.

The store keeps tags and records (EC2's instance record, the driver's key names) about VMs, disks,
snapshots and templates. The gateway removes them when it removes the resource, but a resource removed
outside the gateway (in oVirt's own UI, by another tool) leaves them behind for ever. Here each pass asks
every provider's engine which resources it has (one driver call, as an administrator: the first of the
provider's EC2 credentials the engine accepts for an unfiltered listing; a provider none can list is
skipped, never guessed at) and marks what the store holds about resources the engine no longer lists.
What is still missing `orphan_seconds` after it was first seen missing goes; a resource that shows up again
(or one being created as the engine was listed) loses its mark. Instances with a tombstone are the
tombstone's business (their records go with it).

Idempotency tokens go `client_token_seconds` after they were recorded, except while an instance they
launched still exists on an engine checked in the same pass.
"""
from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Callable

from .errors import GatewayError
from .scope import Credentials, Scope, default_provider

if TYPE_CHECKING:
    from .config import Config, ProviderConfig
    from .driver import Driver
    from .store import Store

log = logging.getLogger("cloudgw.housekeeping")

MISSING = "housekeeping.missing"  # entity kind: a resource the engine no longer lists, and since when


class Orphans:
    """The housekeeping tasks `orphans` and `client_tokens`; `run` does both in one pass."""

    def __init__(self, config: "Config", store: "Store", driver_for: Callable[["ProviderConfig"], "Driver"],
                 *, clock: Callable[[], float] = time.time) -> None:
        self.config = config
        self.store = store
        self.driver_for = driver_for
        self.clock = clock
        self._unchecked: set[str] = set()  # providers already reported as impossible to check

    def run(self) -> int:
        """One pass over every provider; returns how many resources' records and tokens were removed.

        A provider the store holds nothing about (no tags, records or expired tokens) costs no engine request.
        """
        alive: dict[str, set[str]] = {}  # provider name -> instance ids the engine has
        expired = self.store.tokens_before(self.clock() - self.config.client_token_seconds)
        removed = 0
        for provider in self.config.providers:
            if not self.holds_anything(provider.name) and not any(
                    t["owner"].startswith(provider.name + "|") for t in expired):
                continue
            existing = self.existing(provider)
            if existing is None:
                if provider.name not in self._unchecked:
                    self._unchecked.add(provider.name)
                    log.info("housekeeping: no EC2 credential of an engine administrator could list what %s has; "
                             "tags and records of resources removed outside the gateway stay", provider.name)
                continue
            alive[provider.name] = existing.get("instance", set())
            removed += self.sweep(provider.name, existing)
        return removed + self.purge_tokens(expired, alive)

    def holds_anything(self, owner: str) -> bool:
        """Whether the store keeps tags or records about any of the provider's resources."""
        return bool(self.store.tagged_resources(owner)) or any(
            self.store.entity_ids(kind, owner) for kinds in self.store.resource_records.values() for kind in kinds)

    # --- the engine's view ----------------------------------------------------------------------------
    def scopes(self, provider: "ProviderConfig") -> list[Scope]:
        """Administrator-level scopes from the EC2 credentials acting on this provider (one per user; those
        naming the provider first, then those of the default provider)."""
        default = default_provider(self.config).name
        users: dict[str, Credentials] = {}
        for stored in sorted(self.store.credentials(), key=lambda c: c.provider is None):  # named ones first
            if stored.provider == provider.name or (stored.provider is None and provider.name == default):
                users.setdefault(stored.username, Credentials(stored.username, stored.password))
        return [Scope(provider, None, credentials, user_level=False, request_id="housekeeping")
                for credentials in users.values()]

    def existing(self, provider: "ProviderConfig") -> dict[str, set[str]] | None:
        """resource type -> ids the engine has, or None when no credential could list them all."""
        driver = self.driver_for(provider)
        if not driver.can("existing_resources"):
            return None
        for scope in self.scopes(provider):
            try:
                return driver.existing_resources(scope)
            except GatewayError as exc:  # refused (not an administrator), or the engine is away
                log.debug("housekeeping: %s cannot list %s: %s", scope.credentials.username, provider.name,
                          exc.message)
                if exc.retryable:
                    return None
        return None

    # --- tags and records -----------------------------------------------------------------------------
    def sweep(self, owner: str, existing: dict[str, set[str]]) -> int:
        """Mark what the store keeps about resources missing from `existing`; remove what stayed missing."""
        gone: dict[str, str] = {}  # resource id -> type
        for resource_id, resource_type in self.store.tagged_resources(owner).items():
            if resource_type in existing and resource_id not in existing[resource_type]:
                gone[resource_id] = resource_type
        for resource_type, kinds in self.store.resource_records.items():
            if resource_type not in existing:
                continue
            for kind in kinds:
                for resource_id in self.store.entity_ids(kind, owner):
                    if resource_id not in existing[resource_type]:
                        gone[resource_id] = resource_type
        for resource_id in self.store.tombstoned("instance") & set(gone):
            del gone[resource_id]
        now = self.clock()
        marks = {m["id"]: m for m in self.store.entities(MISSING, owner)}
        for resource_id in set(marks) - set(gone):  # back (or its records went another way)
            self.store.delete_entity(MISSING, owner, resource_id)
        removed = 0
        for resource_id, resource_type in gone.items():
            mark = marks.get(resource_id)
            if mark is None:
                self.store.put_entity(MISSING, owner, resource_id,
                                      {"id": resource_id, "type": resource_type, "since": now})
            elif now - float(mark["since"]) >= self.config.orphan_seconds:
                self.store.forget_resource(owner, resource_id)
                self.store.delete_entity(MISSING, owner, resource_id)
                removed += 1
        return removed

    # --- idempotency tokens ---------------------------------------------------------------------------
    def purge_tokens(self, expired: list[dict], alive: dict[str, set[str]]) -> int:
        """Forget the tokens older than the retention whose instances are not known to live on."""
        removed = 0
        for row in expired:
            provider = row["owner"].split("|", 1)[0]
            if set(row["result"].get("instance_ids") or ()) & alive.get(provider, set()):
                continue
            self.store.forget_token(row["owner"], row["token"])
            removed += 1
        return removed
