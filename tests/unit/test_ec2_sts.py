"""STS on the EC2 endpoint: answers parsed back with botocore's own STS parser, dispatch by credential scope."""
from __future__ import annotations

import botocore.session
from botocore.parsers import create_parser

from frontends.ec2.sts import addressed_to_sts, render_error, render_identity

STS = botocore.session.get_session().get_service_model("sts")


def parse(body: bytes, status: int = 200) -> dict:
    operation = STS.operation_model("GetCallerIdentity")
    return create_parser(STS.metadata["protocol"]).parse(
        {"body": body, "headers": {}, "status_code": status}, operation.output_shape)


def test_get_caller_identity_round_trip() -> None:
    identity = {"Arn": "arn:aws:iam::123456789012:user/admin@internal", "UserId": "AIDA0123456789ABCDEF0",
                "Account": "123456789012"}
    out = parse(render_identity(identity, "req-7"))
    assert out["ResponseMetadata"]["RequestId"] == "req-7"
    assert {k: out[k] for k in identity} == identity


def test_errors_parse_as_sts_errors() -> None:
    out = parse(render_error("SignatureDoesNotMatch", "bad <sig> & co", "req-8", 403), 403)
    assert out["Error"]["Code"] == "SignatureDoesNotMatch"
    assert out["Error"]["Message"] == "bad <sig> & co"
    assert out["Error"]["Type"] == "Sender"
    assert out["ResponseMetadata"]["RequestId"] == "req-8"


def header(service: str) -> dict[str, str]:
    return {"Authorization": f"AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/{service}/aws4_request, "
                             "SignedHeaders=host;x-amz-date, Signature=00"}


def test_dispatch_by_credential_scope_service() -> None:
    assert addressed_to_sts(header("sts"), {})
    assert not addressed_to_sts(header("ec2"), {})
    # the scope decides even when the query claims the other service's version
    assert not addressed_to_sts(header("ec2"), {"Action": "GetCallerIdentity", "Version": "2011-06-15"})
    assert addressed_to_sts({}, {"X-Amz-Credential": "AKID/20260101/us-east-1/sts/aws4_request"})
    assert not addressed_to_sts({}, {"X-Amz-Credential": "AKID/20260101/us-east-1/ec2/aws4_request"})


def test_unscoped_requests_go_by_version() -> None:
    assert addressed_to_sts({}, {"Action": "GetCallerIdentity", "Version": "2011-06-15"})
    assert not addressed_to_sts({}, {"Action": "GetCallerIdentity", "Version": "2016-11-15"})
    assert not addressed_to_sts({}, {"Action": "DescribeInstances", "Version": "2016-11-15"})
