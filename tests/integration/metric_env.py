"""What the metric sampler's tests share: the period, a list as the metric store, a sampler on a gateway core's
driver and store, and the gateway's clock put on the sampling grid."""
from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path
from typing import Iterable

from gateway.ec2_ids import instance_id
from gateway.metric_points import DataPoint
from gateway.metric_sampler import MetricSampler
from gateway.model import InstanceState

from .ovirt_env import Gateway

PERIOD = 60.0


class ListSink:
    def __init__(self) -> None:
        self.points: list[DataPoint] = []

    def put_points(self, points: Iterable[DataPoint]) -> None:
        self.points.extend(points)


def running_ids(gw: Gateway) -> list[str]:
    return [i.id for i in gw.driver.instances(gw.scope()) if i.state is InstanceState.RUNNING]


def slot_start(gw: Gateway, into: float = 1.0) -> float:
    """Move the gateway's clock to `into` seconds into the next sampling slot; that slot's start."""
    start = (math.floor(gw.time.now / PERIOD) + 1) * PERIOD
    gw.time.now = start + into
    return start


def monitored(gw: Gateway, tmp_path: Path, user: str = "admin@internal", password: str = "admin") -> MetricSampler:
    """A sampler over the gateway's driver and store, reading the engine as a configured monitoring identity
    (the gateway's clock put just after the start of a slot)."""
    secret = tmp_path / f"monitor-{user}.password"
    secret.write_text(password + "\n")
    provider = replace(gw.provider, monitor_username=user, monitor_password_file=str(secret))
    config = gw.config.with_changes(providers=(provider,), cloudwatch_sample_seconds=PERIOD)
    if gw.time.now % PERIOD != 1.0:
        slot_start(gw)
    return MetricSampler(config, gw.store, lambda p: gw.driver, ListSink(), clock=gw.time)


def of(sampler: MetricSampler, vm: str) -> dict[str, float]:
    """metric -> value of the instance's data points the sampler wrote last."""
    return {p.metric: p.value for p in sink_of(sampler).points if p.dimensions == (("InstanceId", instance_id(vm)),)}




def sink_of(sampler: MetricSampler) -> ListSink:
    assert isinstance(sampler.sink, ListSink)
    return sampler.sink
