"""Data points written into a running gateway's metric store as its sampler writes them (the sampler is off in
tests: its engine requests would land in tests that count them)."""
from __future__ import annotations

import time

from gateway.cli import EMBEDDED_PROVIDER
from gateway.metric_points import DataPoint
from gateway.metric_store import MetricStore
from gateway.store import Store, load_or_create_key


def sampled(gateway, instance_id: str, metric: str, values: dict[int, float], unit: str,
            namespace: str = "AWS/EC2") -> None:
    """One point a minute (`values`: minutes ago -> value) for the instance's EC2 id, straight into the store."""
    minute = int(time.time() // 60) * 60
    store = Store(f"sqlite:///{gateway.data_dir / 'cloudgw.db'}", load_or_create_key(gateway.data_dir / "secret.key"))
    try:
        MetricStore(store).put_points(
            DataPoint(EMBEDDED_PROVIDER, namespace, metric, (("InstanceId", instance_id),), minute - ago * 60 + 5,
                      value, unit) for ago, value in values.items())
    finally:
        store.close()
