"""DescribeAlarmHistory: configuration updates, state changes and actions of the caller's alarms."""
from __future__ import annotations

from typing import Any

from .. import alarm_store
from ..call import Call
from ..errors import invalid_value
from ..paging import page
from . import action

KINDS = ("ConfigurationUpdate", "StateUpdate", "Action")


@action("DescribeAlarmHistory")
def describe_alarm_history(call: Call) -> dict[str, Any]:
    kind = call.get("HistoryItemType")
    if kind is not None and kind not in KINDS:
        raise invalid_value(f"The parameter HistoryItemType must be one of {', '.join(KINDS)}.")
    limit = call.get("MaxRecords", 100)
    if not 1 <= limit <= 100:
        raise invalid_value("The parameter MaxRecords must be from 1 to 100.")
    start, end = call.get("StartDate"), call.get("EndDate")
    items = alarm_store.history_items(call.gateway.store, call.owner, alarm=call.get("AlarmName"), kind=kind,
                                      start=start.timestamp() if start else None,
                                      end=end.timestamp() if end else None,
                                      newest_first=call.get("ScanBy", "TimestampDescending") != "TimestampAscending")
    if "MetricAlarm" not in (call.get("AlarmTypes") or ["MetricAlarm"]):
        items = []
    shown, next_token = page(items, call.get("NextToken"), limit)
    result: dict[str, Any] = {"AlarmHistoryItems": [{**item, "AlarmType": "MetricAlarm"} for item in shown]}
    if next_token is not None:
        result["NextToken"] = next_token
    return result
