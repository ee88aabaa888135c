"""The engine client against a scripted stub engine on a real port: auth, headers, retries, faults."""
from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from drivers.ovirt.client import EngineClient, fault_text
from gateway.config import Config, ProviderConfig
from gateway.errors import (AuthFailure, BackendError, BackendTimeout, BackendUnavailable, Forbidden, InvalidParameter,
                            InvalidState, NotFound, NotSupported)
from gateway.scope import Credentials, Scope


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class StubEngine:
    """Answers from a script: path -> list of (status, body) consumed in order (the last one repeats)."""

    script: dict[tuple[str, str], list[tuple[int, str]]] = field(default_factory=dict)
    seen: list[Seen] = field(default_factory=list)
    tokens: int = 0
    sso: bool = True
    delay: float = 0.0
    page: str | None = None  # answer every request with this HTML page and 200, as a proxy's login page does

    def answer(self, method: str, path: str, status: int, body: str = "") -> None:
        self.script.setdefault((method, path), []).append((status, body))

    def handle(self, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, str, str]:
        self.seen.append(Seen(method, path, headers, body))
        if self.page is not None:
            return 200, self.page, "text/html; charset=utf-8"
        if path.startswith("/ovirt-engine/sso/oauth/token"):
            if not self.sso:
                return 404, "", "text/html"
            self.tokens += 1
            return 200, json.dumps({"access_token": f"token-{self.tokens}", "token_type": "bearer"}), "application/json"
        if self.delay:
            time.sleep(self.delay)
        route = path.split("?")[0]
        answers = self.script.get((method, route)) or [(200, f"<{route.rstrip('/').rsplit('/', 1)[-1]}/>")]
        status, text = answers.pop(0) if len(answers) > 1 else answers[0]
        return status, text, "application/xml"


class StubServer:
    """One real HTTP server for the module; each test scripts a fresh StubEngine behind it."""

    def __init__(self) -> None:
        self.engine = StubEngine()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def _any(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                status, text, ctype = outer.engine.handle(self.command, self.path, dict(self.headers), body)
                data = text.encode()
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _any

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}/ovirt-engine/api"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture(scope="module")
def server() -> Iterator[StubServer]:
    running = StubServer()
    yield running
    running.server.shutdown()
    running.server.server_close()


@pytest.fixture
def stub(server: StubServer) -> StubEngine:
    server.engine = StubEngine()
    server.engine.url = server.url  # type: ignore[attr-defined]
    return server.engine


def make(url: str, **config: object) -> tuple[EngineClient, Scope]:
    provider = ProviderConfig(name="stub", url=url)
    settings: dict[str, object] = {"engine_connect_timeout": 1.0, "engine_read_timeout": 1.0, **config}
    client = EngineClient(provider, Config(**settings))  # type: ignore[arg-type]
    client.backoff = 0.01
    scope = Scope(provider, None, Credentials("admin@internal", "secret"), request_id="req-42")
    return client, scope


def api_calls(stub: StubEngine) -> list[Seen]:
    return [s for s in stub.seen if "/api" in s.path]


def test_one_token_is_reused_and_headers_are_sent(stub: StubEngine) -> None:
    client, scope = make(stub.url)
    client.request(scope, "GET", "vms")
    client.request(scope, "GET", "vms")
    assert stub.tokens == 1
    token_call = stub.seen[0]
    assert token_call.method == "POST" and b"scope=ovirt-app-api" in token_call.body
    assert b"username=admin%40internal" in token_call.body
    for call in api_calls(stub):
        assert call.headers["Authorization"] == "Bearer token-1"
        assert call.headers["Version"] == "4"
        assert call.headers["Correlation-Id"] == "req-42"
        assert "Filter" not in call.headers


def test_user_level_scope_sends_filter(stub: StubEngine) -> None:
    client, scope = make(stub.url)
    user_scope = Scope(scope.provider, None, scope.credentials, user_level=True)
    client.request(user_scope, "GET", "vms")
    assert api_calls(stub)[-1].headers["Filter"] == "true"


def test_expired_token_is_renewed_once(stub: StubEngine) -> None:
    client, scope = make(stub.url)
    client.request(scope, "GET", "vms")
    stub.answer("GET", "/ovirt-engine/api/vms", 401)
    stub.answer("GET", "/ovirt-engine/api/vms", 200, "<vms/>")
    assert client.request(scope, "GET", "vms").tag == "vms"
    assert stub.tokens == 2
    assert api_calls(stub)[-1].headers["Authorization"] == "Bearer token-2"


