"""`GET /events` with the engine's semantics, `GET /events/{index}`, and `DELETE` (dismiss) of one.

As BackendEventsResource and the audit-log search (SyntaxChecker) answer:
- newest first (`ORDER BY audit_log_id DESC`);
- `from=N`: only events whose index is strictly greater than N (the javadoc says "equal or greater";
  the engine's SQL says `audit_log_id > N`);
- `max=M` after the sort: `from=N&max=M` gives the newest M above N, not the next M;
- `search=` in the search language (`code=61`, `severity=normal`, `sortby time asc`);
- a user-level caller (`Filter: true`) without a search gets every event on objects it may see, whatever
  `from` and `max` say (GetAllEventMessages): poll events as an administrator.
A dismissed event is gone from every answer.
"""
from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Response

from .call import Call
from .clock import iso
from .errors import ApiError, not_found
from .events import Event
from .render_common import Ctx, href
from .xmlin import integer
from .xmlwriter import XmlWriter

LINKS = (("cluster", "clusters", "cluster_id"), ("data_center", "datacenters", "data_center_id"),
         ("host", "hosts", "host_id"), ("storage_domain", "storagedomains", "storage_domain_id"),
         ("template", "templates", "template_id"), ("user", "users", "user_id"), ("vm", "vms", "vm_id"))
FIELDS: dict[str, Any] = {
    "code": lambda e: e.code, "severity": lambda e: e.severity, "message": lambda e: e.description,
    "correlation_id": lambda e: e.correlation_id, "time": lambda e: int(e.time * 1000), "index": lambda e: e.index,
}


def event_xml(w: XmlWriter, e: Event, ctx: Ctx) -> None:
    """The engine's writer: `description` first (an identified type's own fields), the rest alphabetical,
    then the links."""
    base = href("events", str(e.index))
    w.start("event", base, str(e.index))
    w.leaf("description", e.description)
    w.leaf("code", e.code)
    w.leaf("correlation_id", e.correlation_id)
    w.leaf("custom_id", -1)
    w.leaf("flood_rate", 30)
    w.leaf("index", e.index)
    w.leaf("origin", "oVirt")
    w.leaf("severity", e.severity)
    w.leaf("time", iso(e.time))
    for tag, collection, attribute in LINKS:
        target = getattr(e, attribute)
        if target:
            w.ref(tag, href(collection, target), target)
    w.end("event")


def _visible(call: Call, e: Event) -> bool:
    """A user-level caller sees the events of the VMs it may see and those it caused."""
    if not call.filtered or call.user.admin:
        return True
    if e.vm_id is not None:
        vm = call.store.vms.get(e.vm_id)
        return vm is not None and call.sees(vm)
    return e.user_id == call.user.id


def events_list(call: Call) -> Response:
    found = [e for e in call.store.events.newest_first() if _visible(call, e)]
    query = call.request.args.get("search")
    if call.filtered and not call.user.admin and not query:
        call.max = None  # GetAllEventMessages: no `from`, no `max`
        return call.many("events", found, event_xml, query="")
    after = integer(call.request.args.get("from"), "from")
    if after is not None:
        found = [e for e in found if e.index > after]
    return call.many("events", found, event_xml, FIELDS, query=query or "")


def _event(call: Call, id: str) -> Event:
    try:
        index = int(id)
    except ValueError:
        raise not_found() from None
    e = call.store.events.get(index)
    if e is None or not _visible(call, e):
        raise not_found()
    return e


def event_get(call: Call, id: str) -> Response:
    return call.one(event_xml, _event(call, id))


def event_dismiss(call: Call, id: str) -> Response:
    if call.filtered and not call.user.admin:
        raise ApiError(403, "Operation Failed", "[User is not authorized to perform this action.]")
    _event(call, id).dismissed = True
    return Response(status=200)


ROUTES: list[tuple[str, tuple[str, ...], Any]] = [
    ("/events", ("GET",), events_list),
    ("/events/<id>", ("GET",), event_get),
    ("/events/<id>", ("DELETE",), event_dismiss),
]
