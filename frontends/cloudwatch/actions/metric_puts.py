"""PutMetricData: a client's own data points, in its own namespaces, kept under its owner key.

`AWS/` namespaces are refused as AWS refuses them (the gateway's sampler alone writes `AWS/EC2`). Each
datum is one Value, or Values with optional Counts, or a StatisticValues set; timestamps may lie up to
two weeks in the past and two hours in the future, as CloudWatch accepts. StorageResolution 1 is
accepted and stored at one-minute resolution (no high-resolution data here).
"""
from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

from gateway.metric_store import Aggregate
from gateway.metric_points import DataPoint

from ..call import Call
from ..errors import combination, invalid_value, missing
from ..series import dimensions_of
from . import action

MAX_DATA = 1000
MAX_VALUES = 150
LIMIT = 2.0 ** 360  # CloudWatch refuses values beyond this magnitude (sums of them stay finite)
MAX_COUNT = 2.0 ** 53  # a Count or SampleCount beyond the doubles' exact integers: value x count stays < 2^413
PAST_SECONDS = 14 * 86400
FUTURE_SECONDS = 2 * 3600


def _aggregates(call: Call, namespace: str, index: int, datum: dict[str, Any], now: float) -> list[Aggregate]:
    where = f"MetricData.member.{index}"
    dims = dimensions_of(datum.get("Dimensions"), f"{where}.Dimensions")
    when = datum["Timestamp"].timestamp() if datum.get("Timestamp") is not None else now
    if not now - PAST_SECONDS <= when <= now + FUTURE_SECONDS:
        raise invalid_value(f"The parameter {where}.Timestamp must specify a time no more than two weeks in the "
                            "past and no more than two hours in the future.")
    if datum.get("StorageResolution") not in (None, 1, 60):
        raise invalid_value(f"The parameter {where}.StorageResolution must be 1 or 60.")
    unit = datum.get("Unit") or "None"
    kinds = [name for name in ("Value", "Values", "StatisticValues") if datum.get(name) is not None]
    if not kinds:
        raise combination(f"At least one of the parameters {where}.Value, {where}.Values or "
                          f"{where}.StatisticValues must be specified.")
    if len(kinds) > 1:
        raise combination(f"The parameters {where}.{kinds[0]} and {where}.{kinds[1]} are mutually exclusive.")
    numbers = [datum.get("Value"), *datum.get("Values", []), *(datum.get("StatisticValues") or {}).values()]
    if any(number is not None and abs(number) > LIMIT for number in numbers):
        raise invalid_value(f"The values of {where} must lie between -2^360 and 2^360.")
    point = DataPoint(call.owner, namespace, datum["MetricName"], dims, when, 0.0, unit)
    if "Value" in kinds:
        return [Aggregate.of(replace(point, value=datum["Value"]))]
    if "StatisticValues" in kinds:
        stats = datum["StatisticValues"]
        if not 0 < stats["SampleCount"] <= MAX_COUNT:
            raise invalid_value(f"The parameter {where}.StatisticValues.SampleCount must be greater than 0 and at "
                                "most 2^53.")
        if stats["Minimum"] > stats["Maximum"]:
            raise invalid_value(f"The parameter {where}.StatisticValues.Minimum must not exceed its Maximum.")
        return [Aggregate(point.scope, namespace, point.metric, dims, when, stats["SampleCount"], stats["Sum"],
                          stats["Minimum"], stats["Maximum"], unit)]
    values, counts = datum["Values"], datum.get("Counts")
    if len(values) > MAX_VALUES:
        raise invalid_value(f"The collection {where}.Values must not have a size greater than {MAX_VALUES}.")
    if counts is not None and len(counts) != len(values):
        raise combination(f"The parameters {where}.Values and {where}.Counts must be of the same size.")
    if counts is not None and any(not 0 <= count <= MAX_COUNT for count in counts):
        raise invalid_value(f"The parameter {where}.Counts must hold numbers from 0 to 2^53.")
    return [Aggregate.of(DataPoint(point.scope, namespace, point.metric, dims, when, value, unit), count)
            for value, count in zip(values, counts or [1.0] * len(values)) if count]


@action("PutMetricData")
def put_metric_data(call: Call) -> dict[str, Any]:
    namespace = call.need("Namespace")
    if namespace.startswith("AWS/"):
        raise invalid_value(f"The value {namespace[:255]} for parameter Namespace is invalid: namespaces starting "
                            "with AWS/ are reserved for metrics the service publishes.")
    data = call.params.get("MetricData")
    if not data:
        raise missing("MetricData")
    if len(data) > MAX_DATA:
        raise invalid_value(f"The collection MetricData must not have a size greater than {MAX_DATA}.")
    now = time.time()
    aggregates = [item for index, datum in enumerate(data, 1)
                  for item in _aggregates(call, namespace, index, datum, now)]
    call.gateway.metric_store.put_aggregates(aggregates)
    return {}
