"""The web console in-process (Flask's test client, no engine): the cookie's flags and key, CSRF, errors."""
from __future__ import annotations

from pathlib import Path

from gateway.app import create_app
from gateway.config import load
from frontends.console.session import session_key


def make_app(tmp_path: Path, **overrides: object):
    return create_app(load(None, environ={}, data_dir=str(tmp_path), **overrides), start_workers=False)


def test_the_sign_in_form_sets_a_lax_httponly_cookie_secure_over_https(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    plain = app.test_client().get("/console/sign-in")
    assert plain.status_code == 200 and b'name="csrf_token"' in plain.data
    cookie = plain.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/console" in cookie
    assert "Secure" not in cookie
    secure = app.test_client().get("/console/sign-in", base_url="https://gateway.example")
    assert "; Secure" in secure.headers["Set-Cookie"]
    assert plain.headers["X-Frame-Options"] == "DENY" and plain.headers["Cache-Control"] == "no-store"


def test_the_signing_key_comes_from_the_store_key_file(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    key_file = tmp_path / "secret.key"
    assert app.secret_key == session_key(key_file.read_bytes().strip())
    other = tmp_path / "other"
    assert make_app(other).secret_key != app.secret_key  # another gateway's key: not hard-coded


def test_a_post_without_a_token_or_a_session_is_refused(tmp_path: Path) -> None:
    client = make_app(tmp_path).test_client()
    assert client.post("/console/launch", data={"image_id": "x"}).status_code == 401
    client.get("/console/sign-in")
    refused = client.post("/console/sign-in", data={"username": "a@b", "password": "p", "provider": "x"})
    assert refused.status_code == 400 and b"could not be accepted" in refused.data
    assert b"Traceback" not in refused.data


def test_other_frontends_take_posts_without_a_console_token(tmp_path: Path) -> None:
    client = make_app(tmp_path).test_client()
    unsigned = client.post("/ec2/", data={"Action": "DescribeRegions"})
    assert unsigned.status_code == 401 and b"MissingAuthenticationToken" in unsigned.data
    assert "Set-Cookie" not in unsigned.headers


def test_the_console_is_left_out_when_not_enabled(tmp_path: Path) -> None:
    client = make_app(tmp_path, frontends=("deltacloud",)).test_client()
    assert client.get("/console/sign-in").status_code == 404
    assert client.get("/api", headers={"Accept": "text/html"}).status_code == 406
