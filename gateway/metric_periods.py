"""Statistics per period from the metric store's rows: what CloudWatch's reads and the console's charts share.

Each stored row holds count, sum, minimum and maximum of its period, so a period of an answer merges the
rows that begin in it. Only periods that fit the resolution kept for the start time's age give data, as
CloudWatch documents (multiples of 60 s within 15 days, of 300 s within 63 days, of 3600 s beyond).
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .ec2_ids import instance_id
from .metric_store import DAY, FIVE_MINUTES, HOUR, MINUTE, MetricStore, Row


@dataclass
class Bucket:
    """One period of an answer: the merged rows that began in it."""

    start: float
    count: float = 0.0
    total: float = 0.0
    minimum: float = math.inf
    maximum: float = -math.inf

    def add(self, row: Row) -> None:
        self.count += row.count
        self.total += row.sum
        self.minimum = min(self.minimum, row.minimum)
        self.maximum = max(self.maximum, row.maximum)

    def statistic(self, name: str) -> float:
        if name == "SampleCount":
            return self.count
        if name == "Sum":
            return self.total
        if name == "Minimum":
            return self.minimum
        if name == "Maximum":
            return self.maximum
        return self.total / self.count if self.count else 0.0


def kept_resolution(start: float, now: float, minute_days: float, five_minute_days: float) -> int:
    """The resolution CloudWatch keeps for data as old as `start`."""
    age = now - start
    if age <= minute_days * DAY:
        return MINUTE
    if age <= five_minute_days * DAY:
        return FIVE_MINUTES
    return HOUR


def merged_periods(rows: Iterable[Row], start: float, period: int) -> dict[int, Bucket]:
    """Rows merged into the periods of `period` seconds from `start`, by index (0: the period at `start`)."""
    found: dict[int, Bucket] = {}
    for row in rows:
        index = int((row.start - start) // period)
        bucket = found.get(index)
        if bucket is None:
            bucket = found[index] = Bucket(start + index * period)
        bucket.add(row)
    return found


def periods_with_data(metric_store: MetricStore, series_ids: Sequence[int], start: float, end: float, period: int,
                      minute_days: float, five_minute_days: float) -> list[Bucket]:
    """The periods of [start, end) that have data, oldest first, merged over the given series (none for a
    period finer than the resolution kept for that age, as CloudWatch answers)."""
    if not series_ids:
        return []
    resolution = kept_resolution(start, metric_store.clock(), minute_days, five_minute_days)
    start = math.floor(start / resolution) * resolution  # CloudWatch rounds StartTime down likewise
    if period % resolution:
        return []
    found = merged_periods(metric_store.rows(series_ids, start, end), start, period)
    return [found[index] for index in sorted(found)]


def instance_metric(metric_store: MetricStore, provider: str, backend_id: str, namespace: str, metric: str,
                    start: float, end: float, period: int, minute_days: float,
                    five_minute_days: float) -> tuple[str | None, list[Bucket]]:
    """One sampled metric of one instance (the sampler's `InstanceId` dimension, the provider's scope): its unit
    (None without a series) and its periods with data. The caller has checked that the instance is visible."""
    found = metric_store.series([provider], namespace=namespace, metric=metric,
                                dimensions=(("InstanceId", instance_id(backend_id)),))
    if not found:
        return None, []
    unit = found[0].unit
    ids = [s.id for s in found if s.unit == unit]
    return unit, periods_with_data(metric_store, ids, start, end, period, minute_days, five_minute_days)
