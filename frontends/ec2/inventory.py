"""Finding instances as EC2 sees them: live ones from the driver, terminated ones for an hour, the
per-instance EC2 records (reservation, launch index, client token, attributes) and the names that
rendering needs (zones, instance types), each fetched once per request.
"""
from __future__ import annotations

import dataclasses
import hashlib
from typing import Any, Iterable

from gateway.errors import NotFound
from gateway.expiring import ExpiringCache
from gateway.model import HardwareProfile, Instance, Realm
from gateway.scope import Credentials

from . import ids
from .call import Call
from .errors import Ec2Error
from .provider_networks import Placements
from .present import INSTANCE_RECORD, TYPE_PREFIX, Catalog, type_name

TYPE_NAMES_TTL = 60.0
_types: ExpiringCache[dict[str, HardwareProfile]] = ExpiringCache(TYPE_NAMES_TTL)  # loaded once per expiry
_zones: ExpiringCache[list[Realm]] = ExpiringCache(TYPE_NAMES_TTL)


def account_id(call: Call) -> str:
    """A stable 12-digit account id for the identity (EC2 clients expect one as OwnerId)."""
    return account_id_of(call.owner)


def known_accounts(call: Call) -> dict[str, str]:
    """Account id -> engine user name, of every oVirt user an EC2 credential of this gateway acts as on the
    call's engine (an account id is a digest of engine and user: only those users have one)."""
    found = {}
    for credential in call.gateway.store.credentials():
        if credential.provider not in (None, call.scope.provider.name):
            continue
        found[account_id_of_user(call, credential.username)] = credential.username
    return found


def account_id_of_user(call: Call, username: str) -> str:
    """The account id of another engine user on the call's engine."""
    return account_id_of(dataclasses.replace(call.scope, credentials=Credentials(username, "")).owner_key)


def account_id_of(owner_key: str) -> str:
    """The account id of an identity's store key (Scope.owner_key: engine and user name)."""
    digest = hashlib.sha256(owner_key.encode()).hexdigest()
    return f"{int(digest[:15], 16) % 10**12:012d}"


def instance_types(call: Call, *, fresh: bool = False) -> dict[str, HardwareProfile]:
    """EC2 instance type name -> hardware profile of the scope (kept a minute: types rarely change)."""
    return _types.get((call.scope.cache_key, call.scope.datacenter or ""),
                      lambda: {type_name(p): p for p in call.driver.hardware_profiles(call.scope)}, fresh=fresh)


def profile_for(call: Call, name: str) -> HardwareProfile | str:
    """The hardware profile an EC2 instance type names (`o1.small`, oVirt's `Small`, or a profile id);
    a driver-specific id after `o1.` (a custom sizing) is passed through as the profile id."""
    types = instance_types(call)
    if name in types:
        return types[name]
    for profile in types.values():
        if name in (profile.name, profile.id):
            return profile
    if name.startswith(TYPE_PREFIX) and len(name) > len(TYPE_PREFIX):
        return name[len(TYPE_PREFIX):]
    raise Ec2Error("InvalidInstanceType", f"The instance type '{name[:100]}' does not exist")


def records(call: Call, instance_ids: Iterable[str] | None = None) -> dict[str, dict[str, Any]]:
    """instance id -> the EC2 record kept for it (only instances launched through EC2 have one); only those of
    `instance_ids` when given.

    A record outlives its instance while the tombstone shows it terminated and goes with the tombstone
    (`Store.follow_tombstones`, registered when the frontend is mounted): reads never delete.
    """
    return {r["id"]: r for r in call.gateway.store.entities(INSTANCE_RECORD, call.scope.provider.name, instance_ids)}


def put_record(call: Call, instance_id: str, *, new: bool = False, **values: Any) -> None:
    """Merge `values` into the instance's EC2 record; `new`: the instance was made by this request, so it has no
    record yet to merge with (one store statement instead of two)."""
    store = call.gateway.store
    owner = call.scope.provider.name
    record = {"id": instance_id} if new else store.entity(INSTANCE_RECORD, owner, instance_id) or {"id": instance_id}
    record.update(values)
    store.put_entity(INSTANCE_RECORD, owner, instance_id, record)


def record(call: Call, instance_id: str) -> dict[str, Any]:
    return call.gateway.store.entity(INSTANCE_RECORD, call.scope.provider.name, instance_id) or {}


def zone_names(call: Call) -> dict[str, str]:
    """realm id -> zone name (kept a minute, like the types: rendering instances only needs the names)."""
    return {realm.id: realm.name for realm in _realms(call)}


def region_id(call: Call) -> str:
    """The scoped data center's id, as its zones name it (kept with them); the name the scope gives when it has
    no zone: what records kept per region are filed under."""
    return next((realm.region_id for realm in _realms(call)), call.scope.datacenter or "")


def _realms(call: Call) -> list[Realm]:
    if not call.driver.can("realms"):
        return []
    return _zones.get((call.scope.cache_key, call.scope.datacenter or ""), lambda: call.driver.realms(call.scope))


def catalog(call: Call, instance_ids: Iterable[str] | None = None) -> Catalog:
    """What rendering instances needs; with `instance_ids`, the EC2 records of those instances only."""
    zones = zone_names(call)
    types = {p.id: name for name, p in instance_types(call).items()} if call.driver.can("hardware_profiles") else {}
    return Catalog(zones=zones, types=types, records=records(call, instance_ids), owner_id=account_id(call),
                   placements=Placements(call))


def terminated(call: Call, wanted: Iterable[str] | None = None) -> list[Instance]:
    """Instances terminated within the last hour (state terminated), from the driver's tombstones."""
    if not call.driver.can("terminated_instances"):
        return []
    return call.driver.terminated_instances(call.scope, None if wanted is None else list(wanted))


def instances(call: Call, wanted: list[str] | None = None, *, include_terminated: bool = True) -> list[Instance]:
    """Live instances (and recently terminated ones) of the scope; `wanted` (backend ids) narrows.

    With `wanted`, a missing id is InvalidInstanceID.NotFound, naming every id that is missing.
    """
    live = call.driver.instances(call.scope, wanted)
    found = {i.id: i for i in live}
    if include_terminated:
        missing = None if wanted is None else [w for w in wanted if w not in found]
        if missing is None or missing:
            for gone in terminated(call, missing):
                found.setdefault(gone.id, gone)
    if wanted is not None:
        absent = [w for w in dict.fromkeys(wanted) if w not in found]
        if absent:
            shown = ", ".join(f"'{ids.instance_id(a)}'" for a in absent)
            noun = "ID" if len(absent) == 1 else "IDs"
            verb = "does" if len(absent) == 1 else "do"
            raise Ec2Error("InvalidInstanceID.NotFound", f"The instance {noun} {shown} {verb} not exist")
        return [found[w] for w in dict.fromkeys(wanted)]
    return list(found.values())


def one_instance(call: Call, instance_id: str) -> Instance:
    try:
        return call.driver.instance(call.scope, instance_id)
    except NotFound:
        raise Ec2Error("InvalidInstanceID.NotFound",
                       f"The instance ID '{ids.instance_id(instance_id)}' does not exist") from None


def instance_ids(call: Call, name: str = "InstanceIds", *, required: bool = False) -> list[str] | None:
    """Backend ids of the `InstanceId.N` parameter (Malformed for anything not `i-`+hex or a UUID)."""
    given = call.need(name) if required else call.get(name)
    if not given:
        return None
    return ids.decode_many("i", given)
