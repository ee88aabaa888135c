"""Logging as text or JSON lines, each line carrying the request id when there is one.

A record may carry `fields` (a dict, as the request log line does): JSON lines write them as named
fields, text lines append the ones not already in the message as `key=value`.
"""
from __future__ import annotations

import json
import logging
import sys
import time


class JsonLines(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = getattr(record, "request_id", None)
        if request_id:
            entry["request_id"] = request_id
        entry.update(getattr(record, "fields", None) or {})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry)


class Text(logging.Formatter):
    IN_MESSAGE = frozenset({"method", "path", "status", "duration_ms"})  # the request line says these first

    def format(self, record: logging.LogRecord) -> str:
        request_id = getattr(record, "request_id", None)
        record.rid = f" [{request_id}]" if request_id else ""
        line = super().format(record)
        extra = getattr(record, "fields", None) or {}
        pairs = [f"{key}={_text_value(value)}" for key, value in extra.items() if key not in self.IN_MESSAGE]
        return " ".join([line, *pairs]) if pairs else line


def _text_value(value: object) -> str:
    """A value as one token: quoted (JSON-style) when it holds spaces, quotes or `=`."""
    text = str(value)
    return json.dumps(text) if not text or any(c in text for c in ' "=\t\n') else text


def configure_logging(log_format: str = "text", level: str = "info") -> None:
    """Route the `cloudgw` loggers to stderr in the chosen format (idempotent)."""
    logger = logging.getLogger("cloudgw")
    logger.setLevel(level.upper())
    formatter: logging.Formatter = JsonLines() if log_format == "json" else Text(
        "%(asctime)s %(levelname)s %(name)s%(rid)s: %(message)s")
    for handler in logger.handlers:
        if getattr(handler, "_cloudgw", False):
            handler.setFormatter(formatter)
            return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    handler._cloudgw = True  # type: ignore[attr-defined]
    logger.addHandler(handler)
    logger.propagate = False
