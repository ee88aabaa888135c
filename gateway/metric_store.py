"""The metric store: CloudWatch's data points in the gateway's store, compact and with bounded retention.

A point is never kept alone: each (series, minute) is one row holding count, sum, minimum and maximum
of what fell in that minute, so a sampler's value and a PutMetricData `StatisticValues` set fit alike and
every statistic CloudWatch answers (SampleCount, Sum, Average, Minimum, Maximum) comes from the rows. A
series is (scope, namespace, metric, dimensions, unit). As CloudWatch documents, one-minute rows are kept
15 days, then rolled up into five-minute rows kept 63 days, then into one-hour rows kept 455 days (the
three numbers are `[cloudwatch]` settings); `roll_up_and_purge` (a housekeeping task) does both.

A roll-up reads the fine rows of its window, DELETEs them and merges them into the coarse rows with an
upsert, in one transaction that it abandons if the DELETE took fewer rows than it read: two processes
rolling up at once never count a row twice, since rows only one of them deleted are only one of them
merged (no row enters a window that old meanwhile). `DELETE ... RETURNING` would say the same in one
statement, but needs SQLite 3.35, newer than some supported systems have (Debian 11: 3.34).
"""
from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Callable

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from .metric_points import DataPoint
from .schema import metric_points_table as points, metric_series_table as series_table
from .store import Store

log = logging.getLogger("cloudgw.metrics")

DAY = 86400
MINUTE, FIVE_MINUTES, HOUR = 60, 300, 3600
RESOLUTIONS = (MINUTE, FIVE_MINUTES, HOUR)
CHUNK = 500  # rows per statement: well under SQLite's bound-parameter limit
Identity = tuple[str, str, str, str, str]  # scope, namespace, metric, dimensions text, unit
MAX_RACES = 100  # windows a roll-up leaves to another process rolling up at once before it stops
SEEN_STEP = 600.0  # seconds a series' last_seen may lag behind its newest point


@dataclass(frozen=True)
class Retention:
    """How long rows of each resolution are kept, in days (CloudWatch's 15 / 63 / 455)."""

    minute_days: float = 15.0
    five_minute_days: float = 63.0
    hour_days: float = 455.0


@dataclass(frozen=True)
class Aggregate:
    """What fell in one period of one series: count, sum, minimum and maximum of its values."""

    scope: str
    namespace: str
    metric: str
    dimensions: tuple[tuple[str, str], ...]
    timestamp: float
    count: float
    sum: float
    minimum: float
    maximum: float
    unit: str = "None"

    @classmethod
    def of(cls, point: DataPoint, count: float = 1.0) -> "Aggregate":
        """One value seen `count` times (PutMetricData's Values with Counts)."""
        return cls(point.scope, point.namespace, point.metric, point.dimensions, point.timestamp, count,
                   point.value * count, point.value, point.value, point.unit)


@dataclass(frozen=True)
class Series:
    id: int
    scope: str
    namespace: str
    metric: str
    dimensions: tuple[tuple[str, str], ...]
    unit: str
    last_seen: float


@dataclass(frozen=True)
class Row:
    """One stored period of one series."""

    series_id: int
    resolution: int
    start: int
    count: float
    sum: float
    minimum: float
    maximum: float


def dimensions_text(dimensions: Iterable[tuple[str, str]]) -> str:
    return json.dumps(sorted([name, value] for name, value in dimensions), separators=(",", ":"))


def _finite(*numbers: float) -> bool:
    """SQLite stores NaN as NULL (a NOT NULL error) and inf + -inf is NaN: only finite numbers are stored."""
    return all(math.isfinite(number) for number in numbers)


def _dimensions(text: str) -> tuple[tuple[str, str], ...]:
    return tuple((name, value) for name, value in json.loads(text))


