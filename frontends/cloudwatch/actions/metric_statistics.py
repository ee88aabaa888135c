"""GetMetricStatistics: SampleCount, Average, Sum, Minimum and Maximum of one metric per period.

Exactly CloudWatch's rules: Statistics or ExtendedStatistics (percentiles, which this gateway cannot
compute from its per-minute count/sum/min/max rows, so it says so), Period a multiple of 60, StartTime
before EndTime, at most 1,440 datapoints (InvalidParameterCombination beyond), an optional Unit filter.
"""
from __future__ import annotations

from typing import Any

from ..call import Call
from ..errors import combination, invalid_value
from ..series import (STATISTICS, buckets, check_datapoints, check_period, check_range, datapoint, dimensions_of,
                      series_of)
from . import action


@action("GetMetricStatistics")
def get_metric_statistics(call: Call) -> dict[str, Any]:
    statistics, extended = call.get("Statistics"), call.get("ExtendedStatistics")
    if statistics and extended:
        raise combination("The parameters Statistics and ExtendedStatistics are mutually exclusive.")
    if extended:
        raise invalid_value("ExtendedStatistics (percentiles) are not supported by this gateway: it keeps the "
                            "count, sum, minimum and maximum of each minute, from which no percentile follows.")
    if not statistics:
        raise combination("Must specify either Statistics or ExtendedStatistics.")
    if len(statistics) > 5 or any(name not in STATISTICS for name in statistics):
        raise invalid_value(f"The parameter Statistics must hold up to 5 of {', '.join(STATISTICS)}.")
    period = call.need("Period")
    check_period(period)
    start, end = call.need("StartTime").timestamp(), call.need("EndTime").timestamp()
    check_range(start, end)
    check_datapoints(start, end, period)
    metric = call.need("MetricName")
    points = []
    for series in series_of(call, call.need("Namespace"), metric, dimensions_of(call.get("Dimensions")),
                            call.get("Unit")):
        points.extend(datapoint(bucket, statistics, series.unit)
                      for bucket in buckets(call, [series.id], start, end, period))
    points.sort(key=lambda point: point["Timestamp"])
    return {"Label": metric, "Datapoints": points}
