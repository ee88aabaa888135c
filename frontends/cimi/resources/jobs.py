"""The Job collection: list, get (each read brings the job up to date), delete a finished job."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, Response

from gateway.app import current_gateway
from gateway.errors import InvalidState

from .. import jobs
from ..context import Context, current
from ..listing import register_collection, resource_response
from ..protocol import respond


def list_jobs(ctx: Context) -> list[dict[str, Any]]:
    return [jobs.render_job(ctx, jobs.refresh(ctx, j)) for j in jobs.stored_jobs(ctx)]


def get_job(job_id: str) -> Response:
    ctx = current()
    return resource_response(ctx, "Job", jobs.render_job(ctx, jobs.refresh(ctx, jobs.stored_job(ctx, job_id))))


def delete_job(job_id: str) -> Response:
    ctx = current()
    job = jobs.refresh(ctx, jobs.stored_job(ctx, job_id))
    if job["state"] == jobs.RUNNING:
        raise InvalidState("A running job cannot be deleted; it is removed once it has finished", resource_id=job_id)
    current_gateway().store.delete_entity(jobs.KIND, ctx.owner, job_id)
    return respond(None, ctx.fmt, 200)


def install(bp: Blueprint) -> None:
    register_collection("jobs", "Job", list_jobs)
    bp.add_url_rule("/jobs/<job_id>", "get_job", get_job, methods=["GET"])
    bp.add_url_rule("/jobs/<job_id>", "delete_job", delete_job, methods=["DELETE"])
