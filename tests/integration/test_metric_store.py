"""The metric store on SQLite and on a real PostgreSQL: per-minute rows, their merges, roll-ups and purge,
and what a VM-day of sampled metrics costs on disk."""
from __future__ import annotations

import sqlite3
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from frontends.cloudwatch import alarm_store
from gateway.metric_points import DataPoint
from gateway.metric_store import DAY, Aggregate, MetricStore, Retention
from gateway.store import Store, load_or_create_key

from .test_shared_store import postgresql, store_url  # noqa: F401  (the same two backends)

NOW = 1_789_948_800.0  # a fixed "now", on a whole day (UTC midnight)
INSTANCE = (("InstanceId", "i-84623036aaaabbbbccccddddeeeeffff"),)
SAMPLED = ("CPUUtilization", "NetworkIn", "NetworkOut", "NetworkPacketsIn", "NetworkPacketsOut", "DiskReadBytes",
           "DiskWriteBytes", "DiskReadOps", "DiskWriteOps", "MemoryUtilization")


def metric_store(url: str, tmp_path: Path, now: float = NOW) -> MetricStore:
    return MetricStore(Store(url, load_or_create_key(tmp_path / "secret.key")), Retention(), clock=lambda: now)


def point(value: float, at: float, metric: str = "Load", scope: str = "lab|alice") -> DataPoint:
    return DataPoint(scope, "Custom/App", metric, (("Host", "web1"),), at, value, "Count")


def test_points_of_one_minute_merge_into_one_row_of_count_sum_min_max(store_url: str, tmp_path: Path) -> None:
    metrics = metric_store(store_url, tmp_path)
    start = NOW - 3600
    metrics.put_points([point(3.0, start + 1), point(7.0, start + 59)])
    metrics.put_points([point(1.0, start + 30), point(4.0, start + 60)])
    metrics.put_aggregates([Aggregate("lab|alice", "Custom/App", "Load", (("Host", "web1"),), start + 61, 10, 50.0,
                                      0.5, 9.5, "Count")])
    [series] = metrics.series(["lab|alice"], namespace="Custom/App")
    assert (series.metric, series.dimensions, series.unit) == ("Load", (("Host", "web1"),), "Count")
    rows = metrics.rows([series.id], start, start + 120)
    assert [(r.start, r.count, r.sum, r.minimum, r.maximum) for r in rows] == [
        (start, 3, 11.0, 1.0, 7.0), (start + 60, 11, 54.0, 0.5, 9.5)]
    assert metrics.series(["lab|bob"]) == []  # another owner's scope sees nothing
    # last_seen moves only by ten minutes or more (one UPDATE per ten minutes of a sampler, not per minute)
    assert series.last_seen == start + 59
    metrics.put_points([point(2.0, start + 659)])
    assert metrics.series(["lab|alice"])[0].last_seen == start + 659


def test_rows_roll_up_to_five_minutes_then_hours_then_go(store_url: str, tmp_path: Path) -> None:
    old = NOW - 2 * DAY
    metric_store(store_url, tmp_path).put_points(point(float(m % 10), old + m * 60) for m in range(120))
    [series] = metric_store(store_url, tmp_path).series(["lab|alice"])

    sixteen_days_on = metric_store(store_url, tmp_path, NOW + 16 * DAY)
    assert sixteen_days_on.roll_up_and_purge() == 120
    rows = sixteen_days_on.rows([series.id], old, old + 7200)
    assert {r.resolution for r in rows} == {300} and len(rows) == 24
    assert (sum(r.count for r in rows), sum(r.sum for r in rows)) == (120, 540.0)
    assert (rows[0].minimum, rows[0].maximum, rows[1].minimum, rows[1].maximum) == (0.0, 4.0, 5.0, 9.0)

    sixty_four_days_on = metric_store(store_url, tmp_path, NOW + 64 * DAY)
    assert sixty_four_days_on.roll_up_and_purge() == 24
    hours = sixty_four_days_on.rows([series.id], old, old + 7200)
    assert [(r.resolution, r.count, r.sum, r.minimum, r.maximum) for r in hours] == [(3600, 60, 270.0, 0.0, 9.0),
                                                                                      (3600, 60, 270.0, 0.0, 9.0)]

    later = metric_store(store_url, tmp_path, NOW + 456 * DAY)
    assert later.roll_up_and_purge() == 3  # two hour rows and the series they belonged to
    assert later.series(["lab|alice"]) == []


