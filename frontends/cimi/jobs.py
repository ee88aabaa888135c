"""CIMI Jobs: one per asynchronous operation, its state read from what really happened.

A job records what was asked (action, target, the condition that means "done") in the store; its state
is derived on every read from the target's real state in the engine and, where the driver runs the work
as a durable operation, from that operation's state and progress. Once SUCCESS or FAILED it is final
and kept as such (with `timeOfStatusChange`). Job states are only RUNNING, SUCCESS and FAILED, the
subset every CIMI client understands.
"""
from __future__ import annotations

import time
import uuid
from typing import Any

from gateway.app import current_gateway
from gateway.errors import GatewayError, NotFound
from gateway.model import InstanceState, ResourceState
from gateway.operations import DONE, FAILED as OP_FAILED, Operation, progress as operation_progress
from gateway.store import Store

from .context import Context
from .protocol import JOB_HEADER
from .records import all_records, find_record, save_record
from .schema import iso_time

KIND = "cimi.job"
RUNNING, SUCCESS, FAILED = "RUNNING", "SUCCESS", "FAILED"
# A job whose target never reaches the wanted condition stops claiming to run after this long.
GIVE_UP_SECONDS = 3600.0

# What "done" means, per expectation: (target kind, condition on the target).
STARTED, STOPPED, SUSPENDED, RESTARTED, GONE, AVAILABLE, ATTACHED, DETACHED = (
    "started", "stopped", "suspended", "restarted", "gone", "available", "attached", "detached")


def start_job(ctx: Context, action: str, target_kind: str, target_id: str, expect: str, *,
              target_href: str, machine_id: str | None = None, affected: list[str] | None = None) -> dict[str, Any]:
    """Record a job for work just asked of the driver; returns the stored record."""
    now = time.time()
    job = {"id": uuid.uuid4().hex, "action": action, "target_kind": target_kind, "target_id": target_id,
           "target_href": target_href, "machine_id": machine_id, "affected": affected or [], "expect": expect,
           "created": now, "changed": now, "state": RUNNING, "message": "", "progress": 0, "operation": None}
    save_record(ctx, KIND, job)
    return job


def job_href(ctx: Context, job: dict[str, Any]) -> str:
    return ctx.href("jobs", job["id"])


def stored_job(ctx: Context, job_id: str) -> dict[str, Any]:
    return find_record(ctx, KIND, job_id, "job")


def stored_jobs(ctx: Context) -> list[dict[str, Any]]:
    return all_records(ctx, KIND)


def refresh(ctx: Context, job: dict[str, Any]) -> dict[str, Any]:
    """The job with its state brought up to date (and saved when it changed)."""
    if job["state"] != RUNNING:
        return job
    operation = _operation(job)
    state, message, percent = _derive(ctx, job, operation)
    if (state, message, percent) != (job["state"], job["message"], job["progress"]):
        job = dict(job, state=state, message=message, progress=percent,
                   operation=operation.id if operation else job.get("operation"))
        if state != RUNNING:
            job["changed"] = time.time()
        save_record(ctx, KIND, job)
    return job


def _operation(job: dict[str, Any]) -> Operation | None:
    """The durable operation the driver started for this job's target, if it runs one."""
    operations = current_gateway().operations
    if job.get("operation"):
        return operations.get(job["operation"])
    candidates = [op for op in operations.find(target=job["target_id"]) if op.created >= job["created"] - 2.0]
    return candidates[-1] if candidates else None


def _derive(ctx: Context, job: dict[str, Any], operation: Operation | None) -> tuple[str, str, int]:
    if operation is not None and operation.state == OP_FAILED:
        return FAILED, operation.last_error or "The operation failed", job["progress"]
    op_percent = None
    if operation is not None:
        kind = current_gateway().operations.kinds.get(operation.kind)
        op_percent = operation_progress(kind, operation)
    try:
        reached, failure = _condition(ctx, job)
    except GatewayError as exc:
        if exc.status >= 500:  # the engine is unreachable: nothing is known yet
            return RUNNING, job["message"], job["progress"]
        raise
    if failure:
        return FAILED, failure, job["progress"]
    if reached and (operation is None or operation.state == DONE):
        return SUCCESS, "", 100
    if time.time() - job["created"] > GIVE_UP_SECONDS:
        return FAILED, "The operation did not complete in time", job["progress"]
    percent = op_percent if op_percent is not None else (90 if reached else job["progress"])
    return RUNNING, "", min(percent, 99)


