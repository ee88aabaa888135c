"""The store's tables (SQLAlchemy Core) and their schema version.

Bump SCHEMA_VERSION with every change to these tables; Store refuses a database newer than it knows.
"""
from __future__ import annotations

import sqlalchemy as sa

SCHEMA_VERSION = 1

metadata = sa.MetaData()

meta_table = sa.Table(
    "meta", metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

credentials_table = sa.Table(
    "credentials", metadata,
    sa.Column("access_key", sa.String(128), primary_key=True),
    sa.Column("secret_enc", sa.Text, nullable=False),
    sa.Column("username", sa.String(255), nullable=False),
    sa.Column("password_enc", sa.Text, nullable=False),
    sa.Column("provider", sa.String(255)),
    sa.Column("description", sa.Text, nullable=False, default=""),
    sa.Column("created", sa.Float, nullable=False),
)

key_pairs_table = sa.Table(
    "key_pairs", metadata,
    sa.Column("owner", sa.String(512), primary_key=True),
    sa.Column("name", sa.String(255), primary_key=True),
    sa.Column("id", sa.String(64), nullable=False),
    sa.Column("key_type", sa.String(32), nullable=False),
    sa.Column("fingerprint", sa.String(255), nullable=False),
    sa.Column("public_key", sa.Text, nullable=False),
    sa.Column("created", sa.Float, nullable=False),
)

tags_table = sa.Table(
    "tags", metadata,
    sa.Column("owner", sa.String(512), primary_key=True),
    sa.Column("resource_id", sa.String(128), primary_key=True),
    sa.Column("key", sa.String(255), primary_key=True),
    sa.Column("resource_type", sa.String(64), nullable=False),
    sa.Column("value", sa.Text, nullable=False),
)

tokens_table = sa.Table(
    "idempotency_tokens", metadata,
    sa.Column("owner", sa.String(512), primary_key=True),
    sa.Column("token", sa.String(255), primary_key=True),
    sa.Column("fingerprint", sa.String(128), nullable=False),
    sa.Column("result", sa.Text, nullable=False),
    sa.Column("created", sa.Float, nullable=False),
)

tombstones_table = sa.Table(
    "tombstones", metadata,
    sa.Column("place", sa.String(512), primary_key=True),
    sa.Column("resource_id", sa.String(128), primary_key=True),
    sa.Column("kind", sa.String(64), nullable=False),
    sa.Column("data", sa.Text, nullable=False),
    sa.Column("deleted_at", sa.Float, nullable=False, index=True),
)

entities_table = sa.Table(
    "entities", metadata,
    sa.Column("kind", sa.String(64), primary_key=True),
    sa.Column("owner", sa.String(512), primary_key=True),
    sa.Column("id", sa.String(128), primary_key=True),
    sa.Column("data", sa.Text, nullable=False),
    sa.Column("created", sa.Float, nullable=False),
    sa.Column("updated", sa.Float, nullable=False),
)

operations_table = sa.Table(
    "operations", metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("kind", sa.String(64), nullable=False),
    sa.Column("owner", sa.String(512), nullable=False, default=""),
    sa.Column("target", sa.String(255), nullable=False, default=""),
    sa.Column("step", sa.String(64), nullable=False),
    sa.Column("state", sa.String(16), nullable=False, index=True),  # pending, running, done, failed
    sa.Column("data", sa.Text, nullable=False),
    sa.Column("secret_enc", sa.Text),
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("last_error", sa.Text),
    sa.Column("lease_owner", sa.String(128)),
    sa.Column("lease_until", sa.Float),
    sa.Column("due_at", sa.Float, nullable=False, index=True),
    sa.Column("created", sa.Float, nullable=False),
    sa.Column("updated", sa.Float, nullable=False),
)

# --- CloudWatch: metric series, their per-minute (then rolled-up) aggregates, alarms and alarm history ---
# Added tables only: a cloudgw that predates them ignores them, so the schema version stays.
metric_series_table = sa.Table(
    "metric_series", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("scope", sa.String(512), nullable=False),  # provider name (sampled) or an owner key (PutMetricData)
    sa.Column("namespace", sa.String(255), nullable=False),
    sa.Column("metric", sa.String(255), nullable=False),
    sa.Column("dimensions", sa.Text, nullable=False),  # canonical JSON of sorted [name, value] pairs
    sa.Column("unit", sa.String(32), nullable=False),
    sa.Column("last_seen", sa.Float, nullable=False),  # newest point's time, for ListMetrics' RecentlyActive
    sa.UniqueConstraint("scope", "namespace", "metric", "dimensions", "unit", name="metric_series_identity"),
)

# One row per series, resolution (60, 300 or 3600 s) and period start: count/sum/min/max of what fell in it.
# WITHOUT ROWID on SQLite: the primary key is the table, so a row costs its own bytes and nothing more.
metric_points_table = sa.Table(
    "metric_points", metadata,
    sa.Column("series_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("resolution", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("start", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("count", sa.Float, nullable=False),
    sa.Column("sum", sa.Float, nullable=False),
    sa.Column("min", sa.Float),  # NULL: the row holds one value, its sum (no bytes spent on a copy)
    sa.Column("max", sa.Float),
    # Roll-ups and the purge look for the oldest rows of one resolution across every series: without this
    # index each step scanned the whole table (the primary key leads with series_id).
    sa.Index("metric_points_age", "resolution", "start"),
    sqlite_with_rowid=False,
)

metric_alarms_table = sa.Table(
    "metric_alarms", metadata,
    sa.Column("owner", sa.String(512), primary_key=True),
    sa.Column("name", sa.String(255), primary_key=True),
    sa.Column("access_key", sa.String(128), nullable=False),  # whose credentials its actions act with
    sa.Column("region", sa.String(255), nullable=False),
    sa.Column("definition", sa.Text, nullable=False),  # PutMetricAlarm's parameters, JSON
    sa.Column("state", sa.String(32), nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("reason_data", sa.Text, nullable=False),
    sa.Column("state_updated", sa.Float, nullable=False),
    sa.Column("actions_enabled", sa.Boolean, nullable=False),
    sa.Column("config_updated", sa.Float, nullable=False),
    sa.Column("evaluated", sa.Float, nullable=False),
)

alarm_history_table = sa.Table(
    "alarm_history", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("owner", sa.String(512), nullable=False, index=True),
    sa.Column("alarm", sa.String(255), nullable=False),
    sa.Column("kind", sa.String(32), nullable=False),  # ConfigurationUpdate, StateUpdate, Action
    sa.Column("summary", sa.Text, nullable=False),
    sa.Column("data", sa.Text, nullable=False),
    sa.Column("timestamp", sa.Float, nullable=False, index=True),
)