def test_recent_rows_stay_at_one_minute(store_url: str, tmp_path: Path) -> None:
    metrics = metric_store(store_url, tmp_path)
    metrics.put_points(point(1.0, NOW - 14 * DAY + m * 60) for m in range(5))
    assert metrics.roll_up_and_purge() == 0


def test_a_vm_day_of_ten_sampled_metrics_costs_about_400_kib_in_sqlite(tmp_path: Path) -> None:
    """1 VM x 1 day x 10 metrics = 14,400 one-minute rows: measured 404 KiB (28.7 bytes a row) with
    SQLite's dbstat, plus 208 KiB (14.8 bytes a row) of the roll-ups' (resolution, start) index, so
    1,000 VMs x 15 days of one-minute data is about 9 GB."""
    path = tmp_path / "size.db"
    metrics = metric_store(f"sqlite:///{path}", tmp_path)
    day = NOW - DAY
    started = time.perf_counter()
    metrics.put_points(DataPoint("embedded", "AWS/EC2", metric, INSTANCE, day + m * 60 + 5, 12.5 + m % 7, "Percent")
                       for metric in SAMPLED for m in range(1440))
    elapsed = time.perf_counter() - started
    metrics.store.close()
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        rows = db.execute("SELECT count(*) FROM metric_points").fetchone()[0]
        size = db.execute("SELECT sum(pgsize) FROM dbstat WHERE name = 'metric_points'").fetchone()[0]
        index = db.execute("SELECT sum(pgsize) FROM dbstat WHERE name = 'metric_points_age'").fetchone()[0]
    print(f"1 VM x 1 day x 10 metrics: {rows} rows, {size} bytes ({size / rows:.1f} a row) and {index} bytes of "
          f"index ({index / rows:.1f} a row), written in {elapsed:.2f} s")
    assert rows == 14_400
    assert size < 450 * 1024 and index < 250 * 1024


def test_a_series_purged_by_another_process_is_made_anew_on_its_next_point(store_url: str, tmp_path: Path) -> None:
    writer = metric_store(store_url, tmp_path)
    writer.put_points([point(1.0, NOW - 460 * DAY)])
    assert metric_store(store_url, tmp_path).roll_up_and_purge() > 0  # its rows and its series went
    writer.put_points([point(5.0, NOW - 60)])  # the writer still remembers the series' old id
    [series] = writer.series(["lab|alice"])
    assert [(r.start, r.sum) for r in writer.rows([series.id], NOW - 120, NOW)] == [(NOW - 60, 5.0)]


def test_a_roll_up_that_would_overflow_drops_that_row_and_goes_on(tmp_path: Path) -> None:
    """Minutes that SQLite merged to inf and to -inf (values stored before they were bounded) roll up to
    inf + -inf = NaN, which SQLite cannot store: that row is dropped and roll-ups go on, not retried forever."""
    old = NOW - 2 * DAY
    metrics = metric_store(f"sqlite:///{tmp_path / 'metrics.db'}", tmp_path)
    for minute, value in ((0, 1.5e308), (0, 1.5e308), (1, -1.5e308), (1, -1.5e308)):
        metrics.put_points([point(value, old + minute * 60, "Huge")])  # each put finite, their sums not
    metrics.put_points(point(2.0, old + m * 60) for m in range(4))
    later = metric_store(f"sqlite:///{tmp_path / 'metrics.db'}", tmp_path, NOW + 16 * DAY)
    assert later.roll_up_and_purge() == 6
    assert later.roll_up_and_purge() == 0  # nothing left to retry
    [load] = later.series(["lab|alice"], metric="Load")
    assert [(r.resolution, r.count, r.sum) for r in later.rows([load.id], old, old + 300)] == [(300, 4, 8.0)]


