"""What volume and image listings need of each disk and template, mapped once: the rows the inventory view
keeps (gateway/inventory.py `Listing`), and the per-request listing builds from the engine's answer alike.

Rows are never changed once made; a request serves copies of their volume or image (attachments, tags and
names are the request's own).
"""
from __future__ import annotations

from dataclasses import dataclass

from gateway.model import Image, Realm, Volume

from . import mapping
from .base import Element


@dataclass(frozen=True)
class DiskRow:
    """A disk: the volume it maps to (no attachments yet), with what decides whether a listing shows it."""

    id: str
    alias: str | None
    user_volume: bool
    volume: Volume


@dataclass(frozen=True)
class TemplateRow:
    """A template: the image it maps to (no owner: the request's), and its disks (no client's volumes)."""

    image: Image
    disk_ids: frozenset[str]


def disk_row(disk: Element) -> DiskRow:
    return DiskRow(disk.get("id", ""), disk.findtext("alias"), mapping.is_user_volume(disk), mapping.volume(disk))


def template_row(template: Element, realms: dict[str, Realm]) -> TemplateRow:
    disk_ids = frozenset(a.get("id", "") for a in template.iterfind("disk_attachments/disk_attachment"))
    return TemplateRow(mapping.image(template, owner="", realms=realms), disk_ids)
