"""EC2-shaped ids of backend UUIDs (`i-<32 hex digits>`): the encoding the EC2 frontend shows, shared with the
gateway's own parts that name instances as EC2 does (the metric sampler's `InstanceId` dimension)."""
from __future__ import annotations


def encode(prefix: str, backend_id: str) -> str:
    """The EC2 id of a backend UUID; a backend id that is not a UUID is kept readable after the prefix."""
    hex_digits = backend_id.replace("-", "").lower()
    return f"{prefix}-{hex_digits}"


def instance_id(backend_id: str) -> str:
    return encode("i", backend_id)
