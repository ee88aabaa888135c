"""Durable operations: claim, lease expiry, retries, and resumption after a kill -9 by a new process."""
from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from gateway.operations import DONE, FAILED, PENDING, RUNNING, Done, Next, OperationRunner, progress
from gateway.store import Store, load_or_create_key

from .operation_worker import JournalKind

ROOT = Path(__file__).resolve().parents[2]
WORKER = Path(__file__).with_name("operation_worker.py")


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def paths(tmp_path: Path) -> dict[str, Path]:
    return {"db": tmp_path / "ops.db", "key": tmp_path / "secret.key", "journal": tmp_path / "journal.txt"}


def make_runner(paths: dict[str, Path], clock: Clock | None = None, lease: float = 30.0,
                max_attempts: int = 5) -> OperationRunner:
    store = Store(f"sqlite:///{paths['db']}", load_or_create_key(paths["key"]))
    runner = OperationRunner(store, lease_seconds=lease, poll_seconds=0.05, max_attempts=max_attempts,
                             clock=clock or time.time)
    runner.register(JournalKind(paths["journal"]))
    return runner


def journal(paths: dict[str, Path]) -> list[list[str]]:
    if not paths["journal"].exists():
        return []
    return [line.split() for line in paths["journal"].read_text().splitlines()]


def test_an_operation_runs_its_steps_in_order_and_keeps_its_data(paths: dict[str, Path]) -> None:
    runner = make_runner(paths)
    op = runner.submit("test.journal", target="vm-1", data={"polls": 2}, secret={"password": "pw"}, owner="lab|a")
    assert (op.state, op.step) == (PENDING, "prepare")
    assert progress(runner.kinds["test.journal"], op) == 0
    assert runner.run_until_idle() == 5  # prepare, slow, finish polled twice, finish
    done = runner.get(op.id)
    assert done is not None and done.state == DONE and done.finished
    assert done.data == {"polls": 0, "prepared": True, "slept": True, "result": "ok", "secret_seen": "pw"}
    assert done.secret is None  # credentials are dropped once the operation has ended
    assert [step for _, step, *_ in journal(paths)] == ["prepare", "slow", "finish", "finish", "finish"]
    assert progress(runner.kinds["test.journal"], done) == 100
    assert [o.id for o in runner.find(owner="lab|a", target="vm-1")] == [op.id]
    assert runner.find(owner="lab|a", active_only=True) == []


def test_secrets_are_encrypted_in_the_table(paths: dict[str, Path]) -> None:
    runner = make_runner(paths)
    runner.submit("test.journal", secret={"password": "engine-password-123"})
    raw = b"".join(p.read_bytes() for p in paths["db"].parent.glob("ops.db*"))
    assert b"engine-password-123" not in raw


def test_only_one_of_two_runners_claims_an_operation(paths: dict[str, Path]) -> None:
    clock = Clock()
    first, second = make_runner(paths, clock), make_runner(paths, clock)
    op = first.submit("test.journal")
    claimed = first.claim()
    assert claimed is not None and claimed.id == op.id and claimed.state == RUNNING
    assert second.claim() is None  # leased by the first
    clock.now += 31  # the lease expires: the first is presumed dead
    taken = second.claim()
    assert taken is not None and taken.id == op.id


def test_a_runner_that_lost_its_lease_does_not_overwrite_progress(paths: dict[str, Path]) -> None:
    clock = Clock()
    slow, fast = make_runner(paths, clock), make_runner(paths, clock)
    op = slow.submit("test.journal")
    stale = slow.claim()
    clock.now += 31
    assert fast.run_once()  # takes over and completes `prepare`
    slow._record(stale, slow.kinds["test.journal"].run_step(stale))  # the late answer of the old lease
    current = fast.get(op.id)
    assert current.step == "slow" and current.state == PENDING