def test_refused_credentials_after_renewal_are_an_auth_failure(stub: StubEngine) -> None:
    client, scope = make(stub.url)
    stub.answer("GET", "/ovirt-engine/api/vms", 401)
    with pytest.raises(AuthFailure):
        client.request(scope, "GET", "vms")
    assert stub.tokens == 2  # renewed once, not in a loop


def test_basic_auth_where_sso_is_absent(stub: StubEngine) -> None:
    stub.sso = False
    client, scope = make(stub.url)
    client.request(scope, "GET", "vms")
    client.request(scope, "GET", "vms")
    assert api_calls(stub)[-1].headers["Authorization"].startswith("Basic ")
    assert len([s for s in stub.seen if "sso" in s.path]) == 1  # learnt once


@pytest.mark.parametrize("status,error", [(404, NotFound), (409, InvalidState), (400, InvalidParameter),
                                          (401, AuthFailure), (403, Forbidden), (500, BackendUnavailable),
                                          (503, BackendUnavailable), (405, NotSupported),
                                          (418, BackendError)])
def test_engine_faults_map_to_gateway_errors(stub: StubEngine, status: int, error: type) -> None:
    client, scope = make(stub.url)
    fault = "<fault><reason>Operation Failed</reason><detail>[Cannot run VM. VM is running.]</detail></fault>"
    stub.answer("POST", "/ovirt-engine/api/vms/1/start", status, fault)
    with pytest.raises(error) as caught:
        client.request(scope, "POST", "vms/1/start", what=("instance", "1"))
    if status == 409:
        assert caught.value.message == "Cannot run VM. VM is running."


def test_not_found_names_the_resource(stub: StubEngine) -> None:
    client, scope = make(stub.url)
    stub.answer("GET", "/ovirt-engine/api/vms/abc", 404)
    with pytest.raises(NotFound) as caught:
        client.request(scope, "GET", "vms/abc", what=("instance", "abc"))
    assert caught.value.kind == "instance" and caught.value.resource_id == "abc"


def test_gets_are_retried_but_posts_are_not(stub: StubEngine) -> None:
    client, scope = make(stub.url, engine_retries=2)
    stub.answer("GET", "/ovirt-engine/api/vms", 503)
    stub.answer("GET", "/ovirt-engine/api/vms", 200, "<vms/>")
    assert client.request(scope, "GET", "vms").tag == "vms"
    stub.answer("POST", "/ovirt-engine/api/vms", 503)
    stub.answer("POST", "/ovirt-engine/api/vms", 201, "<vm/>")
    with pytest.raises(BackendUnavailable):
        client.request(scope, "POST", "vms", body=None)
    assert len([s for s in api_calls(stub) if s.method == "POST"]) == 1


def test_timeout_is_a_backend_timeout(stub: StubEngine) -> None:
    client, scope = make(stub.url, engine_retries=0, engine_read_timeout=0.2)
    client.request(scope, "GET", "")  # token first
    stub.delay = 0.4
    with pytest.raises(BackendTimeout):
        client.request(scope, "GET", "vms")


def test_refused_connection_is_backend_unavailable() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    client, scope = make(f"http://127.0.0.1:{port}/ovirt-engine/api", engine_retries=1)
    with pytest.raises(BackendUnavailable) as caught:
        client.request(scope, "GET", "vms")
    assert caught.value.retryable


def test_entities_are_not_expanded(stub: StubEngine) -> None:
    client, scope = make(stub.url)
    evil = ('<?xml version="1.0"?><!DOCTYPE vm [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
            '<vm><name>&xxe;</name></vm>')
    stub.answer("GET", "/ovirt-engine/api/vms/1", 200, evil)
    with pytest.raises(BackendError) as caught:  # the engine never sends a DTD: refused, not mapped
        client.request(scope, "GET", "vms/1")
    assert "root:" not in caught.value.message and "document type" in caught.value.message


def test_garbage_is_a_backend_error(stub: StubEngine) -> None:
    client, scope = make(stub.url)
    stub.answer("GET", "/ovirt-engine/api/vms", 200, "<html><body>proxy says hi")
    with pytest.raises(BackendError):
        client.request(scope, "GET", "vms")


