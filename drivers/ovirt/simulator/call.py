"""One API request as the handlers see it: who is asking, the query options, and the answers."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Request, Response

from . import search as search_mod
from .entities import User, Vm
from .errors import ApiError, not_found
from .render_common import Ctx, collection_xml, parse_follow
from .store import Store
from .xmlin import boolean, integer
from .xmlwriter import DECLARATION, XmlWriter, document

if TYPE_CHECKING:
    from .server import Simulator

XML = "application/xml;charset=UTF-8"
STREAM_ABOVE = 500        # items; larger listings are sent chunked


class Call:
    """The request, the authenticated user, and helpers shared by every handler."""

    def __init__(self, sim: "Simulator", request: Request, user: User, correlation_id: str) -> None:
        self.sim = sim
        self.store: Store = sim.store
        self.request = request
        self.user = user
        self.correlation_id = correlation_id
        args = request.args
        # Non-admins default to the user-level API (ENGINE_API_FILTER_BY_DEFAULT); one that turns it off
        # runs admin queries, which the engine refuses (see `queries_refused`).
        self.filtered = bool(self._flag("filter", "Filter", default=not user.admin))
        self.all_content = bool(self._flag("all_content", "All-Content", default=False))
        self.case_sensitive = bool(boolean(args.get("case_sensitive"), False))
        self.max = integer(args.get("max"), "max")
        if self.max is not None and self.max < 0:
            self.max = None
        # `Expect: 201-created` on an add that answered 202: called under the lock until it returns the
        # final answer (or None while the copy still runs); see `expect_created`.
        self.wait_for: Callable[[], Response | None] | None = None
        self.cost_seconds = 0.0  # slept after the answer is made, outside the lock (the speed model)
        self.ctx = Ctx(self.store, user, parse_follow(args.get("follow")), self.all_content)

    def _flag(self, query_name: str, header: str, default: bool) -> bool | None:
        value = self.request.args.get(query_name)
        if value is None:
            value = self.request.headers.get(header)
        return boolean(value, default)

    # -- visibility ---------------------------------------------------------------------------------

    @property
    def queries_refused(self) -> bool:
        """A non-admin with `Filter: false`: every query the request needs fails (QueriesCommandBase)."""
        return self.filtered is False and not self.user.admin

    def sees(self, vm: Vm) -> bool:
        """The user-level API shows a non-admin only the VMs it created or was given."""
        return not self.filtered or self.user.admin or self.user.id in vm.user_roles

    def vm(self, vm_id: str) -> Vm:
        vm = self.store.vms.get(vm_id)
        if vm is None or not self.sees(vm):
            raise not_found()
        return vm

    def get(self, collection: dict[str, Any], obj_id: str) -> Any:
        obj = collection.get(obj_id)
        if obj is None:
            raise not_found()
        return obj

    # -- answers ------------------------------------------------------------------------------------

    def xml(self, body: str, status: int = 200, headers: dict[str, str] | None = None) -> Response:
        return Response(body.encode("utf-8"), status=status, headers=headers, content_type=XML)

    def one(self, render: Callable[..., None], obj: Any, *extra: Any, status: int = 200,
            headers: dict[str, str] | None = None) -> Response:
        w = XmlWriter()
        render(w, obj, self.ctx, *extra)
        return self.xml(document(w.getvalue()), status, headers)

    def many(self, tag: str, items: Iterable[Any], render: Callable[..., None],
             fields: dict[str, search_mod.Getter] | None = None, *extra: Any,
             query: str | None = None) -> Response:
        """A collection answer: `search` (when the collection is searchable), `max`, `follow`."""
        items = list(items)
        query = query if query is not None else self.request.args.get("search")
        if query and fields is not None:
            items = search_mod.apply(items, query, fields, self.case_sensitive, self.max)
        elif self.max is not None:
            items = items[: self.max]
        parts: list[str] = []
        for item in items:
            w = XmlWriter(1)
            render(w, item, self.ctx, *extra)
            parts.append(w.getvalue())
        if tag == "vms":
            self.cost_seconds = len(parts) * self.sim.list_cost_ms / 1000
        if len(parts) > STREAM_ABOVE:
            return self._streamed(tag, parts)
        return self.xml(collection_xml(tag, parts))

    @staticmethod
    def _streamed(tag: str, parts: list[str]) -> Response:
        """A large listing, sent in chunks: the items are rendered (under the lock) already, and
        mostly the VMs' cached strings, so streaming them avoids two more copies of a 100 MB body."""
        def chunks() -> Iterator[bytes]:
            yield f"{DECLARATION}<{tag}>\n".encode()
            for i in range(0, len(parts), 256):
                yield "".join(parts[i:i + 256]).encode("utf-8")
            yield f"</{tag}>\n".encode()
        return Response(chunks(), content_type=XML, direct_passthrough=True)

    def created(self, render: Callable[..., None], obj: Any, location: str, ready: Callable[[], bool],
                gone: Callable[[], bool]) -> Response:
        """The answer to an add: 201 when `obj` is ready, else 202 (and with `Expect: 201-created` the
        dispatcher waits, outside the lock, until it is ready and answers 201)."""
        headers = {"Location": location}
        if ready():
            return self.one(render, obj, status=201, headers=headers)
        accepted = self.one(render, obj, status=202, headers=headers)
        if "201-created" in self.request.headers.get("Expect", ""):
            def final() -> Response | None:
                if gone():
                    return accepted
                return self.one(render, obj, status=201, headers=headers) if ready() else None
            self.wait_for = final
        return accepted

    def body(self) -> bytes:
        from .xmlin import MAX_BODY
        length = self.request.content_length
        if length is not None and length > MAX_BODY:
            raise ApiError(413, "Request Entity Too Large", "The request body is too large")
        return self.request.get_data(cache=True)[: MAX_BODY + 1]