def test_a_takeover_is_logged_naming_the_holder_whose_lease_expired(paths: dict[str, Path],
                                                                     caplog: pytest.LogCaptureFixture) -> None:
    """An operator (and the two-host failover benchmark) learns from the survivor's log which process died
    mid-step and which operations it took over; a claim of an operation nobody held logs nothing."""
    clock = Clock()
    dead, survivor = make_runner(paths, clock, lease=5), make_runner(paths, clock, lease=5)
    held = dead.submit("test.journal", held=True)
    idle = dead.submit("test.journal", delay=1)
    clock.now += 4.75  # the holder died mid-step: its lease (3/4 of 5 s) ran out 1 s ago
    with caplog.at_level("WARNING", logger="cloudgw.operations"):
        assert {survivor.claim().id, survivor.claim().id} == {held.id, idle.id}
    takeovers = [r.getMessage() for r in caplog.records if "took it over" in r.getMessage()]
    assert takeovers == [f"operation {held.id}: took it over from {held.lease_owner}, whose lease expired 1.0 s ago "
                         "(that process stopped mid-step); running its step again"]


def test_an_operation_whose_holder_died_is_taken_over_before_the_backlog(paths: dict[str, Path]) -> None:
    """A survivor inherits the dead host's overdue operations too; the one the dead host was running (a client
    may be waiting on it) comes first, not after the whole backlog in due order."""
    clock = Clock()
    dead, survivor = make_runner(paths, clock, lease=4), make_runner(paths, clock, lease=4)
    backlog = [dead.submit("test.journal").id for _ in range(3)]  # due now, older than the held one
    clock.now += 1
    held = dead.submit("test.journal", held=True)
    clock.now += 4  # its lease (3 s) has lapsed
    assert survivor.claim().id == held.id
    assert {survivor.claim().id for _ in backlog} == set(backlog)


def test_a_request_whose_hold_ran_out_loses_it_to_its_own_process_worker(paths: dict[str, Path]) -> None:
    """The request thread and the worker thread of one process are different holders: once the worker took
    an expired hold over, the request's late renew and finish are refused and the worker's outcome stands."""
    clock = Clock()
    runner = make_runner(paths, clock)
    held = runner.submit("test.journal", held=True)
    assert runner.renew(held.id) is not None  # the request still holds it
    clock.now += 31  # its step outlasted the lease
    taken = runner.claim()  # this same process's worker
    assert taken is not None and taken.id == held.id and taken.lease_owner != held.lease_owner
    assert runner.renew(held.id) is None
    assert not runner.finish(held, Done({"by": "request"}))
    assert runner._record(taken, Next("slow", {"by": "worker"}))
    current = runner.get(held.id)
    assert (current.step, current.state, current.data) == ("slow", PENDING, {"by": "worker"})


def test_a_worker_claim_that_ran_out_loses_to_the_same_worker_next_claim(paths: dict[str, Path]) -> None:
    clock = Clock()
    runner = make_runner(paths, clock)
    op = runner.submit("test.journal")
    first = runner.claim()
    clock.now += 31
    second = runner.claim()  # the same process claims it again: the first claim's step is presumed lost
    assert first is not None and second is not None and first.lease_owner != second.lease_owner
    assert not runner._record(first, Next("slow", {"late": True}))
    assert runner._record(second, Next("slow", {"second": True}))
    assert runner.get(op.id).data == {"second": True}


def test_withdrawn_held_operations_leave_no_trace_but_taken_over_ones_stay(paths: dict[str, Path]) -> None:
    clock = Clock()
    runner = make_runner(paths, clock)
    unused, taken = runner.submit_many("test.journal", 2, held=True)
    clock.now += 31
    claimed = runner.claim()
    assert claimed is not None
    runner.withdraw([unused.id, taken.id])
    remaining = {o.id for o in runner.find()}
    assert remaining == {claimed.id} and claimed.id in (unused.id, taken.id)