def _condition(ctx: Context, job: dict[str, Any]) -> tuple[bool, str]:
    """(reached, failure message) for the job's expectation on its target's real state."""
    kind, target_id, expect = job["target_kind"], job["target_id"], job["expect"]
    driver, scope = ctx.driver, ctx.scope
    try:
        if kind == "machine":
            instance = driver.instance(scope, target_id)
            if expect == GONE:
                return instance.state == InstanceState.TERMINATED, ""
            if instance.state == InstanceState.ERROR:
                return False, f"The machine is in error: {instance.state_reason or instance.backend_state}"
            wanted = {STARTED: InstanceState.RUNNING, STOPPED: InstanceState.STOPPED,
                      SUSPENDED: InstanceState.SUSPENDED, RESTARTED: InstanceState.RUNNING}[expect]
            reached = instance.state == wanted
            if expect == RESTARTED:
                reached = reached and (instance.backend_state or "").lower() != "reboot_in_progress"
            return reached, ""
        if kind == "machineVolume":
            instance = driver.instance(scope, job["machine_id"])
            attached = any(a.volume_id == target_id for a in instance.attachments)
            return attached == (expect == ATTACHED), ""
        if kind == "volumeImage":
            resource = next((s for s in driver.snapshots(scope, [target_id]) if s.id == target_id), None)
            if resource is None:
                raise NotFound("volume image", target_id)
        else:
            resource = driver.volume(scope, target_id) if kind == "volume" else driver.image(scope, target_id)
        if expect == GONE:
            return False, ""
        if resource.state == ResourceState.ERROR:
            return False, f"The {kind} is in error"
        return resource.state in (ResourceState.AVAILABLE, ResourceState.IN_USE), ""
    except NotFound:
        if expect == GONE:
            return True, ""
        if kind == "machineVolume" and expect == DETACHED:
            return True, ""
        return False, f"The {kind} no longer exists"


def expired(job: dict[str, Any], now: float, retention: float) -> bool:
    """Whether a stored job may go: finished more than `retention` seconds ago, or still RUNNING so long
    after GIVE_UP_SECONDS that its next read would fail it and it would then be kept that long anyway."""
    if job.get("state") != RUNNING:
        return float(job.get("changed", 0)) < now - retention
    return float(job.get("created", 0)) < now - GIVE_UP_SECONDS - retention


def purge_expired(store: Store, retention: float) -> int:
    """Housekeeping task: remove every owner's expired jobs, so that listings (which re-check each
    unfinished job against the engine) stay bounded by the jobs of the retention period."""
    now = store.clock()
    return store.purge_entities(KIND, retention, lambda job: expired(job, now, retention))


def render_job(ctx: Context, job: dict[str, Any]) -> dict[str, Any]:
    href = job_href(ctx, job)
    content: dict[str, Any] = {
        "id": href, "name": f"{job['action'].rsplit('/', 1)[-1]} {job['target_kind']}",
        "created": iso_time(job["created"]), "updated": iso_time(job["changed"]), "state": job["state"],
        "targetResource": {"href": job["target_href"]},
    }
    if job.get("affected"):
        content["affectedResources"] = [{"href": h} for h in job["affected"]]
    content.update({"action": job["action"], "progress": job["progress"]})
    if job["state"] != RUNNING:
        content["returnCode"] = 0 if job["state"] == SUCCESS else 1
    if job["message"]:
        content["statusMessage"] = job["message"]
    content["timeOfStatusChange"] = iso_time(job["changed"])
    if job["state"] != RUNNING:
        content["operations"] = [{"rel": "delete", "href": href}]
    return content


def job_headers(ctx: Context, job: dict[str, Any]) -> dict[str, str]:
    return {JOB_HEADER: job_href(ctx, job)}
