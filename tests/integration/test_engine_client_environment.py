"""The engine client reads the environment once, when it is made, rather than on every exchange.

requests, trusting the environment, walks os.environ and looks for ~/.netrc on every request: under load
each of those system calls made a RunInstances wait for the interpreter again. The client now takes the
environment's proxy for its engine (NO_PROXY heeded) and CA bundle at its start, as before, and a ~/.netrc
entry for the engine's host no longer replaces the engine token with its own Basic credentials.
"""
from __future__ import annotations

import socket
from pathlib import Path

import pytest

from gateway.errors import BackendUnavailable

from .ovirt_env import Gateway


def test_a_netrc_entry_for_the_engine_does_not_replace_its_token(gw: Gateway, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login nobody@internal password wrong\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    assert "Default" in [r.name for r in gw.driver.regions(gw.scope())]
    assert all(h.get("Authorization", "").startswith("Bearer ") for h in gw.headers_sent_to("/datacenters"))


def test_the_environments_proxy_for_the_engine_is_still_used(gw: Gateway, monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as closed:  # a port nothing listens on: a proxy there refuses every connection
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{port}")
    restart_clients(gw)
    with pytest.raises(BackendUnavailable):
        gw.driver.regions(gw.scope())
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    restart_clients(gw)
    assert "Default" in [r.name for r in gw.driver.regions(gw.scope())]


def restart_clients(gw: Gateway) -> None:
    """The driver's engine clients made afresh, as at a gateway's start (the environment is read then)."""
    gw.driver.close()
    gw.driver._clients.clear()
