"""EBS volumes on oVirt disks: DescribeVolumes, CreateVolume, AttachVolume, DetachVolume, DeleteVolume.

What a volume is here (zone, states, type) is decided in ..storage. Every check a client can fail is
made before anything changes, then DryRun answers; a state the engine refuses in the meantime (it locks
disks while it works on them) comes back as IncorrectState, never as an instance-state error.
"""
from __future__ import annotations

import hashlib
import json
import re
from datetime import datetime, timezone
from typing import Any, Callable

from gateway.engine_states import volume_state
from gateway.errors import InvalidState
from gateway.model import ResourceState, Volume, VolumeSpec

from .. import block_devices, devices, ids, inventory, storage
from ..call import Call
from ..errors import Ec2Error, invalid_value, missing
from ..filters import apply_filters, page_size, paginate
from ..render import timestamp
from ..tag_specifications import tags_for
from . import action

MAX_SIZE_GIB = 16384  # EBS's limit for general-purpose volumes
DEVICE_NAME = re.compile(r"^/dev/(sd|xvd|vd|hd)[a-z]{1,2}[0-9]{0,2}$")
VOLUME_FILTERS = {
    "volume-id": lambda v: [v["VolumeId"]],
    "status": lambda v: [v["State"]],
    "size": lambda v: [v["Size"]],
    "availability-zone": lambda v: [v["AvailabilityZone"]],
    "volume-type": lambda v: [v["VolumeType"]],
    "encrypted": lambda v: [v["Encrypted"]],
    "multi-attach-enabled": lambda v: [v["MultiAttachEnabled"]],
    "snapshot-id": lambda v: [v["SnapshotId"]],
    "create-time": lambda v: [timestamp(v["CreateTime"])],
    "attachment.instance-id": lambda v: [a["InstanceId"] for a in v["Attachments"]],
    "attachment.device": lambda v: [a["Device"] for a in v["Attachments"]],
    "attachment.status": lambda v: [a["State"] for a in v["Attachments"]],
    "attachment.delete-on-termination": lambda v: [a["DeleteOnTermination"] for a in v["Attachments"]],
}


def _volume_id(call: Call) -> str:
    return ids.decode("vol", call.need("VolumeId"))


def _engine_refusal(run: Callable[[], Any]) -> Any:
    """Run a driver change; the engine's state conflicts are the volume's, not an instance's."""
    try:
        return run()
    except InvalidState as exc:
        raise Ec2Error("IncorrectState", exc.message) from None


def _state_error(volume: Volume, doing: str) -> Ec2Error:
    state = storage.VOLUME_STATES[volume.state]
    return Ec2Error("IncorrectState", f"Cannot {doing} volume '{ids.encode('vol', volume.id)}': it is in the "
                                      f"'{state}' state.")


@action("DescribeVolumes")
def describe_volumes(call: Call) -> dict[str, Any]:
    given = call.get("VolumeIds")
    wanted = ids.decode_many("vol", given) if given else None
    size = page_size(call.get("MaxResults"), with_ids=bool(wanted), ids_name="VolumeIds")
    call.check_dry_run()
    found = call.driver.volumes(call.scope, wanted)
    if wanted is not None:
        known = {v.id for v in found}
        absent = [ids.encode("vol", w) for w in dict.fromkeys(wanted) if w not in known]
        if absent:
            raise Ec2Error("InvalidVolume.NotFound", f"The volume '{absent[0]}' does not exist.")
    context = storage.volume_context(call, found)
    items = apply_filters((storage.volume_item(v, context) for v in found), call.get("Filters"), VOLUME_FILTERS)
    page, token = paginate(items, lambda v: v["VolumeId"], size, call.get("NextToken"))
    return {"Volumes": page, "NextToken": token}


