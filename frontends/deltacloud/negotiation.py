"""Which format a request wants: `?format=` first, then `Accept`, XML when neither says.

Deltacloud's rule (server/lib/sinatra/rack_accept.rb): the `format` query parameter wins; otherwise the
Accept header's media types by quality; no Accept at all means XML. This gateway serves XML and JSON
only (no HTML UI), so `*/*` and `application/*` get XML and anything else is 406.
"""
from __future__ import annotations

from werkzeug.datastructures import MIMEAccept

XML, JSON = "xml", "json"
CONTENT_TYPES = {XML: "application/xml", JSON: "application/json"}
MEDIA_TYPES = {"application/xml": XML, "text/xml": XML, "application/json": JSON}
WILDCARDS = ("*/*", "application/*")


class NotAcceptable(Exception):
    """Neither XML nor JSON is acceptable to the client."""

    def __init__(self, wanted: str) -> None:
        super().__init__(f"Cannot serve '{wanted[:100]}': this API answers application/xml or application/json")
        self.wanted = wanted


def choose_format(format_param: str | None, accept: MIMEAccept | None, accept_text: str = "") -> str:
    """'xml' or 'json' for the request, or NotAcceptable."""
    if format_param:
        wanted = format_param.strip().lower()
        if wanted in (XML, JSON):
            return wanted
        raise NotAcceptable(f"format={format_param}")
    if accept is None or not accept_text.strip():
        return XML
    best: tuple[float, int, str] | None = None
    for media_type, quality in accept:
        media_type = media_type.lower()
        fmt = MEDIA_TYPES.get(media_type) or (XML if media_type in WILDCARDS else None)
        if fmt is None or quality <= 0:
            continue
        # Higher quality first; between equals a named type beats a wildcard, then the client's order.
        rank = (quality, 0 if media_type in WILDCARDS else 1)
        if best is None or rank > best[:2]:
            best = (*rank, fmt)
    if best is None:
        raise NotAcceptable(accept_text)
    return best[2]
