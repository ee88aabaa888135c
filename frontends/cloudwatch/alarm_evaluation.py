"""Alarm evaluation in the worker, and the actions a state change sets off.

Every `[cloudwatch] evaluation_seconds` the worker reads each alarm's last EvaluationPeriods whole
periods of its metric (the statistic of each period, from the metric store) and applies CloudWatch's
rules: a period breaches when its value compares with the threshold as ComparisonOperator says; the
alarm is ALARM when at least DatapointsToAlarm of them breach, OK otherwise. TreatMissingData says what
an empty period is: `missing` (default: not counted; all empty is INSUFFICIENT_DATA), `ignore` (not
counted; all empty keeps the state), `breaching` or `notBreaching`.

A transition (found by the worker or set with SetAlarmState) is a compare-and-set in the store, so one
process records it; that process then runs the actions of the new state if the alarm's actions are
enabled. EC2 actions stop, reboot or terminate the instance of the alarm's `InstanceId` dimension through
the same driver calls as EC2's StopInstances, RebootInstances and TerminateInstances, acting as the
identity whose access key put the alarm; `recover` (oVirt restarts its highly available VMs itself) and
every other ARN (SNS topics, Auto Scaling policies) are recorded in the alarm's history, not performed.
"""
from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from frontends.ec2 import ids
from frontends.ec2.errors import Ec2Error
from gateway.engine_states import instance_accepts, instance_already
from gateway.errors import AuthFailure, ConfigError, Forbidden, GatewayError
from gateway.scope import Credentials, Scope

from . import alarm_store
from .actions.alarms import EC2_ACTION
from .alarm_store import ALARM, INSUFFICIENT_DATA, OK, Alarm
from .series import dimensions_of, guarded, merged_periods, visible_instance_ids

log = logging.getLogger("cloudgw.cloudwatch")

COMPARE: dict[str, Callable[[float, float], bool]] = {
    "GreaterThanOrEqualToThreshold": lambda value, threshold: value >= threshold,
    "GreaterThanThreshold": lambda value, threshold: value > threshold,
    "LessThanThreshold": lambda value, threshold: value < threshold,
    "LessThanOrEqualToThreshold": lambda value, threshold: value <= threshold,
}
WORDS = {"GreaterThanOrEqualToThreshold": "greater than or equal to", "GreaterThanThreshold": "greater than",
         "LessThanThreshold": "less than", "LessThanOrEqualToThreshold": "less than or equal to"}
STATE_ACTIONS = {ALARM: "AlarmActions", OK: "OKActions", INSUFFICIENT_DATA: "InsufficientDataActions"}
DRIVER_VERBS = {"stop": "stop", "reboot": "reboot", "terminate": "destroy"}


def _when(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, timezone.utc).strftime("%d/%m/%y %H:%M:%S")


