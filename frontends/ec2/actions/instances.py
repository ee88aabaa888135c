"""RunInstances and DescribeInstances."""
from __future__ import annotations

from typing import Any

from gateway.model import Instance

from .. import ids, inventory, item_cache, launch
from ..call import Call
from ..filters import apply_filters, page_size, paginate
from ..present import Catalog, reservation_id
from . import action


def reservation_ids(found: list[Instance], catalog: Catalog) -> dict[str, str]:
    """EC2 instance id -> its reservation id (its own `r-` id if it was not launched through EC2)."""
    return {ids.instance_id(i.id): catalog.records.get(i.id, {}).get("reservation_id") or reservation_id(i.id)
            for i in found}


def instance_filters(catalog: Catalog, reservations: dict[str, str]) -> dict[str, Any]:
    return {
        "instance-id": lambda i: [i["InstanceId"]],
        "instance-state-name": lambda i: [i["State"]["Name"]],
        "instance-state-code": lambda i: [i["State"]["Code"]],
        "image-id": lambda i: [i.get("ImageId")],
        "instance-type": lambda i: [i.get("InstanceType")],
        "availability-zone": lambda i: [i["Placement"]["AvailabilityZone"]],
        "key-name": lambda i: [i.get("KeyName")],
        "ip-address": lambda i: [i.get("PublicIpAddress")],
        "private-ip-address": lambda i: [i.get("PrivateIpAddress")],
        "dns-name": lambda i: [i.get("PublicDnsName")],
        "private-dns-name": lambda i: [i.get("PrivateDnsName")],
        "architecture": lambda i: [i.get("Architecture")],
        "client-token": lambda i: [i.get("ClientToken")],
        "launch-index": lambda i: [i.get("AmiLaunchIndex")],
        "root-device-type": lambda i: [i.get("RootDeviceType")],
        "reservation-id": lambda i: [reservations[i["InstanceId"]]],
        "owner-id": lambda i: [catalog.owner_id],
        "vpc-id": lambda i: [i.get("VpcId")],
        "subnet-id": lambda i: [i.get("SubnetId")],
        "network-interface.subnet-id": lambda i: [n.get("SubnetId") for n in i["NetworkInterfaces"]],
        "network-interface.vpc-id": lambda i: [n.get("VpcId") for n in i["NetworkInterfaces"]],
        "instance.group-name": lambda i: [g["GroupName"] for g in i["SecurityGroups"]],
        "instance.group-id": lambda i: [g["GroupId"] for g in i["SecurityGroups"]],
    }


def group(items: list[dict[str, Any]], reservations: dict[str, str], owner_id: str) -> list[dict[str, Any]]:
    """Instance items grouped into their reservations, in the order of their first instance."""
    groups: dict[str, dict[str, Any]] = {}
    for item in items:
        rid = reservations[item["InstanceId"]]
        if rid not in groups:
            groups[rid] = {"ReservationId": rid, "OwnerId": owner_id, "Groups": [], "Instances": []}
        groups[rid]["Instances"].append(item)
    return list(groups.values())


@action("DescribeInstances")
def describe_instances(call: Call) -> dict[str, Any]:
    wanted = inventory.instance_ids(call)
    size = page_size(call.get("MaxResults"), with_ids=bool(wanted))
    call.check_dry_run()
    found: list[Instance] = inventory.instances(call, wanted)
    catalog = inventory.catalog(call)
    reservations = reservation_ids(found, catalog)
    items = apply_filters(item_cache.instance_items(found, catalog), call.get("Filters"),
                          instance_filters(catalog, reservations))
    if wanted is None:
        page, token = paginate(items, lambda i: i["InstanceId"], size, call.get("NextToken"))
    else:
        page, token = items, None
    return {"Reservations": group(page, reservations, catalog.owner_id), "NextToken": token}


@action("RunInstances", mutating=True)
def run_instances(call: Call) -> dict[str, Any]:
    request = launch.LaunchRequest.from_call(call)
    call.check_dry_run()
    return launch.run(call, request)