def test_retryable_errors_back_off_then_succeed(paths: dict[str, Path]) -> None:
    clock = Clock()
    runner = make_runner(paths, clock)
    op = runner.submit("test.journal", step="finish", data={"fail_with": "retryable", "failures": 2})
    assert runner.run_once()
    after_one = runner.get(op.id)
    assert (after_one.state, after_one.attempts, after_one.last_error) == (PENDING, 1, "engine down")
    assert after_one.due_at > clock.now  # backed off
    assert not runner.run_once()  # not due yet
    clock.now = after_one.due_at
    assert runner.run_once()
    clock.now = runner.get(op.id).due_at
    assert runner.run_once()
    assert runner.get(op.id).state == DONE


def test_retryable_errors_fail_after_max_attempts(paths: dict[str, Path]) -> None:
    clock = Clock()
    runner = make_runner(paths, clock, max_attempts=3)
    op = runner.submit("test.journal", step="finish", data={"fail_with": "retryable", "failures": 99})
    for _ in range(3):
        clock.now += 3600
        runner.run_once()
    failed = runner.get(op.id)
    assert (failed.state, failed.last_error) == (FAILED, "engine down")


@pytest.mark.parametrize("mode, message", [("permanent", "bad template"), ("outcome", "gave up")])
def test_permanent_failures_are_recorded_at_once(paths: dict[str, Path], mode: str, message: str) -> None:
    runner = make_runner(paths)
    op = runner.submit("test.journal", step="finish", data={"fail_with": mode})
    runner.run_until_idle()
    failed = runner.get(op.id)
    assert (failed.state, failed.last_error, failed.attempts) == (FAILED, message, 0)


def test_background_worker_runs_submitted_operations(paths: dict[str, Path]) -> None:
    runner = make_runner(paths)
    runner.start()
    try:
        op = runner.submit("test.journal")
        deadline = time.monotonic() + 10
        while runner.get(op.id).state != DONE and time.monotonic() < deadline:
            time.sleep(0.02)
        assert runner.get(op.id).state == DONE
    finally:
        runner.stop()


