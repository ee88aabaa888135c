"""Giving the memory of large requests back to the system, so a process's size follows its load (issue 14).

A listing of a thousand VMs makes tens of megabytes of short-lived allocations (the engine's XML nodes, the
mapped instances, the rendered answer) in whichever thread serves it. glibc's malloc gives each busy thread an
arena of its own and keeps in it whatever a request freed, for that arena's next request; and once a
multi-megabyte buffer has been freed it raises its mmap threshold to that size, so later buffers of that size
come from the arenas too. Nothing leaks (the objects in use stay ~20 MB), yet under eight threads a worker kept
~220 MB of free heap after a DescribeInstances load, and a gunicorn gateway grew from 250 MB to 1 GB.

Two remedies, both no-ops where the C library is not glibc (musl, macOS):
- a fixed mmap threshold (`MMAP_THRESHOLD`): larger blocks are mapped on their own and unmapped when freed;
- `malloc_trim(0)` after requests, at most once every `interval` seconds and at least once within `interval`
  of the last request: it returns every arena's free pages. It costs ~10-20 ms of one thread, off the request
  threads (a short-lived timer thread runs it), never while the process is idle.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import logging
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from werkzeug.wsgi import ClosingIterator

log = logging.getLogger("cloudgw.memory")

M_MMAP_THRESHOLD = -3  # mallopt(3) parameter numbers, from glibc's malloc.h
MMAP_THRESHOLD = 256 * 1024

Release = Callable[[], None]


def _glibc() -> Any | None:
    """The C library when it is glibc (has malloc_trim), else None."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.malloc_trim.argtypes, libc.malloc_trim.restype = [ctypes.c_size_t], ctypes.c_int
        libc.mallopt.argtypes, libc.mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    except (OSError, AttributeError):
        return None
    return libc


def system_release() -> Release | None:
    """Fix glibc's mmap threshold for this process; the function that returns free heap pages (None: not glibc)."""
    libc = _glibc()
    if libc is None:
        return None
    if not libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD):
        log.debug("mallopt(M_MMAP_THRESHOLD) refused")

    def release() -> None:
        libc.malloc_trim(0)

    return release


class ReleaseAfterRequests:
    """Runs `release` after requests: at most once per `interval` seconds, and within `interval` of the last."""

    def __init__(self, release: Release, interval: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.release = release
        self.interval = interval
        self.clock = clock
        self.releases = 0
        self._last = float("-inf")
        self._scheduled = False
        self._lock = threading.Lock()

    def request_finished(self) -> None:
        with self._lock:
            if self._scheduled:
                return  # the release already scheduled comes after this request too
            self._scheduled = True
            delay = max(0.0, self._last + self.interval - self.clock())
        timer = threading.Timer(delay, self._run)
        timer.daemon = True
        timer.start()

    def _run(self) -> None:
        with self._lock:
            self._scheduled = False
            self._last = self.clock()
            self.releases += 1
        self.release()


class ReleasingApp:
    """WSGI middleware: tells `releaser` each time a response has been sent (its iterable closed)."""

    def __init__(self, app: Callable[..., Iterable[bytes]], releaser: ReleaseAfterRequests) -> None:
        self.app = app
        self.releaser = releaser

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        return ClosingIterator(self.app(environ, start_response), self.releaser.request_finished)
