"""Metric alarms: PutMetricAlarm, DescribeAlarms, DescribeAlarmsForMetric, DeleteAlarms, SetAlarmState,
EnableAlarmActions and DisableAlarmActions.

Static-threshold alarms on one metric (Namespace, MetricName, Dimensions, Statistic, Period), as
CloudWatch validates them. Alarms on metric math (`Metrics`), anomaly-detection bands
(`ThresholdMetricId`) and percentiles (`ExtendedStatistic`) are refused with a message saying so. The
worker evaluates every alarm (frontends/cloudwatch/alarm_evaluation.py); EC2 actions
(`arn:aws:automate:<region>:ec2:stop|reboot|terminate|recover`) need an `InstanceId` dimension.
"""
from __future__ import annotations

import json
import re
import time
from typing import Any

from frontends.ec2.inventory import account_id_of

from .. import alarm_store
from ..alarm_store import STATES, Alarm
from ..call import Call
from ..errors import CloudWatchError, combination, invalid_value, not_found
from ..paging import page
from ..series import STATISTICS, caller_instance_ids, dimensions_of
from . import action
from .alarm_tags import check_tags, save_tags

COMPARISONS = ("GreaterThanOrEqualToThreshold", "GreaterThanThreshold", "LessThanThreshold",
               "LessThanOrEqualToThreshold")
MISSING_DATA = ("breaching", "notBreaching", "ignore", "missing")
EC2_ACTION = re.compile(r"^arn:aws[a-z-]*:automate:[^:]+:ec2:(stop|reboot|terminate|recover)$")
ANY_ARN = re.compile(r"^arn:[a-z-]+:[a-z0-9-]+:[^:]*:[^:]*:.+$")
ACTION_LISTS = ("OKActions", "AlarmActions", "InsufficientDataActions")
DEFINITION = ("AlarmDescription", *ACTION_LISTS, "MetricName", "Namespace", "Statistic", "Dimensions", "Period",
              "Unit", "EvaluationPeriods", "DatapointsToAlarm", "Threshold", "ComparisonOperator", "TreatMissingData",
              "EvaluateLowSampleCountPercentile")
MAX_DESCRIBE = 100


def alarm_arn(region: str, owner: str, name: str) -> str:
    return f"arn:aws:cloudwatch:{region}:{account_id_of(owner)}:alarm:{name}"


def metric_alarm(alarm: Alarm) -> dict[str, Any]:
    """An alarm as DescribeAlarms answers it (boto3's MetricAlarm)."""
    definition = alarm.definition
    shown: dict[str, Any] = {"AlarmName": alarm.name, "AlarmArn": alarm_arn(alarm.region, alarm.owner, alarm.name),
                             "AlarmConfigurationUpdatedTimestamp": alarm.config_updated,
                             "ActionsEnabled": alarm.actions_enabled, "StateValue": alarm.state,
                             "StateReason": alarm.reason, "StateUpdatedTimestamp": alarm.state_updated,
                             "StateTransitionedTimestamp": alarm.state_updated}
    if alarm.reason_data:
        shown["StateReasonData"] = alarm.reason_data
    for name in DEFINITION:
        if definition.get(name) is not None:
            shown[name] = definition[name]
    for name in ACTION_LISTS:
        shown.setdefault(name, [])
    shown.setdefault("Dimensions", [])
    shown.setdefault("TreatMissingData", "missing")
    shown.setdefault("DatapointsToAlarm", definition["EvaluationPeriods"])
    return shown


def _check_actions(params: dict[str, Any]) -> None:
    has_instance = any(d["Name"] == "InstanceId" for d in params.get("Dimensions", []))
    for name in ACTION_LISTS:
        arns = params.get(name, [])
        if len(arns) > 5:
            raise CloudWatchError("LimitExceeded", f"The collection {name} must not have a size greater than 5.")
        for arn in arns:
            if EC2_ACTION.match(arn):
                if not has_instance:
                    raise combination(f"The EC2 action {arn[:200]} needs the alarm's metric to have an InstanceId "
                                      "dimension.")
            elif not ANY_ARN.match(arn):
                raise invalid_value(f"Invalid arn syntax: {arn[:200]}")