def start_worker(paths: dict[str, Path], lease: float) -> subprocess.Popen:
    process = subprocess.Popen(
        [sys.executable, str(WORKER), f"sqlite:///{paths['db']}", str(paths["key"]), str(paths["journal"]), str(lease)],
        cwd=ROOT, stdout=subprocess.PIPE, text=True, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert process.stdout.readline().strip() == "ready"
    return process


def wait_for(predicate, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.05)


def test_a_process_killed_mid_operation_is_resumed_by_a_new_process(paths: dict[str, Path]) -> None:
    """kill -9 during the `slow` step; a new process takes the expired lease and finishes the operation."""
    runner = make_runner(paths)
    op = runner.submit("test.journal", data={"sleep": 30})
    first = start_worker(paths, lease=2)
    try:
        wait_for(lambda: any(step == "slow" for _, step, *_ in journal(paths)))
        first.kill()  # SIGKILL in the middle of `slow`
        first.wait()
    finally:
        first.kill()
    interrupted = runner.get(op.id)
    assert (interrupted.state, interrupted.step) == (RUNNING, "slow")
    # The new process must not redo what was recorded, only the interrupted step.
    with runner.store.begin() as conn:
        from gateway.schema import operations_table as ops
        import json
        conn.execute(ops.update().where(ops.c.id == op.id).values(
            data=json.dumps({**interrupted.data, "sleep": 0})))
    second = start_worker(paths, lease=2)
    try:
        wait_for(lambda: runner.get(op.id).state == DONE)
    finally:
        second.kill()
        second.wait()
    entries = journal(paths)
    steps = [(step, int(pid)) for _, step, pid, *_ in entries]
    assert [s for s, _ in steps] == ["prepare", "slow", "slow", "finish"]
    assert steps[0][1] == steps[1][1] == first.pid
    assert steps[2][1] == steps[3][1] == second.pid
    assert runner.get(op.id).data["prepared"] is True


def test_a_worker_whose_key_cannot_read_an_operation_leaves_it_to_others(
        paths: dict[str, Path], caplog: pytest.LogCaptureFixture) -> None:
    """A process with another secret key used to raise from every claim, every poll (`operation worker
    could not run` with a stack trace), holding the lease each time. It now hands the operation back, due
    a minute later, with one warning, and runs what it can read."""
    clock = Clock()
    writer = make_runner(paths, clock)
    unreadable = writer.submit("test.journal", secret={"password": "pw"})
    other_key = dict(paths, key=paths["key"].with_name("other.key"))
    stranger = make_runner(other_key, clock)
    readable = stranger.submit("test.journal")  # no credentials: any key reads it
    with caplog.at_level("WARNING", logger="cloudgw.operations"):
        claimed = stranger.claim()
    assert claimed is not None and claimed.id == readable.id
    assert f"operation {unreadable.id}: this process's secret key cannot read its credentials" in caplog.text
    left = writer.get(unreadable.id)
    assert left is not None and (left.state, left.owner, left.lease_owner) == (PENDING, "", None)
    assert left.due_at == clock.now + 60
    assert stranger.claim() is None  # not before it is due again
    stranger.cancel(readable.id)
    clock.now += 61
    taken = writer.claim()  # a process with the right key runs it
    assert taken is not None and taken.id == unreadable.id and taken.secret == {"password": "pw"}


def test_a_step_longer_than_the_lease_is_not_taken_over_while_its_process_lives(paths: dict[str, Path]) -> None:
    """The heartbeat renews a running step's lease: another process does not run the step a second time."""
    busy, other = make_runner(paths, lease=0.6), make_runner(paths, lease=0.6)
    op = busy.submit("test.journal", step="slow", data={"sleep": 2.0})
    step = threading.Thread(target=busy.run_once)
    step.start()
    wait_for(lambda: any(s == "slow" for _, s, *_ in journal(paths)))
    while step.is_alive():
        assert other.claim() is None, "the step was taken over while its process was running it"
        time.sleep(0.05)
    assert busy.get(op.id).step == "finish"
    assert [s for _, s, *_ in journal(paths)] == ["slow"]


HOLDER = """
import sys, time
from pathlib import Path
from gateway.operations import OperationRunner
from gateway.store import Store, load_or_create_key
from tests.integration.operation_worker import JournalKind
runner = OperationRunner(Store(sys.argv[1], load_or_create_key(Path(sys.argv[2]))), lease_seconds=2.0)
runner.register(JournalKind(Path(sys.argv[3])))
held = runner.submit("test.journal", held=True)
runner.renew(held.id, 60)  # a side effect that may take a minute, as a launch's create request to the engine
print(held.id, flush=True)
time.sleep(600)
"""


def test_a_process_killed_while_holding_loses_the_operation_after_the_lease_not_its_budget(
        paths: dict[str, Path]) -> None:
    """A request holding a launch for its engine call's whole budget (a minute) keeps it while it lives, and a
    host killed meanwhile frees it within `lease_seconds` of its death: the survivor need not wait a minute."""
    survivor = make_runner(paths, lease=2.0)
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, f"sqlite:///{paths['db']}", str(paths["key"]),
                               str(paths["journal"])], cwd=ROOT, stdout=subprocess.PIPE, text=True,
                              env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    try:
        held = holder.stdout.readline().strip()
        deadline = time.monotonic() + 4.5  # more than two leases: its heartbeat keeps it
        while time.monotonic() < deadline:
            assert survivor.claim() is None
            time.sleep(0.1)
    finally:
        holder.kill()
        holder.wait()
    killed = time.monotonic()
    taken = None
    while taken is None and time.monotonic() - killed < 5:
        taken = survivor.claim()
        time.sleep(0.05)
    assert taken is not None and taken.id == held, "not taken over within 5 s of the kill"
    assert time.monotonic() - killed < 2.0  # within the lease, the survivor's polling included
