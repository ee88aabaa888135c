"""gunicorn settings for production: `CLOUDGW_CONFIG=/etc/cloudgw/cloudgw.toml gunicorn -c python:gateway.gunicorn_conf`.

Each worker builds its own app (no preload), and so runs its own durable-operation worker thread; the
store's leases make sure each operation runs in one process at a time.
"""
import multiprocessing
import os

wsgi_app = "gateway.wsgi:app"
bind = os.environ.get("CLOUDGW_BIND", "127.0.0.1:3001")
workers = int(os.environ.get("CLOUDGW_WORKERS", max(2, multiprocessing.cpu_count())))
worker_class = "gthread"
threads = int(os.environ.get("CLOUDGW_THREADS", 8))
preload_app = False
timeout = 120
graceful_timeout = 30
accesslog = "-"
