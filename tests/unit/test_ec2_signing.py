"""Signature verification against requests signed by botocore (SigV4) and by libcloud's SigV2 signer."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from types import SimpleNamespace
from urllib.parse import parse_qsl, urlsplit

import pytest
from botocore.auth import SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from libcloud.common.aws import AWSRequestSignerAlgorithmV2
from werkzeug.datastructures import Headers

from frontends.ec2.errors import Ec2Error
from frontends.ec2.signing import SignedRequest, decoded_query, verify
from gateway.store import StoredCredential

KEY, SECRET = "AKTEST", "s3cret/with+chars"
STORED = StoredCredential(KEY, SECRET, "admin@internal", "pw", None, "", 0.0)
BODY = "Action=DescribeInstances&Version=2016-11-15&Filter.1.Name=tag%3AName&Filter.1.Value.1=caf%C3%A9+x"


def lookup(access_key: str) -> StoredCredential | None:
    return STORED if access_key == KEY else None


def to_signed(prepared: AWSRequest, body: bytes) -> SignedRequest:
    url = urlsplit(prepared.url)
    headers = Headers([(k, v) for k, v in prepared.headers.items()])
    headers.setdefault("Host", url.netloc)
    query = decoded_query(url.query.encode())
    params = dict(query)
    params.update(dict(parse_qsl(body.decode(), keep_blank_values=True)))
    return SignedRequest(method=prepared.method, path=url.path or "/", query=query, headers=headers, body=body,
                         params=params)


def sign_v4(body: str = BODY, secret: str = SECRET, region: str = "us-east-1",
            url: str = "http://gw:3001/ec2/") -> SignedRequest:
    request = AWSRequest(method="POST", url=url, data=body.encode(),
                         headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
    SigV4Auth(Credentials(KEY, secret), "ec2", region).add_auth(request)
    return to_signed(request, body.encode())


def test_v4_header_verified_and_region_returned() -> None:
    verified = verify(sign_v4(region="barcelona"), lookup, skew=300)
    assert verified.credential is STORED and verified.region == "barcelona" and verified.version == "4"


def test_v4_wrong_secret_is_signature_mismatch() -> None:
    with pytest.raises(Ec2Error) as caught:
        verify(sign_v4(secret="wrong"), lookup, skew=300)
    assert (caught.value.code, caught.value.status) == ("SignatureDoesNotMatch", 403)


def test_v4_tampered_body_is_refused() -> None:
    signed = sign_v4()
    tampered = SignedRequest(signed.method, signed.path, signed.query, signed.headers,
                             signed.body.replace(b"DescribeInstances", b"TerminateInstances"), signed.params)
    with pytest.raises(Ec2Error) as caught:
        verify(tampered, lookup, skew=300)
    assert caught.value.code == "SignatureDoesNotMatch"


def test_v4_stale_date_is_request_expired() -> None:
    signed = sign_v4()
    with pytest.raises(Ec2Error) as caught:
        verify(signed, lookup, skew=300, now=datetime.now(timezone.utc) + timedelta(minutes=6))
    assert caught.value.code == "RequestExpired"
    verify(signed, lookup, skew=300, now=datetime.now(timezone.utc) + timedelta(minutes=4))


def test_v4_unknown_access_key() -> None:
    signed = sign_v4()
    headers = Headers(signed.headers)
    headers["Authorization"] = headers["Authorization"].replace(KEY, "AKOTHER")
    with pytest.raises(Ec2Error) as caught:
        verify(SignedRequest(signed.method, signed.path, signed.query, headers, signed.body, signed.params),
               lookup, skew=300)
    assert caught.value.code == "InvalidClientTokenId"


def test_missing_authentication() -> None:
    request = SignedRequest("GET", "/", [("Action", "DescribeInstances")], Headers({"Host": "gw"}), b"",
                            {"Action": "DescribeInstances"})
    with pytest.raises(Ec2Error) as caught:
        verify(request, lookup, skew=300)
    assert (caught.value.code, caught.value.status) == ("MissingAuthenticationToken", 401)


def test_malformed_authorization_is_auth_failure() -> None:
    request = SignedRequest("GET", "/", [], Headers({"Host": "gw", "Authorization": "AWS4-HMAC-SHA256 nonsense"}),
                            b"", {})
    with pytest.raises(Ec2Error) as caught:
        verify(request, lookup, skew=300)
    assert caught.value.code == "AuthFailure"


def test_v4_presigned_query() -> None:
    request = AWSRequest(method="GET", url="http://gw:3001/?Action=DescribeRegions&Version=2016-11-15",
                         headers={"Host": "gw:3001"})
    SigV4QueryAuth(Credentials(KEY, SECRET), "ec2", "us-east-1", expires=60).add_auth(request)
    verified = verify(to_signed(request, b""), lookup, skew=300)
    assert verified.region == "us-east-1"
    later = datetime.now(timezone.utc) + timedelta(seconds=120)
    with pytest.raises(Ec2Error) as caught:
        verify(to_signed(request, b""), lookup, skew=300, now=later)
    assert caught.value.code == "RequestExpired"


def sign_v2(params: dict[str, str], secret: str = SECRET) -> SignedRequest:
    connection = SimpleNamespace(host="gw", port=3001, secure=False)
    signer = AWSRequestSignerAlgorithmV2(access_key=KEY, access_secret=secret, version="2016-11-15",
                                         connection=connection)
    signed = signer.get_request_params(dict(params), method="GET", path="/")
    query = [(k, str(v)) for k, v in signed.items()]
    return SignedRequest("GET", "/", query, Headers({"Host": "gw:3001"}), b"", dict(query))


def test_v2_as_libcloud_signs_it() -> None:
    verified = verify(sign_v2({"Action": "DescribeImages", "Owner.1": "self", "Filter.1.Value.1": "a b/c"}),
                      lookup, skew=300)
    assert verified.version == "2" and verified.region is None


def test_v2_wrong_secret_and_tampering() -> None:
    with pytest.raises(Ec2Error) as caught:
        verify(sign_v2({"Action": "DescribeImages"}, secret="nope"), lookup, skew=300)
    assert caught.value.code == "SignatureDoesNotMatch"
    signed = sign_v2({"Action": "DescribeImages"})
    params = dict(signed.params, Action="TerminateInstances")
    with pytest.raises(Ec2Error) as caught:
        verify(SignedRequest("GET", "/", list(params.items()), signed.headers, b"", params), lookup, skew=300)
    assert caught.value.code == "SignatureDoesNotMatch"


def test_v2_stale_timestamp() -> None:
    signed = sign_v2({"Action": "DescribeImages"})
    with pytest.raises(Ec2Error) as caught:
        verify(signed, lookup, skew=300, now=datetime.now(timezone.utc) + timedelta(minutes=10))
    assert caught.value.code == "RequestExpired"