@pytest.mark.parametrize("sso", [True, False])
def test_a_proxy_login_page_is_a_backend_error_not_a_credentials_error(stub: StubEngine, sso: bool) -> None:
    """A page answered with 200 (to the SSO request, or to the API when the engine has no SSO) is the
    engine side's failure (502), not the user's wrong password (401), and nothing is mapped from it."""
    client, scope = make(stub.url)
    client._sso_absent = not sso
    stub.page = "<html><head><title>Sign in</title></head><body><form/></body></html>"
    with pytest.raises(BackendError):
        client.request(scope, "GET", "vms")
    with pytest.raises(BackendError):
        client.collection(scope, "vms", "vm", names)


def test_fault_text_reads_action_faults() -> None:
    assert fault_text(b"<action><status>failed</status><fault><reason>Operation Failed</reason>"
                      b"<detail>[Cannot stop VM. VM is not running.]</detail></fault></action>") \
        == "Cannot stop VM. VM is not running."
    assert fault_text(b"") == "" and fault_text(b"Internal error") == ""


def test_probe_needs_no_credentials_but_a_working_engine(stub: StubEngine) -> None:
    client, _ = make(stub.url)
    stub.answer("HEAD", "/ovirt-engine/api", 401)
    client.probe()
    assert stub.tokens == 0
    stub.script.clear()
    stub.answer("HEAD", "/ovirt-engine/api", 503)
    with pytest.raises(BackendUnavailable):
        client.probe()


# --- collections mapped while they stream in ------------------------------------------------------------
VMS = ('<?xml version="1.0"?><vms>'
       '<vm id="a"><name></name><nics><nic id="n"><vm id="a"/></nic></nics></vm>'
       '<vm id="b"><name>b</name></vm></vms>')


def names(element: object) -> tuple[str, str]:
    return element.get("id"), element.findtext("name") or ""  # type: ignore[attr-defined]


def test_a_collection_maps_its_items_not_the_links_nested_in_them(stub: StubEngine) -> None:
    client, scope = make(stub.url, engine_retries=1)
    stub.answer("GET", "/ovirt-engine/api/vms", 503)
    stub.answer("GET", "/ovirt-engine/api/vms", 401)
    stub.answer("GET", "/ovirt-engine/api/vms", 200, VMS)
    assert client.collection(scope, "vms", "vm", names, params={"search": "x"}) == [("a", ""), ("b", "b")]
    assert [s.headers.get("Authorization") for s in api_calls(stub)] == ["Bearer token-1", "Bearer token-1",
                                                                           "Bearer token-2"]
    stub.script.clear()
    stub.answer("GET", "/ovirt-engine/api/vms", 200, "<vms/>")
    assert client.collection(scope, "vms", "vm", names) == []


@pytest.mark.parametrize("status, body, error", [
    (200, "", BackendError), (200, "  \n", BackendError), (200, "<html><body>proxy says hi", BackendError),
    (404, "", NotFound), (409, "<fault><detail>[busy]</detail></fault>", InvalidState)])
def test_a_collection_fails_as_a_request_does(stub: StubEngine, status: int, body: str, error: type) -> None:
    client, scope = make(stub.url, engine_retries=0)
    stub.answer("GET", "/ovirt-engine/api/vms", status, body)
    with pytest.raises(error):
        client.collection(scope, "vms", "vm", names)


def test_a_collection_cut_short_is_fetched_again() -> None:
    """The engine drops the connection mid-body once; the whole GET is retried, nothing is mapped twice."""
    full = b'<vms><vm id="a"/><vm id="b"/></vms>'
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()

    def serve() -> None:
        for cut in (True, False):
            conn, _ = listener.accept()
            with conn:
                request = b""
                while b"\r\n\r\n" not in request:
                    request += conn.recv(4096)
                head = f"HTTP/1.1 200 OK\r\nContent-Type: application/xml\r\nContent-Length: {len(full)}\r\n"
                conn.sendall(head.encode() + b"Connection: close\r\n\r\n" + (full[:22] if cut else full))

    threading.Thread(target=serve, daemon=True).start()
    client, scope = make(f"http://127.0.0.1:{listener.getsockname()[1]}/ovirt-engine/api", engine_retries=1)
    client._sso_absent = True  # HTTP Basic: only the two listings reach this one-shot engine
    try:
        assert client.collection(scope, "vms", "vm", names) == [("a", ""), ("b", "")]
    finally:
        listener.close()
