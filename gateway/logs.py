"""Logging as text or JSON lines, each line carrying the request id when there is one."""
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
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry)


class Text(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        request_id = getattr(record, "request_id", None)
        record.rid = f" [{request_id}]" if request_id else ""
        return super().format(record)


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