def _check_definition(params: dict[str, Any]) -> None:
    for refused, what in (("Metrics", "alarms on metric math expressions"),
                          ("ThresholdMetricId", "anomaly-detection alarms"),
                          ("ExtendedStatistic", "percentile (ExtendedStatistic) alarms")):
        if params.get(refused) is not None:
            raise invalid_value(f"{refused}: {what} are not supported by this gateway.")
    for required in ("MetricName", "Namespace", "Statistic", "Period", "Threshold"):
        if params.get(required) is None:
            raise CloudWatchError("MissingParameter", f"The parameter {required} is required.")
    if params["Statistic"] not in STATISTICS:
        raise invalid_value(f"The parameter Statistic must be one of {', '.join(STATISTICS)}.")
    period, periods = params["Period"], params["EvaluationPeriods"]
    if period < 60 or period % 60:
        raise invalid_value("The parameter Period must be a multiple of 60 (no high-resolution alarms here).")
    if periods < 1:
        raise invalid_value("The parameter EvaluationPeriods must be at least 1.")
    longest = 7 * 86400 if period >= 3600 else 86400  # CloudWatch: 7 days for periods of an hour or more
    if period * periods > longest:
        raise invalid_value(f"The product of EvaluationPeriods and Period must not exceed {longest} seconds "
                            f"({longest // 86400} day{'s' if longest > 86400 else ''}).")
    to_alarm = params.get("DatapointsToAlarm")
    if to_alarm is not None and not 1 <= to_alarm <= periods:
        raise invalid_value("The parameter DatapointsToAlarm must be from 1 to EvaluationPeriods.")
    if params["ComparisonOperator"] not in COMPARISONS:
        raise invalid_value(f"The parameter ComparisonOperator must be one of {', '.join(COMPARISONS)} "
                            "(anomaly-detection operators are not supported).")
    if params.get("TreatMissingData", "missing") not in MISSING_DATA:
        raise invalid_value(f"The parameter TreatMissingData must be one of {', '.join(MISSING_DATA)}.")
    dimensions_of(params.get("Dimensions"))
    _check_actions(params)


@action("PutMetricAlarm")
def put_metric_alarm(call: Call) -> dict[str, Any]:
    name = call.need("AlarmName")
    if len(name) > 255:
        raise invalid_value("The parameter AlarmName must be at most 255 characters.")
    _check_definition(call.params)
    instance = dict(dimensions_of(call.params.get("Dimensions"))).get("InstanceId")
    if instance is not None and instance not in caller_instance_ids(call):
        raise invalid_value(f"The instance {instance[:64]} of the InstanceId dimension does not exist or you may not "
                            "see it.")
    if call.get("Tags"):
        check_tags(call, name, call.params["Tags"])  # before the alarm is stored: a refusal leaves no alarm
    definition = {key: call.params[key] for key in DEFINITION if call.params.get(key) is not None}
    now = time.time()
    created = alarm_store.put(call.gateway.store, call.owner, name, access_key=call.access_key, region=call.region,
                              definition=definition, actions_enabled=call.get("ActionsEnabled", True), now=now)
    if call.get("Tags"):
        save_tags(call, name, call.params["Tags"])
    alarm_store.record(call.gateway.store, call.owner, name, "ConfigurationUpdate",
                       f'Alarm "{name}" {"created" if created else "updated"}',
                       {"type": "Create" if created else "Update", "version": "1.0"}, now)
    return {}


def _named(call: Call, names: list[str]) -> list[Alarm]:
    return alarm_store.find(call.gateway.store, call.owner, names)


