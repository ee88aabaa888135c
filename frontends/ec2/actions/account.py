"""DescribeAccountAttributes: the answers tools ask for at start (platforms, default VPC, limits)."""
from __future__ import annotations

from typing import Any

from .. import networks
from ..call import Call
from . import action

MAX_INSTANCES = "1000"


def attributes() -> dict[str, list[str]]:
    return {"supported-platforms": ["VPC"], "default-vpc": ["none"], "max-instances": [MAX_INSTANCES],
            "vpc-max-security-groups-per-interface": ["5"], "max-elastic-ips": ["0"],
            "vpc-max-elastic-ips": ["0"]}


@action("DescribeAccountAttributes")
def describe_account_attributes(call: Call) -> dict[str, Any]:
    wanted = call.get("AttributeNames") or list(attributes())
    known = attributes()
    call.check_dry_run()
    if "default-vpc" in wanted and call.driver.can("networks"):  # the VPC DescribeVpcs calls default
        default = networks.default_network(call.driver.networks(call.scope))
        known["default-vpc"] = [networks.vpc_id(default.id) if default else "none"]
    return {"AccountAttributes": [
        {"AttributeName": name, "AttributeValues": [{"AttributeValue": v} for v in known[name]]}
        for name in wanted if name in known]}
