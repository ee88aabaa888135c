"""One log line per request, naming what it was: frontend and API action, identity, provider and data
center, status, time, and the engine requests it caused with their total time.

The fields are passed to the formatter as `extra={"fields": ...}`: the JSON format writes them as named
fields, the text format as `key=value` after the message. Nothing here reads a query string, a body or
an Authorization header, so no secret or signature reaches a log.
"""
from __future__ import annotations

import logging
import time
from typing import Any, Callable, Mapping

from flask import Flask, g, request

from . import request_stats
from .request_stats import RequestStats

log = logging.getLogger("cloudgw.request")

REST_PREFIXES = {"cimi": "/cimi", "deltacloud": "/api"}
ACTION_SEGMENTS = ("<action>", "<verb>")  # route parts whose value names the operation
SINGLETONS = ("cloudEntryPoint",)
CATCH_ALL_CONVERTERS = ("<path:", "<anypath:")  # a frontend's catch-all route (gateway/routing.py's anypath)
RequestObserver = Callable[[RequestStats, int, float], None]  # (stats, status, seconds)


def rest_action(rule: str, prefix: str, method: str, view_args: Mapping[str, Any], status: int) -> str:
    """`<resource>.<operation>` of a CIMI or Deltacloud route: `instances.list`, `instances.stop`,
    `machines/volumes.get`; `unknown` for the catch-all. Only route names and validated verbs appear,
    so the set of values stays small (it labels metrics)."""
    parts = [p for p in rule[len(prefix):].split("/") if p]
    if any(p.startswith(CATCH_ALL_CONVERTERS) for p in parts):
        return "unknown"
    statics = [p for p in parts if not p.startswith("<")]
    resource = "/".join(statics) or "entry_point"
    last = parts[-1] if parts else ""
    if last in ACTION_SEGMENTS:
        value = str(view_args.get(last[1:-1], "")).lower()
        operation = value if status < 400 and value.isidentifier() and len(value) <= 32 else "action"
    elif method in ("GET", "HEAD"):
        operation = "get" if last.startswith("<") or not parts or last in SINGLETONS else "list"
    elif method == "POST":
        operation = "action" if last.startswith("<") else "create"
    else:
        operation = {"PUT": "edit", "DELETE": "delete"}.get(method, method.lower())
    return f"{resource}.{operation}"


def describe(stats: RequestStats, status: int) -> None:
    """Fill in the frontend and action the frontend did not name itself, from the matched route."""
    blueprint = request.blueprint
    if blueprint and stats.frontend == "gateway":
        stats.frontend = blueprint
    if stats.action:
        return
    rule = request.url_rule.rule if request.url_rule is not None else ""
    if stats.frontend in REST_PREFIXES and rule:
        stats.action = rest_action(rule, REST_PREFIXES[stats.frontend], request.method, request.view_args or {},
                                   status)
    elif rule and not blueprint:
        stats.action = rule.strip("/") or "root"
    else:
        stats.action = "unknown"


def fields(stats: RequestStats, status: int, seconds: float) -> dict[str, Any]:
    return {"method": request.method, "path": request.path, "status": status,
            "duration_ms": round(seconds * 1000, 1), "frontend": stats.frontend, "action": stats.action,
            "identity": stats.identity or "-", "provider": stats.provider or "-",
            "datacenter": stats.datacenter or "-", "engine_requests": stats.engine_requests,
            "engine_ms": round(stats.engine_seconds * 1000, 1)}


def install(app: Flask, observers: list[RequestObserver]) -> None:
    """Open request stats before each request; log its line (and tell `observers`) after it."""

    @app.before_request
    def open_stats() -> None:
        g.request_stats, g.request_stats_token = request_stats.begin()
        g.started = time.perf_counter()

    @app.after_request
    def log_request(response: Any) -> Any:
        stats: RequestStats | None = getattr(g, "request_stats", None)
        if stats is None:  # a request that failed before `open_stats` ran
            return response
        seconds = time.perf_counter() - g.started
        describe(stats, response.status_code)
        line = fields(stats, response.status_code, seconds)
        log.info("%s %s %s %.1fms", line["method"], line["path"], line["status"], line["duration_ms"],
                 extra={"request_id": getattr(g, "request_id", None), "fields": line})
        for observer in observers:
            observer(stats, response.status_code, seconds)
        return response

    @app.teardown_request
    def close_stats(_exc: BaseException | None) -> None:
        token = g.pop("request_stats_token", None)
        if token is not None:
            try:
                request_stats.end(token)
            except ValueError:  # torn down in another context than it was opened in: nothing to undo
                pass
