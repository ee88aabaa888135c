"""EC2-shaped ids: `<prefix>-<32 lower-case hex digits of the oVirt UUID>`, reversible and stateless.

No mapping table: the id carries the UUID, so any gateway process (or a restarted one) reads it back.
Plain UUIDs are accepted on input; anything else is malformed (clients branch on `.Malformed`).
"""
from __future__ import annotations

import re
import uuid

from gateway.ec2_ids import encode

from .errors import Ec2Error

PREFIX_KINDS = {"i": "Instance", "ami": "AMI", "r": "Reservation", "vol": "Volume", "snap": "Snapshot",
                "eni": "NetworkInterface"}
HEX32 = re.compile(r"^[0-9a-f]{32}$")
UUID_TEXT = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def decode(prefix: str, ec2_id: str) -> str:
    """The backend UUID of an EC2 id (or of a plain UUID); Invalid<Kind>ID.Malformed otherwise."""
    text = ec2_id.strip()
    if UUID_TEXT.match(text):
        return text.lower()
    head, sep, tail = text.partition("-")
    if sep and head == prefix and HEX32.match(tail):
        return str(uuid.UUID(hex=tail))
    kind = PREFIX_KINDS.get(prefix, "ID")
    raise Ec2Error(f"Invalid{kind}ID.Malformed", f"Invalid id: \"{ec2_id[:100]}\" (expecting \"{prefix}-...\")")


def decode_many(prefix: str, ec2_ids: list[str]) -> list[str]:
    return [decode(prefix, i) for i in ec2_ids]


def instance_id(backend_id: str) -> str:
    return encode("i", backend_id)


def image_id(backend_id: str) -> str:
    return encode("ami", backend_id)


def prefix_of(ec2_id: str) -> str:
    """The prefix of an EC2 id ('' for a plain UUID or an unknown shape)."""
    head, sep, _ = ec2_id.partition("-")
    return head if sep and head in PREFIX_KINDS else ""
