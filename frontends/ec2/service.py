"""botocore's EC2 service model, loaded once: the single source of parameter and response shapes.

Parsing requests and rendering responses by this model (as moto does) keeps names, containers, types and
booleans exactly as boto3, aws-cli and every SDK generated from the same model expect them.
"""
from __future__ import annotations

import functools

import botocore.session
from botocore.model import OperationModel, ServiceModel

API_VERSION = "2016-11-15"


@functools.lru_cache(maxsize=1)
def service_model() -> ServiceModel:
    return botocore.session.get_session().get_service_model("ec2", api_version=API_VERSION)


@functools.lru_cache(maxsize=None)
def operation(name: str) -> OperationModel:
    """The operation model of an action (KeyError-free: callers only ask for actions they implement)."""
    return service_model().operation_model(name)
