"""The CloudWatch API on the EC2 endpoint: metrics (sampled from the engines, or put by clients) and alarms.

CloudWatch shares the gateway's AWS endpoint with EC2 and STS; a request is CloudWatch's when its SigV4
credential scope names the service `monitoring` (or, unsigned, by its path, target header or Query
version). It is told apart before Flask dispatches, so the EC2 frontend needs to know nothing of it.
"""
from __future__ import annotations

import flask


def register(app: flask.Flask) -> None:
    """Serve CloudWatch at the AWS endpoint and have the worker evaluate alarms (called by the app factory)."""
    from gateway.housekeeping import Housekeeping

    from . import alarm_evaluation, endpoint
    from .actions import load_all

    load_all()

    gateway = app.extensions["cloudgw"]
    app.before_request(endpoint.intercept)
    evaluator = alarm_evaluation.AlarmEvaluator(gateway)
    pacer = Housekeeping(interval=gateway.config.cloudwatch_evaluation_seconds)
    pacer.add("cloudwatch.alarms", evaluator.run)
    gateway.pacers.append(pacer)
    gateway.alarm_evaluator = evaluator
    gateway.housekeeping.add("cloudwatch.alarm_history", evaluator.purge_history)
