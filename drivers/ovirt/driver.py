"""The oVirt driver: the gateway's Driver interface over the oVirt Engine REST API v4.

The parts live beside this module: base.py (engine clients, the scoped data center), instances.py,
storage.py, operations.py (durable run/terminate), mapping.py (XML -> model) and client.py (HTTP).
This module adds the catalogue (regions, realms, images, hardware profiles, networks) and identity.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from gateway.errors import Forbidden, InvalidParameter, NotFound, NotSupported
from gateway.inventory import image_copy
from gateway.model import HardwareProfile, Image, Network, NetworkInterface, Realm, Region, ResourceState
from gateway.scope import Scope

from . import event_kinds, mapping
from .base import VM_FOLLOW
from .image_capture import CaptureImage
from .images import ImagesMixin
from .instances import InstancesMixin
from .interface_ports import InterfacePortsMixin
from .after_lock import AfterLock
from .operations import RunInstance, TerminateInstance
from .disk_snapshots import DiskSnapshotsMixin
from .snapshot_copies import SnapshotCopiesMixin, VolumeFromSnapshot
from .snapshot_removal import DeleteSnapshot
from .statistics import StatisticsMixin
from .storage import StorageMixin

if TYPE_CHECKING:
    from gateway.config import ProviderConfig
    from gateway.operations import OperationKind


class OvirtDriver(InstancesMixin, ImagesMixin, StorageMixin, SnapshotCopiesMixin, DiskSnapshotsMixin,
                  InterfacePortsMixin, StatisticsMixin):
    """One per gateway process, shared by every request (clients and caches are per engine inside)."""

    name = "ovirt"

    def operation_kinds(self) -> Sequence["OperationKind"]:
        return (RunInstance(self), TerminateInstance(self), CaptureImage(self), VolumeFromSnapshot(self),
                DeleteSnapshot(self), AfterLock(self))

    def probe(self, provider: "ProviderConfig") -> None:
        self.client_for(provider).probe()

    def validate_credentials(self, scope: Scope) -> None:
        """The engine's API root answers only to accepted credentials (AuthFailure otherwise)."""
        self._call(scope, "GET", "")

    def confirm_administrator(self, scope: Scope) -> None:
        """`filter=false` said outright (ENGINE_API_FILTER_BY_DEFAULT filters a non-admin's answers otherwise):
        the engine refuses the query (400 "insufficient permissions") to anyone without an admin role."""
        try:
            self._get(scope, "datacenters", {"filter": "false", "max": "1"})
        except (InvalidParameter, Forbidden):
            raise Forbidden("The engine refuses this user's administrator-level (unfiltered) queries") from None

    def existing_resources(self, scope: Scope) -> dict[str, set[str]]:
        """Every VM (with its snapshots), disk and template of the engine, in three unfiltered requests: the
        engine refuses them to a non-administrator, so an answer is never a partial view."""
        if scope.user_level:
            raise NotSupported("Housekeeping needs the engine's administrator API")
        unfiltered = {"filter": "false"}  # said outright: the engine filters a non-administrator's answers otherwise
        vms = self._get(scope, "vms", {"follow": "snapshots", **unfiltered})
        disks = {d.get("id", "") for d in self._get(scope, "disks", unfiltered)}
        return {"instance": {vm.get("id", "") for vm in vms},  # a snapshot may also be a disk copy (disk_snapshots)
                "snapshot": {s.get("id", "") for vm in vms for s in vm.iterfind("snapshots/snapshot")} | disks,
                "image": {t.get("id", "") for t in self._get(scope, "templates", unfiltered)},
                "volume": disks}

    def engine_version(self, scope: Scope) -> str:
        info = self._get(scope, "").find("product_info")
        if info is None:
            return "unknown (the API root has no product_info)"
        version = info.findtext("version/full_version") or ".".join(
            info.findtext(f"version/{part}") or "?" for part in ("major", "minor"))
        return f"{info.findtext('name') or 'oVirt Engine'} {version}"

    # --- places ---------------------------------------------------------------------------------------
    def regions(self, scope: Scope) -> list[Region]:
        return [mapping.region(dc) for dc in self._get(scope, "datacenters")]

    def realms(self, scope: Scope) -> list[Realm]:
        place = self._place(scope, fresh=True)
        return sorted(place.realms.values(), key=lambda r: r.name)

    # --- images and sizes -----------------------------------------------------------------------------
    def images(self, scope: Scope, ids: Iterable[str] | None = None) -> list[Image]:
        """The data center's templates, from the inventory view where it serves the scope (inventory.py); an image
        the view has not seen yet (made a moment ago through another process) is read from the engine."""
        return self._images(scope, ids, from_view=True)

    def _images(self, scope: Scope, ids: Iterable[str] | None, *, from_view: bool) -> list[Image]:
        place = self._place(scope)
        wanted = None if ids is None else set(ids)
        viewed = self._view_rows(scope, place, (event_kinds.TEMPLATES,)) if from_view else None
        rows = None if viewed is None else viewed[1][event_kinds.TEMPLATES]
        if rows is not None and (wanted is None or wanted <= {r.image.id for r in rows}):
            found = [replace(image_copy(r.image), owner=scope.credentials.username)
                     for r in rows if wanted is None or r.image.id in wanted]
        else:
            found = [mapping.image(t, owner=scope.credentials.username, realms=place.realms)
                     for t in self._templates(scope, place) if wanted is None or t.get("id") in wanted]
        self._mark_deleting(place, "image", found)
        found = [i for i in found if i.state is not ResourceState.DELETING]  # removed: gone for clients at once
        self._image_records(scope, found)
        if found:
            tags = self.store.tags(scope.provider.name, [i.id for i in found])
            for img in found:
                img.tags = tags.get(img.id, {})
        return found

    def image(self, scope: Scope, image_id: str) -> Image:
        """The image as the engine has it now, never the inventory view's (what actions check)."""
        found = self._images(scope, [image_id], from_view=False)
        if not found:
            raise NotFound("image", image_id)
        return found[0]

    def hardware_profiles(self, scope: Scope) -> list[HardwareProfile]:
        """The engine's instance types, then the templates' own sizings that no instance type matches."""
        place = self._place(scope)
        profiles = [mapping.hardware_profile(t) for t in self._get(scope, "instancetypes")]
        seen = {(p.memory_bytes, p.cpus) for p in profiles}
        for template in self._templates(scope, place):
            profile = mapping.template_profile(mapping.image(template, owner="", realms=place.realms))
            if profile is not None and (profile.memory_bytes, profile.cpus) not in seen:
                seen.add((profile.memory_bytes, profile.cpus))
                profiles.append(profile)
        return profiles

    # --- networks -------------------------------------------------------------------------------------
    def networks(self, scope: Scope) -> list[Network]:
        place = self._place(scope)
        elements = self._get(scope, f"datacenters/{place.region.id}/networks")
        profiles: dict[str, list[str]] = {}
        for profile_id, network_id in place.networks_of_profiles.items():
            profiles.setdefault(network_id, []).append(profile_id)
        return [mapping.network(n, profiles.get(n.get("id", ""), [])) for n in elements]

    def interfaces(self, scope: Scope, instance_id: str | None = None) -> list[NetworkInterface]:
        place = self._place(scope)
        if instance_id is not None:
            vms = [self._vm(scope, place, instance_id, follow="nics.reported_devices")]
        else:
            vms = self._vms(scope, place, follow=VM_FOLLOW.split(",")[0])
        return [mapping.interface(nic, vm.get("id", ""), place.networks_of_profiles)
                for vm in vms for nic in vm.iterfind("nics/nic")]
