"""ListMetrics: the caller's series by namespace, metric name and dimension filters, 500 a page.

A metric is its namespace, name and dimensions (units are not part of it); `RecentlyActive=PT3H` keeps
those with a point in the past three hours. The NextToken is the position after the last one shown.
"""
from __future__ import annotations

import time
from typing import Any

from ..call import Call
from ..errors import CloudWatchError, invalid_value
from ..series import dimensions_out, visible
from . import action

PAGE = 500


def page_start(token: str | None) -> int:
    if token is None:
        return 0
    if not token.isdigit() or len(token) > 9:
        raise CloudWatchError("InvalidNextToken", "The NextToken is not one this operation returned.")
    return int(token)


@action("ListMetrics")
def list_metrics(call: Call) -> dict[str, Any]:
    filters = call.get("Dimensions", [])
    if len(filters) > 10:
        raise invalid_value("The collection Dimensions must not have a size greater than 10.")
    recently = call.get("RecentlyActive")
    if recently not in (None, "PT3H"):
        raise invalid_value("The parameter RecentlyActive must be PT3H.")
    found = call.gateway.metric_store.series(call.metric_scopes, namespace=call.get("Namespace"),
                                             metric=call.get("MetricName"),
                                             seen_since=time.time() - 3 * 3600 if recently else None)
    metrics = sorted({(s.namespace, s.metric, s.dimensions) for s in visible(call, found)
                      if all(_matches(dict(s.dimensions), wanted) for wanted in filters)})
    start = page_start(call.get("NextToken"))
    shown = metrics[start:start + PAGE]
    result: dict[str, Any] = {"Metrics": [{"Namespace": namespace, "MetricName": metric,
                                           "Dimensions": dimensions_out(dims)} for namespace, metric, dims in shown]}
    if start + PAGE < len(metrics):
        result["NextToken"] = str(start + PAGE)
    return result


def _matches(dimensions: dict[str, str], wanted: dict[str, str]) -> bool:
    if wanted["Name"] not in dimensions:
        return False
    return wanted.get("Value") is None or dimensions[wanted["Name"]] == wanted["Value"]
