"""gunicorn settings for production: `CLOUDGW_CONFIG=/etc/cloudgw/cloudgw.toml gunicorn -c python:gateway.gunicorn_conf`.

Each worker builds its own app (no preload), and so runs its own durable-operation worker thread; the
store's leases make sure each operation runs in one process at a time.

Metrics (`[metrics] enabled = true`): each worker process counts into files under
PROMETHEUS_MULTIPROC_DIR (prometheus_client's multiprocess mode), so whichever worker answers a scrape of
`/metrics` reports the sum over all workers. The directory is set here, before any worker starts: the
operator's own if PROMETHEUS_MULTIPROC_DIR is set (emptied at start, as prometheus_client requires),
else a fresh temporary one removed at exit.
"""
import multiprocessing
import os
import shutil
import tempfile
from pathlib import Path

wsgi_app = "gateway.wsgi:app"
bind = os.environ.get("CLOUDGW_BIND", "127.0.0.1:3001")
workers = int(os.environ.get("CLOUDGW_WORKERS", max(2, multiprocessing.cpu_count())))
worker_class = "gthread"
threads = int(os.environ.get("CLOUDGW_THREADS", 8))
preload_app = False
timeout = 120
graceful_timeout = 30
accesslog = None  # the app logs each request itself: one line with its id, action, identity and engine time

_OWN_METRICS_DIR = "PROMETHEUS_MULTIPROC_DIR" not in os.environ
if _OWN_METRICS_DIR:
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="cloudgw-metrics-")


def on_starting(server):
    """Counts left by an earlier run would be added to this one's: start from an empty directory."""
    directory = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob("*.db"):
        stale.unlink()


def child_exit(server, worker):
    """A worker that exits stops counting; its totals stay in the sums (prometheus_client's advice)."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    if _OWN_METRICS_DIR:
        shutil.rmtree(os.environ["PROMETHEUS_MULTIPROC_DIR"], ignore_errors=True)


def worker_exit(server, worker):
    """A worker that stops (a restart, max_requests, shutdown) closes its gateway in its own process: its metric
    sampler gives its lease back, so another worker samples the next slot instead of waiting the lease out."""
    import sys

    wsgi = sys.modules.get("gateway.wsgi")
    if wsgi is not None:  # the app was loaded in this worker
        wsgi.app.extensions["cloudgw"].close()


def post_fork(server, worker):
    """A shorter interpreter switch interval (1 ms, not 5): a request that only waits for the engine or the
    store gets the interpreter back sooner from the threads rendering listings."""
    import sys

    sys.setswitchinterval(0.001)
