"""The EC2 actions: one module per resource, each action a short function registered by name.

An action takes the Call (scope, driver, parsed parameters) and returns a dict shaped like boto3's
response; the renderer turns it into XML. Importing `load_all()` registers every module's actions.
"""
from __future__ import annotations

import importlib
from typing import Any, Callable

from ..call import Call

Action = Callable[[Call], dict[str, Any]]
ACTIONS: dict[str, Action] = {}
MUTATING: set[str] = set()
MODULES = ("regions", "images", "instance_types", "instances", "instance_state", "instance_status",
           "instance_attributes", "key_pairs", "tags", "account", "addresses", "vpcs", "security_groups",
           "volumes", "snapshots", "vpc_parts", "vpc_attributes", "platform_defaults", "instance_console",
           "volume_modifications", "image_making", "image_attributes", "vpc_changes", "group_changes",
           "network_interfaces", "interface_changes", "interface_attachments")


def action(name: str, *, mutating: bool = False) -> Callable[[Action], Action]:
    """Register a function as the EC2 action `name` (mutating actions must honour DryRun before acting)."""

    def register(func: Action) -> Action:
        ACTIONS[name] = func
        if mutating:
            MUTATING.add(name)
        return func

    return register


def load_all() -> dict[str, Action]:
    for module in MODULES:
        importlib.import_module(f"{__name__}.{module}")
    return ACTIONS
