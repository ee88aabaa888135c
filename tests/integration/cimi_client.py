"""A small CIMI client for the integration tests, speaking XML or JSON over real HTTP.

It reads both serialisations into the same JSON-shaped dicts with its own XML reader (independent of
the frontend's), checking on every response what every CIMI client relies on: the exact Content-Type,
the CIMI namespace on XML roots, `resourceURI` on JSON objects and the CIMI-Specification-Version header.
"""
from __future__ import annotations

import time
from typing import Any, Callable

import requests
from lxml import etree

NS = "http://schemas.dmtf.org/cimi/1"
ACTION = NS + "/action/"
MEDIA = {"xml": "application/xml", "json": "application/json"}
INTS = {"cpu", "memory", "count", "capacity", "progress", "returnCode", "mtu"}
ARRAYS = {"operation": "operations", "disk": "disks", "address": "addresses", "affectedResource": "affectedResources",
          "nestedJob": "nestedJobs", "attribute": "attributes", "capability": "capabilities"}
PLURAL = {"ResourceMetadata": "resourceMetadata"}
# Resources made from a template are created with an `XxxCreate` document; the others with the resource itself
# (CIMI 1.0.1, DSP0263 5.5: MachineCreate, VolumeCreate, ...; a MachineVolume or MachineImage is POSTed as such).
CREATED_FROM_TEMPLATES = {"Machine", "Volume", "Network", "NetworkPort", "Address", "ForwardingGroup", "System",
                          "Credential"}


def _local(tag: str) -> str:
    return tag.split("}", 1)[-1]


def xml_to_dict(element: etree._Element) -> dict[str, Any]:
    """An XML CIMI element as the JSON form of the same resource (arrays plural, properties a map)."""
    out: dict[str, Any] = {k: v for k, v in element.attrib.items()}
    for child in element:
        name = _local(child.tag)
        if name == "property":
            out.setdefault("properties", {})[child.get("key")] = child.text or ""
        elif name[0].isupper():
            entry = {"resourceURI": f"{NS}/{name}", **xml_to_dict(child)}
            out.setdefault(PLURAL.get(name, name[0].lower() + name[1:] + "s"), []).append(entry)
        elif name in ARRAYS or (name == "action" and "name" in child.attrib):
            out.setdefault(ARRAYS.get(name, "actions"), []).append(xml_to_dict(child))
        elif len(child) or child.attrib:
            out[name] = xml_to_dict(child)
        else:
            text = child.text or ""
            out[name] = int(text) if name in INTS and text.lstrip("-").isdigit() else text
    return out


