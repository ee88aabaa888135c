"""An engine (or a proxy in front of it) answering garbage: every frontend says 502 in its own format.

The simulator's fault injection answers a listing with a proxy's login page (status 200, text/html, and
the same page labelled application/xml), a maintenance notice that is not XML at all, a document with a
DTD, or well-formed XML with the wrong root. Before, EC2 answered 500 for what did not parse and all
three frontends mapped the page into resources (a `vol-` of size 1, an image with an empty name, a
region named "", Deltacloud entries with id ""). Now nothing is mapped from an answer that is not what
the request asked for.
"""
from __future__ import annotations

from typing import Any, Iterator

import pytest
import requests
from lxml import etree

from tests.clients.ec2_helpers import ec2_error, signed_post

LOGIN_PAGE = ('<html><head><title>Sign in</title></head><body><form action="/login" method="post">'
              '<input name="username"/><input name="password" type="password"/></form></body></html>')
GARBAGE = {
    "login page": (LOGIN_PAGE, "text/html; charset=utf-8"),
    "login page labelled xml": (LOGIN_PAGE, "application/xml"),
    "not xml": ("The service is down for maintenance until 02:00.", "text/plain"),
    "dtd": ('<?xml version="1.0"?><!DOCTYPE root [<!ENTITY name "x">]><root><item id="1"><name>&name;</name>'
            '</item></root>', "application/xml;charset=UTF-8"),
    "wrong root": ('<?xml version="1.0"?><api><item id="1"><name>x</name><size>1</size></item></api>',
                   "application/xml;charset=UTF-8"),
}
ROOTS = {"/disks$": "disks", "/templates$": "templates", "/datacenters$": "data_centers", "/vms$": "vms"}
# engine path (regex) -> what each frontend asks that lists it
EC2_CASES = [("/disks$", "DescribeVolumes"), ("/templates$", "DescribeImages"), ("/datacenters$", "DescribeRegions")]
CIMI_CASES = [("/disks$", "/cimi/volumes"), ("/templates$", "/cimi/machine_images"), ("/vms$", "/cimi/machines")]
DELTACLOUD_CASES = [("/disks$", "/api/storage_volumes"), ("/templates$", "/api/images"), ("/vms$", "/api/instances")]


@pytest.fixture
def engine_answers(gateway: Any) -> Iterator[Any]:
    """Make the engine answer a path's GET with garbage (200) until the test ends."""

    def answer(path: str, kind: str) -> None:
        body, content_type = GARBAGE[kind]
        if kind == "dtd":  # a DTD on a document with the right root: refused for the DTD alone
            body = body.replace("root", ROOTS[path])
        response = gateway.simulator_control("faults", error={"path": path, "method": "GET", "status": 200,
                                                              "body": body, "content_type": content_type})
        assert response.status_code == 200, response.text

    yield answer
    requests.delete(f"{gateway.simulator_url}/__simulator__/faults", timeout=10)


@pytest.mark.parametrize("kind", list(GARBAGE))
@pytest.mark.parametrize("path, action", EC2_CASES)
def test_ec2_answers_502_in_its_format(gateway: Any, engine_answers: Any, path: str, action: str, kind: str) -> None:
    engine_answers(path, kind)
    response = signed_post(gateway, f"Action={action}&Version=2016-11-15")
    assert response.status_code == 502, response.text
    assert response.headers["Content-Type"].startswith("text/xml")
    assert ec2_error(response) == "ServiceUnavailable"
    assert b"volumeSet" not in response.content and b"imagesSet" not in response.content


@pytest.mark.parametrize("fmt", ["json", "xml"])
@pytest.mark.parametrize("kind", list(GARBAGE))
@pytest.mark.parametrize("path, collection", CIMI_CASES)
def test_cimi_answers_502_in_its_format(gateway: Any, engine_answers: Any, path: str, collection: str, kind: str,
                                        fmt: str) -> None:
    engine_answers(path, kind)
    response = requests.get(gateway.url + collection, auth=gateway.admin, timeout=30,
                            headers={"Accept": f"application/{fmt}"})
    assert response.status_code == 502, response.text
    if fmt == "json":
        assert response.json()["code"] == "BadGateway" and response.json()["status"] == 502
    else:
        root = etree.fromstring(response.content)
        assert root.tag == "{http://schemas.dmtf.org/cimi/1}error" and root.get("status") == "502"


@pytest.mark.parametrize("fmt", ["json", "xml"])
@pytest.mark.parametrize("kind", list(GARBAGE))
@pytest.mark.parametrize("path, collection", DELTACLOUD_CASES)
def test_deltacloud_answers_502_in_its_format(gateway: Any, engine_answers: Any, path: str, collection: str,
                                              kind: str, fmt: str) -> None:
    engine_answers(path, kind)
    response = requests.get(gateway.url + collection, auth=gateway.admin, timeout=30,
                            headers={"Accept": f"application/{fmt}"})
    assert response.status_code == 502, response.text
    if fmt == "json":
        assert response.json()["code"] == 502
    else:
        root = etree.fromstring(response.content)
        assert root.tag == "error" and root.get("status") == "502"


def test_the_engine_answering_sense_again_is_served_again(gateway: Any, engine_answers: Any) -> None:
    engine_answers("/disks$", "login page")
    assert signed_post(gateway, "Action=DescribeVolumes&Version=2016-11-15").status_code == 502
    requests.delete(f"{gateway.simulator_url}/__simulator__/faults", timeout=10)
    assert signed_post(gateway, "Action=DescribeVolumes&Version=2016-11-15").status_code == 200
