"""The web console over plain HTTP against a real gateway: sessions, CSRF, escaping, scopes, errors in words.

Fast checks with requests (no browser); the browser scenario is tests/browser.
"""
from __future__ import annotations

import base64
import json
import re
import uuid
import zlib

import boto3
import pytest
import requests

from .signing_in import csrf_token, form_post, signed_in


def ec2(gateway):
    return boto3.client("ec2", endpoint_url=gateway.ec2_url, region_name="us-east-1",
                        aws_access_key_id=gateway.access_key, aws_secret_access_key=gateway.secret_key)


def centos_image(gateway) -> str:
    images = ec2(gateway).describe_images(Filters=[{"Name": "name", "Values": ["centos-stream-9"]}])["Images"]
    return images[0]["ImageId"]


def session_payload(cookie: str) -> dict:
    """What anyone holding the cookie can read: Flask signs its session, it does not encrypt it."""
    data = cookie.removeprefix(".").split(".")[0]
    raw = base64.urlsafe_b64decode(data + "=" * (-len(data) % 4))
    return json.loads(zlib.decompress(raw) if cookie.startswith(".") else raw)


def test_pages_need_a_sign_in(gateway) -> None:
    page = requests.get(f"{gateway.url}/console/instances", allow_redirects=False, timeout=30)
    assert page.status_code == 302 and page.headers["Location"].endswith("/console/sign-in")
    anonymous = requests.Session()
    token = csrf_token(anonymous.get(f"{gateway.url}/console/sign-in", timeout=30).text)
    launch = anonymous.post(f"{gateway.url}/console/launch", data={"csrf_token": token, "image_id": "x"},
                            allow_redirects=False, timeout=30)
    assert launch.status_code == 401 and "Sign in first" in launch.text


def test_a_wrong_password_is_refused_in_words(gateway) -> None:
    session = requests.Session()
    answer = form_post(session, f"{gateway.url}/console/sign-in", f"{gateway.url}/console/sign-in",
                       provider="simulator", username="admin@internal", password="wrong")
    assert answer.status_code == 401 and "refused this user name and password" in answer.text
    assert "cloudgw_console" not in answer.headers.get("Set-Cookie", "") or "username" not in session_payload(
        session.cookies["cloudgw_console"])


def test_the_session_cookie_is_httponly_lax_and_hides_the_password(gateway) -> None:
    session = requests.Session()
    token = csrf_token(session.get(f"{gateway.url}/console/sign-in", timeout=30).text)
    answer = session.post(f"{gateway.url}/console/sign-in", allow_redirects=False, timeout=30, data={
        "csrf_token": token, "provider": "simulator", "username": "admin@internal", "password": "admin"})
    assert answer.status_code == 302
    cookie_header = answer.headers["Set-Cookie"]
    assert "HttpOnly" in cookie_header and "SameSite=Lax" in cookie_header and "Path=/console" in cookie_header
    assert "Secure" not in cookie_header  # plain HTTP here; over HTTPS the cookie is Secure
    payload = session_payload(session.cookies["cloudgw_console"])
    assert payload["username"] == "admin@internal"
    assert payload["password"].startswith("gAAAAA")  # a Fernet token: only the gateway's key reads it
    tampered = session.cookies["cloudgw_console"][:-2] + "xx"
    forged = requests.get(f"{gateway.url}/console/instances", cookies={"cloudgw_console": tampered},
                          allow_redirects=False, timeout=30)
    assert forged.status_code == 302  # a cookie whose signature fails is no session


def test_a_forged_or_missing_csrf_token_is_refused(gateway) -> None:
    session = signed_in(gateway.url)
    name = f"csrf-{uuid.uuid4().hex[:8]}"
    for token in ("forged-" + "a" * 40, None):
        data = {"name": name, **({"csrf_token": token} if token else {})}
        answer = session.post(f"{gateway.url}/console/keys", data=data, allow_redirects=False, timeout=30)
        assert answer.status_code == 400 and "could not be accepted" in answer.text
        assert "Traceback" not in answer.text
    assert name not in session.get(f"{gateway.url}/console/keys", timeout=30).text  # nothing was created


