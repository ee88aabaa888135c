"""Every Deltacloud error code a client can provoke, with its XML or JSON error body and no stack trace.

412 (an operation the driver cannot do) is not reachable with the oVirt driver, which implements every
operation; tests/unit/test_deltacloud_app.py provokes it with a driver that lacks one.
"""
from __future__ import annotations

import os
import uuid

import pytest
import requests

from tests.conftest import start_gateway

from tests.gateway_state import settled, snapshot

from .deltacloud_http import error_of

FORMATS = ["xml", "json"]


def call(gateway, fmt: str, method: str, path: str, auth: object = "admin", **kwargs) -> requests.Response:
    headers = {"Accept": f"application/{fmt}", **kwargs.pop("headers", {})}
    return requests.request(method, gateway.api_url + path, headers=headers,
                            auth=gateway.admin if auth == "admin" else auth, timeout=60, **kwargs)


def assert_error(response: requests.Response, status: int, fragment: str) -> None:
    assert response.status_code == status, response.text
    code, message = error_of(response)
    assert code == status and fragment in message, message
    assert "Traceback" not in response.text


def cloud_image_id(gateway) -> str:
    images = call(gateway, "json", "GET", "/images").json()["images"]
    return next(i["id"] for i in images if i["name"] != "Blank")


@pytest.mark.parametrize("headers", [{}, {"X-Deltacloud-Provider": "simulator"}])
def test_a_java_client_with_credentials_gets_xml_not_the_console(gateway, headers: dict) -> None:
    """Java's default Accept ranks text/html first; credentials or a provider header say it is an API client.
    (Its answer is the API's own, in XML: werkzeug drops the `*; q=.2` and `*/*; q=.2` entries, whose
    quality lacks a leading 0, so today that answer is a 406.)"""
    java = {"Accept": "text/html, image/gif, image/jpeg, *; q=.2, */*; q=.2", **headers}
    response = requests.get(gateway.api_url + "/realms", headers=java, auth=gateway.admin, allow_redirects=False,
                            timeout=30)
    assert response.status_code != 302 and response.headers["Content-Type"].startswith("application/xml")
    if headers:  # the provider header alone (no credentials yet) is an API client's too: an answer in XML
        anonymous = requests.get(gateway.api_url + "/realms", headers=java, allow_redirects=False, timeout=30)
        assert anonymous.status_code != 302 and anonymous.headers["Content-Type"].startswith("application/xml")


@pytest.mark.parametrize("fmt", FORMATS)
def test_client_mistakes_are_400(gateway, fmt: str) -> None:
    image = cloud_image_id(gateway)
    assert_error(call(gateway, fmt, "POST", "/instances", data={"name": "x"}), 400, "image_id")
    assert_error(call(gateway, fmt, "POST", "/instances", data={"image_id": image, "user_data": "not base64!"}),
                 400, "base64")
    assert_error(call(gateway, fmt, "POST", "/instances",
                      data={"image_id": image, "hwp_id": "flexible", "hwp_memory": "999999999"}), 400, "hwp_memory")
    assert_error(call(gateway, fmt, "POST", "/instances", data={"image_id": image, "hwp_id": "no-such-profile"}),
                 400, "no-such-profile")
    assert_error(call(gateway, fmt, "POST", "/instances", data={"image_id": image, "keyname": "no-such-key"}),
                 400, "no-such-key")
    assert_error(call(gateway, fmt, "POST", "/storage_volumes", data={"capacity": "lots"}), 400, "capacity")
    assert_error(call(gateway, fmt, "GET", "/instances", params={"state": "DANCING"}), 400, "DANCING")
    assert_error(call(gateway, fmt, "GET", "/realms", headers={"X-Deltacloud-Provider": "http://evil.example/api"}),
                 400, "not one this gateway is configured to use")


@pytest.mark.parametrize("fmt", FORMATS)
def test_missing_or_wrong_credentials_are_401(gateway, fmt: str) -> None:
    missing = call(gateway, fmt, "GET", "/instances", auth=None)
    assert_error(missing, 401, "credentials")
    assert missing.headers["WWW-Authenticate"].startswith("Basic realm=")
    assert_error(call(gateway, fmt, "GET", "/realms", auth=("admin@internal", "wrong")), 401, "")
    assert_error(call(gateway, fmt, "GET", "/keys", auth=("nobody@internal", "guess")), 401, "")


@pytest.mark.parametrize("fmt", FORMATS)
def test_unknown_things_are_404(gateway, fmt: str) -> None:
    missing = str(uuid.uuid4())
    for path in (f"/instances/{missing}", f"/images/{missing}", f"/realms/{missing}", f"/keys/{missing}",
                 f"/hardware_profiles/{missing}", f"/storage_volumes/{missing}", f"/storage_snapshots/{missing}",
                 f"/networks/{missing}", "/no_such_collection", "/drivers/ec2"):
        assert_error(call(gateway, fmt, "GET", path), 404, "")
    assert_error(call(gateway, fmt, "POST", f"/instances/{missing}/stop"), 404, missing)
    assert_error(call(gateway, fmt, "POST", f"/instances/{missing}/dance"), 404, "dance")


@pytest.mark.parametrize("fmt", FORMATS)
def test_wrong_methods_are_405_with_allow(gateway, fmt: str) -> None:
    response = call(gateway, fmt, "PUT", "/realms")
    assert_error(response, 405, "PUT")
    assert response.headers["Allow"] == "GET"
    assert_error(call(gateway, fmt, "DELETE", "/hardware_profiles"), 405, "DELETE")