def test_roll_ups_and_reads_search_the_points_by_key_never_scan_them(tmp_path: Path) -> None:
    """Every statement roll-ups, the purge and reads run on metric_points, explained by SQLite itself, uses an
    index or the primary key: a scan of the whole table per roll-up step is what they must not do."""
    url = f"sqlite:///{tmp_path / 'plans.db'}"
    metric_store(url, tmp_path).put_points(point(1.0, NOW - 2 * DAY + m * 60) for m in range(20))
    later = metric_store(url, tmp_path, NOW + 16 * DAY)
    statements: list[tuple[str, Any]] = []

    def note(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        if "metric_points" in statement and not executemany and statement.lstrip().upper().startswith(
                ("SELECT", "DELETE")):
            statements.append((statement, parameters))

    sa.event.listen(later.store.engine, "before_cursor_execute", note)
    assert later.roll_up_and_purge() == 20
    [series] = later.series(["lab|alice"])
    assert len(later.rows([series.id], NOW - 3 * DAY, NOW)) == 4
    sa.event.remove(later.store.engine, "before_cursor_execute", note)
    assert len(statements) >= 4
    assert not any("RETURNING" in statement.upper() for statement, _ in statements)  # SQLite 3.35+ only
    with later.store.engine.connect() as conn:
        for statement, parameters in statements:
            plan = [row[-1] for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)]
            assert all(step.startswith("SEARCH") for step in plan if "metric_points" in step), (statement, plan)


def test_two_roll_ups_at_once_count_every_row_once(store_url: str, tmp_path: Path) -> None:
    """Two processes' housekeeping rolling up the same old rows at the same time (threads with a store each,
    as two hosts on one database): every one-minute row ends in exactly one five-minute row."""
    old = NOW - 2 * DAY
    metric_store(store_url, tmp_path).put_points(point(float(m % 10), old + m * 60, metric)
                                                 for metric in ("A", "B", "C") for m in range(600))
    stores = [metric_store(store_url, tmp_path, NOW + 16 * DAY) for _ in range(2)]
    with ThreadPoolExecutor(2) as pool:
        removed = list(pool.map(lambda store: store.roll_up_and_purge(), stores))
    assert sum(removed) == 1800
    series = stores[0].series(["lab|alice"])
    rows = stores[0].rows([s.id for s in series], old, old + 600 * 60)
    assert {r.resolution for r in rows} == {300} and len(rows) == 3 * 120
    assert (sum(r.count for r in rows), sum(r.sum for r in rows)) == (1800, 3 * 2700.0)


def test_two_creates_of_one_alarm_at_once_both_succeed(postgresql: Any, tmp_path: Path) -> None:  # noqa: F811
    """PostgreSQL: another request inserts the alarm between this one's UPDATE (no row yet) and INSERT; the
    INSERT's unique violation becomes an update of the alarm, not an IntegrityError 500."""
    server, directory = postgresql
    database = f"cloudgw_{uuid.uuid4().hex[:12]}"
    server.psql(f"CREATE DATABASE {database};")
    url = f"postgresql+psycopg://postgres:@/{database}?host={directory}"
    mine, other = (Store(url, load_or_create_key(tmp_path / "secret.key")) for _ in range(2))
    definition = {"Namespace": "App", "MetricName": "m", "Period": 60, "EvaluationPeriods": 1}
    raced: list[bool] = []

    def create_first(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        if statement.startswith("INSERT INTO metric_alarms") and not raced:
            raced.append(alarm_store.put(other, "lab|alice", "twin", access_key="AK2", region="r",
                                         definition=definition, actions_enabled=True, now=1.0))

    sa.event.listen(mine.engine, "before_cursor_execute", create_first)
    assert alarm_store.put(mine, "lab|alice", "twin", access_key="AK1", region="r", definition=definition,
                           actions_enabled=False, now=2.0) is False
    assert raced == [True]
    [stored] = alarm_store.find(mine, "lab|alice", ["twin"])
    assert (stored.access_key, stored.actions_enabled) == ("AK1", False)  # the later request's definition
