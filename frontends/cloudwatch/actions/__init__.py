"""The CloudWatch actions: one module per subject, each action a short function registered by name.

An action takes the Call and returns a dict shaped like boto3's response; the wire layer renders it in
the request's protocol. `load_all()` registers every module's actions.
"""
from __future__ import annotations

import importlib
from typing import Any, Callable

from ..call import Call

Action = Callable[[Call], dict[str, Any]]
ACTIONS: dict[str, Action] = {}
MODULES = ("metric_puts", "metric_listing", "metric_statistics", "metric_data", "alarms", "alarm_history",
           "alarm_tags")


def action(name: str) -> Callable[[Action], Action]:
    """Register a function as the CloudWatch operation `name`."""

    def register(func: Action) -> Action:
        ACTIONS[name] = func
        return func

    return register


def load_all() -> dict[str, Action]:
    for module in MODULES:
        importlib.import_module(f"{__name__}.{module}")
    return ACTIONS
