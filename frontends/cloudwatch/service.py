"""botocore's CloudWatch service model, loaded once: the shapes every protocol parses and renders by."""
from __future__ import annotations

import functools

import botocore.session
from botocore.model import OperationModel, ServiceModel

API_VERSION = "2010-08-01"


@functools.lru_cache(maxsize=1)
def service_model() -> ServiceModel:
    return botocore.session.get_session().get_service_model("cloudwatch", api_version=API_VERSION)


@functools.lru_cache(maxsize=None)
def operation(name: str) -> OperationModel:
    return service_model().operation_model(name)


@functools.lru_cache(maxsize=1)
def error_shapes() -> dict[str, str]:
    """Query error code -> the model's error shape name (`InvalidParameterValue` -> `...Exception`)."""
    return {shape.metadata.get("error", {}).get("code", shape.name): shape.name
            for shape in service_model().error_shapes}


def target_prefix() -> str:
    return str(service_model().metadata["targetPrefix"])


def namespace() -> str:
    return str(service_model().metadata["xmlNamespace"])
