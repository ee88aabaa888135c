"""What one gateway request did, gathered while it runs: its API action, who asked, against which
provider, and the engine requests it caused.

The app opens a `RequestStats` for each request in a context variable (`begin`/`end`); frontends name
the action and identity, the gateway records the scope, and a driver's HTTP client reports each engine
exchange with `engine_request`, which needs no Flask and works outside a request too (a durable
operation's worker thread has no stats open: only the observers see those). Observers (the Prometheus
metrics, when enabled) are told of every engine exchange wherever it happens.
"""
from __future__ import annotations

import contextvars
import threading
from dataclasses import dataclass
from typing import Callable

EngineObserver = Callable[[str, str, float], None]  # (method, status, seconds)


@dataclass
class RequestStats:
    """The facts the request's log line and metrics report."""

    frontend: str = "gateway"
    action: str = ""
    identity: str = ""
    provider: str = ""
    datacenter: str = ""
    engine_requests: int = 0
    engine_seconds: float = 0.0


_current: contextvars.ContextVar[RequestStats | None] = contextvars.ContextVar("cloudgw_request_stats",
                                                                                default=None)
_observers: list[EngineObserver] = []
_observers_lock = threading.Lock()


def begin() -> tuple[RequestStats, contextvars.Token[RequestStats | None]]:
    """Open fresh stats for the request now starting in this thread; `end(token)` closes them."""
    stats = RequestStats()
    return stats, _current.set(stats)


def end(token: contextvars.Token[RequestStats | None]) -> None:
    _current.reset(token)


def current() -> RequestStats | None:
    """The stats of the request being handled in this context, or None outside a request."""
    return _current.get()


def name_action(frontend: str, action: str) -> None:
    """A frontend says which API action the request is (`RunInstances`, `machines.create`); only names
    it has validated, since they label metrics."""
    stats = _current.get()
    if stats is not None:
        stats.frontend, stats.action = frontend, action


def note_identity(identity: str) -> None:
    """Who asks, when the frontend knows better than the scope (an EC2 access key rather than the oVirt
    user behind it). Never a secret."""
    stats = _current.get()
    if stats is not None:
        stats.identity = identity


def note_scope(provider: str, datacenter: str | None, identity: str) -> None:
    """Record the provider, data center and identity a request acts in (the first identity named wins)."""
    stats = _current.get()
    if stats is None:
        return
    stats.provider, stats.datacenter = provider, datacenter or ""
    stats.identity = stats.identity or identity


def engine_request(method: str, status: str, seconds: float) -> None:
    """One HTTP exchange with an engine (`status` is the HTTP code, or `error` when none came back)."""
    stats = _current.get()
    if stats is not None:
        stats.engine_requests += 1
        stats.engine_seconds += seconds
    for observer in _observers:
        observer(method, status, seconds)


def observe_engine_requests(observer: EngineObserver) -> None:
    """Have `observer(method, status, seconds)` called for every engine exchange (once per observer)."""
    with _observers_lock:
        if observer not in _observers:
            _observers.append(observer)
