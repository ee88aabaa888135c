"""Each frontend's own answer format, as its clients read it: errors in its error shape, the rest parseable."""
from __future__ import annotations

import json

import requests
from lxml import etree

CIMI_NS = "http://schemas.dmtf.org/cimi/1"


def _xml(response: requests.Response, what: str) -> etree._Element:
    try:
        return etree.fromstring(response.content)
    except etree.XMLSyntaxError as exc:
        raise AssertionError(f"{what}: {response.status_code} answer is not XML ({exc}): {response.text[:300]}")


def _media(response: requests.Response) -> str:
    return response.headers.get("Content-Type", "").split(";")[0].strip()


def check_cimi(response: requests.Response, what: str) -> None:
    status = response.status_code
    if not response.content and status < 400:
        return
    media = _media(response)
    assert media in ("application/xml", "application/json"), f"{what}: {status} as {media!r}: {response.text[:300]}"
    if media == "application/json":
        document = response.json()
        if status >= 400:
            assert document.get("status") == status and document.get("message"), f"{what}: {document}"
        else:
            assert str(document.get("resourceURI", "")).startswith(CIMI_NS), f"{what}: {document}"
        return
    root = _xml(response, what)
    if status >= 400:
        assert root.tag == f"{{{CIMI_NS}}}error" and root.get("status") == str(status), f"{what}: {response.text[:300]}"
        assert root.findtext(f"{{{CIMI_NS}}}message"), f"{what}: {response.text[:300]}"
    else:
        assert root.nsmap.get(None) == CIMI_NS, f"{what}: {response.text[:300]}"


CONSOLE_PAGES = ("/console", "/console/instances", "/console/images", "/console/keys", "/console/volumes")


def _sent_to_the_console(response: requests.Response, what: str) -> bool:
    """Whether this was the one exception to Deltacloud's formats: an anonymous GET preferring HTML (a browser's,
    without credentials or a provider header) sent with a 302 to a console page, which answers in HTML."""
    first = response.history[0] if response.history else None
    if first is None or first.status_code != 302 or first.request.method not in ("GET", "HEAD"):
        return False
    headers = first.request.headers
    accept = headers.get("Accept", "").lower()
    asked_html = "format=html" in (first.request.url or "").lower() or "html" in accept
    assert asked_html and "Authorization" not in headers and "X-Deltacloud-Provider" not in headers, (
        f"{what}: an API request sent to {first.headers.get('Location')}")
    assert first.headers["Location"] in CONSOLE_PAGES, f"{what}: 302 to {first.headers['Location']}"
    assert response.status_code == 200 and _media(response) == "text/html", f"{what}: the console answered {response.status_code}"
    return True


def check_deltacloud(response: requests.Response, what: str) -> None:
    status = response.status_code
    if status in (204, 304) or (not response.content and status < 400):
        return
    if _sent_to_the_console(response, what):
        return
    media = _media(response)
    assert media in ("application/xml", "application/json"), f"{what}: {status} as {media!r}: {response.text[:300]}"
    if media == "application/json":
        document = response.json()
        if status >= 400:
            assert document.get("code") == status and "message" in document, f"{what}: {document}"
        return
    root = _xml(response, what)
    if status >= 400:
        assert root.tag == "error" and root.get("status") == str(status), f"{what}: {response.text[:300]}"
        assert root.findtext("code") == str(status), f"{what}: {response.text[:300]}"


def check_ec2(response: requests.Response, what: str) -> None:
    status = response.status_code
    root = _xml(response, what)
    if status >= 400:
        code = root.findtext("Errors/Error/Code") or root.findtext("{*}Error/{*}Code")  # EC2, or STS's ErrorResponse
        assert code, f"{what}: {status} without an EC2 error code: {response.text[:300]}"


def json_text(document: object) -> str:
    """JSON as a client writes it; ensure_ascii keeps lone surrogates as `\\ud800` escapes."""
    return json.dumps(document, ensure_ascii=True)
