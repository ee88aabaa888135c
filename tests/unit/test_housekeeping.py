"""Housekeeping with a controlled clock: tombstones take their EC2 records along, finished operations and
CIMI Jobs go after their retention, the passes are paced, and one failing task stops nothing."""
from __future__ import annotations

import threading
from pathlib import Path

import pytest

from frontends.cimi import jobs
from frontends.ec2.present import INSTANCE_RECORD
from gateway.app import create_app
from gateway.config import Config, ProviderConfig, load
from gateway.driver import Driver
from gateway.errors import InvalidParameter
from gateway.housekeeping import Housekeeping
from gateway.operations import Done, Fail, Operation, OperationRunner
from gateway.orphans import MISSING, Orphans
from gateway.scope import Scope
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
    assert set(gateway.housekeeping.tasks) == {"tombstones", "operations", "cimi.jobs", "orphans", "metric_points",
                                               "cloudwatch.alarm_history"}
    assert gateway.operations.periodic == gateway.run_periodic and gateway.housekeeping in gateway.pacers
    assert INSTANCE_RECORD in gateway.store._followers["instance"]
    assert INSTANCE_RECORD in gateway.store.resource_records["instance"]
    assert gateway.housekeeping.run() == {"tombstones": 0, "operations": 0, "cimi.jobs": 0, "orphans": 0,
                                          "metric_points": 0, "cloudwatch.alarm_history": 0}
    gateway.close()


# --- what the store keeps about resources removed outside the gateway, and old ClientTokens ------------
LAB = ProviderConfig(name="lab", url="https://engine.example/ovirt-engine/api")
OTHER = ProviderConfig(name="other", url="https://other.example/ovirt-engine/api")


class EngineView(Driver):
    """A driver whose engine holds `resources`, and answers only the administrators it is told of."""

    def __init__(self, resources: dict[str, set[str]], admins: set[str]) -> None:
        self.resources, self.admins, self.asked = resources, admins, []

    def existing_resources(self, scope: Scope) -> dict[str, set[str]]:
        self.asked.append(scope.credentials.username)
        if scope.credentials.username not in self.admins:
            raise InvalidParameter("query execution failed due to insufficient permissions.")
        return {kind: set(ids) for kind, ids in self.resources.items()}


def orphans(store: Store, clock: Clock, engine: EngineView, **settings: int) -> Orphans:
    config = Config(providers=(LAB, OTHER), default_provider="lab", **{"orphan_seconds": int(HOUR), **settings})
    return Orphans(config, store, lambda provider: engine if provider is LAB else Driver(config, store, None),
                   clock=clock)


@pytest.fixture
def lab(store: Store) -> Store:
    """Tags and records of instances `live` and `removed` (removed outside the gateway), a volume, a key pair."""
    store.keep_records("instance", INSTANCE_RECORD)
    store.create_credential("user@internal", "pw", access_key="AKUSER", secret_key="s")  # not an administrator
    store.create_credential("admin@internal", "pw", access_key="AKADMIN", secret_key="s", provider="lab")
    for vm in ("live", "removed"):
        store.set_tags("lab", "instance", [vm], {"env": "dev"})
        store.put_entity(INSTANCE_RECORD, "lab", vm, {"id": vm, "launch_index": 0})
    store.set_tags("lab", "volume", ["vol-gone"], {"backup": "yes"})
    store.set_tags("lab|admin@internal", "key-pair", ["key-1"], {"team": "a"})  # not a backend resource
    return store


def test_tags_and_records_of_a_vanished_resource_go_after_the_retention(lab: Store, clock: Clock) -> None:
    engine = EngineView({"instance": {"live"}, "volume": set(), "image": set(), "snapshot": set()},
                        admins={"admin@internal"})
    keeper = orphans(lab, clock, engine)
    assert keeper.run() == 0  # first seen missing: marked, kept
    assert set(lab.tags("lab")) == {"live", "removed", "vol-gone"}
    clock.now += HOUR - 1
    assert keeper.run() == 0
    clock.now += 1
    assert keeper.run() == 2
    assert lab.tags("lab") == {"live": {"env": "dev"}}
    assert [r["id"] for r in lab.entities(INSTANCE_RECORD, "lab")] == ["live"]
    assert lab.tags("lab|admin@internal") == {"key-1": {"team": "a"}}
    assert lab.entities(MISSING, "lab") == []
    assert engine.asked[0] == "admin@internal"  # a credential naming the provider is tried first


def test_a_resource_being_created_as_the_engine_was_listed_keeps_its_tags(lab: Store, clock: Clock) -> None:
    engine = EngineView({"instance": {"live"}}, admins={"admin@internal"})
    keeper = orphans(lab, clock, engine)
    keeper.run()  # `removed` is, in this story, a VM whose tags were written just after the engine answered
    engine.resources["instance"].add("removed")
    clock.now += 2 * HOUR
    assert keeper.run() == 0
    assert set(lab.tags("lab")) >= {"live", "removed"}
    assert lab.entity(MISSING, "lab", "removed") is None


def test_a_terminated_instance_is_left_to_its_tombstone(lab: Store, clock: Clock) -> None:
    lab.add_tombstone("lab|dc", "removed", "instance", {"name": "web"})
    keeper = orphans(lab, clock, EngineView({"instance": {"live"}}, admins={"admin@internal"}))
    keeper.run()
    clock.now += 2 * HOUR
    keeper.run()
    assert lab.entity(INSTANCE_RECORD, "lab", "removed") is not None


def test_without_a_credential_that_sees_everything_nothing_is_purged(lab: Store, clock: Clock) -> None:
    lab.delete_credential("AKADMIN")
    engine = EngineView({"instance": set()}, admins={"admin@internal"})
    keeper = orphans(lab, clock, engine)
    keeper.run()
    clock.now += 2 * HOUR
    assert keeper.run() == 0
    assert set(lab.tags("lab")) == {"live", "removed", "vol-gone"}
    assert engine.asked == ["user@internal", "user@internal"]  # tried, refused: a partial view is never used


def test_client_tokens_go_after_their_retention_unless_their_instances_live(lab: Store, clock: Clock) -> None:
    done = {"state": "done", "reservation_id": "r-1"}
    lab.claim_token("lab|admin@internal", "old-live", "fp", {**done, "instance_ids": ["live"]})
    lab.claim_token("lab|admin@internal", "old-gone", "fp", {**done, "instance_ids": ["removed"]})
    lab.claim_token("lab|admin@internal", "old-stuck", "fp", {"state": "creating"})
    lab.claim_token("other|admin@internal", "old-unchecked", "fp", {**done, "instance_ids": ["elsewhere"]})
    clock.now += 24 * HOUR
    lab.claim_token("lab|admin@internal", "fresh", "fp", {**done, "instance_ids": ["removed"]})
    keeper = orphans(lab, clock, EngineView({"instance": {"live"}}, admins={"admin@internal"}),
                     client_token_seconds=int(24 * HOUR) - 1)
    keeper.run()
    kept = {t for t in ("old-live", "old-gone", "old-stuck", "fresh") if lab.token("lab|admin@internal", t)}
    assert kept == {"old-live", "fresh"}
    assert lab.token("other|admin@internal", "old-unchecked") is None


def test_a_provider_the_store_holds_nothing_about_costs_no_engine_request(store: Store, clock: Clock) -> None:
    store.create_credential("admin@internal", "pw", access_key="AKADMIN", secret_key="s", provider="lab")
    engine = EngineView({"instance": set()}, admins={"admin@internal"})
    assert orphans(store, clock, engine).run() == 0
    assert engine.asked == []