class AlarmEvaluator:
    """Evaluates the alarms of one gateway's store and performs their actions with its drivers."""

    def __init__(self, gateway: Any, clock: Callable[[], float] = time.time) -> None:
        self.gateway = gateway
        self.clock = clock

    # --- evaluation ---------------------------------------------------------------------------------
    def run(self) -> int:
        """Evaluate every alarm once; returns how many changed state."""
        changed = 0
        for alarm in alarm_store.find(self.gateway.store):
            try:
                changed += self.evaluate(alarm)
            except Exception:  # one alarm's failure must not keep the others from being evaluated
                log.exception("evaluating alarm %s of %s failed", alarm.name, alarm.owner)
        return changed

    def periods(self, alarm: Alarm, now: float) -> list[tuple[float, float | None]]:
        """(start, value or None) of the alarm's last EvaluationPeriods whole periods, oldest first."""
        definition = alarm.definition
        period, count = definition["Period"], definition["EvaluationPeriods"]
        end = math.floor(now / period) * period
        start = end - count * period
        provider = alarm.owner.partition("|")[0]
        found = self.gateway.metric_store.series([provider, alarm.owner], namespace=definition["Namespace"],
                                                 metric=definition["MetricName"],
                                                 dimensions=dimensions_of(definition.get("Dimensions")),
                                                 unit=definition.get("Unit"))
        if any(guarded(s, provider) for s in found):
            allowed = self._creator_instance_ids(alarm)
            found = [s for s in found if not guarded(s, provider) or dict(s.dimensions)["InstanceId"] in allowed]
        rows = self.gateway.metric_store.rows([s.id for s in found], start, end) if found else []
        merged = merged_periods(rows, start, period)
        statistic = definition["Statistic"]
        return [(start + i * period, merged[i].statistic(statistic) if i in merged else None) for i in range(count)]

    def _creator_instance_ids(self, alarm: Alarm) -> set[str]:
        """The instances the alarm's creator may see now; none if its key is gone, names someone else now or
        is refused by the engine (the alarm then reads no sampled series: missing data)."""
        try:
            scope = self.creator_scope(alarm)
            return visible_instance_ids(self.gateway.driver_for(scope.provider), scope)
        except (ConfigError, AuthFailure, Forbidden) as exc:
            log.info("alarm %s of %s reads no instance series: %s", alarm.name, alarm.owner, _message(exc))
            return set()

    def creator_scope(self, alarm: Alarm) -> Scope:
        """The scope of the identity that put the alarm, on the alarm owner's provider; ConfigError when the
        access key that put it is gone or now belongs to another user."""
        credential = self.gateway.store.credential(alarm.access_key)
        provider_name, _, username = alarm.owner.partition("|")
        if credential is None:
            raise ConfigError(f"the access key {alarm.access_key} that put the alarm no longer exists")
        if credential.username != username:
            raise ConfigError(f"the access key {alarm.access_key} that put the alarm now belongs to another user")
        provider = self.gateway.config.provider(provider_name)
        region = alarm.region
        datacenter = provider.region_aliases.get(region, region) if region else provider.default_datacenter
        return Scope(provider=provider, datacenter=datacenter,
                     credentials=Credentials(credential.username, credential.password),
                     request_id=f"alarm:{alarm.name}"[:64])

    def evaluate(self, alarm: Alarm) -> bool:
        """Evaluate one alarm now; True if it changed state."""
        definition = alarm.definition
        now = self.clock()
        values = self.periods(alarm, now)
        threshold, operator = definition["Threshold"], definition["ComparisonOperator"]
        treat = definition.get("TreatMissingData", "missing")
        needed = definition.get("DatapointsToAlarm") or definition["EvaluationPeriods"]
        present = [(start, value) for start, value in values if value is not None]
        if not present and treat in ("missing", "ignore"):
            if treat == "ignore":
                return False
            state = INSUFFICIENT_DATA
            reason = (f"Insufficient Data: {len(values)} datapoints were unknown.")
        else:
            breaching = sum(COMPARE[operator](value, threshold) for _, value in present)
            if treat == "breaching":
                breaching += len(values) - len(present)
            state = ALARM if breaching >= needed else OK
            shown = ", ".join(f"{value!r} ({_when(start)})" for start, value in reversed(present))
            reason = (f"Threshold Crossed: {breaching} out of the last {len(values)} datapoints [{shown}] "
                      f"{'were' if state == ALARM else 'were not all'} {WORDS[operator]} the threshold "
                      f"({threshold!r}) (minimum {needed} datapoints for OK -> ALARM transition).")
        if state == alarm.state:
            return False
        data = json.dumps({"version": "1.0", "queryDate": datetime.fromtimestamp(now, timezone.utc).isoformat(),
                           "statistic": definition["Statistic"], "period": definition["Period"],
                           "recentDatapoints": [value for _, value in present], "threshold": threshold,
                           "evaluatedDatapoints": [{"timestamp": datetime.fromtimestamp(start, timezone.utc)
                                                    .isoformat(), "value": value} for start, value in present]})
        return self.change(alarm, state, reason, data, now)

    # --- transitions and their actions ----------------------------------------------------------------
    def change(self, alarm: Alarm, state: str, reason: str, reason_data: str, now: float) -> bool:
        """Record a transition (unless another process did first) and run the new state's actions."""
        store = self.gateway.store
        if not alarm_store.transition(store, alarm, state, reason, reason_data, now):
            return False
        alarm_store.record(store, alarm.owner, alarm.name, "StateUpdate",
                           f"Alarm updated from {alarm.state} to {state}",
                           {"version": "1.0", "oldState": {"stateValue": alarm.state},
                            "newState": {"stateValue": state, "stateReason": reason}}, now)
        if alarm.actions_enabled:
            for arn in alarm.definition.get(STATE_ACTIONS[state], []):
                self._act(alarm, arn, now)
        return True

    def _act(self, alarm: Alarm, arn: str, now: float) -> None:
        match = EC2_ACTION.match(arn)
        if match is None:
            summary, outcome = (f"Recorded action {arn}: this gateway delivers no notifications or scaling actions",
                                "Recorded")
        else:
            try:
                summary, outcome = self._ec2_action(alarm, match.group(1)), "Succeeded"
                summary = f"Successfully executed action {arn}" + (f" ({summary})" if summary else "")
            except (GatewayError, Ec2Error, ConfigError) as exc:
                summary, outcome = f"Failed to execute action {arn}. Received error: {_message(exc)}", "Failed"
        alarm_store.record(self.gateway.store, alarm.owner, alarm.name, "Action", summary,
                           {"actionState": outcome, "notificationResource": arn, "stateUpdateTimestamp": now}, now)

    def _ec2_action(self, alarm: Alarm, verb: str) -> str:
        """Stop, reboot or terminate the alarm's instance as its creator; what was not done, if anything."""
        if verb == "recover":
            return "recover is not performed: oVirt restarts its highly available VMs itself"
        scope = self.creator_scope(alarm)
        provider = scope.provider
        instance_id = ids.decode("i", dict(dimensions_of(alarm.definition.get("Dimensions")))["InstanceId"])
        driver = self.gateway.driver_for(provider)
        instance = driver.instance(scope, instance_id)
        engine_verb = DRIVER_VERBS[verb]
        if instance_already(instance, engine_verb):
            return f"the instance is already {instance.state.value}"
        if not instance_accepts(instance, engine_verb):
            raise Ec2Error("IncorrectInstanceState", f"The instance '{ids.instance_id(instance.id)}' is "
                           f"{instance.state.value}: it cannot be asked to {verb} now.")
        if verb == "stop":
            driver.stop_instance(scope, instance_id)
        elif verb == "reboot":
            driver.reboot_instance(scope, instance_id)
        else:
            driver.destroy_instance(scope, instance_id)
        return ""

    def purge_history(self) -> int:
        """Housekeeping: alarm history older than `[cloudwatch] history_retention_days` goes."""
        days = self.gateway.config.cloudwatch_history_days
        return alarm_store.purge_history(self.gateway.store, self.clock() - days * 86400)


def _message(exc: Exception) -> str:
    return getattr(exc, "message", None) or str(exc) or type(exc).__name__
