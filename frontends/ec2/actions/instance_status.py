"""DescribeInstanceStatus: `ok` once an instance runs (what the instance_status_ok waiter waits for)."""
from __future__ import annotations

from typing import Any

from gateway.model import Instance, InstanceState

from .. import ids, inventory
from ..call import Call
from ..filters import apply_filters, page_size, paginate
from ..present import state
from . import action

STATUS_FILTERS = {
    "availability-zone": lambda s: [s["AvailabilityZone"]],
    "instance-state-name": lambda s: [s["InstanceState"]["Name"]],
    "instance-state-code": lambda s: [s["InstanceState"]["Code"]],
    "instance-status.status": lambda s: [s["InstanceStatus"]["Status"]],
    "system-status.status": lambda s: [s["SystemStatus"]["Status"]],
    "instance-status.reachability": lambda s: [d["Status"] for d in s["InstanceStatus"]["Details"]],
    "system-status.reachability": lambda s: [d["Status"] for d in s["SystemStatus"]["Details"]],
}


def summary(instance: Instance) -> dict[str, Any]:
    if instance.state is InstanceState.RUNNING:
        status, reachability = "ok", "passed"
    elif instance.state is InstanceState.ERROR:
        status, reachability = "impaired", "failed"
    else:
        status, reachability = "not-applicable", None
    details = [{"Name": "reachability", "Status": reachability}] if reachability else []
    return {"Status": status, "Details": details}


@action("DescribeInstanceStatus")
def describe_instance_status(call: Call) -> dict[str, Any]:
    wanted = inventory.instance_ids(call)
    size = page_size(call.get("MaxResults"), with_ids=bool(wanted))
    include_all = bool(call.get("IncludeAllInstances"))
    call.check_dry_run()
    zones = inventory.catalog(call).zones
    found = inventory.instances(call, wanted, include_terminated=wanted is not None)
    if not include_all:
        found = [i for i in found if i.state is InstanceState.RUNNING]
    items = [{"InstanceId": ids.instance_id(i.id), "AvailabilityZone": zones.get(i.realm_id or "", ""),
              "InstanceState": state(i.state), "InstanceStatus": summary(i), "SystemStatus": summary(i),
              "Events": []} for i in found]
    items = apply_filters(items, call.get("Filters"), STATUS_FILTERS)
    page, token = paginate(items, lambda s: s["InstanceId"], size, call.get("NextToken"))
    return {"InstanceStatuses": page, "NextToken": token}