@pytest.mark.parametrize("accept", ["image/png", "application/yaml"])
def test_unservable_formats_are_406(gateway, accept: str) -> None:
    """(A browser asking for HTML is sent to the web console: tests/console.)"""
    response = requests.get(gateway.api_url + "/realms", headers={"Accept": accept}, auth=gateway.admin, timeout=30)
    assert_error(response, 406, accept)
    assert_error(requests.get(gateway.api_url, params={"format": "yaml"}, timeout=30), 406, "format=yaml")


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_key_name_taken_is_409(gateway, fmt: str) -> None:
    name = f"dc-dup-{uuid.uuid4().hex[:8]}"
    assert call(gateway, fmt, "POST", "/keys", data={"name": name}).status_code == 201
    assert_error(call(gateway, fmt, "POST", "/keys", data={"name": name}), 409, name)
    assert call(gateway, fmt, "DELETE", f"/keys/{name}").status_code == 204


@pytest.fixture(scope="module")
def impatient_gateway(tmp_path_factory: pytest.TempPathFactory):
    """A gateway of its own that waits 1 s for the engine and does not retry, so faults show at once."""
    saved = {k: os.environ.get(k) for k in ("CLOUDGW_ENGINE_READ_TIMEOUT", "CLOUDGW_ENGINE_RETRIES")}
    os.environ.update(CLOUDGW_ENGINE_READ_TIMEOUT="1", CLOUDGW_ENGINE_RETRIES="0")
    try:
        handle = start_gateway(tmp_path_factory.mktemp("deltacloud-faults"))
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    yield handle
    handle.stop()


@pytest.mark.parametrize("fmt", FORMATS)
def test_engine_errors_are_502_and_engine_timeouts_504(impatient_gateway, fmt: str) -> None:
    gateway = impatient_gateway
    assert call(gateway, fmt, "GET", "/networks").status_code == 200
    gateway.simulator_control("faults", error={"path": "/networks$", "status": 500, "count": 1})
    response = call(gateway, fmt, "GET", "/networks")
    assert_error(response, 502, "The engine answered 500")
    assert response.headers["Retry-After"]
    gateway.simulator_control("faults", error={"path": "/networks$", "status": 418, "count": 1})
    assert_error(call(gateway, fmt, "GET", "/networks"), 502, "The engine answered 418")
    gateway.simulator_control("faults", latency=2)
    try:
        assert_error(call(gateway, fmt, "GET", "/networks"), 504, "did not answer")
    finally:
        requests.delete(f"{gateway.simulator_url}/__simulator__/faults", timeout=10)
    assert call(gateway, fmt, "GET", "/networks").status_code == 200


# --- issue 10: control characters and odd paths are 4xx in Deltacloud's format, with no side effect ---
def assert_written_error(response: requests.Response, status: int, fragment: str) -> None:
    """assert_error, and the body is this API's own error (never Werkzeug's HTML page)."""
    assert response.headers["Content-Type"].startswith(("application/xml", "application/json")), response.text
    assert_error(response, status, fragment)


@pytest.mark.parametrize("fmt", FORMATS)
def test_control_characters_are_4xx_not_500(gateway, fmt: str) -> None:
    before = settled(lambda: snapshot(gateway))
    assert_written_error(call(gateway, fmt, "GET", "/images/%01"), 404, "\\x01")
    image = cloud_image_id(gateway)
    assert_written_error(call(gateway, fmt, "POST", "/instances", data={"image_id": image, "hwp_id": "\x00"}),
                         400, "hwp_id")
    assert_written_error(call(gateway, fmt, "POST", "/instances", data={"image_id": image, "name": "a\x1bb"}),
                         400, "name")
    assert_written_error(call(gateway, fmt, "POST", "/storage_volumes", data={"capacity": "1", "description": "\x01"}),
                         400, "description")
    assert_written_error(call(gateway, fmt, "GET", "/instances?state=%1b"), 400, "state")
    assert_written_error(call(gateway, fmt, "GET", "/realms", headers={"X-Deltacloud-Provider": "\x01"}),
                         400, "\\x01")
    assert snapshot(gateway) == before


@pytest.mark.parametrize("fmt", FORMATS)
def test_non_ascii_path_with_matrix_parameters_is_routed(gateway, fmt: str) -> None:
    """The matrix middleware used to write a non-Latin-1 PATH_INFO, which Werkzeug answered with HTML 500."""
    assert_written_error(call(gateway, fmt, "GET", "/images/%E2%98%83;x=1"), 404, "\u2603")
    assert_written_error(call(gateway, fmt, "GET", "/images/caf%C3%A9"), 404, "caf\u00e9")
    image = cloud_image_id(gateway)
    response = call(gateway, fmt, "GET", f"/images/{image};x=%E2%98%83")
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("fmt", FORMATS)
def test_wrong_methods_on_the_entry_point_and_newlines_in_paths_are_answered_by_deltacloud(gateway, fmt: str) -> None:
    """Both used to reach Flask's routing error in the app-wide JSON fallback (found by tests/property)."""
    response = call(gateway, fmt, "PUT", "")
    assert_written_error(response, 405, "PUT")
    assert "GET" in response.headers["Allow"]
    response = call(gateway, fmt, "POST", "/instances/%0A")
    assert_written_error(response, 405, "POST")
    assert_written_error(call(gateway, fmt, "GET", "/no_such/%0A"), 404, "No such resource")
