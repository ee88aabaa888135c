"""What an engine answer must look like before anything is mapped from it.

A proxy's login page or a maintenance page answered with 200 parses as (X)HTML, and mapping it would
invent resources (a volume of size 1, an image with an empty name). So a body is accepted only with an
XML content type, without a DTD (the engine never sends one), and with the root element the request
asks for: the collection's plural for a listing (`GET vms` -> `<vms>`), the entity for one entity or a
create (`GET vms/1`, `POST vms` -> `<vm>`), `<action>` for an action or a removal. Anything else is
BackendError (502): the engine, or something in front of it, answered what the API never does.
"""
from __future__ import annotations

import re

from lxml import etree

from gateway.errors import BackendError

# API path segment of a collection -> the element name of one of its entities (the listing's is + "s")
COLLECTIONS = {
    "datacenters": "data_center", "clusters": "cluster", "vnicprofiles": "vnic_profile",
    "storagedomains": "storage_domain", "vms": "vm", "templates": "template", "disks": "disk",
    "diskattachments": "disk_attachment", "instancetypes": "instance_type", "networks": "network", "nics": "nic",
    "snapshots": "snapshot", "hosts": "host", "tags": "tag", "jobs": "job", "reporteddevices": "reported_device",
    "permissions": "permission", "users": "user", "groups": "group", "roles": "role",
}
XML_MEDIA_TYPE = re.compile(r"^\s*(application/xml|text/xml|application/[\w.+-]+\+xml)\s*(;|$)", re.IGNORECASE)
# the start of a document up to its root element's name: declaration, comments, processing instructions
HEAD = re.compile(rb"^(?:\s+|<\?.*?\?>|<!--.*?-->)*<(!DOCTYPE|[A-Za-z_][\w.:-]*)", re.DOTALL)


def expected_root(method: str, path: str) -> str | None:
    """The root element the answer to `method path` must have; None where the API leaves it open."""
    segments = [s for s in path.split("?", 1)[0].strip("/").split("/") if s]
    if not segments:
        return "api"
    if segments[-1] in COLLECTIONS:
        entity = COLLECTIONS[segments[-1]]
        return entity + "s" if method == "GET" else entity if method == "POST" else None
    if len(segments) >= 2 and segments[-2] in COLLECTIONS:
        return "action" if method == "DELETE" else COLLECTIONS[segments[-2]]
    return "action" if method == "POST" else None


def check_content_type(content_type: str | None, what: str) -> None:
    if not content_type or not XML_MEDIA_TYPE.match(content_type):
        raise BackendError(f"The engine answered {what} with {(content_type or 'no content type')[:60]}, not XML")


def check_document(root: etree._Element, expected: str | None, what: str) -> None:
    """A parsed answer has no DTD and the expected root (a `<fault>` is the caller's to read)."""
    if root.getroottree().docinfo.doctype:
        raise BackendError(f"The engine answered {what} with a document type declaration, which it never sends")
    if expected is not None and root.tag != expected:
        raise BackendError(f"The engine answered {what} with <{str(root.tag)[:40]}>, not <{expected}>")


def head_root(head: bytes) -> str | None:
    """The root element's name from the first bytes of a document; None until enough has arrived.

    `<!DOCTYPE` comes back as `!DOCTYPE`, so a streamed answer is refused before anything is mapped.
    """
    match = HEAD.match(head)
    if match is not None:
        return match.group(1).decode("ascii", "replace")
    stripped = head.lstrip()
    if stripped and not stripped.startswith(b"<"):
        raise BackendError("The engine answered something that is not XML")
    return None


def check_head(head: bytes, expected: str, what: str) -> bool:
    """True once the streamed head shows the expected root; BackendError if it shows anything else."""
    name = head_root(head)
    if name is None:
        if len(head) > 64 * 1024:
            raise BackendError(f"The engine answered {what} with no root element in its first 64 KiB")
        return False
    if name == "!DOCTYPE":
        raise BackendError(f"The engine answered {what} with a document type declaration, which it never sends")
    if name != expected:
        raise BackendError(f"The engine answered {what} with <{name[:40]}>, not <{expected}>")
    return True
