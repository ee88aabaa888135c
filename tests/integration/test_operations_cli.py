"""`cloudgw operations list|show|retry|cancel`: an operator sees and acts on durable operations in the real
store while a separate worker process runs them."""
from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from gateway.operations import CANCELLED, DONE, FAILED, OperationRunner
from gateway.schema import operations_table
from gateway.store import Store, load_or_create_key

from ..conftest import ROOT
from .operation_worker import JournalKind

WORKER = Path(__file__).with_name("operation_worker.py")


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "gateway.cli", *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=60)


class Lab:
    """A data directory (store + key) as `cloudgw --data-dir` reads it, a runner to submit with, a journal."""

    def __init__(self, base: Path) -> None:
        self.data = base / "data"
        self.journal = base / "journal.txt"
        self.store = Store(f"sqlite:///{self.data / 'cloudgw.db'}", load_or_create_key(self.data / "secret.key"))
        self.runner = OperationRunner(self.store, poll_seconds=0.05)
        self.runner.register(JournalKind(self.journal))

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return cli("operations", *args, "--data-dir", str(self.data))

    def steps_run(self, operation_id: str) -> list[str]:
        if not self.journal.exists():
            return []
        return [line.split()[1] for line in self.journal.read_text().splitlines() if line.startswith(operation_id)]

    def start_worker(self, lease: float = 30.0) -> subprocess.Popen:
        process = subprocess.Popen(
            [sys.executable, str(WORKER), self.store.url, str(self.data / "secret.key"), str(self.journal),
             str(lease)], cwd=ROOT, stdout=subprocess.PIPE, text=True,
            env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
        assert process.stdout is not None and process.stdout.readline().strip() == "ready"
        return process


def wait_for(predicate, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[Lab]:
    made = Lab(tmp_path)
    yield made
    made.store.close()


@pytest.fixture
def worker(lab: Lab) -> Iterator[subprocess.Popen]:
    process = lab.start_worker()
    yield process
    process.kill()
    process.wait()


def test_list_filters_by_state_and_kind_and_show_tells_steps_data_and_error(lab: Lab) -> None:
    failing = lab.runner.submit("test.journal", target="vm-7", step="finish", data={"fail_with": "outcome"},
                                secret={"password": "never-shown"})
    waiting = lab.runner.submit("test.journal", target="vm-8", delay=3600)
    lab.runner.run_until_idle()

    listed = lab.cli("list")
    assert listed.returncode == 0, listed.stderr
    rows = [line.split("\t") for line in listed.stdout.splitlines()]
    assert rows[0][:4] == ["ID", "KIND", "STATE", "STEP"]
    assert [(r[0], r[2], r[3], r[6], r[7]) for r in rows[1:]] == [
        (failing.id, "failed", "finish", "vm-7", "gave up"), (waiting.id, "pending", "prepare", "vm-8", "-")]
    only_failed = lab.cli("list", "--state", "failed").stdout
    assert failing.id in only_failed and waiting.id not in only_failed
    assert lab.cli("list", "--kind", "ovirt.run").stdout.strip() == "no operations of kind ovirt.run"
    assert lab.cli("list", "--state", "bogus").returncode == 2  # click names the valid choices

    shown = lab.cli("show", failing.id)
    assert shown.returncode == 0, shown.stderr
    for expected in (f"id:          {failing.id}", "state:       failed", "last error:  gave up",
                     "target:      vm-7", '"fail_with": "outcome"', "credentials: kept (encrypted)"):
        assert expected in shown.stdout
    assert "never-shown" not in shown.stdout
    missing = lab.cli("show", "no-such-operation")
    assert missing.returncode == 1 and "no operation 'no-such-operation'" in missing.stderr


def test_retry_resumes_a_failed_operation_once_its_cause_is_gone(lab: Lab, worker: subprocess.Popen,
                                                               tmp_path: Path) -> None:
    blocker = tmp_path / "engine-broken"
    blocker.touch()
    op = lab.runner.submit("test.journal", step="finish", data={"fail_while": str(blocker)},
                           secret={"password": "pw"})
    wait_for(lambda: lab.runner.get(op.id).state == FAILED)
    assert lab.runner.get(op.id).last_error == f"blocked by {blocker}"
    refused = lab.cli("cancel", op.id)
    assert refused.returncode == 1 and "only a pending or running operation can be cancelled" in refused.stderr

    blocker.unlink()  # the operator fixes the cause, then retries
    retried = lab.cli("retry", op.id)
    assert retried.returncode == 0, retried.stderr
    assert f"operation {op.id} is pending again at step finish" in retried.stdout
    wait_for(lambda: lab.runner.get(op.id).state == DONE)
    done = lab.runner.get(op.id)
    assert done.data["secret_seen"] == "pw"  # the retried step still acts with the operation's credentials
    assert lab.steps_run(op.id) == ["finish", "finish"]
    again = lab.cli("retry", op.id)
    assert again.returncode == 1 and "is done: only a failed operation can be retried" in again.stderr


def test_cancel_mid_step_lets_the_step_finish_but_runs_nothing_after_it(lab: Lab, worker: subprocess.Popen) -> None:
    op = lab.runner.submit("test.journal", data={"sleep": 8.0})  # longer than the command takes to start
    wait_for(lambda: lab.steps_run(op.id) == ["prepare", "slow"])  # the worker is inside `slow` now
    slow_started = time.monotonic()
    cancelled = lab.cli("cancel", op.id)
    assert cancelled.returncode == 0, cancelled.stderr
    assert f"operation {op.id} cancelled at step slow" in cancelled.stdout
    assert (lab.runner.get(op.id).state, lab.runner.get(op.id).last_error) == (FAILED, CANCELLED)
    assert time.monotonic() - slow_started < 8.0, "the cancel came after the step ended: nothing was tested"
    time.sleep(8.5 - (time.monotonic() - slow_started))  # `slow` ends in the worker; its outcome is dropped
    time.sleep(0.5)  # and the worker polls again: nothing follows
    after = lab.runner.get(op.id)
    assert (after.state, after.step, after.last_error) == (FAILED, "slow", CANCELLED)
    assert lab.steps_run(op.id) == ["prepare", "slow"]
    assert "slept" not in after.data


def test_cancel_a_pending_operation_before_any_worker_takes_it(lab: Lab, worker: subprocess.Popen) -> None:
    op = lab.runner.submit("test.journal", delay=3600.0)  # not due while the command runs, however slow
    assert lab.cli("cancel", op.id).returncode == 0
    with lab.store.begin() as conn:  # then due at once: a worker would take it now, were it still pending
        conn.execute(sa.update(operations_table).where(operations_table.c.id == op.id).values(due_at=time.time()))
    time.sleep(1.0)  # the worker polls every 0.05 s
    assert lab.runner.get(op.id).state == FAILED and lab.steps_run(op.id) == []


@pytest.mark.parametrize("command", [("operations", "list"), ("credentials", "list"),
                                     ("credentials", "delete", "AKNONE")])
def test_a_mistyped_data_dir_is_refused_and_left_uncreated(tmp_path: Path, command: tuple[str, ...]) -> None:
    missing = tmp_path / "no-such-data"
    result = cli(*command, "--data-dir", str(missing))
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert f"no store at {missing / 'cloudgw.db'}" in result.stderr
    assert not missing.exists()
