"""The Driver interface every backend implements, and the registry that finds a backend by name.

In libcloud's and Deltacloud's spirit: one class lists every operation a backend may implement, each
taking the Scope first. A backend overrides what it can do; `capabilities()` is derived from which
methods it overrides, so frontends advertise only what works (no hand-kept feature list to drift).
Every method raises gateway errors (gateway.errors), never transport or parser exceptions.
"""
from __future__ import annotations

import importlib
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, Callable

from .errors import ConfigError, NotSupported
from .instance_statistics import InstanceStatistics
from .model import (HardwareProfile, Image, Instance, InstanceSpec, LaunchPermissions, Network, NetworkInterface,
                    Realm, Region, Snapshot, Volume, VolumeAttachment, VolumeSpec)
from .scope import Scope

if TYPE_CHECKING:
    from .config import Config, ProviderConfig
    from .network_model import InterfaceDetachment, ReservedInterface, SecurityGroup, SecurityRule, Subnet, Vpc
    from .operations import OperationKind, OperationRunner
    from .store import Store


def _unsupported(name: str) -> NotSupported:
    return NotSupported(f"The provider cannot {name.replace('_', ' ')}")


class Driver:
    """Base class: every operation raises NotSupported until a backend overrides it.

    A driver instance is shared by all requests of a process (it may hold connection pools and token
    caches); all per-request facts come in through the Scope.
    """

    name = "base"

    def __init__(self, config: "Config", store: "Store", operations: "OperationRunner") -> None:
        self.config = config
        self.store = store
        self.operations = operations

    # --- life cycle -----------------------------------------------------------------------------
    def operation_kinds(self) -> Sequence["OperationKind"]:
        """Durable operation kinds this driver runs (registered with the operation runner at start)."""
        return ()

    def probe(self, provider: "ProviderConfig") -> None:
        """Check that the engine answers at all (no credentials); raise BackendUnavailable if not."""
        raise _unsupported("probe")

    def close(self) -> None:
        """Release pooled connections."""

    # --- identity -------------------------------------------------------------------------------
    def validate_credentials(self, scope: Scope) -> None:
        """Raise AuthFailure unless the scope's credentials are accepted by the engine."""
        raise _unsupported("validate_credentials")

    def confirm_administrator(self, scope: Scope) -> None:
        """Raise Forbidden unless the engine runs unfiltered (administrator) queries for the scope's credentials,
        asked explicitly: an engine silently filters a non-administrator's answers when nothing is said."""
        raise _unsupported("confirm_administrator")

    def engine_version(self, scope: Scope) -> str:
        """The backend's product and version as its API root reports them to the scope's credentials
        (`oVirt Engine 4.5.4-1.el8`); AuthFailure if they are refused. Read by `cloudgw doctor`."""
        raise _unsupported("engine_version")

    # --- places and catalogues --------------------------------------------------------------------
    def regions(self, scope: Scope) -> list[Region]:
        """Every data center the credentials can see (ignores the scope's data center)."""
        raise _unsupported("list regions")

    def realms(self, scope: Scope) -> list[Realm]:
        """Clusters of the scoped data center."""
        raise _unsupported("list realms")

    def images(self, scope: Scope, ids: Iterable[str] | None = None) -> list[Image]:
        """Templates usable in the scoped data center (`ids` narrows; unknown ids are left out)."""
        raise _unsupported("list images")

    def image(self, scope: Scope, image_id: str) -> Image:
        """One image; NotFound if absent."""
        raise _unsupported("get image")

    def create_image(self, scope: Scope, instance_id: str, name: str, description: str = "", *,
                     no_reboot: bool = False, excluded_volume_ids: Sequence[str] = (),
                     tags: dict[str, str] | None = None, snapshot_tags: dict[str, str] | None = None) -> Image:
        """Capture an image from an instance as a durable operation; returns it (state pending until ready).

        A running instance is stopped for the copy and started again after it, unless `no_reboot` (then the
        image is crash-consistent, as on AWS). `excluded_volume_ids` are
        attached volumes left out of the image; `tags` go on the image, `snapshot_tags` on what backs its
        volumes."""
        raise _unsupported("create image")

    def create_image_from_snapshot(self, scope: Scope, snapshot_id: str, name: str, description: str = "", *,
                                   tags: dict[str, str] | None = None) -> Image:
        """Register an image made of a snapshot's volumes (state pending until ready)."""
        raise _unsupported("create image from snapshot")

    def delete_image(self, scope: Scope, image_id: str) -> None:
        raise _unsupported("delete image")

    def update_image(self, scope: Scope, image_id: str, *, description: str | None = None) -> Image:
        """Change what may be changed of an image (its description)."""
        raise _unsupported("update image")

    def launch_permissions(self, scope: Scope, image_id: str) -> LaunchPermissions:
        """Whom the image is shared with (backend user names, or everyone)."""
        raise _unsupported("list launch permissions")

    def launch_permissions_of(self, scope: Scope, images: Sequence[Image]) -> dict[str, LaunchPermissions]:
        """Whom each of these images (as `images` answered them) is shared with, by image id. A driver whose
        listing carries the permissions answers from it, at a cost that does not grow with the images."""
        return {image.id: self.launch_permissions(scope, image.id) for image in images}

    def share_image(self, scope: Scope, image_id: str, *, add_users: Sequence[str] = (),
                    remove_users: Sequence[str] = (), public: bool | None = None) -> None:
        """Share the image with users (backend user names) or everyone, or stop sharing it: a user it is
        shared with sees it and may launch instances from it."""
        raise _unsupported("share image")

    def hardware_profiles(self, scope: Scope) -> list[HardwareProfile]:
        raise _unsupported("list hardware profiles")

    def networks(self, scope: Scope) -> list[Network]:
        raise _unsupported("list networks")

    # --- instances --------------------------------------------------------------------------------
    def instances(self, scope: Scope, ids: Iterable[str] | None = None, *, realm_id: str | None = None,
                  image_id: str | None = None, states: Iterable[str] | None = None) -> list[Instance]:
        """Instances of the scoped data center, narrowed by what the backend can filter cheaply.

        The cost is a constant number of engine requests, whatever the number of instances.
        """
        raise _unsupported("list instances")

    def instance(self, scope: Scope, instance_id: str) -> Instance:
        """One instance; NotFound if absent (terminated ones are the frontends' tombstones' business)."""
        raise _unsupported("get instance")

    def instance_statistics(self, scope: Scope, ids: Iterable[str] | None = None, *,
                            unfiltered: bool = False) -> list[InstanceStatistics]:
        """What the backend measures now of the running instances of the scoped data center (`ids` narrows),
        in a constant number of backend requests whatever their number. `unfiltered`: all of them or an
        error, never only those the identity may see (the metric sampler's need)."""
        raise _unsupported("read instance statistics")

    def instance_with_statistics(self, scope: Scope, instance_id: str) -> tuple[Instance, InstanceStatistics | None]:
        """One instance and what the backend measures of it now (None when it does not run); NotFound if absent.
        A backend that can should read both at once."""
        instance = self.instance(scope, instance_id)
        found = self.instance_statistics(scope, [instance_id])
        return instance, found[0] if found else None

    def terminated_instances(self, scope: Scope, ids: Iterable[str] | None = None) -> list[Instance]:
        """Instances terminated in the scoped data center less than config.tombstone_seconds ago, newest
        first, state `terminated` (from the tombstones the terminate operation leaves); `ids` narrows."""
        raise _unsupported("list terminated instances")

    def reserve_launches(self, scope: Scope, count: int) -> list[str]:
        """Record `count` launches (durable operations held by this process) before anything is created,
        so that an idempotency token can name them: if the process dies, another takes each over and
        either finishes it (the operation's target becomes the instance) or fails it, leaving no instance."""
        raise _unsupported("reserve launches")

    def abandon_launches(self, scope: Scope, launch_ids: Sequence[str]) -> None:
        """Withdraw the reserved launches still unused, leaving no trace (those already used are left alone)."""
        raise _unsupported("abandon launches")

    def launch_results(self, scope: Scope, launch_ids: Sequence[str]) -> list[str] | None:
        """The ids of the instances the launches made, once none of them is still being created (a process
        that died creating one leaves it to another once its lease runs out); None while one is."""
        raise _unsupported("launch results")

    def create_instance(self, scope: Scope, spec: InstanceSpec, launch_id: str | None = None) -> Instance:
        """Begin creating an instance; answers at once (state pending) and finishes as a durable operation
        (`launch_id`, from reserve_launches, or a new one)."""
        raise _unsupported("create instance")

    def start_instance(self, scope: Scope, instance_id: str) -> Instance:
        raise _unsupported("start instance")

    def stop_instance(self, scope: Scope, instance_id: str, force: bool = False) -> Instance:
        """Graceful shutdown, or a hard stop with force=True."""
        raise _unsupported("stop instance")

    def reboot_instance(self, scope: Scope, instance_id: str) -> Instance:
        raise _unsupported("reboot instance")

    def suspend_instance(self, scope: Scope, instance_id: str) -> Instance:
        raise _unsupported("suspend instance")

    def destroy_instance(self, scope: Scope, instance_id: str, *, current: Instance | None = None) -> Instance:
        """Begin terminating (stop if running, then remove) as a durable operation; leaves a tombstone.

        `current`: the instance as the same request read it from this driver a moment before (a frontend
        that checked its state), so that it is not read again."""
        raise _unsupported("destroy instance")

    def update_instance(self, scope: Scope, instance_id: str, *, name: str | None = None,
                        description: str | None = None, memory_bytes: int | None = None,
                        cpus: int | None = None, hardware_profile_id: str | None = None,
                        user_data: bytes | None = None) -> Instance:
        """Change what may be changed (sizing only while stopped)."""
        raise _unsupported("update instance")

    def interfaces(self, scope: Scope, instance_id: str | None = None) -> list[NetworkInterface]:
        raise _unsupported("list network interfaces")

    # --- networks clients create (a network provider's; see gateway.network_model) -------------------
    def vpcs(self, scope: Scope) -> list["Vpc"]:
        """The VPCs of the scoped data center; NotSupported where the provider has no network provider."""
        raise _unsupported("list VPCs")

    def create_vpc(self, scope: Scope, cidr: str) -> "Vpc":
        """A VPC for the block, with its default security group."""
        raise _unsupported("create VPCs")

    def delete_vpc(self, scope: Scope, vpc_id: str) -> None:
        """InUse while it has subnets or security groups other than its default one."""
        raise _unsupported("delete VPCs")

    def subnets(self, scope: Scope) -> list["Subnet"]:
        raise _unsupported("list subnets")

    def create_subnet(self, scope: Scope, vpc_id: str, cidr: str, realm_id: str) -> "Subnet":
        """A subnet of the VPC in one zone, usable by instances' network interfaces."""
        raise _unsupported("create subnets")

    def delete_subnet(self, scope: Scope, subnet_id: str) -> None:
        """InUse while a network interface uses it."""
        raise _unsupported("delete subnets")

    def security_groups(self, scope: Scope) -> list["SecurityGroup"]:
        """The groups of the scoped data center's VPCs, with their rules."""
        raise _unsupported("list security groups")

    def create_security_group(self, scope: Scope, vpc_id: str, name: str, description: str) -> "SecurityGroup":
        """A group allowing all traffic out and nothing in."""
        raise _unsupported("create security groups")

    def delete_security_group(self, scope: Scope, group_id: str) -> None:
        """InUse while a network interface has it or another group's rule names it."""
        raise _unsupported("delete security groups")

    def add_security_rules(self, scope: Scope, group_id: str, rules: Sequence["SecurityRule"]) -> list["SecurityRule"]:
        """Add every rule or none (AlreadyExists for one the group has); returns them with their ids."""
        raise _unsupported("add security group rules")

    def remove_security_rules(self, scope: Scope, rule_ids: Sequence[str]) -> None:
        raise _unsupported("remove security group rules")

    def interface_groups(self, scope: Scope) -> dict[str, list[str]]:
        """Network interface id -> the ids of its security groups, for interfaces on a provider's subnets."""
        raise _unsupported("list the security groups of network interfaces")

    def reserved_interfaces(self, scope: Scope) -> list["ReservedInterface"]:
        """Interfaces made on their own and attached to no instance, on the scoped data center's subnets."""
        raise _unsupported("list network interfaces of their own")

    def create_interface(self, scope: Scope, subnet_id: str, group_ids: Sequence[str], ip: str | None,
                         description: str) -> "ReservedInterface":
        """An interface on the subnet holding `ip` (else the next free address); InUse if it is taken,
        InvalidParameter if it is not the subnet's."""
        raise _unsupported("create network interfaces")

    def delete_interface(self, scope: Scope, interface_id: str) -> None:
        raise _unsupported("delete network interfaces")

    def addresses_in_use(self, scope: Scope, subnet_id: str) -> set[str]:
        """The addresses of the subnet that are taken."""
        raise _unsupported("list the addresses of subnets")

    def attached_interfaces(self, scope: Scope) -> dict[str, "ReservedInterface"]:
        """Instance interface id -> the interface of its own attached there."""
        raise _unsupported("list network interfaces of their own")

    def attach_interface(self, scope: Scope, interface_id: str, instance_id: str, device_index: int) -> str:
        """Attach it to the instance at `device_index`; returns the instance interface's id (the attachment)."""
        raise _unsupported("attach network interfaces")

    def detach_interface(self, scope: Scope, attachment_id: str) -> None:
        """The interface becomes available again; NotFound unless it was attached by attach_interface."""
        raise _unsupported("detach network interfaces")

    def interface_detachments(self, scope: Scope) -> list["InterfaceDetachment"]:
        """The last attachment of each interface of its own detached recently (the driver says how long) and
        not attached since, newest first; none from a driver that does not remember them."""
        return []

    def update_interface(self, scope: Scope, interface_id: str, *, group_ids: Sequence[str] | None = None,
                         description: str | None = None, source_dest_check: bool | None = None) -> None:
        """Change an interface's groups, description or source/destination check (None: unchanged)."""
        raise _unsupported("change network interfaces")

    # --- volumes and snapshots --------------------------------------------------------------------
    def volumes(self, scope: Scope, ids: Iterable[str] | None = None) -> list[Volume]:
        raise _unsupported("list volumes")

    def volume(self, scope: Scope, volume_id: str) -> Volume:
        raise _unsupported("get volume")

    def create_volume(self, scope: Scope, spec: VolumeSpec) -> Volume:
        raise _unsupported("create volume")

    def delete_volume(self, scope: Scope, volume_id: str) -> None:
        raise _unsupported("delete volume")

    def attach_volume(self, scope: Scope, volume_id: str, instance_id: str, device: str | None = None, *,
                      delete_on_termination: bool = False) -> VolumeAttachment:
        """Attach a volume; `delete_on_termination` is recorded with the attachment (false, as EC2's
        AttachVolume, unless a frontend's client asks otherwise), also when the attach waits for a lock."""
        raise _unsupported("attach volume")

    def detach_volume(self, scope: Scope, volume_id: str, instance_id: str | None = None) -> None:
        raise _unsupported("detach volume")

    def resize_volume(self, scope: Scope, volume_id: str, size_bytes: int) -> None:
        """Grow a volume to `size_bytes` (never shrink); the volume reads pending while the backend extends it."""
        raise _unsupported("resize volume")

    def set_delete_on_termination(self, scope: Scope, instance_id: str, volume_id: str, delete: bool) -> None:
        """Choose whether terminating the instance deletes this attached volume (true) or detaches it and
        leaves it available with its data (false); shown as VolumeAttachment.delete_on_termination."""
        raise _unsupported("change delete on termination")

    def snapshots(self, scope: Scope, ids: Iterable[str] | None = None) -> list[Snapshot]:
        raise _unsupported("list snapshots")

    def create_snapshot(self, scope: Scope, instance_id: str, description: str = "",
                        volume_ids: Sequence[str] | None = None) -> Snapshot:
        """Snapshot an instance: every disk, or only `volume_ids` (each attached to it), so a frontend whose
        snapshots are of one volume (EC2) gets exactly that volume. The snapshot names what it covers."""
        raise _unsupported("create snapshot")

    def delete_snapshot(self, scope: Scope, snapshot_id: str) -> None:
        raise _unsupported("delete snapshot")

    def snapshot_volume(self, scope: Scope, volume_id: str, description: str = "") -> Snapshot:
        """Snapshot a volume attached to no instance (the snapshot names that volume, no instance)."""
        raise _unsupported("snapshot a volume attached to no instance")

    def copy_snapshot(self, scope: Scope, snapshot_id: str, description: str = "") -> Snapshot:
        """A new snapshot with the same content as `snapshot_id` (pending until the copy is done)."""
        raise _unsupported("copy snapshot")

    # --- tags ------------------------------------------------------------------------------------
    def tags(self, scope: Scope, resource_ids: Iterable[str] | None = None) -> dict[str, dict[str, str]]:
        """resource id -> {key: value} for instances, images and volumes (all of the scope's, or those given)."""
        raise _unsupported("list tags")

    def stored_tags(self, scope: Scope, resource_ids: Iterable[str] | None = None) -> dict[str, dict[str, str]]:
        """resource id -> {key: value} kept for resources that are not VMs (networks, groups, interfaces), the
        given ones or all: the store's alone, without the engine requests `tags` makes for instances' names."""
        raise _unsupported("list stored tags")

    def set_tags(self, scope: Scope, resource_type: str, resource_ids: Sequence[str], tags: dict[str, str]) -> None:
        """Create or overwrite tags (resource_type: instance, image, volume, snapshot). Never loses a tag:
        what the backend cannot hold is kept in the store; `Name` also renames the VM where allowed."""
        raise _unsupported("set tags")

    def delete_tags(self, scope: Scope, resource_ids: Sequence[str], tags: dict[str, str | None] | None = None) -> None:
        """Delete tags; a None value deletes the key whatever its value; no `tags` deletes them all."""
        raise _unsupported("delete tags")

    def existing_resources(self, scope: Scope) -> dict[str, set[str]]:
        """resource type ('instance', 'volume', 'snapshot', 'image') -> the ids the engine has, in every data
        center (housekeeping purges what the store keeps about the others). Raises unless the scope can see
        everything (an administrator): a partial answer would purge what others see."""
        raise _unsupported("list existing resources")

    # --- capabilities -----------------------------------------------------------------------------
    def capabilities(self) -> frozenset[str]:
        """Names of the operations this driver overrides (e.g. 'create_instance', 'attach_volume')."""
        return frozenset(name for name in OPERATIONS if getattr(type(self), name) is not getattr(Driver, name))

    def can(self, operation: str) -> bool:
        return operation in self.capabilities()


OPERATIONS = tuple(
    name for name, value in vars(Driver).items()
    if callable(value) and not name.startswith("_")
    and name not in ("operation_kinds", "close", "capabilities", "can"))

DRIVERS: dict[str, str] = {
    "ovirt": "drivers.ovirt.driver:OvirtDriver",
}


def driver_class(name: str) -> Callable[..., Driver]:
    """The Driver class registered under `name` (imported lazily, so the gateway imports no driver)."""
    try:
        target = DRIVERS[name]
    except KeyError:
        raise ConfigError(f"providers.driver: unknown driver {name!r} (known: {', '.join(DRIVERS)})") from None
    module_name, _, attr = target.partition(":")
    module: Any = importlib.import_module(module_name)
    return getattr(module, attr)
