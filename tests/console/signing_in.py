"""Signing in to the web console over real HTTP with requests, as a browser's form would."""
from __future__ import annotations

import re

import requests

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
ONCE = re.compile(r'name="once" value="([^"]+)"')


def csrf_token(html: str) -> str:
    found = TOKEN.search(html)
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


def form_post(session: requests.Session, url: str, page: str, **fields: str) -> requests.Response:
    """POST a console form the way the browser would: with the token of `page` (a console URL it came from)
    and its form's single-use value if it has one."""
    html = session.get(page, timeout=30).text
    once = ONCE.search(html)
    data = {"csrf_token": csrf_token(html), **({"once": once.group(1)} if once else {}), **fields}
    return session.post(url, data=data, allow_redirects=False, timeout=60)


def signed_in(base_url: str, username: str = "admin@internal", password: str = "admin", *,
              user_level: bool = False) -> requests.Session:
    session = requests.Session()
    fields = {"provider": "simulator", "username": username, "password": password}
    if user_level:
        fields["user_level"] = "on"
    answer = form_post(session, f"{base_url}/console/sign-in", f"{base_url}/console/sign-in", **fields)
    assert answer.status_code == 302, answer.text[:500]
    return session