def test_a_tag_value_with_markup_is_shown_escaped(gateway) -> None:
    client = ec2(gateway)
    instance = client.run_instances(ImageId=centos_image(gateway), MinCount=1, MaxCount=1,
                                    InstanceType="o1.small")["Instances"][0]["InstanceId"]
    marker = uuid.uuid4().hex[:8]
    client.create_tags(Resources=[instance], Tags=[{"Key": "note", "Value": f"<script>alert('{marker}')</script>"}])
    page = signed_in(gateway.url).get(f"{gateway.url}/console/instances", params={"tag": "note"}, timeout=30)
    assert page.status_code == 200
    assert f"&lt;script&gt;alert(&#39;{marker}&#39;)&lt;/script&gt;" in page.text
    assert f"<script>alert('{marker}')" not in page.text
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    client.terminate_instances(InstanceIds=[instance])


def test_bad_input_gets_words_never_a_trace(gateway) -> None:
    session = signed_in(gateway.url)
    base = f"{gateway.url}/console"
    launch = form_post(session, f"{base}/launch", f"{base}/launch", image_id="not-an-image")
    assert 400 <= launch.status_code < 500, launch.status_code
    state = session.get(f"{base}/instances", params={"state": "sideways"}, timeout=30)
    assert state.status_code == 400 and "Unknown state" in state.text
    volume = form_post(session, f"{base}/volumes", f"{base}/volumes", size_gb="lots")
    assert volume.status_code == 400 and "must be a number of GB" in volume.text
    key = form_post(session, f"{base}/keys", f"{base}/keys", name="k-" + uuid.uuid4().hex[:6], public_key="garbage")
    assert key.status_code == 400
    missing = session.get(f"{base}/no/such/page", timeout=30)
    assert missing.status_code == 404 and "no such page" in missing.text
    for answer in (launch, state, volume, key, missing):
        assert "Traceback" not in answer.text and answer.headers["Content-Type"].startswith("text/html")


def test_the_user_level_shows_only_the_users_own_instances(gateway) -> None:
    admins = ec2(gateway).run_instances(ImageId=centos_image(gateway), MinCount=1, MaxCount=1,
                                        InstanceType="o1.small")["Instances"][0]["InstanceId"]
    admins_uuid = str(uuid.UUID(admins.removeprefix("i-")))
    user = signed_in(gateway.url, "user@internal", "user", user_level=True)
    name = f"mine-{uuid.uuid4().hex[:6]}"
    images = user.get(f"{gateway.url}/console/launch", timeout=30)
    image_id = images.text.split('<option value="', 1)[1].split('"', 1)[0]
    launched = form_post(user, f"{gateway.url}/console/launch", f"{gateway.url}/console/launch",
                         image_id=image_id, name=name)
    assert launched.status_code == 302, launched.text[:500]
    listing = user.get(f"{gateway.url}/console/instances", timeout=30).text
    assert name in listing and admins_uuid not in listing
    assert admins_uuid in signed_in(gateway.url).get(f"{gateway.url}/console/instances", timeout=30).text
    assert user.get(f"{gateway.url}/console/admin/operations", timeout=30).status_code == 403
    ec2(gateway).terminate_instances(InstanceIds=[admins])


def test_an_administrator_creates_an_access_key_seen_once_and_usable(gateway) -> None:
    session = signed_in(gateway.url)
    base = f"{gateway.url}/console/admin/access-keys"
    created = form_post(session, base, base, username="admin@internal", password="admin", description="console")
    assert created.status_code == 201
    access_key = created.text.split('id="new-access-key">', 1)[1].split("<", 1)[0]
    secret_key = created.text.split('id="new-secret-key">', 1)[1].split("<", 1)[0]
    client = boto3.client("ec2", endpoint_url=gateway.ec2_url, region_name="us-east-1",
                          aws_access_key_id=access_key, aws_secret_access_key=secret_key)
    assert client.describe_regions()["Regions"]
    listing = session.get(base, timeout=30).text
    assert access_key in listing and secret_key not in listing
    deleted = form_post(session, f"{base}/{access_key}/delete", base)
    assert deleted.status_code == 302 and f"<code>{access_key}</code>" not in session.get(base, timeout=30).text


