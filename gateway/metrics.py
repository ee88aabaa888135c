"""Prometheus metrics at `/metrics` on the gateway's own port (`[metrics] enabled = true`; off by default).

Imported only when enabled: prometheus_client picks its storage when imported, and under gunicorn
(gateway/gunicorn_conf.py sets PROMETHEUS_MULTIPROC_DIR before any worker starts) every worker writes
its counts to files there, so whichever worker answers a scrape reports the sum over all of them. The
embedded `cloudgw serve` is one process and keeps them in memory.

What the store knows (operations by kind and state, the queue and its oldest operation, idempotency
tokens, tombstones) is counted at scrape time with a few COUNT queries, so every process answers the same.
"""
from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, Iterator

import sqlalchemy as sa
from flask import Flask, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from . import request_stats
from .request_log import RequestObserver
from .request_stats import RequestStats

if TYPE_CHECKING:
    from .app import Gateway

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)

REQUESTS = Counter("cloudgw_requests", "Requests answered, by frontend, API action and HTTP status.",
                   ["frontend", "action", "status"], registry=None)
REQUEST_SECONDS = Histogram("cloudgw_request_duration_seconds", "Time to answer a request, by frontend and action.",
                            ["frontend", "action"], buckets=LATENCY_BUCKETS, registry=None)
ENGINE_REQUESTS = Counter("cloudgw_engine_requests",
                          "HTTP exchanges with engines, by method and status (`error`: no answer came back).",
                          ["method", "status"], registry=None)
ENGINE_SECONDS = Histogram("cloudgw_engine_request_duration_seconds",
                           "Time until an engine's answer (status and headers) arrived, by method.", ["method"],
                           buckets=LATENCY_BUCKETS, registry=None)
STORE_ERRORS = Counter("cloudgw_store_errors", "Store (database) errors, by exception class.", ["error"],
                       registry=None)
PROCESS_METRICS = (REQUESTS, REQUEST_SECONDS, ENGINE_REQUESTS, ENGINE_SECONDS, STORE_ERRORS)


def multiprocess_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or os.environ.get("prometheus_multiproc_dir") or None


class StoreCollector(Collector):
    """Gauges read from the store at scrape time: operations, the queue, tokens and tombstones."""

    def __init__(self, gateway: "Gateway") -> None:
        self.gateway = gateway

    def collect(self) -> Iterator[GaugeMetricFamily]:
        up = GaugeMetricFamily("cloudgw_store_up", "1 when the store answered this scrape's queries, else 0.")
        try:
            by_kind_state, oldest = self.gateway.operations.summary()
            counts = self.gateway.store.counts()
        except sa.exc.SQLAlchemyError:  # counted in cloudgw_store_errors by the engine's error hook
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        operations = GaugeMetricFamily("cloudgw_operations", "Durable operations in the store, by kind and state.",
                                       labels=["kind", "state"])
        for (kind, state), number in sorted(by_kind_state.items()):
            operations.add_metric([kind, state], number)
        yield operations
        active = sum(n for (_, state), n in by_kind_state.items() if state in ("pending", "running"))
        yield GaugeMetricFamily("cloudgw_operations_queue_depth",
                                "Durable operations not yet ended (pending or running).", value=active)
        age = max(0.0, self.gateway.operations.clock() - oldest) if oldest is not None else 0.0
        yield GaugeMetricFamily("cloudgw_operations_oldest_age_seconds",
                                "Age of the oldest operation not yet ended (0 when there is none).", value=age)
        yield GaugeMetricFamily("cloudgw_idempotency_tokens", "EC2 ClientTokens kept in the store.",
                                value=counts["idempotency_tokens"])
        yield GaugeMetricFamily("cloudgw_tombstones", "Tombstones of deleted resources kept in the store.",
                                value=counts["tombstones"])


def registry_for(gateway: "Gateway") -> CollectorRegistry:
    """What one scrape reports: this process's (or, under gunicorn, every worker's) counts and the store's."""
    registry = CollectorRegistry(auto_describe=True)
    registry.register(StoreCollector(gateway))  # first: a store error it meets is in this scrape's count
    if multiprocess_dir():
        MultiProcessCollector(registry)
    else:
        for metric in PROCESS_METRICS:
            registry.register(metric)
    return registry


def _observe_engine(method: str, status: str, seconds: float) -> None:
    ENGINE_REQUESTS.labels(method, status).inc()
    ENGINE_SECONDS.labels(method).observe(seconds)


def _observe_request(stats: RequestStats, status: int, seconds: float) -> None:
    REQUESTS.labels(stats.frontend, stats.action, str(status)).inc()
    REQUEST_SECONDS.labels(stats.frontend, stats.action).observe(seconds)


def _count_store_error(context: Any) -> None:
    """SQLAlchemy's hook for every database error; a taken key (IntegrityError) is how the store answers
    AlreadyExists, not a failure."""
    if not isinstance(context.sqlalchemy_exception, sa.exc.IntegrityError):
        STORE_ERRORS.labels(type(context.original_exception).__name__).inc()


def install(app: Flask, gateway: "Gateway") -> RequestObserver:
    """Serve `/metrics`, count store errors and engine requests; returns the per-request observer."""
    registry = registry_for(gateway)
    request_stats.observe_engine_requests(_observe_engine)
    sa.event.listen(gateway.store.engine, "handle_error", _count_store_error)

    @app.get("/metrics")
    def metrics() -> Response:
        return Response(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)

    return _observe_request

