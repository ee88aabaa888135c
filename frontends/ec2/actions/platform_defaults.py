"""Read-only settings the tools probe that have one true answer on oVirt.

* GetInstanceUefiData: the instances boot with BIOS (`BootMode` legacy-bios in DescribeInstances), so
  there is no UEFI variable store to hand out; AWS answers a non-UEFI instance with its id and no data.
* DescribeInstanceCreditSpecifications: oVirt has no CPU credits; every instance runs at its sized
  capacity, which is what EC2 calls `standard`.
* GetEbsEncryptionByDefault / GetEbsDefaultKmsKeyId: oVirt disks are not encrypted by a key service,
  so encryption by default is off and there is no default key.
* DescribeSnapshotAttribute / ModifySnapshotAttribute: snapshots are private to the engine's user; no
  volume permission can be granted to another account, so granting is refused (UnsupportedOperation)
  while removing or resetting (nothing to remove) is accepted.
"""
from __future__ import annotations

from typing import Any

from .. import ids, inventory
from ..call import Call
from ..errors import Ec2Error, invalid_value
from ..filters import apply_filters, page_size, paginate
from . import action

CREDIT_FILTERS = {"instance-id": lambda c: [c["InstanceId"]]}
SNAPSHOT_ATTRIBUTES = {"createVolumePermission": "CreateVolumePermissions", "productCodes": "ProductCodes"}


@action("GetInstanceUefiData")
def get_instance_uefi_data(call: Call) -> dict[str, Any]:
    (wanted,) = ids.decode_many("i", [call.need("InstanceId")])
    call.check_dry_run()
    (instance,) = inventory.instances(call, [wanted])
    return {"InstanceId": ids.instance_id(instance.id)}


@action("DescribeInstanceCreditSpecifications")
def describe_instance_credit_specifications(call: Call) -> dict[str, Any]:
    wanted = inventory.instance_ids(call)
    size = page_size(call.get("MaxResults"), with_ids=bool(wanted))
    call.check_dry_run()
    found = inventory.instances(call, wanted, include_terminated=False)
    items = [{"InstanceId": ids.instance_id(i.id), "CpuCredits": "standard"} for i in found]
    items = apply_filters(items, call.get("Filters"), CREDIT_FILTERS)
    page, token = paginate(items, lambda c: c["InstanceId"], size, call.get("NextToken"))
    return {"InstanceCreditSpecifications": page, "NextToken": token}


@action("GetEbsEncryptionByDefault")
def get_ebs_encryption_by_default(call: Call) -> dict[str, Any]:
    call.check_dry_run()
    return {"EbsEncryptionByDefault": False, "SseType": "none"}


@action("GetEbsDefaultKmsKeyId")
def get_ebs_default_kms_key_id(call: Call) -> dict[str, Any]:
    call.check_dry_run()
    return {}


def _snapshot(call: Call) -> str:
    snapshot_id = ids.decode("snap", call.need("SnapshotId"))
    if not call.driver.snapshots(call.scope, [snapshot_id]):
        raise Ec2Error("InvalidSnapshot.NotFound", f"The snapshot '{ids.encode('snap', snapshot_id)}' does not exist.")
    return snapshot_id


@action("DescribeSnapshotAttribute")
def describe_snapshot_attribute(call: Call) -> dict[str, Any]:
    attribute = call.need("Attribute")
    if attribute not in SNAPSHOT_ATTRIBUTES:
        raise invalid_value(f"Value ({attribute[:100]}) for parameter attribute is invalid. Unknown attribute.")
    snapshot_id = _snapshot(call)
    call.check_dry_run()
    return {"SnapshotId": ids.encode("snap", snapshot_id), SNAPSHOT_ATTRIBUTES[attribute]: []}


@action("ModifySnapshotAttribute", mutating=True)
def modify_snapshot_attribute(call: Call) -> dict[str, Any]:
    attribute = call.get("Attribute", "createVolumePermission")
    if attribute != "createVolumePermission":
        raise invalid_value(f"Value ({attribute[:100]}) for parameter attribute is invalid. "
                            "Only createVolumePermission can be modified.")
    _snapshot(call)
    permission = call.get("CreateVolumePermission") or {}
    granting = bool(permission.get("Add")) or (call.get("OperationType") == "add"
                                               and bool(call.get("UserIds") or call.get("GroupNames")))
    if granting:
        raise Ec2Error("UnsupportedOperation", "Snapshots are private to the engine's user here: volume "
                                               "permissions cannot be granted to other accounts or groups")
    call.check_dry_run()
    return {}
