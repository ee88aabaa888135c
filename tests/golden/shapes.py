"""The shape of oVirt Engine XML: per object type (and nested structure, e.g. `vm>display`), the element
names in document order and the attribute set of each object.

Used both by extract_facts.py on the real engine's recordings and by the golden tests on the simulator's
answers, so both sides are read the same way.
"""
from __future__ import annotations

from typing import Any

from lxml import etree

COLLECTIONS = {"vms": "vm", "templates": "template", "clusters": "cluster", "data_centers": "data_center",
               "hosts": "host", "storage_domains": "storage_domain", "networks": "network",
               "vnic_profiles": "vnic_profile", "disks": "disk", "nics": "nic", "reported_devices": "reported_device",
               "disk_attachments": "disk_attachment", "snapshots": "snapshot"}
TYPES = sorted(set(COLLECTIONS.values()))
SKIP = {"link", "actions"}

# key ("vm", "vm>display", ...) -> the child-element sequences seen; key -> the attribute sets seen.
Shapes = dict[str, list[list[str]]]
Attributes = dict[str, set[tuple[str, ...]]]


def _sequence(el: Any) -> list[str]:
    seq: list[str] = []
    for child in el:
        if isinstance(child.tag, str) and (not seq or seq[-1] != child.tag):
            seq.append(child.tag)
    return seq


def _collect(el: Any, key: str, shapes: Shapes, attrs: Attributes) -> None:
    shapes.setdefault(key, []).append(_sequence(el))
    attrs.setdefault(key, set()).add(tuple(sorted(el.attrib)))
    for child in el:
        if not isinstance(child.tag, str) or child.tag in SKIP or len(child) == 0:
            continue
        if child.tag in COLLECTIONS and all(c.tag == COLLECTIONS[child.tag] for c in child):
            for item in child:             # an inlined collection (nic>reported_devices): items are types
                _collect(item, item.tag, shapes, attrs)
        else:
            _collect(child, f"{key}>{child.tag}", shapes, attrs)


def shapes_of(body: bytes, shapes: Shapes, attrs: Attributes) -> None:
    """Add the shapes of one engine answer (an object or a collection of objects)."""
    root = etree.fromstring(body)
    items = list(root) if root.tag in COLLECTIONS else [root]
    for item in items:
        if item.tag in TYPES:
            _collect(item, item.tag, shapes, attrs)
