"""Metrics (Deltacloud 1.1.3's `metrics` collection): one metric per running instance, read live from the
engine through the driver (never from the metric store).

As 1.1.3's views wrote it: `<metric href id><entity>` (the instance's id) and `<properties>` with one element per
measure; shown, each measure holds one `<sample>` of `<property name value/>` pairs (timestamp, average,
minimum, maximum, unit). A live reading is one sample: rates a second where the engine measures rates.
`<name>` (the instance's name) is added so the suite's common member tests have the name they read.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from flask import Response
from lxml import etree

from gateway.errors import NotFound
from gateway.instance_statistics import InstanceStatistics
from gateway.model import Instance, InstanceState

from . import context, respond
from .blueprint import bp
from .description import Entity, Value

# measure -> (unit, how it is read from the statistics); in 1.1.3's EC2 driver's names (CloudWatch's). No
# DiskReadOps/DiskWriteOps: the engine counts disk operations (a total since the VM started) and measures no rate
# of them, and one live reading cannot make a rate.
MEASURES: dict[str, tuple[str, Any]] = {
    "CPUUtilization": ("Percent", lambda s: s.cpu_percent),
    "DiskReadBytes": ("Bytes/Second", lambda s: s.disk_read_bytes_per_second),
    "DiskWriteBytes": ("Bytes/Second", lambda s: s.disk_write_bytes_per_second),
    "MemoryUtilization": ("Percent", lambda s: s.memory_used_percent),
    "NetworkIn": ("Bytes/Second", lambda s: s.network_rx_bytes_per_second),
    "NetworkOut": ("Bytes/Second", lambda s: s.network_tx_bytes_per_second),
}


@dataclass
class Properties:
    """`<properties><CPUUtilization><sample><property name value/>...`; JSON `properties: [{name, values}]`."""

    samples: dict[str, list[dict[str, Any]] | None]

    def to_xml(self, parent: etree._Element) -> None:
        container = etree.SubElement(parent, "properties")
        for name, samples in self.samples.items():
            element = etree.SubElement(container, name)
            for sample in samples or ():
                sample_element = etree.SubElement(element, "sample")
                for key, value in sample.items():
                    etree.SubElement(sample_element, "property", {"name": key, "value": str(value)})

    def to_json(self, out: dict[str, Any]) -> None:
        out["properties"] = [{"name": name, "values": samples} for name, samples in self.samples.items()]


def describe(instance: Instance, stats: InstanceStatistics | None = None) -> Entity:
    samples: dict[str, list[dict[str, Any]] | None] = {}
    for name, (unit, read) in MEASURES.items():
        value = read(stats) if stats is not None else None
        if stats is None or value is None:
            samples[name] = None if stats is None else []
            continue
        at = datetime.fromtimestamp(stats.measured_at, timezone.utc).isoformat()
        samples[name] = [{"timestamp": at, "average": value, "minimum": value, "maximum": value, "unit": unit}]
    return Entity("metric", instance.id, context.api_url("metrics", instance.id), [
        Value("name", instance.name), Value("entity", instance.id), Properties(samples)])


def _running() -> list[Instance]:
    """The running instances, each a metric; a driver that reads no statistics has no metrics collection (the
    entry point lists none)."""
    if not context.driver().can("instance_statistics"):
        raise NotFound("collection", "metrics")
    return [i for i in context.driver().instances(context.scope()) if i.state is InstanceState.RUNNING]


@bp.route("/metrics", methods=["GET"])
def metrics_index() -> Response:
    wanted = context.param(context.params(), "id")
    return respond.collection("metrics", [describe(i) for i in _running() if wanted is None or i.id == wanted])


@bp.route("/metrics/<metric_id>", methods=["GET"])
def metric_show(metric_id: str) -> Response:
    if not context.driver().can("instance_with_statistics"):
        raise NotFound("metric", metric_id)
    instance, stats = context.driver().instance_with_statistics(context.scope(), metric_id)
    if stats is None:  # not running: no metric, as the index lists none for it
        raise NotFound("metric", metric_id)
    return respond.entity(describe(instance, stats))
