"""Several processes opening one fresh database at once (gunicorn's workers on a first start) all succeed:
the ones that lose the race to create the tables find them made by the winner."""
from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from ..conftest import ROOT

OPEN_STORE = """
import sys, time
from pathlib import Path
from gateway.store import Store, load_or_create_key
go = Path(sys.argv[3])
while not go.exists():
    time.sleep(0.001)
Store(sys.argv[1], load_or_create_key(Path(sys.argv[2]))).close()
"""


def test_processes_starting_together_on_a_fresh_sqlite_store_all_open_it(tmp_path: Path) -> None:
    url, key, go = f"sqlite:///{tmp_path / 'cloudgw.db'}", tmp_path / "secret.key", tmp_path / "go"
    processes = [subprocess.Popen([sys.executable, "-c", OPEN_STORE, url, str(key), str(go)], cwd=ROOT,
                                  stderr=subprocess.PIPE, text=True) for _ in range(8)]
    time.sleep(1.5)  # every process imported and waits at the line
    go.touch()
    failures = [p.communicate(timeout=60)[1] for p in processes if p.wait(timeout=60) != 0]
    assert failures == []
