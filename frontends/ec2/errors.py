"""EC2 error codes and statuses, and the mapping from gateway errors to them.

Clients branch on the code (`InvalidInstanceID.NotFound`, `IncorrectInstanceState`, ...), botocore retries
on 5xx; so every failure, ours or the engine's, leaves here as one EC2 code with the status AWS uses.
An engine answer the gateway cannot use (not XML, a DTD, a proxy's HTML page) is the engine side's fault,
not ours: 502 with `ServiceUnavailable`, the EC2 code for "a temporary failure of the server" (EC2 has
no code of its own for a bad gateway; `InternalError` would blame the gateway, and `Unavailable` stays
the engine-unreachable 503 with Retry-After). botocore retries 502 as it does 503.
"""
from __future__ import annotations

from gateway import errors as gw

BAD_ENGINE_ANSWER = "ServiceUnavailable"


class Ec2Error(Exception):
    """An error answered in EC2's format: `<Response><Errors><Error><Code/><Message/>...`."""

    def __init__(self, code: str, message: str, status: int = 400, *, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.retry_after = retry_after


def dry_run_error() -> Ec2Error:
    return Ec2Error("DryRunOperation", "Request would have succeeded, but DryRun flag is set.", 412)


def invalid_value(message: str) -> Ec2Error:
    return Ec2Error("InvalidParameterValue", message)


def missing(name: str) -> Ec2Error:
    return Ec2Error("MissingParameter", f"The request must contain the parameter {name}")


def combination(message: str) -> Ec2Error:
    return Ec2Error("InvalidParameterCombination", message)


# NotFound.kind (as drivers and the gateway name things) -> EC2 code; matched on lower-case words.
NOT_FOUND_CODES: tuple[tuple[tuple[str, ...], str], ...] = (
    (("security group rule",), "InvalidSecurityGroupRuleId.NotFound"),
    (("security group",), "InvalidGroup.NotFound"),
    (("subnet",), "InvalidSubnetID.NotFound"),
    (("vpc",), "InvalidVpcID.NotFound"),
    (("hardware", "instance type", "instance_type", "profile"), "InvalidInstanceType"),
    (("image", "template", "ami"), "InvalidAMIID.NotFound"),
    (("key pair", "keypair", "key"), "InvalidKeyPair.NotFound"),
    (("realm", "zone", "cluster", "availability"), "InvalidZone.NotFound"),
    (("instance", "vm", "machine"), "InvalidInstanceID.NotFound"),
    (("snapshot",), "InvalidSnapshot.NotFound"),
    (("volume", "disk"), "InvalidVolume.NotFound"),
    (("interface", "nic"), "InvalidNetworkInterfaceID.NotFound"),
    (("region", "data center", "datacenter"), "InvalidParameterValue"),
)


def not_found_code(kind: str) -> str:
    lowered = kind.lower()
    for words, code in NOT_FOUND_CODES:
        if any(word in lowered for word in words):
            return code
    return "InvalidParameterValue"


def from_gateway(exc: gw.GatewayError) -> Ec2Error:
    """The EC2 error a gateway error means to an EC2 client."""
    if isinstance(exc, gw.MissingParameter):
        return Ec2Error("MissingParameter", exc.message)
    if isinstance(exc, gw.InvalidParameter):
        return Ec2Error("InvalidParameterValue", exc.message)
    if isinstance(exc, gw.NotFound):
        return Ec2Error(not_found_code(exc.kind), exc.message)
    if isinstance(exc, gw.AlreadyExists):
        if "key" in exc.kind.lower():
            return Ec2Error("InvalidKeyPair.Duplicate", f"The keypair '{exc.name}' already exists.")
        if "rule" in exc.kind.lower():
            return Ec2Error("InvalidPermission.Duplicate", exc.message)
        if "group" in exc.kind.lower():
            return Ec2Error("InvalidGroup.Duplicate", exc.message)
        return Ec2Error("InvalidParameterValue", exc.message)
    if isinstance(exc, gw.InUse):
        return Ec2Error("DependencyViolation", exc.message)
    if isinstance(exc, gw.InvalidState):
        return Ec2Error("IncorrectInstanceState", exc.message)
    if isinstance(exc, gw.AuthFailure):
        return Ec2Error("AuthFailure", exc.message, 401)
    if isinstance(exc, gw.Forbidden):
        return Ec2Error("UnauthorizedOperation", exc.message, 403)
    if isinstance(exc, gw.NotSupported):
        return Ec2Error("UnsupportedOperation", exc.message)
    if isinstance(exc, gw.ProviderRefused):
        return Ec2Error("InvalidParameterValue", exc.message)
    if isinstance(exc, gw.BackendUnavailable):
        return Ec2Error("Unavailable", exc.message, 503, retry_after=exc.retry_after)
    if isinstance(exc, gw.BackendError):  # the engine (or a proxy before it) answered garbage: a bad gateway
        return Ec2Error(BAD_ENGINE_ANSWER, exc.message, 502)
    return Ec2Error("InternalError", exc.message, 500)
