"""A gateway process on a configuration file, for tests that kill it with -9 (no simulator inside it).

`python gateway_process.py CONFIG` builds the app as `cloudgw serve` does, serves it threaded on a free
port of 127.0.0.1 and prints `listening <url>`; tests call `start(config)`.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from werkzeug.serving import make_server

from gateway.app import create_app
from gateway.config import load


ROOT = Path(__file__).resolve().parents[2]


def start(config: Path) -> tuple[subprocess.Popen, str]:
    """This script started as a process on `config`, once it listens: (the process, its URL)."""
    process = subprocess.Popen([sys.executable, __file__, str(config)], cwd=ROOT, stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    line = process.stdout.readline()
    assert line.startswith("listening "), line
    return process, line.split()[1]


def main() -> None:
    app = create_app(load(sys.argv[1]))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    print(f"listening http://127.0.0.1:{server.server_port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
