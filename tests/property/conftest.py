"""Hypothesis settings of the property suite: deterministic, bounded, no example database.

`derandomize=True` makes every run generate the same examples (a failure reproduces exactly);
`deadline=None` because each example is a real HTTP round trip whose time the machine decides.
The example counts in each module keep the whole suite under a minute.
"""
from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, settings

from .world import World

settings.register_profile(
    "cloudgw", deadline=None, derandomize=True, database=None, print_blob=False,
    suppress_health_check=(HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                           HealthCheck.data_too_large, HealthCheck.filter_too_much))
settings.load_profile("cloudgw")


@pytest.fixture
def world(gateway) -> Iterator[World]:
    """The shared gateway, quiet (nothing left running by earlier tests), cleaned up after the property."""
    handle = World(gateway)
    handle.settle()
    yield handle
    handle.finish()
