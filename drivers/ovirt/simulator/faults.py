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
    hold: float = 0.0  # a hold rule: act on the request, then keep the answer back this many real seconds

    def describe(self) -> dict[str, Any]:
        described = {"path": self.path.pattern, "status": self.status, "method": self.method,
                     "count": self.count, "detail": self.detail, "body": self.body, "content_type": self.content_type}
        return {**described, "hold": self.hold} if self.hold else described


class Faults:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.latency = 0.0
        self.engine_down = False
        self.rules: list[Rule] = []
        self.holds: list[Rule] = []  # answers kept back after the engine acted (see Rule.hold)

    def configure(self, spec: dict[str, Any]) -> None:
        """Merge a JSON spec: {"latency": s, "engine_down": bool, "error": {...} | [...],
        "drop": {...} | [...], "hold": {...} | [...]}; an error may carry "body" and "content_type" to answer
        instead of a fault. `expire_tokens` is handled by the caller (it concerns sessions)."""
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
        holds: list[Rule] = []
        for key in ("hold", "holds"):
            value = spec.get(key)
            for item in [] if value is None else value if isinstance(value, list) else [value]:
                if not isinstance(item, dict):
                    raise ValueError(f"{key} must be an object or a list of objects")
                seconds = float(item.get("seconds", 0))
                if not 0 < seconds <= 600:
                    raise ValueError("hold seconds must be more than 0 and at most 600")
                count = item.get("count")
                holds.append(Rule(re.compile(str(item.get("path", ".*"))), None, (item.get("method") or "").upper()
                                  or None, int(count) if count is not None else None, hold=seconds))
        with self._lock:
            if "latency" in spec:
                latency = float(spec["latency"])
                if not 0 <= latency <= 120:
                    raise ValueError("latency must be between 0 and 120 seconds")
                self.latency = latency
            if "engine_down" in spec:
                self.engine_down = bool(spec["engine_down"])
            self.rules.extend(rules)
            self.holds.extend(holds)

    def clear(self) -> None:
        with self._lock:
            self.latency = 0.0
            self.engine_down = False
            self.rules.clear()
            self.holds.clear()

    def match(self, method: str, path: str) -> Rule | None:
        """The first rule that applies to this request (consuming one of its counts), if any."""
        return self._first(self.rules, method, path)

    def match_hold(self, method: str, path: str) -> Rule | None:
        """The first hold rule that applies to this request (consuming one of its counts), if any."""
        return self._first(self.holds, method, path)

    def _first(self, rules: list[Rule], method: str, path: str) -> Rule | None:
        with self._lock:
            for rule in rules:
                if rule.method and rule.method != method:
                    continue
                if not rule.path.search(path):
                    continue
                if rule.count is not None:
                    rule.count -= 1
                    if rule.count <= 0:
                        rules.remove(rule)
                return rule
        return None

    def describe(self) -> dict[str, Any]:
        with self._lock:
            return {"latency": self.latency, "engine_down": self.engine_down,
                    "rules": [r.describe() for r in self.rules + self.holds]}
