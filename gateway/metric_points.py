"""One measured value of one metric: what the sampler of engine statistics produces and the metric store keeps.

Shared by the two sides of CloudWatch support so they meet at one small type: the sampler
(drivers' VM statistics, read per provider) writes `DataPoint`s to a `MetricSink`; the CloudWatch
frontend reads them back through the metric store, which is such a sink.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Protocol


@dataclass(frozen=True)
class DataPoint:
    """A value of `metric` in `namespace` for one set of dimensions at one time.

    `scope` says whose it is: the provider's name for metrics the gateway samples from an engine
    (namespace AWS/EC2 and the memory namespace), the caller's owner key for PutMetricData.
    `dimensions` are sorted (name, value) pairs so equal sets compare equal.
    """

    scope: str
    namespace: str
    metric: str
    dimensions: tuple[tuple[str, str], ...]
    timestamp: float  # seconds since the epoch, UTC
    value: float
    unit: str = "None"


class MetricSink(Protocol):
    """Where data points go (the metric store; a list in a sampler's unit test)."""

    def put_points(self, points: Iterable[DataPoint]) -> None: ...
