"""Which series a caller sees, and their statistics per period: what every read action shares.

A caller reads the series its provider's sampler wrote (scope = the provider's name: `AWS/EC2` and the
memory namespace) and those it put itself (scope = its owner key). An ordinary oVirt user sees only its
own VMs (the engine filters for it, as at the user-level API, `X-Deltacloud-Provider: ...;user`), so
sampled series with an `InstanceId` dimension are shown only for the instances the engine lets the
caller see, or shows as terminated (tombstones). The gateway cannot tell an engine administrator from a
user cheaply, so this holds for administrators too: the series of a VM removed over an hour ago stays
stored until its retention ends but is no longer shown (an alarm on it still reads it).

Statistics per period come from gateway.metric_periods (shared with the console's charts).
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from datetime import datetime, timezone
from typing import Any

from frontends.ec2 import ids
from gateway.driver import Driver
from gateway.metric_periods import Bucket, kept_resolution, merged_periods, periods_with_data  # noqa: F401 (shared)
from gateway.metric_store import Series
from gateway.scope import Scope

from .call import Call
from .errors import combination, invalid_value

STATISTICS = ("SampleCount", "Average", "Sum", "Minimum", "Maximum")
MAX_DATAPOINTS = 1440
Dimensions = tuple[tuple[str, str], ...]


def dimensions_of(items: Iterable[dict[str, str]] | None, name: str = "Dimensions") -> Dimensions:
    """Request dimensions ([{Name, Value}]) as sorted pairs; duplicates refused as CloudWatch does."""
    pairs = [(item["Name"], item["Value"]) for item in items or ()]
    names = [pair[0] for pair in pairs]
    if len(set(names)) != len(names):
        raise invalid_value(f"No Metric may specify the same dimension twice ({name}).")
    if len(pairs) > 30:
        raise invalid_value(f"The collection {name} must not have a size greater than 30.")
    return tuple(sorted(pairs))


def dimensions_out(dimensions: Dimensions) -> list[dict[str, str]]:
    return [{"Name": name, "Value": value} for name, value in dimensions]


def visible_instance_ids(driver: Driver, scope: Scope) -> set[str]:
    """Both spellings (EC2 id and UUID) of every instance this scope may see, terminated ones still shown
    included."""
    found: set[str] = set()
    shown = driver.terminated_instances(scope) if driver.can("terminated_instances") else []
    for instance in [*driver.instances(scope), *shown]:
        found.update((instance.id, ids.instance_id(instance.id)))
    return found


def caller_instance_ids(call: Call) -> set[str]:
    """`visible_instance_ids` of the caller, listed from the engine once per call (GetMetricData asks once
    per query)."""
    if call.visible_instances is None:
        call.visible_instances = visible_instance_ids(call.driver, call.scope)
    return call.visible_instances


def guarded(series: Series, provider: str) -> bool:
    """True for a sampled series of one instance: shown only to those who may see that instance."""
    return series.scope == provider and any(name == "InstanceId" for name, _ in series.dimensions)


def visible(call: Call, found: Sequence[Series]) -> list[Series]:
    """Drop sampled series of instances the caller may not see (one instance listing, only when there are
    such series to check)."""
    provider = call.scope.provider.name
    if not any(guarded(s, provider) for s in found):
        return list(found)
    allowed = caller_instance_ids(call)
    return [s for s in found if not guarded(s, provider) or dict(s.dimensions)["InstanceId"] in allowed]


def series_of(call: Call, namespace: str, metric: str, dimensions: Dimensions, unit: str | None = None) -> list[Series]:
    """The caller's series of exactly this metric and dimension set (one per unit, or the one unit asked)."""
    return visible(call, call.gateway.metric_store.series(call.metric_scopes, namespace=namespace, metric=metric,
                                                          dimensions=dimensions, unit=unit))


def epoch(value: datetime) -> float:
    return value.timestamp()


def as_time(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, timezone.utc)


def check_period(period: int, name: str = "Period") -> None:
    if period < 1:
        raise invalid_value(f"The parameter {name} must be greater than 0.")
    if period % 60:
        raise invalid_value(f"The parameter {name} must be a multiple of 60: this gateway keeps one-minute "
                            "resolution (no high-resolution data).")


def check_range(start: float, end: float) -> None:
    if start >= end:
        raise invalid_value("The parameter StartTime must be less than the parameter EndTime.")


def buckets(call: Call, series_ids: Sequence[int], start: float, end: float, period: int) -> list[Bucket]:
    """The periods of [start, end) that have data, oldest first, merged over the given series."""
    config = call.gateway.config
    return periods_with_data(call.gateway.metric_store, series_ids, start, end, period, config.cloudwatch_minute_days,
                             config.cloudwatch_five_minute_days)


def check_datapoints(start: float, end: float, period: int) -> None:
    requested = math.ceil((end - start) / period)
    if requested > MAX_DATAPOINTS:
        raise combination(f"You have requested up to {requested} datapoints, which exceeds the limit of "
                          f"{MAX_DATAPOINTS}. You may reduce the datapoints requested by increasing Period, or "
                          "decreasing the time range.")


def datapoint(bucket: Bucket, statistics: Sequence[str], unit: str) -> dict[str, Any]:
    point: dict[str, Any] = {"Timestamp": as_time(bucket.start), "Unit": unit}
    for name in statistics:
        point[name] = bucket.statistic(name)
    return point
