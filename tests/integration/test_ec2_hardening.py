"""The EC2 endpoint as an attacker and a fuzzer try it, over real HTTP against a running gateway.

Signatures: a body swapped under a signed `X-Amz-Content-SHA256`, `UNSIGNED-PAYLOAD`, a credential scope
naming another service, a SigV2 `Expires` far in the future. Malformed parameters that used to be 500s:
a Unicode digit as list index, an empty list index, a public key of a type the crypto library refuses.
Each refused request is checked to have changed nothing (no key pair, no instance terminated, no tag
deleted).
"""
from __future__ import annotations

import base64
import hashlib
import struct
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import urlencode

import pytest
import requests
from botocore.auth import SigV2Auth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from tests.clients.ec2_helpers import REGION, ec2_client, ec2_error, signed_post

FORM = "application/x-www-form-urlencoded; charset=utf-8"
SIGNED_BODY = "Action=DescribeRegions&Version=2016-11-15"


class UnsignedPayloadAuth(SigV4Auth):
    """SigV4 as a client that does not sign its payload (as botocore does for S3 over https)."""

    def payload(self, request: AWSRequest) -> str:
        return "UNSIGNED-PAYLOAD"


def signed_headers(gateway: Any, body: str, *, service: str = "ec2", auth: type[SigV4Auth] = SigV4Auth,
                   extra: dict[str, str] | None = None) -> dict[str, str]:
    """The headers botocore sends with `body` signed (SignedHeaders content-type;host;x-amz-date)."""
    request = AWSRequest(method="POST", url=gateway.ec2_url, data=body.encode(),
                         headers={"Content-Type": FORM, **(extra or {})})
    auth(Credentials(gateway.access_key, gateway.secret_key), service, REGION).add_auth(request)
    return dict(request.prepare().headers)


def key_names(gateway: Any) -> set[str]:
    return {k["KeyName"] for k in ec2_client(gateway).describe_key_pairs()["KeyPairs"]}


def test_body_swap_under_a_signed_content_hash_is_refused(gateway: Any) -> None:
    """The attack of issue 10: a DescribeRegions signature carried over to a CreateKeyPair body."""
    headers = signed_headers(gateway, SIGNED_BODY)
    assert "content-type;host;x-amz-date" in headers["Authorization"]
    headers["X-Amz-Content-SHA256"] = hashlib.sha256(SIGNED_BODY.encode()).hexdigest()
    response = requests.post(gateway.ec2_url, data=b"Action=CreateKeyPair&Version=2016-11-15&KeyName=planted",
                             headers=headers, timeout=30)
    assert (response.status_code, ec2_error(response)) == (403, "SignatureDoesNotMatch"), response.text
    assert "planted" not in key_names(gateway)
    # the same headers with the body they signed still work: the header itself is not what is refused
    honest = requests.post(gateway.ec2_url, data=SIGNED_BODY.encode(), headers=headers, timeout=30)
    assert honest.status_code == 200, honest.text


def test_unsigned_payload_is_refused_for_the_query_api(gateway: Any) -> None:
    headers = signed_headers(gateway, SIGNED_BODY, auth=UnsignedPayloadAuth,
                             extra={"X-Amz-Content-SHA256": "UNSIGNED-PAYLOAD"})
    for body in (SIGNED_BODY, "Action=CreateKeyPair&Version=2016-11-15&KeyName=planted-unsigned"):
        response = requests.post(gateway.ec2_url, data=body.encode(), headers=headers, timeout=30)
        assert (response.status_code, ec2_error(response)) == (403, "SignatureDoesNotMatch"), response.text
    streaming = signed_headers(gateway, SIGNED_BODY)
    streaming["X-Amz-Content-SHA256"] = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
    response = requests.post(gateway.ec2_url, data=SIGNED_BODY.encode(), headers=streaming, timeout=30)
    assert (response.status_code, ec2_error(response)) == (403, "SignatureDoesNotMatch")
    assert "planted-unsigned" not in key_names(gateway)


def test_credential_scope_must_name_the_service(gateway: Any) -> None:
    for service in ("s3", "iam", "ec2x"):
        headers = signed_headers(gateway, SIGNED_BODY, service=service)
        response = requests.post(gateway.ec2_url, data=SIGNED_BODY.encode(), headers=headers, timeout=30)
        assert (response.status_code, ec2_error(response)) == (403, "SignatureDoesNotMatch"), service
        assert "Credential should be scoped to correct service: 'ec2'" in response.text
    assert signed_post(gateway, SIGNED_BODY).status_code == 200


def test_presigned_get_still_works_and_cannot_carry_an_unsigned_body(gateway: Any) -> None:
    from botocore.auth import SigV4QueryAuth

    url = f"{gateway.ec2_url}?{urlencode({'Action': 'DescribeRegions', 'Version': '2016-11-15'})}"
    presign = AWSRequest(method="GET", url=url)
    SigV4QueryAuth(Credentials(gateway.access_key, gateway.secret_key), "ec2", REGION, expires=60).add_auth(presign)
    assert requests.get(presign.url, timeout=30).status_code == 200
    # boto3's own presigner (a POST operation, its parameters moved into the signed query string)
    generated = ec2_client(gateway).generate_presigned_url("describe_regions", ExpiresIn=60)
    assert requests.post(generated, timeout=30).status_code == 200  # signed as the operation: POST
    swapped = requests.post(presign.url, data={"Action": "CreateKeyPair", "Version": "2016-11-15",
                                               "KeyName": "planted-presigned"}, timeout=30)
    assert (swapped.status_code, ec2_error(swapped)) == (403, "SignatureDoesNotMatch")
    assert "planted-presigned" not in key_names(gateway)


