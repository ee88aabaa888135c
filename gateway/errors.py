"""Gateway errors: what went wrong, in terms every frontend can render in its own dialect.

Drivers raise these (never requests/lxml exceptions); frontends map each class to their protocol's
error (EC2 code + status, CIMI/Deltacloud status + body). `status` is the HTTP status a REST frontend
would naturally use and `retryable` tells clients whether trying again can help.
"""
from __future__ import annotations

from .xmltext import writable

ECHO_LIMIT = 200  # characters of client input an error message may quote


def echo(value: object, limit: int = ECHO_LIMIT) -> str:
    """Client input as an error message quotes it: at most `limit` characters, "..." marking a cut, and
    what XML cannot carry (control characters, lone surrogates) spelled as visible escapes.

    Messages help a client see what was refused; quoting a megabyte `$filter` back (into a response, and
    into every log line and proxy that records it) helps no one, and a message no writer can write turns
    a client's mistake into a 500.
    """
    text = str(value)
    return writable(text if len(text) <= limit else text[:limit] + "...")


class GatewayError(Exception):
    """Base of every error a client may see. `message` is safe to show to clients."""

    status: int = 500
    retryable: bool = False

    def __init__(self, message: str, *, detail: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail

    def __str__(self) -> str:
        return self.message


class InvalidParameter(GatewayError):
    """A client sent a value that is malformed or out of range."""

    status = 400

    def __init__(self, message: str, *, parameter: str | None = None, detail: str | None = None) -> None:
        super().__init__(message, detail=detail)
        self.parameter = parameter


class MissingParameter(InvalidParameter):
    """A required parameter is absent."""


class NotFound(GatewayError):
    """The named resource does not exist (or is not visible in this scope)."""

    status = 404

    def __init__(self, kind: str, resource_id: str, message: str | None = None) -> None:
        super().__init__(message or f"The {kind} '{echo(resource_id)}' does not exist")
        self.kind = kind
        self.resource_id = resource_id


class AlreadyExists(GatewayError):
    """A resource with that name or token exists already."""

    status = 409

    def __init__(self, kind: str, name: str, message: str | None = None) -> None:
        super().__init__(message or f"The {kind} '{echo(name)}' already exists")
        self.kind = kind
        self.name = name


class InvalidState(GatewayError):
    """The resource's current state forbids the operation (oVirt's 409); carries the engine's reason."""

    status = 409

    def __init__(self, message: str, *, resource_id: str | None = None, state: str | None = None) -> None:
        super().__init__(message)
        self.resource_id = resource_id
        self.state = state


class InUse(GatewayError):
    """The object cannot go while others depend on it (a VPC's subnets, a group named by a rule, ...)."""

    status = 409


class AuthFailure(GatewayError):
    """Credentials missing, unknown or wrong."""

    status = 401


class Forbidden(GatewayError):
    """Authenticated, but not allowed to do this."""

    status = 403


class NotSupported(GatewayError):
    """The backend (or this provider) cannot do the operation at all."""

    status = 501


class ProviderRefused(GatewayError):
    """The request names an engine that is not in the configuration's allow-list; never contacted."""

    status = 400


class BackendUnavailable(GatewayError):
    """The engine could not be reached or answered 5xx; trying again later may succeed."""

    status = 503
    retryable = True

    def __init__(self, message: str, *, retry_after: int = 5, detail: str | None = None) -> None:
        super().__init__(message, detail=detail)
        self.retry_after = retry_after


class SecretsUnreadable(BackendUnavailable):
    """This host's secret key cannot decrypt a secret the store holds (its `store.secret_key_file` is not the
    one the secret was written with). Start-up refuses such a key; a request that still meets one is told
    the gateway is unavailable here (another host behind the same load balancer may have the right key)."""

    def __init__(self) -> None:
        super().__init__("The gateway cannot read its stored credentials on this host (its secret key does "
                         "not match its store); an operator must fix its configuration", retry_after=30)


class BackendTimeout(BackendUnavailable):
    """The engine did not answer within the configured timeout."""

    status = 504


class BackendError(GatewayError):
    """The engine answered something the gateway cannot make sense of (a bug on one side or the other)."""

    status = 502


class ConfigError(Exception):
    """The configuration is wrong; the message names the setting and what is wrong with it."""


def innermost_reason(exc: BaseException, limit: int = 300) -> str:
    """The innermost cause of an exception, in one short line (for logs and operator messages: a
    requests/urllib3 error's outer text names the URL, its cause says what went wrong)."""
    for _ in range(10):  # a chain is short; never follow a pathological one for ever
        inner = exc.__cause__ or exc.__context__
        if inner is None:
            break
        exc = inner
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:limit]