@action("DescribeAlarms")
def describe_alarms(call: Call) -> dict[str, Any]:
    names, prefix = call.get("AlarmNames"), call.get("AlarmNamePrefix")
    if names and prefix:
        raise combination("The parameters AlarmNames and AlarmNamePrefix are mutually exclusive.")
    state, action_prefix = call.get("StateValue"), call.get("ActionPrefix")
    if state is not None and state not in STATES:
        raise invalid_value(f"The parameter StateValue must be one of {', '.join(STATES)}.")
    limit = call.get("MaxRecords", 50)
    if not 1 <= limit <= MAX_DESCRIBE:
        raise invalid_value(f"The parameter MaxRecords must be from 1 to {MAX_DESCRIBE}.")
    types = call.get("AlarmTypes") or ["MetricAlarm"]
    found = [] if "MetricAlarm" not in types else alarm_store.find(call.gateway.store, call.owner, names or None)
    found = [a for a in found if (prefix is None or a.name.startswith(prefix)) and (state is None or a.state == state)
             and (action_prefix is None or any(arn.startswith(action_prefix) for key in ACTION_LISTS
                                               for arn in a.definition.get(key, [])))]
    shown, next_token = page(found, call.get("NextToken"), limit)
    result: dict[str, Any] = {"MetricAlarms": [metric_alarm(a) for a in shown], "CompositeAlarms": []}
    if next_token is not None:
        result["NextToken"] = next_token
    return result


@action("DescribeAlarmsForMetric")
def describe_alarms_for_metric(call: Call) -> dict[str, Any]:
    namespace, metric = call.need("Namespace"), call.need("MetricName")
    dims = dimensions_of(call.get("Dimensions")) if call.get("Dimensions") is not None else None
    wanted = {key: call.get(key) for key in ("Statistic", "Period", "Unit") if call.get(key) is not None}
    found = [a for a in alarm_store.find(call.gateway.store, call.owner)
             if a.definition["Namespace"] == namespace and a.definition["MetricName"] == metric
             and (dims is None or dimensions_of(a.definition.get("Dimensions")) == dims)
             and all(a.definition.get(key) == value for key, value in wanted.items())]
    return {"MetricAlarms": [metric_alarm(a) for a in found]}


@action("DeleteAlarms")
def delete_alarms(call: Call) -> dict[str, Any]:
    names = call.need("AlarmNames")
    if len(names) > 100:
        raise invalid_value("The collection AlarmNames must not have a size greater than 100.")
    existing = {a.name for a in _named(call, names)}
    missing = [name for name in names if name not in existing]
    if missing:
        raise not_found(f"{len(missing)} out of {len(names)} alarms were not found: {', '.join(missing)[:500]}")
    alarm_store.delete(call.gateway.store, call.owner, names)
    call.gateway.store.delete_tags(call.owner, names)
    return {}


@action("SetAlarmState")
def set_alarm_state(call: Call) -> dict[str, Any]:
    name, state, reason = call.need("AlarmName"), call.need("StateValue"), call.need("StateReason")
    if state not in STATES:
        raise invalid_value(f"The parameter StateValue must be one of {', '.join(STATES)}.")
    data = call.get("StateReasonData", "")
    if data:
        try:
            json.loads(data)
        except ValueError:
            raise CloudWatchError("InvalidFormat", "The parameter StateReasonData is not valid JSON.") from None
    found = _named(call, [name])
    if not found:
        raise not_found(f"Alarm {name[:255]} does not exist.")
    call.gateway.alarm_evaluator.change(found[0], state, reason, data, time.time())
    return {}


def _actions_switch(call: Call, enabled: bool) -> dict[str, Any]:
    names = call.need("AlarmNames")
    now = time.time()
    for name in alarm_store.set_actions_enabled(call.gateway.store, call.owner, names, enabled, now):
        alarm_store.record(call.gateway.store, call.owner, name, "ConfigurationUpdate",
                           f'Alarm "{name}" actions {"enabled" if enabled else "disabled"}',
                           {"type": "Update", "version": "1.0"}, now)
    return {}


@action("EnableAlarmActions")
def enable_alarm_actions(call: Call) -> dict[str, Any]:
    return _actions_switch(call, True)


@action("DisableAlarmActions")
def disable_alarm_actions(call: Call) -> dict[str, Any]:
    return _actions_switch(call, False)
