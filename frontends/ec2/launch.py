"""RunInstances: validate everything first, then create MinCount..MaxCount instances or none at all.

boto3 sends a ClientToken with every RunInstances (and botocore's retries reuse it), so idempotency also
absorbs a retry after a timeout: the token is claimed in the store before anything is created; the same
token with the same parameters answers the reservation it created, with different ones
`IdempotentParameterMismatch`. If fewer than MinCount instances can be created, those that were are
terminated again and the error is answered.

The token's in-flight state belongs to the launches the driver reserved before the token was claimed
(durable operations with a lease): if the process handling the request dies, another process takes each
launch over and finishes it (the instance is adopted) or fails it (no instance is left). A retry with the
same token then answers the instances the launches made, as the first request would have, or, when too
few were made, removes them and releases the token. A retry reads the token before reserving anything,
so a replay writes nothing; launches reserved but not needed (the token was claimed meanwhile, or the
request was refused) are withdrawn without a trace.
"""
from __future__ import annotations

import hashlib
import json
import logging
import time
from dataclasses import dataclass, field, replace
from typing import Any

from gateway.errors import GatewayError, InvalidParameter, NotFound
from gateway.model import Instance, InstanceSpec
from gateway.userdata import check_user_data_size, decode_user_data

from . import block_devices, ids, inventory, networks, provider_networks, storage
from .call import Call
from .errors import Ec2Error, invalid_value
from .present import instance_item, reservation_id
from .private_addresses import fixed_address
from .tag_specifications import tags_by_type

log = logging.getLogger("cloudgw.ec2")
MAX_INSTANCES = 1000
SHUTDOWN_BEHAVIOURS = ("stop", "terminate")
TOKEN_WAIT_SECONDS = 10.0


