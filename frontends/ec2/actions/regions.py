"""Regions (oVirt data centers) and availability zones (the scoped data center's clusters)."""
from __future__ import annotations

from typing import Any

from flask import request

from ..call import Call
from ..filters import apply_filters
from . import action

REGION_FILTERS = {"region-name": lambda r: [r["RegionName"]], "endpoint": lambda r: [r["Endpoint"]],
                  "opt-in-status": lambda r: [r["OptInStatus"]]}
ZONE_FILTERS = {"zone-name": lambda z: [z["ZoneName"]], "zone-id": lambda z: [z["ZoneId"]],
                "region-name": lambda z: [z["RegionName"]], "state": lambda z: [z["State"]],
                "zone-type": lambda z: [z["ZoneType"]], "group-name": lambda z: [z["GroupName"]],
                "opt-in-status": lambda z: [z["OptInStatus"]]}


def endpoint_url() -> str:
    return request.host_url.rstrip("/") + "/ec2/"


@action("DescribeRegions")
def describe_regions(call: Call) -> dict[str, Any]:
    datacenter = call.scope.datacenter
    regions = []
    for region in call.driver.regions(call.scope):
        current = datacenter in (region.name, region.id)
        regions.append({"RegionName": call.region if current else region.name, "Endpoint": endpoint_url(),
                        "OptInStatus": "opt-in-not-required"})
    wanted = call.get("RegionNames")
    if wanted:
        regions = [r for r in regions if r["RegionName"] in wanted]
    call.check_dry_run()
    return {"Regions": apply_filters(regions, call.get("Filters"), REGION_FILTERS)}


@action("DescribeAvailabilityZones")
def describe_availability_zones(call: Call) -> dict[str, Any]:
    zones = [{"ZoneName": realm.name, "ZoneId": realm.id, "RegionName": call.region,
              "State": "available" if realm.available else "unavailable", "ZoneType": "availability-zone",
              "GroupName": call.region, "NetworkBorderGroup": call.region, "OptInStatus": "opt-in-not-required",
              "Messages": []}
             for realm in call.driver.realms(call.scope)]
    names, zone_ids = call.get("ZoneNames"), call.get("ZoneIds")
    if names or zone_ids:
        zones = [z for z in zones if z["ZoneName"] in (names or ()) or z["ZoneId"] in (zone_ids or ())]
    call.check_dry_run()
    return {"AvailabilityZones": apply_filters(zones, call.get("Filters"), ZONE_FILTERS)}
