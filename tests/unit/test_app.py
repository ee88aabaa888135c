"""The app factory in-process: only enabled frontends are mounted; request ids; errors never leak traces."""
from __future__ import annotations

from pathlib import Path

from gateway.app import create_app
from gateway.config import load


def make_app(tmp_path: Path, **overrides: object):
    return create_app(load(None, environ={}, data_dir=str(tmp_path), **overrides), start_workers=False)


def test_only_enabled_frontends_are_mounted(tmp_path: Path) -> None:
    client = make_app(tmp_path, frontends=("ec2",)).test_client()
    assert client.get("/api").status_code == 404
    assert client.get("/cimi/cloudEntryPoint").status_code == 404
    unsigned = client.post("/ec2/", data={"Action": "DescribeRegions"})
    assert unsigned.status_code == 401 and b"<Code>MissingAuthenticationToken</Code>" in unsigned.data


def test_every_frontend_is_mounted_by_default_and_answers_in_its_dialect(tmp_path: Path) -> None:
    client = make_app(tmp_path).test_client()  # no provider configured at all
    deltacloud = client.get("/api")
    assert deltacloud.status_code == 400 and b"No provider is configured" in deltacloud.data
    assert deltacloud.data.lstrip().startswith(b"<?xml") and b"<error" in deltacloud.data
    cimi = client.get("/cimi/cloudEntryPoint")
    assert cimi.status_code == 401 and b'xmlns="http://schemas.dmtf.org/cimi/1"' in cimi.data


def test_unknown_paths_and_bodies_too_large_answer_json_without_a_trace(tmp_path: Path) -> None:
    client = make_app(tmp_path, max_body_bytes=2048).test_client()
    missing = client.get("/nowhere")
    assert missing.status_code == 404 and missing.json["error"] == "Not Found"
    assert missing.headers["X-Request-Id"]
    large = client.post("/ec2/", data=b"Action=DescribeRegions&x=" + b"x" * 4096,
                        headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert large.status_code == 413 and b"Traceback" not in large.data