def _zone(call: Call) -> tuple[str, str]:
    """(realm id, zone name) of the AvailabilityZone/AvailabilityZoneId given (InvalidZone.NotFound)."""
    name, zone_id = call.get("AvailabilityZone"), call.get("AvailabilityZoneId")
    if not name and not zone_id:
        raise missing("AvailabilityZone")
    for realm in call.driver.realms(call.scope):
        if name in (realm.name, realm.id) or zone_id == realm.id:
            return realm.id, realm.name
    raise Ec2Error("InvalidZone.NotFound", f"The availability zone '{(name or zone_id)[:100]}' does not exist")


def _volume_spec(call: Call) -> VolumeSpec:
    snapshot_id = ids.decode("snap", call.get("SnapshotId")) if call.get("SnapshotId") else None
    size = call.get("Size")
    if snapshot_id is not None:
        smallest = storage.snapshot_gib(call, snapshot_id)
        if size is not None and size < smallest:
            raise invalid_value(f"Volume of {size}GiB is too small; minimum is {smallest}GiB.")
        size = smallest if size is None else size
    if size is None:
        raise missing("Size")
    if not 1 <= size <= MAX_SIZE_GIB:
        raise invalid_value(f"Volume size {size} GiB is out of range: it must be from 1 to {MAX_SIZE_GIB} GiB")
    block_devices.check_performance(call.get("VolumeType"), call.get("Iops"), call.get("Throughput"))
    if call.get("Encrypted") or call.get("MultiAttachEnabled"):
        raise Ec2Error("UnsupportedOperation", "oVirt disks here are neither encrypted nor multi-attach")
    tags = tags_for(call, "volume")
    return VolumeSpec(size_bytes=size * storage.GIB, name=tags.get("Name"), tags=tags, snapshot_id=snapshot_id)


@action("CreateVolume", mutating=True)
def create_volume(call: Call) -> dict[str, Any]:
    spec = _volume_spec(call)
    realm_id, zone = _zone(call)
    spec.realm_id = realm_id
    call.check_dry_run()
    store, token = call.gateway.store, call.get("ClientToken")
    fingerprint = hashlib.sha256(json.dumps({k: v for k, v in call.params.items() if k != "ClientToken"},
                                            sort_keys=True, default=str).encode()).hexdigest()
    if token:
        earlier = store.claim_token(call.owner, token, fingerprint, {"state": "creating"})
        if earlier is not None:
            return _replay(call, token, fingerprint, earlier)
    try:
        volume = call.driver.create_volume(call.scope, spec)
    except BaseException as exc:
        if token:
            store.forget_token(call.owner, token)
        if isinstance(exc, InvalidState):  # the snapshot's state (being copied), not an instance's
            raise Ec2Error("IncorrectState", exc.message) from None
        raise
    now = datetime.now(timezone.utc)
    storage.put_volume_record(call, volume.id, zone=zone, created=now.isoformat(),
                              snapshot_id=spec.snapshot_id or "")
    if token:
        store.update_token(call.owner, token, {"state": "done", "volume_id": volume.id})
    volume.created = volume.created or now
    return storage.volume_item(volume, storage.volume_context(call, [volume]))


def _replay(call: Call, token: str, fingerprint: str, earlier: dict[str, Any]) -> dict[str, Any]:
    """The volume an earlier CreateVolume with this ClientToken made (botocore retries reuse the token)."""
    if earlier["fingerprint"] != fingerprint:
        raise Ec2Error("IdempotentParameterMismatch",
                       f"The client token '{token[:64]}' was used before with different parameters")
    volume_id = earlier["result"].get("volume_id")
    if not volume_id:
        raise Ec2Error("Unavailable", "An earlier request with this client token is still running", 503,
                       retry_after=2)
    volume = storage.one_volume(call, volume_id)
    return storage.volume_item(volume, storage.volume_context(call, [volume]))


