"""A gateway process on a configuration file, for tests that kill it with -9 (no simulator inside it).

`python gateway_process.py CONFIG` builds the app as `cloudgw serve` does, serves it threaded on a free
port of 127.0.0.1 and prints `listening <url>`.
"""
from __future__ import annotations

import sys

from werkzeug.serving import make_server

from gateway.app import create_app
from gateway.config import load


def main() -> None:
    app = create_app(load(sys.argv[1]))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    print(f"listening http://127.0.0.1:{server.server_port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
