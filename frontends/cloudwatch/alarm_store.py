"""Metric alarms and their history in the gateway's store.

An alarm belongs to the identity that put it (its owner key) and remembers the access key it was put
with: its EC2 actions act with that key's stored credentials. A state change is a compare-and-set on
the state's time, so when several gateway processes evaluate the same alarm at once exactly one records
the transition and performs its actions.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from gateway.schema import alarm_history_table as history, metric_alarms_table as alarms
from gateway.store import Store

INSUFFICIENT_DATA, OK, ALARM = "INSUFFICIENT_DATA", "OK", "ALARM"
STATES = (OK, ALARM, INSUFFICIENT_DATA)


@dataclass(frozen=True)
class Alarm:
    owner: str
    name: str
    access_key: str
    region: str
    definition: dict[str, Any]  # PutMetricAlarm's parameters (timestamps none), as boto3 names them
    state: str
    reason: str
    reason_data: str
    state_updated: float
    actions_enabled: bool
    config_updated: float
    evaluated: float


def _alarm(row: Any) -> Alarm:
    return Alarm(row.owner, row.name, row.access_key, row.region, json.loads(row.definition), row.state, row.reason,
                 row.reason_data, row.state_updated, bool(row.actions_enabled), row.config_updated, row.evaluated)


def put(store: Store, owner: str, name: str, *, access_key: str, region: str, definition: dict[str, Any],
        actions_enabled: bool, now: float) -> bool:
    """Create the alarm (INSUFFICIENT_DATA) or replace its definition, keeping its state; True if created."""
    where = (alarms.c.owner == owner) & (alarms.c.name == name)
    values = dict(access_key=access_key, region=region, definition=json.dumps(definition),
                  actions_enabled=actions_enabled, config_updated=now)
    for attempt in range(2):
        try:
            with store.begin() as conn:
                if conn.execute(alarms.update().where(where).values(**values)).rowcount:
                    return False
                conn.execute(alarms.insert().values(owner=owner, name=name, state=INSUFFICIENT_DATA,
                                                    reason="Unchecked: Initial alarm creation", reason_data="",
                                                    state_updated=now, evaluated=0.0, **values))
            return True
        except sa.exc.IntegrityError:  # another request created it between our UPDATE and INSERT: update it
            if attempt:
                raise
    return False


def find(store: Store, owner: str | None = None, names: list[str] | None = None) -> list[Alarm]:
    """The owner's alarms (every owner's with None), by name."""
    query = sa.select(alarms)
    if owner is not None:
        query = query.where(alarms.c.owner == owner)
    if names is not None:
        query = query.where(alarms.c.name.in_(names))
    with store.engine.connect() as conn:
        return [_alarm(row) for row in conn.execute(query.order_by(alarms.c.owner, alarms.c.name))]


def delete(store: Store, owner: str, names: list[str]) -> None:
    with store.begin() as conn:
        conn.execute(alarms.delete().where((alarms.c.owner == owner) & alarms.c.name.in_(names)))


def set_actions_enabled(store: Store, owner: str, names: list[str], enabled: bool, now: float) -> list[str]:
    """Turn the actions of these alarms on or off; returns the names that exist."""
    where = (alarms.c.owner == owner) & alarms.c.name.in_(names)
    with store.begin() as conn:
        found = [row[0] for row in conn.execute(sa.select(alarms.c.name).where(where))]
        conn.execute(alarms.update().where(where).values(actions_enabled=enabled, config_updated=now))
    return found


def transition(store: Store, alarm: Alarm, state: str, reason: str, reason_data: str, now: float) -> bool:
    """Move the alarm to `state` unless another process changed it since `alarm` was read; True if this did."""
    where = ((alarms.c.owner == alarm.owner) & (alarms.c.name == alarm.name)
             & (alarms.c.state_updated == alarm.state_updated) & (alarms.c.state == alarm.state))
    with store.begin() as conn:
        return conn.execute(alarms.update().where(where).values(
            state=state, reason=reason, reason_data=reason_data, state_updated=now, evaluated=now)).rowcount == 1


# --- history ------------------------------------------------------------------------------------------
def record(store: Store, owner: str, alarm: str, kind: str, summary: str, data: dict[str, Any], now: float) -> None:
    with store.begin() as conn:
        conn.execute(history.insert().values(owner=owner, alarm=alarm, kind=kind, summary=summary,
                                             data=json.dumps(data), timestamp=now))


def history_items(store: Store, owner: str, *, alarm: str | None, kind: str | None, start: float | None,
                  end: float | None, newest_first: bool) -> list[dict[str, Any]]:
    query = sa.select(history).where(history.c.owner == owner)
    if alarm is not None:
        query = query.where(history.c.alarm == alarm)
    if kind is not None:
        query = query.where(history.c.kind == kind)
    if start is not None:
        query = query.where(history.c.timestamp >= start)
    if end is not None:
        query = query.where(history.c.timestamp <= end)
    order = history.c.timestamp.desc() if newest_first else history.c.timestamp
    with store.engine.connect() as conn:
        rows = conn.execute(query.order_by(order, history.c.id.desc() if newest_first else history.c.id)).all()
    return [{"AlarmName": row.alarm, "HistoryItemType": row.kind, "HistorySummary": row.summary,
             "HistoryData": row.data, "Timestamp": row.timestamp} for row in rows]


def purge_history(store: Store, before: float) -> int:
    with store.begin() as conn:
        return conn.execute(history.delete().where(history.c.timestamp < before)).rowcount