@dataclass
class LaunchRequest:
    spec: InstanceSpec
    min_count: int
    max_count: int
    client_token: str | None = None
    disable_api_termination: bool = False
    shutdown_behaviour: str = "stop"
    fingerprint: str = ""
    extra_tags: dict[str, dict[str, str]] = field(default_factory=dict)

    @classmethod
    def from_call(cls, call: Call) -> "LaunchRequest":
        image_id = ids.decode("ami", call.need("ImageId"))
        min_count, max_count = call.need("MinCount"), call.need("MaxCount")
        if min_count < 1 or max_count < min_count:
            raise invalid_value("MinCount must be at least 1 and at most MaxCount")
        if max_count > MAX_INSTANCES:
            raise Ec2Error("InstanceLimitExceeded", f"You may launch at most {MAX_INSTANCES} instances at once")
        spec = InstanceSpec(image_id=image_id)
        instance_type = call.get("InstanceType")
        if instance_type:
            profile = inventory.profile_for(call, instance_type)
            spec.hardware_profile_id = profile if isinstance(profile, str) else profile.id
        zone = (call.get("Placement") or {}).get("AvailabilityZone")
        if zone:
            realm = next((r for r in call.driver.realms(call.scope) if zone in (r.name, r.id)), None)
            if realm is None:
                raise Ec2Error("InvalidZone.NotFound", f"The availability zone '{zone[:100]}' does not exist")
            spec.realm_id = realm.id
        subnet = call.get("SubnetId") or next(
            (n["SubnetId"] for n in call.get("NetworkInterfaces") or [] if n.get("SubnetId")), None)
        groups = list(call.get("SecurityGroupIds") or []) + [
            g for n in call.get("NetworkInterfaces") or [] for g in n.get("Groups") or []]
        on_provider, spec.security_group_ids = provider_networks.launch_placement(call, subnet, groups)
        address = call.get("PrivateIpAddress") or next(
            (n["PrivateIpAddress"] for n in call.get("NetworkInterfaces") or [] if n.get("PrivateIpAddress")), None)
        if address:
            spec.private_ip = fixed_address(call, on_provider, str(address))
        if on_provider is not None:  # a subnet of the network provider: the instance's interface goes there
            spec.subnet_id = on_provider.id
            subnet = None
            in_subnet = next((r for r in call.driver.realms(call.scope) if r.id == on_provider.realm_id), None)
            if in_subnet is None:
                raise invalid_value("The subnet's availability zone (cluster) no longer exists")
            if spec.realm_id not in (None, in_subnet.id):
                raise invalid_value(f"The subnet is not in availability zone '{zone}'")
            spec.realm_id = in_subnet.id
        if subnet:  # Ansible always names the default subnet: it chooses the zone
            in_subnet = networks.subnet_realm(call.driver, call.scope, subnet)
            if spec.realm_id not in (None, in_subnet.id):
                raise invalid_value(f"The subnet '{subnet[:100]}' is not in availability zone '{zone}'")
            spec.realm_id = in_subnet.id
        key_name = call.get("KeyName")
        if key_name:
            try:
                pair = call.gateway.key_pairs.get(call.owner, key_name)
            except NotFound:
                raise Ec2Error("InvalidKeyPair.NotFound", f"The key pair '{key_name[:100]}' does not exist") from None
            spec.key_name, spec.ssh_public_keys = key_name, [pair.public_key]
        user_data = call.get("UserData")
        if user_data:
            spec.user_data = user_data_from(user_data)
        tags = tags_by_type(call, None, "instance")
        spec.tags = tags.pop("instance", {})
        spec.volume_tags = tags.pop("volume", {})  # the driver tags the disks once they exist (durably)
        if call.get("BlockDeviceMappings"):
            images = call.driver.images(call.scope, [image_id])
            block_devices.apply(call.get("BlockDeviceMappings"), images[0] if images else None, spec,
                                lambda snapshot_id: storage.snapshot_gib(call, snapshot_id))
        behaviour = call.get("InstanceInitiatedShutdownBehavior") or "stop"
        if behaviour not in SHUTDOWN_BEHAVIOURS:
            raise invalid_value(f"InstanceInitiatedShutdownBehavior must be one of {', '.join(SHUTDOWN_BEHAVIOURS)}")
        fingerprint_source = {k: v for k, v in call.params.items() if k not in ("ClientToken", "DryRun")}
        fingerprint = hashlib.sha256(json.dumps(fingerprint_source, sort_keys=True, default=str).encode()).hexdigest()
        return cls(spec=spec, min_count=min_count, max_count=max_count, client_token=call.get("ClientToken") or None,
                   disable_api_termination=bool(call.get("DisableApiTermination")), shutdown_behaviour=behaviour,
                   fingerprint=fingerprint, extra_tags=tags)


def run(call: Call, request: LaunchRequest) -> dict[str, Any]:
    """Create the instances (or answer what the client token created before) as a Reservation."""
    store = call.gateway.store
    token = request.client_token
    launches: list[str] = []
    if token:
        earlier = store.token(call.owner, token)
        if earlier is None:
            launches = call.driver.reserve_launches(call.scope, request.max_count)
            earlier = store.claim_token(call.owner, token, request.fingerprint,
                                        {"state": "creating", "launches": launches})
            if earlier is not None:  # claimed by a concurrent request meanwhile
                call.driver.abandon_launches(call.scope, launches)
        if earlier is not None:
            return _replay(call, request, token, earlier)
    try:
        created = _create(call, request, launches)
    except BaseException:
        if token:
            store.forget_token(call.owner, token)
        raise
    finally:
        if launches:
            call.driver.abandon_launches(call.scope, launches)  # those left unused when creating stopped early
    rid = _record_reservation(call, request, [i.id for i in created], new=True)
    return _reservation(call, rid, created)


def _record_reservation(call: Call, request: LaunchRequest, instance_ids: list[str], *, new: bool = False) -> str:
    """Write the instances' EC2 records and settle the token; safe to repeat (a retry may do it too). `new`:
    this request made the instances, so none has a record yet."""
    rid = reservation_id(instance_ids[0])
    for index, instance_id in enumerate(instance_ids):
        inventory.put_record(call, instance_id, new=new, reservation_id=rid, launch_index=index,
                             client_token=request.client_token or "",
                             disable_api_termination=request.disable_api_termination,
                             shutdown_behaviour=request.shutdown_behaviour)
    if request.client_token:
        call.gateway.store.update_token(call.owner, request.client_token, {
            "state": "done", "reservation_id": rid, "instance_ids": instance_ids})
    return rid


