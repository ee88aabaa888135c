"""Which format a request wants: `?format=` first, then `Accept`, XML when neither says.

Deltacloud's rule (server/lib/sinatra/rack_accept.rb): the `format` query parameter wins; otherwise the
Accept header's media types by quality; no Accept at all means XML. This API serves XML and JSON, so
`*/*` and `application/*` get XML and anything else is 406. A browser (`format=html`, or HTML preferred to
XML and JSON) is sent to the web console instead where it is enabled (`wants_html`), as 1.1.3 answered
browsers with its HTML interface.
"""
from __future__ import annotations

from werkzeug.datastructures import MIMEAccept

XML, JSON = "xml", "json"
CONTENT_TYPES = {XML: "application/xml", JSON: "application/json"}
MEDIA_TYPES = {"application/xml": XML, "text/xml": XML, "application/json": JSON}
WILDCARDS = ("*/*", "application/*")
HTML_TYPES = ("text/html", "application/xhtml+xml")


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


def wants_html(format_param: str | None, accept: MIMEAccept | None, *, api_client: bool = False) -> bool:
    """Whether the request asks for HTML: `format=html`, or an Accept header ranking an HTML type above every
    XML and JSON type it names (a browser's); a tie goes to the API's own formats. Never for an `api_client`
    (one sending credentials or X-Deltacloud-Provider): Java's default Accept, `text/html, image/gif,
    image/jpeg, *; q=.2, */*; q=.2`, ranks HTML first, and such a client wants the API's XML."""
    if api_client:
        return False
    if format_param:
        return format_param.strip().lower() == "html"
    if accept is None:
        return False
    html = max((q for media_type, q in accept if media_type.lower() in HTML_TYPES), default=0.0)
    api = max((q for media_type, q in accept if media_type.lower() in MEDIA_TYPES), default=0.0)
    return html > 0 and html > api
