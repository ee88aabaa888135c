"""Render an EC2 result and parse it back with botocore's own EC2 parser: what boto3 would see."""
from __future__ import annotations

from botocore.parsers import create_parser

from frontends.ec2.render import render_response
from frontends.ec2.service import operation


def parsed(action: str, result: dict, status: int = 200, version: str | None = "2016-11-15") -> dict:
    body = render_response(action, result, "req-1", version)
    response = {"body": body, "headers": {}, "status_code": status}
    out = create_parser("ec2").parse(response, operation(action).output_shape)
    assert out["ResponseMetadata"]["RequestId"] == "req-1"
    out.pop("ResponseMetadata")
    return out