def _create(call: Call, request: LaunchRequest, launches: list[str]) -> list[Instance]:
    created: list[Instance] = []
    try:
        for index in range(request.max_count):
            launch = launches[index] if launches else None
            created.append(call.driver.create_instance(call.scope, replace(request.spec), launch_id=launch))
    except GatewayError as exc:
        if len(created) >= request.min_count:
            log.warning("RunInstances: created %d of %d instances: %s", len(created), request.max_count, exc.message)
            return created
        for instance in created:
            try:
                call.driver.destroy_instance(call.scope, instance.id)
            except GatewayError as cleanup:
                log.error("RunInstances: could not roll back instance %s: %s", instance.id, cleanup.message)
        raise
    return created


def _replay(call: Call, request: LaunchRequest, token: str, earlier: dict[str, Any]) -> dict[str, Any]:
    if earlier["fingerprint"] != request.fingerprint:
        raise Ec2Error("IdempotentParameterMismatch",
                       f"The client token '{token[:64]}' was used before with different parameters")
    deadline = time.monotonic() + TOKEN_WAIT_SECONDS
    while earlier["result"].get("state") != "done":
        made = _settled_launches(call, earlier["result"].get("launches"))
        if made is not None:  # the request that claimed the token died; its launches were taken over
            if len(made) >= request.min_count:
                rid = _record_reservation(call, request, made)
                earlier = {**earlier, "result": {"state": "done", "reservation_id": rid, "instance_ids": made}}
                break
            _remove(call, made)
            call.gateway.store.forget_token(call.owner, token)
            raise Ec2Error("Unavailable", "An earlier request with this client token failed; retry", 503,
                           retry_after=1)
        if time.monotonic() > deadline:
            raise Ec2Error("Unavailable", "An earlier request with this client token is still running", 503,
                           retry_after=2)
        time.sleep(0.2)
        earlier = call.gateway.store.token(call.owner, token)
        if earlier is None:  # the earlier request failed and released the token: try again as new
            raise Ec2Error("Unavailable", "An earlier request with this client token failed; retry", 503,
                           retry_after=1)
    result = earlier["result"]
    found = inventory.instances(call, None)
    wanted = set(result["instance_ids"])
    instances = sorted((i for i in found if i.id in wanted), key=lambda i: result["instance_ids"].index(i.id))
    return _reservation(call, result["reservation_id"], instances)


def _settled_launches(call: Call, launches: list[str] | None) -> list[str] | None:
    """The instances the token's launches made, once none of them is still being created; None while one is."""
    if launches is None:
        return None
    return call.driver.launch_results(call.scope, launches)


def _remove(call: Call, instance_ids: list[str]) -> None:
    for instance_id in instance_ids:
        try:
            call.driver.destroy_instance(call.scope, instance_id)
        except NotFound:
            pass
        except GatewayError as exc:
            log.error("RunInstances: could not remove instance %s of a failed launch: %s", instance_id, exc.message)


def _reservation(call: Call, rid: str, instances: list[Instance]) -> dict[str, Any]:
    catalog = inventory.catalog(call, [i.id for i in instances])
    return {"ReservationId": rid, "OwnerId": catalog.owner_id, "Groups": [],
            "Instances": [instance_item(i, catalog) for i in instances]}


def user_data_from(value: str | bytes) -> bytes:
    """User data as RunInstances and ModifyInstanceAttribute carry it: base64 text, or a blob botocore
    already decoded. Bad or oversized data is InvalidUserData.Malformed, the code AWS answers with."""
    try:
        if isinstance(value, bytes):
            return check_user_data_size(value, "UserData")
        return decode_user_data(str(value), "UserData")
    except InvalidParameter as exc:
        raise Ec2Error("InvalidUserData.Malformed", exc.message) from None