class MetricStore:
    """A `MetricSink` over the gateway's store, and the reads CloudWatch's API makes."""

    def __init__(self, store: Store, retention: Retention = Retention(),
                 clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.retention = retention
        self.clock = clock
        self._series_ids: dict[Identity, int] = {}  # identity -> id; ids never change
        self._seen: dict[Identity, float] = {}  # identity -> the last_seen this process last wrote

    # --- writing ------------------------------------------------------------------------------------
    def put_points(self, points_in: Iterable[DataPoint]) -> None:
        """Store sampled points (the `MetricSink` the sampler writes to)."""
        self.put_aggregates(Aggregate.of(point) for point in points_in)

    def put_aggregates(self, aggregates: Iterable[Aggregate]) -> None:
        """Merge aggregates into their series' one-minute rows, in one transaction."""
        merged: dict[tuple[Identity, int], list[float]] = {}
        newest: dict[Identity, float] = {}
        for item in aggregates:
            if not _finite(item.count, item.sum, item.minimum, item.maximum):
                log.warning("dropped a non-finite data point of %s %s", item.namespace, item.metric)
                continue
            identity = (item.scope, item.namespace, item.metric, dimensions_text(item.dimensions), item.unit)
            start = int(item.timestamp // MINUTE * MINUTE)
            row = merged.get((identity, start))
            if row is None:
                merged[(identity, start)] = [item.count, item.sum, item.minimum, item.maximum]
            else:
                row[0] += item.count
                row[1] += item.sum
                row[2] = min(row[2], item.minimum)
                row[3] = max(row[3], item.maximum)
            newest[identity] = max(newest.get(identity, -math.inf), item.timestamp)
        if not merged:
            return
        with self.store.begin() as conn:
            ids = self._ensure_series(conn, newest)
            rows = [dict(series_id=ids[identity], resolution=MINUTE, start=start, count=v[0], sum=v[1], min=v[2],
                         max=v[3]) for (identity, start), v in merged.items() if _finite(*v)]
            for first in range(0, len(rows), CHUNK):
                self._merge_rows(conn, rows[first:first + CHUNK])

    def _ensure_series(self, conn: sa.Connection, newest: dict[Identity, float]) -> dict[Identity, int]:
        """The ids of these series, the new ones created in one statement; `last_seen` written when it moved
        SEEN_STEP or more (ListMetrics' RecentlyActive reads hours, the purge months), so a sampler's
        minute costs one UPDATE statement every ten minutes rather than one per series."""
        fresh = [identity for identity in newest if identity not in self._series_ids]
        if fresh:
            self._create_series(conn, {identity: newest[identity] for identity in fresh})
        moved = [identity for identity in newest
                 if newest[identity] - self._seen.get(identity, -math.inf) >= SEEN_STEP]
        if moved:
            latest = sa.func.max if self._is_sqlite else sa.func.greatest
            update = series_table.update().where(series_table.c.id == sa.bindparam("sid")).values(
                last_seen=latest(series_table.c.last_seen, sa.bindparam("seen")))
            rows = [{"sid": self._series_ids[identity], "seen": newest[identity]} for identity in moved]
            touched = conn.execute(update, rows).rowcount
            if touched != len(rows) or not conn.dialect.supports_sane_multi_rowcount:
                gone = [identity for identity in moved  # another process purged them: make them anew
                        if not conn.execute(update, {"sid": self._series_ids[identity],
                                                     "seen": newest[identity]}).rowcount]
                for identity in gone:
                    del self._series_ids[identity]
                if gone:
                    self._create_series(conn, {identity: newest[identity] for identity in gone})
            for identity in moved:
                self._seen[identity] = max(self._seen.get(identity, -math.inf), newest[identity])
        return {identity: self._series_ids[identity] for identity in newest}

    def _create_series(self, conn: sa.Connection, seen: dict[Identity, float]) -> None:
        """Insert these series (those another process made first are kept) and learn their ids."""
        insert = self._insert(series_table).on_conflict_do_nothing(
            index_elements=["scope", "namespace", "metric", "dimensions", "unit"])
        conn.execute(insert, [dict(scope=i[0], namespace=i[1], metric=i[2], dimensions=i[3], unit=i[4],
                                   last_seen=when) for i, when in seen.items()])
        columns = (series_table.c.scope, series_table.c.namespace, series_table.c.metric, series_table.c.dimensions,
                   series_table.c.unit)
        query = sa.select(series_table.c.id, *columns).where(
            series_table.c.scope.in_({i[0] for i in seen}) & series_table.c.namespace.in_({i[1] for i in seen})
            & series_table.c.metric.in_({i[2] for i in seen}))
        for row in conn.execute(query):
            identity = (row.scope, row.namespace, row.metric, row.dimensions, row.unit)
            if identity in seen:
                self._series_ids[identity] = row.id

    def _insert(self, table: sa.Table) -> Any:
        """The dialect's INSERT, which has ON CONFLICT (SQLite and PostgreSQL alike)."""
        dialect = postgresql if self.store.engine.dialect.name == "postgresql" else sqlite
        return dialect.insert(table)

    def _merge_rows(self, conn: sa.Connection, rows: list[dict[str, Any]]) -> None:
        """Insert rows, or merge them into the rows already there. A row of one value (count 1) stores
        only its sum: min and max are NULL, which SQLite stores in no bytes (a row shrinks from 42 to 26)."""
        for row in rows:
            if row["count"] == 1 and row["min"] == row["max"] == row["sum"]:
                row["min"] = row["max"] = None
        insert = self._insert(points)
        new = insert.excluded
        lower, upper = (sa.func.min, sa.func.max) if self._is_sqlite else (sa.func.least, sa.func.greatest)
        conn.execute(insert.on_conflict_do_update(
            index_elements=["series_id", "resolution", "start"],
            set_={"count": points.c.count + new["count"], "sum": points.c.sum + new["sum"],
                  "min": lower(sa.func.coalesce(points.c.min, points.c.sum), sa.func.coalesce(new["min"], new["sum"])),
                  "max": upper(sa.func.coalesce(points.c.max, points.c.sum),
                               sa.func.coalesce(new["max"], new["sum"]))}), rows)  # one executemany

    @property
    def _is_sqlite(self) -> bool:
        return self.store.engine.dialect.name == "sqlite"

    # --- reading ------------------------------------------------------------------------------------
    def series(self, scopes: Sequence[str], *, namespace: str | None = None, metric: str | None = None,
               dimensions: tuple[tuple[str, str], ...] | None = None, unit: str | None = None,
               seen_since: float | None = None) -> list[Series]:
        """The series of these scopes, narrowed by namespace, metric, exact dimensions, unit and recency."""
        query = sa.select(series_table).where(series_table.c.scope.in_(list(scopes)))
        if namespace is not None:
            query = query.where(series_table.c.namespace == namespace)
        if metric is not None:
            query = query.where(series_table.c.metric == metric)
        if dimensions is not None:
            query = query.where(series_table.c.dimensions == dimensions_text(dimensions))
        if unit is not None:
            query = query.where(series_table.c.unit == unit)
        if seen_since is not None:
            query = query.where(series_table.c.last_seen >= seen_since)
        with self.store.engine.connect() as conn:
            rows = conn.execute(query.order_by(series_table.c.id)).all()
        return [Series(r.id, r.scope, r.namespace, r.metric, _dimensions(r.dimensions), r.unit, r.last_seen)
                for r in rows]

    def rows(self, series_ids: Sequence[int], start: float, end: float) -> list[Row]:
        """The stored periods of these series that begin in [start, end), any resolution, oldest first."""
        found: list[Row] = []
        with self.store.engine.connect() as conn:
            for first in range(0, len(series_ids), CHUNK):
                query = sa.select(points).where(points.c.series_id.in_(list(series_ids[first:first + CHUNK]))
                                                & points.c.resolution.in_(RESOLUTIONS)  # a key range, not a scan
                                                & (points.c.start >= math.floor(start))
                                                & (points.c.start < math.ceil(end))).order_by(points.c.start)
                found.extend(Row(r.series_id, r.resolution, r.start, r.count, r.sum,
                                 r.sum if r.min is None else r.min, r.sum if r.max is None else r.max)
                             for r in conn.execute(query))
        found.sort(key=lambda row: row.start)
        return found

    # --- retention ----------------------------------------------------------------------------------
    def roll_up_and_purge(self) -> int:
        """Roll one-minute rows past their retention into five-minute rows, those into hours, drop hours past
        theirs, and forget series with no row left; returns how many rows went."""
        now = self.clock()
        removed = self._roll_up(MINUTE, FIVE_MINUTES, now - self.retention.minute_days * DAY)
        removed += self._roll_up(FIVE_MINUTES, HOUR, now - self.retention.five_minute_days * DAY)
        cutoff = int(now - self.retention.hour_days * DAY)
        with self.store.begin() as conn:
            removed += conn.execute(points.delete().where((points.c.resolution == HOUR)
                                                          & (points.c.start < cutoff))).rowcount
            if removed:
                emptied = ~sa.exists().where(points.c.series_id == series_table.c.id)
                orphaned = sa.select(series_table.c.id).where(emptied & (series_table.c.last_seen < cutoff))
                removed += conn.execute(series_table.delete().where(series_table.c.id.in_(orphaned))).rowcount
        return removed

    def _roll_up(self, fine: int, coarse: int, before: float) -> int:
        """Move rows of resolution `fine` older than `before` into `coarse` rows, one whole coarse period
        (of every series) per transaction, oldest first."""
        cutoff = int(before // coarse * coarse)
        taken = races = 0
        while True:
            try:
                with self.store.begin() as conn:
                    done = self._roll_up_window(conn, fine, coarse, cutoff)
            except _Raced:
                races += 1  # another process rolled that window up: its merge stands, go on to the next
                if races > MAX_RACES:  # it is rolling up too: leave it the rest
                    return taken
                continue
            if done is None:
                return taken
            taken += done

    def _roll_up_window(self, conn: sa.Connection, fine: int, coarse: int, cutoff: int) -> int | None:
        """Roll up the oldest coarse period before `cutoff` (of every series); how many rows it took, None
        if there was none. Raises _Raced (the transaction is abandoned) if another process took them first."""
        oldest = conn.execute(sa.select(sa.func.min(points.c.start)).where(
            (points.c.resolution == fine) & (points.c.start < cutoff))).scalar()
        if oldest is None:
            return None
        window = (points.c.resolution == fine) & (points.c.start < int(oldest // coarse * coarse) + coarse)
        gone = conn.execute(sa.select(points.c.series_id, points.c.start, points.c.count, points.c.sum, points.c.min,
                                      points.c.max).where(window)).all()
        if conn.execute(points.delete().where(window)).rowcount != len(gone):
            raise _Raced()
        merged: dict[tuple[int, int], list[float]] = {}
        for row in gone:
            key = (row.series_id, row.start // coarse * coarse)
            low = row.sum if row.min is None else row.min
            high = row.sum if row.max is None else row.max
            into = merged.get(key)
            if into is None:
                merged[key] = [row.count, row.sum, low, high]
            else:
                into[0] += row.count
                into[1] += row.sum
                into[2] = min(into[2], low)
                into[3] = max(into[3], high)
        rows = [dict(series_id=sid, resolution=coarse, start=start, count=v[0], sum=v[1], min=v[2], max=v[3])
                for (sid, start), v in merged.items() if _finite(*v)]
        if len(rows) < len(merged):  # rows stored before values were bounded: dropped, not retried forever
            log.warning("roll-up dropped %d non-finite rows", len(merged) - len(rows))
        for first in range(0, len(rows), CHUNK):
            self._merge_rows(conn, rows[first:first + CHUNK])
        return len(gone)


class _Raced(Exception):
    """A roll-up's DELETE found fewer rows than it read: another process is rolling up the same window."""
