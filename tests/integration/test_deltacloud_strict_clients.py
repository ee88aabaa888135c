"""What Deltacloud's own API test suite checks literally, read from the raw HTTP answer.

Deltacloud 1.1.3 set the bare media type (`application/xml`, `application/json`), `Server:
Apache-Deltacloud/1.1.3`, one `Date` (Rack::Date adds it only when absent), and listed in each image
the hardware profiles it can run with. http.client is used so duplicate headers are seen as sent.
"""
from __future__ import annotations

import base64
import http.client
import importlib.metadata
import json
from urllib.parse import urlsplit

import pytest
from lxml import etree

FORMATS = {"xml": "application/xml", "json": "application/json"}


def raw(gateway, method: str, path: str, headers: dict[str, str] | None = None,
        body: str | None = None) -> tuple[http.client.HTTPResponse, bytes]:
    """One request as sent on the wire, authenticated as the demo admin; the answer with every header."""
    url = urlsplit(gateway.url)
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    token = base64.b64encode(":".join(gateway.admin).encode()).decode()
    connection.request(method, path, body=body, headers={"Authorization": f"Basic {token}", **(headers or {})})
    response = connection.getresponse()
    content = response.read()
    connection.close()
    return response, content


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("path", ["/api", "/api/images", "/api/no/such/collection"])
def test_content_type_is_exactly_the_media_type(gateway, fmt: str, path: str) -> None:
    response, _ = raw(gateway, "GET", path, {"Accept": FORMATS[fmt]})
    assert response.status in (200, 404)
    assert response.msg.get_all("Content-Type") == [FORMATS[fmt]]
    by_parameter, _ = raw(gateway, "GET", f"{path}?format={fmt}")
    assert by_parameter.msg.get_all("Content-Type") == [FORMATS[fmt]]


def test_server_is_deltacloud_and_the_gateway_names_itself_apart(gateway) -> None:
    response, _ = raw(gateway, "GET", "/api")
    assert response.msg.get_all("Server") == ["Apache-Deltacloud/1.1.3"]
    assert response.msg.get_all("X-Cloudgw-Version") == [importlib.metadata.version("cloudgw")]


def test_every_answer_carries_one_date(gateway) -> None:
    listing, _ = raw(gateway, "GET", "/api/images")                     # 200 with an ETag
    assert listing.status == 200 and listing.msg.get_all("Date") and len(listing.msg.get_all("Date")) == 1
    unchanged, _ = raw(gateway, "GET", "/api/images", {"If-None-Match": listing.getheader("ETag")})
    assert unchanged.status == 304 and len(unchanged.msg.get_all("Date")) == 1
    missing, _ = raw(gateway, "GET", "/api/images/no-such-image")
    assert missing.status == 404 and len(missing.msg.get_all("Date")) == 1
    refused, _ = raw(gateway, "POST", "/api/instances", {"Content-Type": "application/x-www-form-urlencoded"}, "")
    assert refused.status == 400 and len(refused.msg.get_all("Date")) == 1


def profiles_accepting(gateway, architecture: str) -> set[str]:
    """Ids of the hardware profiles whose architecture property (fixed or enum) accepts `architecture`."""
    _, body = raw(gateway, "GET", "/api/hardware_profiles")
    accepting = set()
    for profile in etree.fromstring(body):
        prop = profile.find("property[@name='architecture']")
        values = {prop.get("value")} | {e.get("value") for e in prop.iterfind("enum/entry")}
        if architecture in values:
            accepting.add(profile.get("id"))
    return accepting


def test_an_image_lists_the_hardware_profiles_it_can_run_with(gateway) -> None:
    _, body = raw(gateway, "GET", "/api/images")
    images = etree.fromstring(body)
    assert len(images) >= 2
    for image in images:
        children = [child.tag for child in image]
        assert children.index("creation_time") < children.index("hardware_profiles") < children.index("root_type")
        listed = image.findall("hardware_profiles/hardware_profile")
        assert {p.get("rel") for p in listed} == {"hardware_profile"}
        assert {p.get("id") for p in listed} == profiles_accepting(gateway, image.findtext("architecture"))
        assert "flexible" in {p.get("id") for p in listed}
        for profile in listed:
            assert profile.get("href").endswith(f"/api/hardware_profiles/{profile.get('id')}")
            answer, _ = raw(gateway, "GET", urlsplit(profile.get("href")).path)
            assert answer.status == 200
    _, one = raw(gateway, "GET", f"/api/images/{images[0].get('id')}?format=json")
    as_json = json.loads(one)["image"]["hardware_profiles"]
    assert [(p["id"], p["rel"]) for p in as_json] == [(p.get("id"), "hardware_profile")
                                                      for p in images[0].iterfind("hardware_profiles/hardware_profile")]
