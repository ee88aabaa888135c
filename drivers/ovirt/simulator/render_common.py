"""Rendering shared by every type: the render context, `follow` trees, faults and action replies."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .entities import User
from .store import Store
from .xmlwriter import API, DECLARATION, XmlWriter, document, esc

Follow = dict[str, "Follow"]


def normalize_link(name: str) -> str:
    """Link names compare case-insensitively with underscores ignored, as in the engine."""
    return name.replace("_", "").lower()


def parse_follow(value: str | None) -> Follow:
    """`nics.reported_devices,disk_attachments.disk` -> {"nics": {"reporteddevices": {}}, ...}."""
    tree: Follow = {}
    for path in (value or "").split(","):
        node = tree
        for part in path.strip().split("."):
            if part:
                node = node.setdefault(normalize_link(part), {})
    return tree


def follow_key(tree: Follow) -> str:
    return ",".join(f"{k}({follow_key(v)})" for k, v in sorted(tree.items()))


@dataclass(slots=True)
class Ctx:
    """What a renderer needs besides the object: the store, the caller and the query options."""

    store: Store
    user: User | None = None
    follow: Follow = field(default_factory=dict)
    all_content: bool = False

    def sub(self, name: str) -> "Ctx | None":
        """The context for a followed link, or None when `name` is not followed."""
        tree = self.follow.get(name)
        if tree is None:
            return None
        return Ctx(self.store, self.user, tree, self.all_content)


def href(collection: str, obj_id: str) -> str:
    return f"{API}/{collection}/{obj_id}"


def fault_xml(reason: str, detail: str | None) -> str:
    w = XmlWriter()
    w.start("fault")
    # The engine's generated writers emit a type's elements alphabetically: detail before reason.
    w.leaf("detail", detail or "")
    w.leaf("reason", reason)
    w.end("fault")
    return document(w.getvalue())


def action_xml(echo: list[tuple[str, Any]], status: str, job_id: str | None,
               target: tuple[str, str, str] | None) -> str:
    """The reply to an action: the request's own elements echoed, `status`, the job and the target
    object, in the Action type's (alphabetical) element order."""
    items: list[tuple[str, Any]] = [(k, v) for k, v in echo if k not in ("vm", "status", "job")]
    items.append(("status", status))
    if job_id:
        items.append(("job", ("ref", href("jobs", job_id), job_id)))
    if target:
        items.append((target[0], ("ref", target[1], target[2])))
    items.sort(key=lambda kv: kv[0])
    w = XmlWriter()
    w.start("action")
    for name, value in items:
        if isinstance(value, tuple) and value and value[0] == "ref":
            w.ref(name, value[1], value[2])
        elif isinstance(value, list):
            write_tree(w, name, value)
        else:
            w.leaf(name, value)
    w.end("action")
    return document(w.getvalue())


def write_tree(w: XmlWriter, tag: str, value: Any) -> None:
    """Write a subtree produced by `xmlin.to_tree` (text, or a list of (tag, subtree))."""
    if isinstance(value, list):
        if not value:
            w.empty(tag)
            return
        w.start(tag)
        for child_tag, child in value:
            write_tree(w, child_tag, child)
        w.end(tag)
    else:
        w.parts.append(f"{'    ' * w.depth}<{tag}>{esc(str(value))}</{tag}>\n")


def collection_xml(tag: str, items: list[str]) -> str:
    """Wrap rendered items (each at depth 1) in their collection element; empty ones self-close.
    One join, so a 100 MB listing is copied once."""
    if not items:
        return document(f"<{tag}/>\n")
    return "".join([DECLARATION, f"<{tag}>\n", *items, f"</{tag}>\n"])
