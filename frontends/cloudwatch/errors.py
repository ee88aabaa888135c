"""CloudWatch's error codes, and the one exception every CloudWatch failure leaves as.

Clients branch on the code (`InvalidParameterValue`, `ResourceNotFound`, ...); the wire layer writes it
in the request's own protocol (Query XML, JSON or CBOR with `x-amzn-query-error`).
"""
from __future__ import annotations

from gateway import errors as gw


class CloudWatchError(Exception):
    """An error answered in the request's protocol with CloudWatch's `code` and HTTP `status`."""

    def __init__(self, code: str, message: str, status: int = 400, *, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.retry_after = retry_after


def invalid_value(message: str) -> CloudWatchError:
    return CloudWatchError("InvalidParameterValue", message)


def missing(name: str) -> CloudWatchError:
    return CloudWatchError("MissingParameter", f"The parameter {name} is required.")


def combination(message: str) -> CloudWatchError:
    return CloudWatchError("InvalidParameterCombination", message)


def not_found(message: str) -> CloudWatchError:
    return CloudWatchError("ResourceNotFound", message, 404)


def limit_exceeded(message: str) -> CloudWatchError:
    return CloudWatchError("LimitExceeded", message)


def from_gateway(exc: gw.GatewayError) -> CloudWatchError:
    """What a gateway error (engine unreachable, secrets unreadable, bad provider) means to a CloudWatch client."""
    if isinstance(exc, gw.MissingParameter):
        return CloudWatchError("MissingParameter", exc.message)
    if isinstance(exc, gw.InvalidParameter | gw.ProviderRefused):
        return invalid_value(exc.message)
    if isinstance(exc, gw.NotFound):
        return not_found(exc.message)
    if exc.status >= 500:
        return CloudWatchError("ServiceUnavailable", exc.message, 503 if exc.status == 503 else exc.status,
                               retry_after=getattr(exc, "retry_after", None))
    return CloudWatchError("InvalidParameterValue" if exc.status == 400 else "AccessDenied", exc.message, exc.status)
