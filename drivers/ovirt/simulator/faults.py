"""Fault injection for reliability tests: latency, error answers, dropped connections, engine down.

Configured through the control API (see the package docstring); every rule applies to the engine's
own paths (`/ovirt-engine/...`), never to the control API itself.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from typing import Any


@dataclass(slots=True)
class Rule:
    """Answer requests matching `path` (a regex searched in the path) with `status`, or drop the
    connection when `status` is None; `count` limits how many requests it hits (None: all). With `body`
    the answer is that text as `content_type` instead of the engine's `<fault>` (what a proxy's login or
    maintenance page in front of the engine looks like, even with status 200)."""

    path: re.Pattern[str]
    status: int | None
    method: str | None = None
    count: int | None = None
    detail: str | None = None
    body: str | None = None
    content_type: str = "text/html; charset=utf-8"

    def describe(self) -> dict[str, Any]:
        return {"path": self.path.pattern, "status": self.status, "method": self.method,
                "count": self.count, "detail": self.detail, "body": self.body, "content_type": self.content_type}


class Faults:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.latency = 0.0
        self.engine_down = False
        self.rules: list[Rule] = []

    def configure(self, spec: dict[str, Any]) -> None:
        """Merge a JSON spec: {"latency": s, "engine_down": bool, "error": {...} | [...],
        "drop": {...} | [...]}; an error may carry "body" and "content_type" to answer instead of a fault.
        `expire_tokens` is handled by the caller (it concerns sessions)."""
        rules: list[Rule] = []
        for key, status_default in (("error", 500), ("errors", 500), ("drop", None), ("drops", None)):
            value = spec.get(key)
            if value is None:
                continue
            for item in value if isinstance(value, list) else [value]:
                if not isinstance(item, dict):
                    raise ValueError(f"{key} must be an object or a list of objects")
                status = None if status_default is None else int(item.get("status", status_default))
                count = item.get("count")
                body = item.get("body")
                rules.append(Rule(re.compile(str(item.get("path", ".*"))), status,
                                  (item.get("method") or "").upper() or None,
                                  int(count) if count is not None else None, item.get("detail"),
                                  None if body is None else str(body),
                                  str(item.get("content_type") or "text/html; charset=utf-8")))
        with self._lock:
            if "latency" in spec:
                latency = float(spec["latency"])
                if not 0 <= latency <= 120:
                    raise ValueError("latency must be between 0 and 120 seconds")
                self.latency = latency
            if "engine_down" in spec:
                self.engine_down = bool(spec["engine_down"])
            self.rules.extend(rules)

    def clear(self) -> None:
        with self._lock:
            self.latency = 0.0
            self.engine_down = False
            self.rules.clear()

    def match(self, method: str, path: str) -> Rule | None:
        """The first rule that applies to this request (consuming one of its counts), if any."""
        with self._lock:
            for rule in self.rules:
                if rule.method and rule.method != method:
                    continue
                if not rule.path.search(path):
                    continue
                if rule.count is not None:
                    rule.count -= 1
                    if rule.count <= 0:
                        self.rules.remove(rule)
                return rule
        return None

    def describe(self) -> dict[str, Any]:
        with self._lock:
            return {"latency": self.latency, "engine_down": self.engine_down,
                    "rules": [r.describe() for r in self.rules]}
