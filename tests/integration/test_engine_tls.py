"""An engine whose TLS certificate does not verify (no `ca_file` for a self-signed engine, the commonest
first-deployment mistake): clients are told it is a TLS verification failure, in their protocol and
without a stack trace, and the operator's log says why, once per failed request (not once per retry)."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import requests

from ..conftest import ADMIN, ROOT, drain
from .tls_engine import tls_engine  # noqa: F401 (a fixture)

HELPER = Path(__file__).with_name("gateway_process.py")
VERIFY_FAILED = "certificate verify failed"


def test_a_certificate_that_does_not_verify_is_named_to_clients_and_logged_with_its_reason(
        tls_engine: tuple[str, Path], tmp_path: Path) -> None:  # noqa: F811
    url, _cert = tls_engine
    config = tmp_path / "cloudgw.toml"
    config.write_text(f'[server]\ndata_dir = "{tmp_path / "data"}"\n\n[engine]\nretries = 2\n\n'
                      f'[[providers]]\nname = "lab"\nurl = "{url}"\ndefault_datacenter = "Default"\n')
    process = subprocess.Popen([sys.executable, str(HELPER), str(config)], cwd=ROOT, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        while line and not line.startswith("listening "):  # what the gateway logs as it starts comes first
            line = process.stdout.readline()
        assert line.startswith("listening "), line
        gateway = line.split()[1]
        output = drain(process)
        cimi = requests.get(f"{gateway}/cimi/machines", auth=ADMIN, headers={"Accept": "application/json"},
                            timeout=30)
        realms = requests.get(f"{gateway}/api/realms", auth=ADMIN, params={"format": "json"}, timeout=30)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and sum(VERIFY_FAILED in seen for seen in output) < 2:
            time.sleep(0.05)
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert cimi.status_code == 503, cimi.text
    assert "its TLS certificate could not be verified" in cimi.json()["message"]
    assert realms.status_code == 502, realms.text
    assert "its TLS certificate could not be verified" in realms.text
    for answer in (cimi, realms):
        assert VERIFY_FAILED not in answer.text and "Traceback" not in answer.text
    logged = "".join(output)
    warnings = [seen for seen in output if VERIFY_FAILED in seen]
    assert len(warnings) == 2, logged  # one per request, though each GET was tried three times
    assert "WARNING cloudgw.ovirt: engine lab (127.0.0.1:" in warnings[0]
    assert "TLS failed: [SSL: CERTIFICATE_VERIFY_FAILED]" in warnings[0]
    assert "check the provider's ca_file" in warnings[0]
    assert "Traceback" not in logged