@action("AttachVolume", mutating=True)
def attach_volume(call: Call) -> dict[str, Any]:
    volume_id, device = _volume_id(call), call.need("Device")
    instance = inventory.one_instance(call, ids.decode("i", call.need("InstanceId")))
    if not DEVICE_NAME.match(device):
        raise invalid_value(f"Value ({device[:40]}) for parameter device is invalid. It must look like /dev/sdf.")
    volume = storage.one_volume(call, volume_id)
    if volume.state is ResourceState.IN_USE or volume.attachments:
        held = ", ".join(ids.instance_id(a.instance_id) for a in volume.attachments)
        raise Ec2Error("VolumeInUse", f"{ids.encode('vol', volume_id)} is already attached to an instance ({held})")
    if volume.state is not ResourceState.AVAILABLE:
        raise _state_error(volume, "attach")
    if instance.state.value in ("terminated", "shutting-down"):
        raise Ec2Error("IncorrectInstanceState", f"The instance '{ids.instance_id(instance.id)}' is not in a "
                                                 "state from which a volume can be attached.")
    if device in devices.names(instance.attachments):
        raise invalid_value(f"Attachment point {device} is already in use")
    call.check_dry_run()
    _engine_refusal(lambda: call.driver.attach_volume(call.scope, volume_id, instance.id, device))
    return {"VolumeId": ids.encode("vol", volume_id), "InstanceId": ids.instance_id(instance.id), "Device": device,
            "State": "attaching", "AttachTime": datetime.now(timezone.utc), "DeleteOnTermination": False}


@action("DetachVolume", mutating=True)
def detach_volume(call: Call) -> dict[str, Any]:
    volume_id = _volume_id(call)
    instance_id = ids.decode("i", call.get("InstanceId")) if call.get("InstanceId") else None
    volume = storage.one_volume(call, volume_id)
    if not volume.attachments:
        raise _state_error(volume, "detach")
    held = [a for a in volume.attachments if instance_id in (None, a.instance_id)]
    if not held:
        raise Ec2Error("InvalidAttachment.NotFound", f"The volume '{ids.encode('vol', volume_id)}' is not attached "
                                                     f"to instance '{ids.instance_id(instance_id or '')}'.")
    attachment = held[0]
    instance = inventory.one_instance(call, attachment.instance_id)
    if attachment.bootable and instance.state.value != "stopped":
        raise Ec2Error("IncorrectState", f"Unable to detach root volume '{ids.encode('vol', volume_id)}' from "
                                         f"instance '{ids.instance_id(instance.id)}': stop the instance first.")
    holding = [ids.encode("snap", s.id) for s in call.driver.snapshots(call.scope)
               if s.instance_id == instance.id and volume_id in s.volume_ids]
    if holding:  # the engine keeps a disk on the VM whose snapshots hold it: say which, and what to do
        raise Ec2Error("IncorrectState", f"Cannot detach volume '{ids.encode('vol', volume_id)}' from instance "
                                         f"'{ids.instance_id(instance.id)}': oVirt keeps a volume on the instance "
                                         f"while snapshots of it taken there exist ({', '.join(holding)}). Delete "
                                         "those snapshots first, or copy them to keep their content.")
    device = storage.volume_item(volume, storage.VolumeContext(instances={instance.id: instance}))
    call.check_dry_run()
    _engine_refusal(lambda: call.driver.detach_volume(call.scope, volume_id, attachment.instance_id))
    return {**device["Attachments"][volume.attachments.index(attachment)], "State": "detaching"}


@action("DeleteVolume", mutating=True)
def delete_volume(call: Call) -> dict[str, Any]:
    volume = storage.one_volume(call, _volume_id(call))
    if volume.attachments:
        held = ", ".join(ids.instance_id(a.instance_id) for a in volume.attachments)
        raise Ec2Error("VolumeInUse", f"Volume {ids.encode('vol', volume.id)} is currently attached to {held}")
    if "delete" not in volume_state(volume).offered:  # a volume still being created is deleted once made
        raise _state_error(volume, "delete")
    call.check_dry_run()
    _engine_refusal(lambda: call.driver.delete_volume(call.scope, volume.id))
    for kind in (storage.VOLUME_RECORD, storage.MODIFICATION_RECORD):  # gone with the volume
        call.gateway.store.delete_entity(kind, call.scope.provider.name, volume.id)
    return {}

