"""Engine faults as exceptions, carrying the status code and the `<fault>` text the real engine uses.

Texts follow the engine's message catalogue (AppErrors.properties, Messages.properties); details of
backend failures are wrapped in brackets, as the engine renders its list of messages.
"""

from __future__ import annotations


class ApiError(Exception):
    """An error answer: `status` with a `<fault>` body, or an empty body when `reason` is None."""

    def __init__(self, status: int, reason: str | None = None, detail: str | None = None) -> None:
        super().__init__(f"{status} {reason}: {detail}")
        self.status = status
        self.reason = reason
        self.detail = detail


def conflict(message: str) -> ApiError:
    """A state conflict (409), e.g. "Cannot stop VM. VM is not running."."""
    return ApiError(409, "Operation Failed", f"[{message}]")


def failed(status: int, message: str) -> ApiError:
    """A backend validation failure with another status (400 for bad parameters)."""
    return ApiError(status, "Operation Failed", f"[{message}]")


def not_found() -> ApiError:
    """An unknown id in the URL: 404 with an empty body, exactly as the engine answers."""
    return ApiError(404)


def entity_not_found(what: str) -> ApiError:
    """An unresolvable reference inside a request body, e.g. "Cluster: name=nope"."""
    return ApiError(404, "Operation Failed", f"Entity not found: {what}")


def incomplete(type_name: str, fields: str, action: str = "add") -> ApiError:
    """A missing required field: `Vm [name] required for add`."""
    return ApiError(400, "Incomplete parameters", f"{type_name} [{fields}] required for {action}")


def bad_request(reason: str, detail: str) -> ApiError:
    return ApiError(400, reason, detail)


def invalid_enum(value: str, enum: str) -> ApiError:
    return ApiError(400, "Invalid value", f"{value} is not a member of {enum}")
