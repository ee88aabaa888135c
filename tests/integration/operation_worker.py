"""A durable-operation kind for tests, and a worker process that runs it (killed with -9 by the tests).

The kind `test.journal` has three steps: `prepare`, `slow` (sleeps `data['sleep']` seconds, long enough
to be killed in), `finish`. Each step appends a line to a journal file before doing anything, so a
test sees exactly which steps ran, in which process, and how often.
"""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from gateway.errors import BackendUnavailable, InvalidParameter
from gateway.operations import Done, Fail, Next, Operation, OperationRunner, Wait


class JournalKind:
    name = "test.journal"
    steps = ("prepare", "slow", "finish")

    def __init__(self, journal: Path) -> None:
        self.journal = journal

    def write(self, operation: Operation, note: str = "") -> None:
        with open(self.journal, "a") as handle:
            handle.write(f"{operation.id} {operation.step} {os.getpid()} {note}\n")
            handle.flush()
            os.fsync(handle.fileno())

    def run_step(self, operation: Operation):
        self.write(operation)
        if operation.step == "prepare":
            return Next("slow", {"prepared": True})
        if operation.step == "slow":
            time.sleep(operation.data.get("sleep", 0))
            return Next("finish", {"slept": True})
        if operation.data.get("fail_with") == "retryable" and operation.attempts < operation.data.get("failures", 0):
            raise BackendUnavailable("engine down")
        if operation.data.get("fail_with") == "permanent":
            raise InvalidParameter("bad template")
        if operation.data.get("fail_with") == "outcome":
            return Fail("gave up")
        if operation.data.get("fail_while") and Path(operation.data["fail_while"]).exists():
            return Fail(f"blocked by {operation.data['fail_while']}")  # a cause an operator can remove
        if operation.data.get("polls", 0) > 0:
            return Wait(0, {"polls": operation.data["polls"] - 1})
        return Done({"result": "ok", "secret_seen": (operation.secret or {}).get("password")})


def main() -> None:
    """python operation_worker.py STORE_URL KEY_FILE JOURNAL LEASE_SECONDS"""
    from gateway.store import Store, load_or_create_key

    url, key_file, journal, lease = sys.argv[1:5]
    store = Store(url, load_or_create_key(Path(key_file)))
    runner = OperationRunner(store, lease_seconds=float(lease), poll_seconds=0.05)
    runner.register(JournalKind(Path(journal)))
    print("ready", flush=True)
    runner.start()
    while True:
        time.sleep(1)


if __name__ == "__main__":
    main()
