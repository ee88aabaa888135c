"""DescribeAddresses: oVirt has no Elastic IPs, so there are none (libcloud's list_nodes asks)."""
from __future__ import annotations

from typing import Any

from ..call import Call
from ..errors import Ec2Error
from ..filters import apply_filters
from . import action

ADDRESS_FILTERS = {name: (lambda a: []) for name in (
    "allocation-id", "association-id", "domain", "instance-id", "network-interface-id", "public-ip",
    "private-ip-address", "network-border-group")}


@action("DescribeAddresses")
def describe_addresses(call: Call) -> dict[str, Any]:
    wanted = call.get("PublicIps", []) + call.get("AllocationIds", [])
    call.check_dry_run()
    if wanted:
        raise Ec2Error("InvalidAddress.NotFound", f"Address '{wanted[0][:64]}' not found.")
    return {"Addresses": apply_filters([], call.get("Filters"), ADDRESS_FILTERS)}