def sigv2_get(gateway: Any, params: dict[str, str]) -> requests.Response:
    """A SigV2 GET signed with botocore's SigV2 algorithm (whatever time parameters `params` carries)."""
    params = {"Version": "2016-11-15", "AWSAccessKeyId": gateway.access_key, "SignatureVersion": "2",
              "SignatureMethod": "HmacSHA256", **params}
    request = AWSRequest(method="GET", url=gateway.ec2_url)
    _, signature = SigV2Auth(Credentials(gateway.access_key, gateway.secret_key)).calc_signature(request, params)
    return requests.get(gateway.ec2_url, params={**params, "Signature": signature}, timeout=30)


def iso(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_sigv2_expires_far_in_the_future_is_refused(gateway: Any) -> None:
    now = datetime.now(timezone.utc)
    soon = sigv2_get(gateway, {"Action": "DescribeRegions", "Expires": iso(now + timedelta(hours=1))})
    assert soon.status_code == 200, soon.text
    assert sigv2_get(gateway, {"Action": "DescribeRegions", "Timestamp": iso(now)}).status_code == 200
    for far in (timedelta(days=8), timedelta(days=3650)):
        response = sigv2_get(gateway, {"Action": "DescribeRegions", "Expires": iso(now + far)})
        assert (response.status_code, ec2_error(response)) == (400, "RequestExpired"), response.text
    both = sigv2_get(gateway, {"Action": "DescribeRegions", "Expires": iso(now + timedelta(hours=1)),
                               "Timestamp": iso(now)})
    assert both.status_code == 401 and ec2_error(both) == "AuthFailure"


@pytest.mark.parametrize("body", [
    "Action=DescribeInstances&Version=2016-11-15&InstanceId.%C2%B2=i-1",  # a Unicode superscript two
    "Action=DescribeInstances&Version=2016-11-15&InstanceId.%D9%A1=i-1",  # an Arabic-Indic one
    "Action=DescribeInstances&Version=2016-11-15&InstanceId.99999999999999999999999=i-1",
    "Action=DescribeSubnets&Version=2016-11-15&SubnetId.=x",
    "Action=DescribeAccountAttributes&Version=2016-11-15&AttributeName.=x",
    "Action=DescribeInstances&Version=2016-11-15&Filter..Name=x",
    "Action=DescribeInstances&Version=2016-11-15&MaxResults=%D9%A1%D9%A0",
])
def test_malformed_list_indexes_are_invalid_parameter_values(gateway: Any, body: str) -> None:
    response = signed_post(gateway, body)
    assert (response.status_code, ec2_error(response)) == (400, "InvalidParameterValue"), response.text


@pytest.fixture(scope="module")
def image_id(gateway: Any) -> str:
    images = ec2_client(gateway).describe_images(Filters=[{"Name": "name", "Values": ["centos-*"]}])["Images"]
    return sorted(i["ImageId"] for i in images)[0]


def test_empty_index_on_terminate_terminates_nothing(gateway: Any, image_id: str) -> None:
    ec2 = ec2_client(gateway)
    instance_id = ec2.run_instances(ImageId=image_id, MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]
    try:
        response = signed_post(gateway, f"Action=TerminateInstances&Version=2016-11-15&InstanceId.1={instance_id}"
                                        "&InstanceId.=x")
        assert (response.status_code, ec2_error(response)) == (400, "InvalidParameterValue"), response.text
        state = ec2.describe_instances(InstanceIds=[instance_id])["Reservations"][0]["Instances"][0]["State"]
        assert state["Name"] in ("pending", "running"), state
    finally:
        ec2.terminate_instances(InstanceIds=[instance_id])


def test_empty_index_on_delete_tags_deletes_nothing(gateway: Any, image_id: str) -> None:
    ec2 = ec2_client(gateway)
    ec2.create_tags(Resources=[image_id], Tags=[{"Key": "hardening", "Value": "kept"}])
    try:
        response = signed_post(gateway, f"Action=DeleteTags&Version=2016-11-15&ResourceId.1={image_id}"
                                        "&ResourceId.=x&Tag.1.Key=hardening")
        assert (response.status_code, ec2_error(response)) == (400, "InvalidParameterValue"), response.text
        tags = ec2.describe_tags(Filters=[{"Name": "resource-id", "Values": [image_id]},
                                          {"Name": "key", "Values": ["hardening"]}])["Tags"]
        assert [t["Value"] for t in tags] == ["kept"]
    finally:
        ec2.delete_tags(Resources=[image_id], Tags=[{"Key": "hardening"}])


def import_key_pair(gateway: Any, name: str, material: bytes) -> requests.Response:
    return signed_post(gateway, urlencode({"Action": "ImportKeyPair", "Version": "2016-11-15", "KeyName": name,
                                           "PublicKeyMaterial": base64.b64encode(material).decode()}))


def test_public_key_of_an_unsupported_type_is_invalid_key_format(gateway: Any) -> None:
    def ssh_string(data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + data

    kind = b"ssh-xmss@openssh.com"  # a real OpenSSH key type the crypto library does not know
    xmss = kind + b" " + base64.b64encode(ssh_string(kind) + ssh_string(b"\x00" * 32))
    for name, material in (("hardening-xmss", xmss), ("hardening-garbage", b"not a key")):
        response = import_key_pair(gateway, name, material)
        assert (response.status_code, ec2_error(response)) == (400, "InvalidKey.Format"), response.text
    assert not {"hardening-xmss", "hardening-garbage"} & key_names(gateway)
