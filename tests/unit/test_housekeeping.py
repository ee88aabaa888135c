"""Housekeeping with a controlled clock: tombstones take their EC2 records along, finished operations and
CIMI Jobs go after their retention, the passes are paced, and one failing task stops nothing."""
from __future__ import annotations

import threading
from pathlib import Path

import pytest

from frontends.cimi import jobs
from frontends.ec2.present import INSTANCE_RECORD
from gateway.app import create_app
from gateway.config import load
from gateway.housekeeping import Housekeeping
from gateway.operations import Done, Fail, Operation, OperationRunner
from gateway.store import Store, load_or_create_key

HOUR = 3600.0


class Clock:
    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(tmp_path: Path, clock: Clock) -> Store:
    return Store(f"sqlite:///{tmp_path / 'cloudgw.db'}", load_or_create_key(tmp_path / "secret.key"), clock=clock)


def test_passes_are_paced_by_the_interval(clock: Clock) -> None:
    runs: list[float] = []
    keeper = Housekeeping(interval=300, clock=clock)
    keeper.add("count", lambda: runs.append(clock.now) or 1)
    assert keeper.maybe_run() == {"count": 1}  # the first turn runs at once (start-up)
    clock.now += 299
    assert keeper.maybe_run() is None
    clock.now += 1
    assert keeper.maybe_run() == {"count": 1}
    assert len(runs) == 2


def test_a_failing_task_does_not_stop_the_others(clock: Clock) -> None:
    keeper = Housekeeping(clock=clock)
    keeper.add("broken", lambda: 1 // 0)
    keeper.add("fine", lambda: 3)
    assert keeper.maybe_run() == {"fine": 3}


def test_ec2_records_stay_while_the_tombstone_shows_the_instance_then_go_with_it(store: Store, clock: Clock) -> None:
    store.follow_tombstones("instance", INSTANCE_RECORD)
    for vm in ("gone", "live", "elsewhere"):
        store.put_entity(INSTANCE_RECORD, "lab", vm, {"id": vm, "launch_index": 0})
    store.put_entity("cimi.machine_template", "lab|admin", "gone", {"id": "gone"})  # not a follower
    store.add_tombstone("lab|dc-1", "gone", "instance", {"name": "web"})
    store.add_tombstone("lab|dc-2", "elsewhere", "instance", {"name": "db"})
    clock.now += HOUR / 2
    assert store.purge_tombstones(HOUR) == 0
    assert store.entity(INSTANCE_RECORD, "lab", "gone") is not None  # terminated still shows its launch index
    store.add_tombstone("lab|dc-2", "elsewhere", "instance", {"name": "db"})  # another data center, later
    clock.now += HOUR / 2 + 1
    assert store.purge_tombstones(HOUR) == 1
    assert {r["id"] for r in store.entities(INSTANCE_RECORD, "lab")} == {"live", "elsewhere"}
    assert store.entity("cimi.machine_template", "lab|admin", "gone") == {"id": "gone"}


def test_without_followers_tombstones_purge_alone(store: Store, clock: Clock) -> None:
    store.put_entity(INSTANCE_RECORD, "lab", "vm", {"id": "vm"})
    store.add_tombstone("lab|dc", "vm", "instance", {})
    clock.now += 2 * HOUR
    assert store.purge_tombstones(HOUR) == 1
    assert store.entity(INSTANCE_RECORD, "lab", "vm") == {"id": "vm"}


def test_finished_cimi_jobs_are_purged_after_their_retention(store: Store, clock: Clock) -> None:
    def job(job_id: str, state: str, created: float, changed: float) -> None:
        store.put_entity(jobs.KIND, "lab|admin", job_id, {"id": job_id, "state": state, "created": created,
                                                          "changed": changed})
    start = clock.now
    job("old-success", jobs.SUCCESS, start, start)
    job("old-failed", jobs.FAILED, start, start + 10)
    job("running", jobs.RUNNING, start, start)
    clock.now += 24 * HOUR + 5
    job("fresh", jobs.SUCCESS, clock.now, clock.now)
    assert jobs.purge_expired(store, 24 * HOUR) == 1  # old-failed changed 10 s later: still within the day
    assert {j["id"] for j in store.entities(jobs.KIND, "lab|admin")} == {"old-failed", "running", "fresh"}
    clock.now += jobs.GIVE_UP_SECONDS  # a job nobody read for a day after it gave up goes too
    assert jobs.purge_expired(store, 24 * HOUR) == 2
    assert {j["id"] for j in store.entities(jobs.KIND, "lab|admin")} == {"fresh"}


def test_a_job_written_during_the_pass_is_kept(store: Store, clock: Clock) -> None:
    store.put_entity(jobs.KIND, "o", "j", {"id": "j", "state": jobs.SUCCESS, "created": 0, "changed": 0})
    clock.now += 2 * HOUR

    def rewritten_meanwhile(job: dict) -> bool:
        store.put_entity(jobs.KIND, "o", "j", dict(job, note="touched"))
        return True
    assert store.purge_entities(jobs.KIND, HOUR, rewritten_meanwhile) == 0
    assert store.entity(jobs.KIND, "o", "j")["note"] == "touched"


class Quick:
    name = "test.quick"
    steps = ("only",)

    def run_step(self, operation: Operation) -> Done | Fail:
        return Fail("no") if operation.data.get("fail") else Done()


def test_finished_operations_are_purged_after_their_retention(store: Store, clock: Clock) -> None:
    runner = OperationRunner(store, clock=clock)
    runner.register(Quick())
    done = runner.submit("test.quick")
    failed = runner.submit("test.quick", data={"fail": True})
    runner.run_until_idle()
    waiting = runner.submit("test.quick", delay=10 * 24 * HOUR)
    clock.now += 24 * HOUR - 1
    assert runner.purge_finished(24 * HOUR) == 0
    clock.now += 2
    assert runner.purge_finished(24 * HOUR) == 2
    assert runner.get(done.id) is None and runner.get(failed.id) is None
    assert runner.get(waiting.id) is not None  # never an unfinished one, however old


def test_the_worker_loop_runs_housekeeping(store: Store) -> None:
    runner = OperationRunner(store, poll_seconds=0.01)
    ran = threading.Event()
    runner.periodic = ran.set
    runner.start()
    try:
        assert ran.wait(5)
    finally:
        runner.stop()


def test_the_gateway_wires_every_purge_into_one_housekeeping(tmp_path: Path) -> None:
    app = create_app(load(None, environ={}, data_dir=str(tmp_path), operation_retention_seconds=7200,
                          cimi_job_retention_seconds=60), start_workers=False)
    gateway = app.extensions["cloudgw"]
    assert set(gateway.housekeeping.tasks) == {"tombstones", "operations", "cimi.jobs"}
    assert gateway.operations.periodic == gateway.housekeeping.maybe_run
    assert INSTANCE_RECORD in gateway.store._followers["instance"]
    assert gateway.housekeeping.run() == {"tombstones": 0, "operations": 0, "cimi.jobs": 0}
    gateway.close()