def test_administrator_pages_show_operations_and_the_engines_checks(gateway) -> None:
    session = signed_in(gateway.url)
    operations = session.get(f"{gateway.url}/console/admin/operations", timeout=30)
    assert operations.status_code == 200 and "ovirt.run" in operations.text
    engines = session.get(f"{gateway.url}/console/admin/engines", timeout=60)
    assert engines.status_code == 200 and "credentials of admin@internal (you): accepted" in engines.text
    assert 'id="metrics"' in engines.text


@pytest.mark.parametrize("path, params, headers, target", [
    ("/api", {}, {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}, "/console"),
    ("/api/instances", {"format": "html"}, {}, "/console/instances"),
    ("/api/storage_volumes", {}, {"Accept": "text/html"}, "/console/volumes"),
])
def test_deltacloud_sends_browsers_to_the_console(gateway, path, params, headers, target) -> None:
    answer = requests.get(gateway.url + path, params=params, headers=headers, allow_redirects=False, timeout=30)
    assert answer.status_code == 302 and answer.headers["Location"].endswith(target)
    api = requests.get(gateway.url + "/api", headers={"Accept": "application/xml"}, timeout=30)
    assert api.status_code == 200 and api.headers["Content-Type"] == "application/xml"


def form_fields(session: requests.Session, page: str) -> dict[str, str]:
    """The hidden fields of `page`'s create form, as the browser would send them (and send again on a reload)."""
    html = session.get(page, timeout=30).text
    once = re.search(r'name="once" value="([^"]+)"', html)
    assert once, "the create form has no single-use field"
    return {"csrf_token": csrf_token(html), "once": once.group(1)}


def test_reloading_an_access_key_answer_creates_no_second_key(gateway) -> None:
    session = signed_in(gateway.url)
    base = f"{gateway.url}/console/admin/access-keys"
    description = f"reload-{uuid.uuid4().hex[:6]}"
    data = {**form_fields(session, base), "username": "admin@internal", "password": "admin",
            "description": description}
    created = session.post(base, data=data, allow_redirects=False, timeout=60)
    assert created.status_code == 201 and created.headers["Cache-Control"] == "no-store"
    again = session.post(base, data=data, allow_redirects=False, timeout=60)  # what a browser's reload sends
    assert again.status_code == 303 and again.headers["Location"].endswith("/console/admin/access-keys")
    listing = session.get(base, timeout=30).text
    assert listing.count(description) == 1 and "no second access key" in listing


def test_reloading_a_created_key_pair_creates_nothing_more(gateway) -> None:
    session = signed_in(gateway.url)
    base = f"{gateway.url}/console/keys"
    data = {**form_fields(session, base), "name": f"once-{uuid.uuid4().hex[:6]}"}
    created = session.post(base, data=data, allow_redirects=False, timeout=60)
    assert created.status_code == 201 and created.headers["Cache-Control"] == "no-store"
    assert "BEGIN OPENSSH PRIVATE KEY" in created.text or "PRIVATE KEY" in created.text
    again = session.post(base, data=data, allow_redirects=False, timeout=60)
    assert again.status_code == 303 and "PRIVATE KEY" not in again.text
    assert "no second key pair" in session.get(base, timeout=30).text


@pytest.mark.parametrize("back, target", [
    ("//evil.example/console/", "/console/instances"),
    ("https://evil.example/console/instances", "/console/instances"),
    ("/\\evil.example/console/", "/console/instances"),
    ("/console/instances/00000000-0000-0000-0000-000000000001/stop", "/console/instances"),  # a POST-only action
    ("/console/volumes/00000000-0000-0000-0000-000000000001/attach", "/console/volumes"),
    ("/console/volumes", "/console/volumes"),
])
def test_the_data_center_switch_goes_back_only_to_a_console_page(gateway, back: str, target: str) -> None:
    session = signed_in(gateway.url)
    base = f"{gateway.url}/console"
    answer = form_post(session, f"{base}/data-center", f"{base}/instances", datacenter="Default", back=back)
    assert answer.status_code == 302 and answer.headers["Location"] == target
