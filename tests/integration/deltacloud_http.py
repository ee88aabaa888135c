"""A tiny Deltacloud REST client for the tests: the same questions asked in XML or JSON.

It discovers collections from the entry point, follows hrefs and action links exactly as served, and
reads answers into one plain shape (`Resource`) whatever the format, so scenarios are written once and
parametrised by format. It knows nothing of the gateway's internals.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import requests
from lxml import etree

ACCEPT = {"xml": "application/xml", "json": "application/json"}


@dataclass
class Resource:
    """What tests read from any Deltacloud resource, in either format."""

    kind: str
    id: str
    href: str
    fields: dict[str, Any]
    actions: dict[str, tuple[str, str]] = field(default_factory=dict)  # rel -> (href, method)
    addresses: list[tuple[str, str]] = field(default_factory=list)

    def __getitem__(self, name: str) -> Any:
        return self.fields.get(name)


def _from_xml(element: etree._Element) -> Resource:
    fields: dict[str, Any] = {}
    actions: dict[str, tuple[str, str]] = {}
    addresses: list[tuple[str, str]] = []
    for child in element:
        if child.tag == "actions":
            actions = {link.get("rel"): (link.get("href"), link.get("method")) for link in child}
        elif child.tag == "public_addresses":
            addresses = [(a.get("type"), a.text) for a in child]
        elif child.tag == "authentication":
            fields["keyname"] = child.findtext("login/keyname")
        elif child.get("id") is not None:
            fields[child.tag] = child.get("id")
        elif child.tag == "mount":
            fields["instance"] = child.find("instance").get("id")
            fields["device"] = child.find("device").get("name") if child.find("device") is not None else None
        elif len(child) == 0:
            fields[child.tag] = child.text
    fields["_element"] = element
    return Resource(element.tag, element.get("id"), element.get("href"), fields, actions, addresses)


def _from_json(kind: str, value: dict[str, Any]) -> Resource:
    fields: dict[str, Any] = {}
    for key, item in value.items():
        if isinstance(item, dict) and "id" in item and "href" in item:
            fields[key] = item["id"]
        else:
            fields[key] = item
    if isinstance(value.get("instance"), dict) and value["instance"]:
        fields["instance"] = value["instance"]["id"]
    actions = {a["rel"]: (a["href"], a["method"]) for a in value.get("actions", [])}
    addresses = [(a["type"], a["address"]) for a in value.get("public_addresses", [])]
    for key in ("state", "capacity"):
        if key in fields and fields[key] is not None:
            fields[key] = str(fields[key])
    return Resource(kind, value["id"], value["href"], fields, actions, addresses)


class Api:
    """Deltacloud over HTTP in one format, with the gateway's admin credentials unless told otherwise."""

    def __init__(self, base_url: str, fmt: str, auth: tuple[str, str] | None, headers: dict[str, str] | None = None):
        self.base_url = base_url
        self.fmt = fmt
        self.session = requests.Session()
        self.session.auth = auth
        self.session.headers.update({"Accept": ACCEPT[fmt], **(headers or {})})

    def call(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", 30)
        return self.session.request(method, url, **kwargs)

    def checked(self, method: str, url: str, status: int, **kwargs: Any) -> requests.Response:
        response = self.call(method, url, **kwargs)
        assert response.status_code == status, (method, url, response.status_code, response.text[:800])
        return response

    def entry(self) -> dict[str, str]:
        body = self.checked("GET", self.base_url, 200)
        if self.fmt == "json":
            return {link["rel"]: link["href"] for link in body.json()["api"]["links"]}
        return {link.get("rel"): link.get("href") for link in etree.fromstring(body.content).findall("link")}

    def href(self, rel: str) -> str:
        return self.entry()[rel]

    def parse_one(self, response: requests.Response, kind: str, wrapped: bool = True) -> Resource:
        if self.fmt == "json":
            body = response.json()
            return _from_json(kind, body[kind] if wrapped else body)
        root = etree.fromstring(response.content)
        assert root.tag == kind, root.tag
        return _from_xml(root)

    def parse_many(self, response: requests.Response, collection: str) -> list[Resource]:
        if self.fmt == "json":
            return [_from_json(collection, item) for item in response.json()[collection]]
        root = etree.fromstring(response.content)
        assert root.tag == collection, root.tag
        return [_from_xml(child) for child in root]

    def list(self, rel: str, **params: Any) -> list[Resource]:
        return self.parse_many(self.checked("GET", self.href(rel), 200, params=params), rel)

    def show(self, href: str, kind: str) -> Resource:
        return self.parse_one(self.checked("GET", href, 200), kind)

    def create(self, rel: str, kind: str, data: dict[str, Any]) -> Resource:
        response = self.checked("POST", self.href(rel), 201, data=data)
        created = self.parse_one(response, kind)
        assert response.headers["Location"] == created.href
        return created

    def act(self, resource: Resource, rel: str, status: int, kind: str | None = None,
            data: dict[str, Any] | None = None) -> requests.Response:
        """Follow the resource's action link `rel` with the method it names."""
        assert rel in resource.actions, (rel, sorted(resource.actions))
        href, method = resource.actions[rel]
        return self.checked(method.upper(), href, status, data=data)

    def wait_for(self, href: str, kind: str, state: str, timeout: float = 45.0) -> Resource:
        deadline = time.monotonic() + timeout
        seen = None
        while time.monotonic() < deadline:
            seen = self.show(href, kind)
            if seen["state"] == state:
                return seen
            time.sleep(0.2)
        raise AssertionError(f"{href} did not reach {state} in {timeout}s (last {seen and seen['state']})")

    def wait_gone(self, href: str, timeout: float = 45.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.call("GET", href).status_code == 404:
                return
            time.sleep(0.2)
        raise AssertionError(f"{href} still exists after {timeout}s")


def error_of(response: requests.Response) -> tuple[int, str]:
    """(code, message) from a Deltacloud error body in either format."""
    if response.headers["Content-Type"].startswith("application/json"):
        body = response.json()
        return body["code"], body["message"]
    root = etree.fromstring(response.content)
    assert root.tag == "error"
    assert root.get("status") == root.findtext("code")
    return int(root.findtext("code")), root.findtext("message")