class CimiClient:
    def __init__(self, gateway: Any, fmt: str, auth: tuple[str, str] | None = None) -> None:
        self.gateway = gateway
        self.fmt = fmt
        self.session = requests.Session()
        self.session.auth = auth or gateway.admin
        self.session.headers["Accept"] = MEDIA[fmt]
        self.cep_url = gateway.cimi_url
        self._document_types: dict[str, str] = {}

    # --- transport -----------------------------------------------------------------------------------
    def request(self, method: str, url: str, body: Any = None, *, expect: int | tuple[int, ...] | None = None,
                **kwargs: Any) -> requests.Response:
        if body is not None:
            if isinstance(body, (bytes, str)):
                kwargs["data"] = body
            else:
                root = None if self.fmt == "json" or "resourceURI" in body else self.document_type(url)
                kwargs["data"] = _encode(body, self.fmt, root)
            kwargs.setdefault("headers", {}).setdefault("Content-Type", MEDIA[self.fmt])
        response = self.session.request(method, url, timeout=30, **kwargs)
        assert response.headers.get("CIMI-Specification-Version") == "1.0.1", response.headers
        if expect is not None:
            wanted = (expect,) if isinstance(expect, int) else expect
            assert response.status_code in wanted, f"{method} {url}: {response.status_code} {response.text[:500]}"
        return response

    def parse(self, response: requests.Response) -> dict[str, Any]:
        assert response.headers["Content-Type"] == MEDIA[self.fmt], response.headers["Content-Type"]
        if self.fmt == "json":
            document = response.json()
            assert document["resourceURI"].startswith(NS + "/")
            return document
        root = etree.fromstring(response.content)
        assert root.nsmap.get(None) == NS
        document = xml_to_dict(root)
        type_name = _local(root.tag)
        if type_name == "Collection":
            assert document["resourceURI"].endswith("Collection")
        else:
            document.setdefault("resourceURI", f"{NS}/{type_name}")
            assert document["resourceURI"] == f"{NS}/{type_name}"
        return document

    def document_type(self, collection_url: str) -> str:
        """The type of document a POST to a collection carries (`VolumeCreate`, `MachineVolume`, ...), read
        from the collection's own resourceURI, for XML bodies that (like clients' JSON) do not name it."""
        if collection_url not in self._document_types:
            uri = self.get(collection_url)["resourceURI"]
            assert uri.endswith("Collection"), f"POST to {collection_url} ({uri}) needs a resourceURI in its body"
            resource = uri.rsplit("/", 1)[-1][:-len("Collection")]
            self._document_types[collection_url] = resource + "Create" if resource in CREATED_FROM_TEMPLATES \
                else resource
        return self._document_types[collection_url]

    def get(self, url: str, expect: int = 200, **params: Any) -> dict[str, Any]:
        return self.parse(self.request("GET", url, expect=expect, params=params or None))

    def post(self, url: str, body: Any, expect: int | tuple[int, ...] = 201) -> requests.Response:
        return self.request("POST", url, body, expect=expect)

    # --- discovery -----------------------------------------------------------------------------------
    def cep(self) -> dict[str, Any]:
        return self.get(self.cep_url)

    def collection_url(self, name: str) -> str:
        return self.cep()[name]["href"]

    def entries(self, name: str, **params: Any) -> list[dict[str, Any]]:
        document = self.get(self.collection_url(name), **params)
        keys = [k for k, v in document.items() if isinstance(v, list) and k != "operations"]
        return document[keys[0]] if keys else []

    @staticmethod
    def operation(resource: dict[str, Any], rel: str) -> str | None:
        for operation in resource.get("operations", []):
            if operation["rel"] == rel:
                return operation["href"]
        return None

    # --- common scenarios ------------------------------------------------------------------------------
    def create_machine(self, *, name: str, config: str | None = None, image: str | None = None,
                       template: dict[str, Any] | None = None, extra: dict[str, Any] | None = None) -> tuple[dict, str]:
        """POST a MachineCreate; returns (machine, job URL)."""
        if template is None:
            template = {"machineConfig": {"href": config or self.preferred_config()},
                        "machineImage": {"href": image or self.preferred_image()}}
        body = {"resourceURI": NS + "/MachineCreate", "name": name, "description": f"{name} made by a test",
                "machineTemplate": template, **(extra or {})}
        response = self.post(self.collection_url("machines"), body)
        machine = self.parse(response)
        assert response.headers["Location"] == machine["id"]
        return machine, response.headers["CIMI-Job-URI"]

    def preferred_image(self) -> str:
        return next(i["id"] for i in self.entries("machineImages") if i["name"] == "debian-12")

    def preferred_config(self) -> str:
        return next(c["id"] for c in self.entries("machineConfigs") if c["name"] == "Tiny")

    def wait(self, url: str, condition: Callable[[dict[str, Any]], bool], timeout: float = 30.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            document = self.get(url)
            if condition(document):
                return document
            assert time.monotonic() < deadline, f"timed out waiting on {url}: {document}"
            time.sleep(0.2)

    def wait_gone(self, url: str, while_visible: Callable[[dict[str, Any]], bool] = lambda _: True,
                  timeout: float = 30.0) -> None:
        """Poll until GET answers 404; every answer before must satisfy `while_visible`."""
        deadline = time.monotonic() + timeout
        while True:
            response = self.request("GET", url, expect=(200, 404))
            if response.status_code == 404:
                return
            document = self.parse(response)
            assert while_visible(document), f"{url} while it is being removed: {document}"
            assert time.monotonic() < deadline, f"{url} still there after {timeout}s: {document}"
            time.sleep(0.2)

    def wait_job(self, job_url: str, timeout: float = 30.0) -> dict[str, Any]:
        job = self.wait(job_url, lambda j: j["state"] != "RUNNING", timeout)
        assert job["state"] == "SUCCESS", job
        return job

    def act(self, machine: dict[str, Any], action: str) -> dict[str, Any]:
        """POST an Action to the machine's advertised operation; returns the finished Job."""
        href = self.operation(machine, ACTION + action)
        assert href, f"{action} not advertised in state {machine['state']}: {machine.get('operations')}"
        response = self.post(href, {"resourceURI": NS + "/Action", "action": ACTION + action}, expect=202)
        job = self.parse(response)
        assert job["action"] == ACTION + action and job["state"] in ("RUNNING", "SUCCESS")
        return self.wait_job(response.headers["CIMI-Job-URI"])

    def delete_machine(self, machine_url: str) -> None:
        machine = self.get(machine_url)
        if self.operation(machine, ACTION + "stop") and machine["state"] == "STARTED":
            self.act(machine, "stop")
        response = self.request("DELETE", machine_url, expect=(200, 202))
        if response.status_code == 202:
            self.wait_job(response.headers["CIMI-Job-URI"])


def _encode(body: dict[str, Any], fmt: str, type_name: str | None = None) -> bytes:
    """JSON as given; XML with the root its resourceURI names, else `type_name`."""
    if fmt == "json":
        import json

        return json.dumps(body).encode()
    type_name = body["resourceURI"].rsplit("/", 1)[-1] if "resourceURI" in body else type_name
    assert type_name, "an XML body needs a resourceURI or a known document type"
    root = etree.Element(f"{{{NS}}}{type_name}", nsmap={None: NS})
    _fill(root, {k: v for k, v in body.items() if k != "resourceURI"})
    return etree.tostring(root)


def _fill(element: etree._Element, content: dict[str, Any]) -> None:
    for key, value in content.items():
        if key == "href":
            element.set("href", value)
        elif key == "properties":
            for k, v in value.items():
                etree.SubElement(element, f"{{{NS}}}property", key=k).text = v
        elif isinstance(value, dict):
            _fill(etree.SubElement(element, f"{{{NS}}}{key}"), value)
        elif isinstance(value, list):
            singular = key[:-1]
            for item in value:
                _fill(etree.SubElement(element, f"{{{NS}}}{singular}"), item)
        else:
            etree.SubElement(element, f"{{{NS}}}{key}").text = str(value)
