"""Freed memory goes back to the system after requests (issue 14: a gateway under a listing load grew from
250 MB to 1 GB of free heap that glibc kept in its per-thread arenas)."""
from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
import requests
from werkzeug.serving import make_server

from gateway import memory_release
from gateway.app import create_app
from gateway.config import load


def resident_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def wait_for(condition, seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


def test_a_burst_of_requests_releases_once_at_once_and_once_more_after_the_interval() -> None:
    released: list[float] = []
    releaser = memory_release.ReleaseAfterRequests(lambda: released.append(time.monotonic()), interval=0.5)
    releaser.request_finished()
    assert wait_for(lambda: len(released) == 1, 2)
    for _ in range(20):  # within the interval: one release, later, covers them all
        releaser.request_finished()
    time.sleep(0.2)
    assert len(released) == 1
    assert wait_for(lambda: len(released) == 2, 2)
    assert released[1] - released[0] >= 0.45
    time.sleep(0.8)  # idle: nothing more
    assert len(released) == 2


@pytest.mark.skipif(memory_release.system_release() is None, reason="not glibc")
def test_the_free_heap_of_a_finished_thread_goes_back_to_the_system() -> None:
    """What a thread freed stays resident in its arena until released (a guard block keeps the heap's top)."""
    kept: list[bytes] = []

    def allocate() -> None:
        blocks = [bytes(1000) + bytes([i % 256]) for i in range(100_000)]  # ~100 MB of malloc'd (not pymalloc) blocks
        kept.append(bytes(1000) + b"guard")
        del blocks

    before = resident_mb()
    worker = threading.Thread(target=allocate)
    worker.start()
    worker.join()
    retained = resident_mb() - before
    release = memory_release.system_release()
    assert release is not None
    release()
    returned = retained - (resident_mb() - before)
    assert retained > 50 and returned > retained / 2, (retained, returned)


def test_the_gateway_releases_after_the_requests_it_served_over_http(tmp_path: Path) -> None:
    app = create_app(load(None, environ={}, data_dir=str(tmp_path), release_memory_seconds=0.2), start_workers=False)
    releasing = app.wsgi_app
    assert isinstance(releasing, memory_release.ReleasingApp)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        assert requests.get(f"http://127.0.0.1:{server.server_port}/healthz", timeout=10).status_code == 200
        assert wait_for(lambda: releasing.releaser.releases == 1)
    finally:
        server.shutdown()


def test_a_release_interval_of_zero_turns_it_off(tmp_path: Path) -> None:
    app = create_app(load(None, environ={}, data_dir=str(tmp_path), release_memory_seconds=0), start_workers=False)
    assert not isinstance(app.wsgi_app, memory_release.ReleasingApp)


def test_a_negative_infinite_tiny_or_missing_interval_is_a_configuration_error() -> None:
    from gateway.errors import ConfigError

    for value in ("-1", "nan", "soon", "inf", "1e-6"):  # inf: the timer would die; tiny: a trim per request
        with pytest.raises(ConfigError, match="server.release_memory_seconds"):
            load(None, environ={"CLOUDGW_SERVER_RELEASE_MEMORY_SECONDS": value})
