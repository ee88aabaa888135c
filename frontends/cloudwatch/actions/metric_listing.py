"""ListMetrics: the caller's series by namespace, metric name and dimension filters, 500 a page.

A metric is its namespace, name and dimensions (units are not part of it); `RecentlyActive=PT3H` keeps
those with a point in the past three hours. The NextToken is the position after the last one shown.
"""
from __future__ import annotations

import time
from typing import Any

from ..call import Call
from ..errors import invalid_value
from ..paging import page, page_start  # noqa: F401  (page_start: imported from here by other actions before)
from ..series import dimensions_out, visible
from . import action

PAGE = 500


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
    shown, next_token = page(metrics, call.get("NextToken"), PAGE)
    result: dict[str, Any] = {"Metrics": [{"Namespace": namespace, "MetricName": metric,
                                           "Dimensions": dimensions_out(dims)} for namespace, metric, dims in shown]}
    if next_token is not None:
        result["NextToken"] = next_token
    return result


def _matches(dimensions: dict[str, str], wanted: dict[str, str]) -> bool:
    if wanted["Name"] not in dimensions:
        return False
    return wanted.get("Value") is None or dimensions[wanted["Name"]] == wanted["Value"]
