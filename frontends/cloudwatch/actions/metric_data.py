"""GetMetricData: several MetricStat queries and metric math expressions over one time range, paged.

Each query is a MetricStat (a metric, Period, Stat and optional Unit) or an Expression over the other
queries (frontends/cloudwatch/metric_math.py says which). Results are sorted newest first unless
`ScanBy=TimestampAscending`; only queries with ReturnData (default true) are answered. A page holds at
most MaxDatapoints values over all results; NextToken is the position of the next value, and a result
cut short says `PartialData`.
"""
from __future__ import annotations

import math
import re
from typing import Any

from ..call import Call
from ..errors import CloudWatchError, combination, invalid_value
from ..metric_math import Evaluator, Series
from ..paging import page_start
from ..series import STATISTICS, as_time, buckets, check_period, check_range, dimensions_of, series_of
from . import action

QUERY_ID = re.compile(r"^[a-z][a-zA-Z0-9_]{0,254}$")
MAX_QUERIES = 500
DEFAULT_MAX_DATAPOINTS = 100_800
MAX_PERIODS = 100_800  # CloudWatch's limit of datapoints one GetMetricData call may ask for, over all its queries


def _stat_series(call: Call, query: dict[str, Any], start: float, end: float) -> Series:
    stat = query["MetricStat"]
    check_period(stat["Period"], f"MetricStat.Period of query {query['Id']}")
    if stat["Stat"] not in STATISTICS:
        raise invalid_value(f"The statistic {stat['Stat'][:64]} of query {query['Id']} is not supported by this "
                            f"gateway (supported: {', '.join(STATISTICS)}; no percentiles).")
    metric = stat["Metric"]
    if not metric.get("Namespace") or not metric.get("MetricName"):
        raise CloudWatchError("MissingParameter", f"The MetricStat of query {query['Id']} needs a Namespace and a "
                              "MetricName.")
    found = series_of(call, metric["Namespace"], metric["MetricName"], dimensions_of(metric.get("Dimensions")),
                      stat.get("Unit"))
    merged = buckets(call, [s.id for s in found], start, end, stat["Period"])
    return {bucket.start: bucket.statistic(stat["Stat"]) for bucket in merged}


def _check_queries(queries: list[dict[str, Any]]) -> None:
    if not queries:
        raise CloudWatchError("MissingParameter", "The parameter MetricDataQueries is required.")
    if len(queries) > MAX_QUERIES:
        raise invalid_value(f"The collection MetricDataQueries must not have a size greater than {MAX_QUERIES}.")
    seen = set()
    for query in queries:
        if not QUERY_ID.match(query["Id"]):
            raise invalid_value(f"The Id {query['Id'][:64]!r} must start with a lower-case letter and hold only "
                                "letters, digits and underscores.")
        if query["Id"] in seen:
            raise invalid_value(f"The Id {query['Id'][:64]!r} is used by two queries.")
        seen.add(query["Id"])
        if ("MetricStat" in query) == ("Expression" in query):
            raise combination(f"The query {query['Id']} must have exactly one of MetricStat and Expression.")
    if not any(query.get("ReturnData", True) for query in queries):
        raise invalid_value("At least one query must have ReturnData set to true.")


def _check_periods(queries: list[dict[str, Any]], start: float, end: float) -> None:
    """Refuse a call whose MetricStat queries ask for more periods than CloudWatch allows, before any is read
    (each period is a bucket built anew on every NextToken page)."""
    requested = 0
    for query in queries:
        if "MetricStat" in query:
            check_period(query["MetricStat"]["Period"], f"MetricStat.Period of query {query['Id']}")
            requested += math.ceil((end - start) / query["MetricStat"]["Period"])
    if requested > MAX_PERIODS:
        raise combination(f"You have requested up to {requested} datapoints, which exceeds the limit of {MAX_PERIODS} "
                          "for one GetMetricData call. Reduce the queries or the time range, or increase Period.")


@action("GetMetricData")
def get_metric_data(call: Call) -> dict[str, Any]:
    queries = call.get("MetricDataQueries", [])
    _check_queries(queries)
    start, end = call.need("StartTime").timestamp(), call.need("EndTime").timestamp()
    check_range(start, end)
    scan = call.get("ScanBy", "TimestampDescending")
    if scan not in ("TimestampDescending", "TimestampAscending"):
        raise invalid_value("The parameter ScanBy must be TimestampDescending or TimestampAscending.")
    limit = call.get("MaxDatapoints", DEFAULT_MAX_DATAPOINTS)
    if limit < 1:
        raise invalid_value("The parameter MaxDatapoints must be greater than 0.")
    _check_periods(queries, start, end)
    values: dict[str, Series] = {}
    labels: dict[str, str] = {}
    stat_ids = [query["Id"] for query in queries if "MetricStat" in query]
    for query in queries:
        if "MetricStat" in query:
            values[query["Id"]] = _stat_series(call, query, start, end)
            labels[query["Id"]] = query.get("Label") or query["MetricStat"]["Metric"]["MetricName"]
    for query in queries:  # expressions may use one another: in order, each over what came before it
        if "Expression" in query:
            values[query["Id"]] = Evaluator(query["Expression"], values, labels, stat_ids).evaluate()
            labels[query["Id"]] = query.get("Label") or query["Id"]
    answered = [query["Id"] for query in queries if query.get("ReturnData", True)]
    return _page(answered, values, labels, descending=scan == "TimestampDescending", limit=limit,
                 offset=page_start(call.get("NextToken")))


def _page(answered: list[str], values: dict[str, Series], labels: dict[str, str], *, descending: bool, limit: int,
          offset: int) -> dict[str, Any]:
    """The values at positions [offset, offset + limit) of all results laid end to end; a result with no
    value at all is answered on the page where its place falls."""
    results: list[dict[str, Any]] = []
    position, end = 0, offset + limit
    for query_id in answered:
        times = sorted(values[query_id], reverse=descending)
        begin = position
        position += len(times)
        first, last = max(offset - begin, 0), min(end - begin, len(times))
        if last > first or (not times and offset <= begin < end):
            shown = times[first:last] if last > first else []
            results.append({"Id": query_id, "Label": labels[query_id], "Timestamps": [as_time(t) for t in shown],
                            "Values": [values[query_id][t] for t in shown],
                            "StatusCode": "Complete" if last >= len(times) else "PartialData", "Messages": []})
    answer: dict[str, Any] = {"MetricDataResults": results, "Messages": []}
    if position > end:
        answer["NextToken"] = str(end)
    return answer
