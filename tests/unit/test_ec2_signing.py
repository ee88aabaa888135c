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


def with_headers(signed: SignedRequest, body: bytes | None = None, **headers: str) -> SignedRequest:
    merged = Headers(signed.headers)
    for name, value in headers.items():
        merged[name.replace("_", "-")] = value
    return SignedRequest(signed.method, signed.path, signed.query, merged,
                         signed.body if body is None else body, signed.params)


def test_v4_payload_hash_is_the_body_received_not_the_header() -> None:
    import hashlib

    signed = sign_v4()
    claimed = hashlib.sha256(signed.body).hexdigest()
    verify(with_headers(signed, X_Amz_Content_SHA256=claimed), lookup, skew=300)  # honest: accepted
    swapped = with_headers(signed, b"Action=CreateKeyPair&Version=2016-11-15&KeyName=planted",
                           X_Amz_Content_SHA256=claimed)
    with pytest.raises(Ec2Error) as caught:
        verify(swapped, lookup, skew=300)
    assert (caught.value.code, caught.value.status) == ("SignatureDoesNotMatch", 403)


@pytest.mark.parametrize("claimed", ["UNSIGNED-PAYLOAD", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
                                     "STREAMING-UNSIGNED-PAYLOAD-TRAILER"])
def test_v4_unsigned_and_streaming_payloads_are_refused(claimed: str) -> None:
    class Unsigned(SigV4Auth):
        def payload(self, request: AWSRequest) -> str:
            return claimed

    request = AWSRequest(method="POST", url="http://gw:3001/ec2/", data=BODY.encode(),
                         headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
                                  "X-Amz-Content-SHA256": claimed})
    Unsigned(Credentials(KEY, SECRET), "ec2", "us-east-1").add_auth(request)
    with pytest.raises(Ec2Error) as caught:
        verify(to_signed(request, BODY.encode()), lookup, skew=300)
    assert caught.value.code == "SignatureDoesNotMatch" and "Query API" in caught.value.message


@pytest.mark.parametrize("service, addressed", [("s3", "ec2"), ("sts", "ec2"), ("ec2", "sts")])
def test_v4_scope_must_name_the_service_addressed(service: str, addressed: str) -> None:
    request = AWSRequest(method="POST", url="http://gw:3001/ec2/", data=BODY.encode(),
                         headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
    SigV4Auth(Credentials(KEY, SECRET), service, "us-east-1").add_auth(request)
    verify(to_signed(request, BODY.encode()), lookup, skew=300, service=service)
    with pytest.raises(Ec2Error) as caught:
        verify(to_signed(request, BODY.encode()), lookup, skew=300, service=addressed)
    assert caught.value.code == "SignatureDoesNotMatch"
    assert caught.value.message.startswith(f"Credential should be scoped to correct service: '{addressed}'")


def test_v4_presigned_unsigned_payload_only_without_a_body() -> None:
    from botocore.auth import SigV4QueryAuth as QueryAuth

    class UnsignedQuery(QueryAuth):
        def payload(self, request: AWSRequest) -> str:
            return "UNSIGNED-PAYLOAD"

    request = AWSRequest(method="POST", url="http://gw:3001/?Action=DescribeRegions&Version=2016-11-15",
                         headers={"Host": "gw:3001"})
    UnsignedQuery(Credentials(KEY, SECRET), "ec2", "us-east-1", expires=60).add_auth(request)
    verify(to_signed(request, b""), lookup, skew=300)
    with pytest.raises(Ec2Error) as caught:
        verify(to_signed(request, b"Action=CreateKeyPair&KeyName=planted"), lookup, skew=300)
    assert caught.value.code == "SignatureDoesNotMatch"


def sign_v2_with(params: dict[str, str]) -> SignedRequest:
    """SigV2 by botocore's algorithm, with whichever time parameters `params` holds."""
    from botocore.auth import SigV2Auth

    params = {"AWSAccessKeyId": KEY, "SignatureVersion": "2", "SignatureMethod": "HmacSHA256", **params}
    _, signature = SigV2Auth(Credentials(KEY, SECRET)).calc_signature(AWSRequest(method="GET", url="http://gw:3001/"),
                                                                      params)
    query = [*params.items(), ("Signature", signature)]
    return SignedRequest("GET", "/", query, Headers({"Host": "gw:3001"}), b"", dict(query))


def test_v2_expires_is_bounded_and_exclusive_of_timestamp() -> None:
    now = datetime.now(timezone.utc)
    stamp = lambda when: when.strftime("%Y-%m-%dT%H:%M:%SZ")  # noqa: E731
    assert verify(sign_v2_with({"Action": "DescribeImages", "Expires": stamp(now + timedelta(days=6))}), lookup,
                  skew=300).version == "2"
    with pytest.raises(Ec2Error) as caught:
        verify(sign_v2_with({"Action": "DescribeImages", "Expires": stamp(now + timedelta(days=365))}), lookup,
               skew=300)
    assert caught.value.code == "RequestExpired" and "too far in the future" in caught.value.message
    with pytest.raises(Ec2Error) as caught:
        verify(sign_v2_with({"Action": "DescribeImages", "Expires": stamp(now + timedelta(hours=1)),
                             "Timestamp": stamp(now)}), lookup, skew=300)
    assert caught.value.code == "AuthFailure"


def test_v4_presigned_plus_cannot_stand_in_for_an_encoded_plus() -> None:
    """`%2B` signed, `+` sent: the action would read a space, so the signature must not match."""
    request = AWSRequest(method="GET", url="http://gw:3001/?Action=DeleteKeyPair&Version=2016-11-15&KeyName=a%2Bb",
                         headers={"Host": "gw:3001"})
    SigV4QueryAuth(Credentials(KEY, SECRET), "ec2", "us-east-1", expires=60).add_auth(request)
    assert "KeyName=a%2Bb" in request.url
    verify(to_signed(request, b""), lookup, skew=300)
    replayed = AWSRequest(method="GET", url=request.url.replace("KeyName=a%2Bb", "KeyName=a+b"),
                          headers=dict(request.headers))
    with pytest.raises(Ec2Error) as caught:
        verify(to_signed(replayed, b""), lookup, skew=300)
    assert caught.value.code == "SignatureDoesNotMatch"
