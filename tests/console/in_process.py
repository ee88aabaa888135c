"""A gateway in this test process (so a test can move its clocks) on a real port, with two providers.

One is a simulator whose users' admin roles a test can revoke; the other a configured "engine" that only
records who calls it (and answers 401).
"""
from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from drivers.ovirt.simulator.server import Simulator
from gateway.app import create_app
from gateway.config import load
from tests.simulator_fixtures import running_simulator


@dataclass
class Recorder:
    """A configured provider's URL that answers 401 to everything and remembers each request."""

    url: str
    requests: list[str] = field(default_factory=list)


@dataclass
class TwoProviders:
    url: str
    app: object
    sim: Simulator
    sim_url: str
    other: Recorder

    def set_engine_admin(self, user_name: str, admin: bool) -> None:
        for user in self.sim.store.users.values():
            if user.user_name == user_name:
                user.admin = admin


@pytest.fixture(scope="module")
def recorder() -> Iterator[Recorder]:
    seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode(errors="replace") if length else ""
            seen.append(f"{self.command} {self.path} {self.headers.get('Authorization', '')} {body}")
            self.send_response(401)
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_GET = do_POST = _answer

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield Recorder(f"http://127.0.0.1:{server.server_port}/ovirt-engine/api", seen)
    server.shutdown()


@pytest.fixture(scope="module")
def two_providers(tmp_path_factory: pytest.TempPathFactory, recorder: Recorder) -> Iterator[TwoProviders]:
    with running_simulator(speed=20) as (sim, handle):
        data_dir: Path = tmp_path_factory.mktemp("console-operators")
        config_file = data_dir / "cloudgw.toml"
        config_file.write_text(f"""
default_provider = "simulator"
[[providers]]
name = "simulator"
url = "{handle.url}/ovirt-engine/api"
default_datacenter = "Default"
[[providers]]
name = "other"
url = "{recorder.url}"
default_datacenter = "Default"
""")
        app = create_app(load(config_file, environ={}, data_dir=str(data_dir)), start_workers=False)
        server = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            yield TwoProviders(f"http://127.0.0.1:{server.server_port}", app, sim, handle.url, recorder)
        finally:
            server.shutdown()
            app.extensions["cloudgw"].close()
