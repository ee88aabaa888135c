"""The EC2 endpoint over plain HTTP: both mount points, GET and POST, presigned URLs, the region and
provider choice, and EC2-format errors for everything a client can get wrong."""
from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import requests
from botocore.auth import SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from lxml import etree

from tests.clients.ec2_helpers import ec2_client, ec2_error, signed_post

NS = "{http://ec2.amazonaws.com/doc/2016-11-15/}"


def test_root_and_ec2_prefix_both_answer(gateway: Any) -> None:
    for url in (gateway.ec2_url, gateway.url + "/"):
        regions = ec2_client(gateway, url=url).describe_regions()["Regions"]
        assert "us-east-1" in {r["RegionName"] for r in regions}


def test_response_carries_request_id_and_namespace(gateway: Any) -> None:
    response = signed_post(gateway, "Action=DescribeAvailabilityZones&Version=2016-11-15")
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/xml")
    root = etree.fromstring(response.content)
    assert root.tag == f"{NS}DescribeAvailabilityZonesResponse"
    assert root.findtext(f"{NS}requestId") == response.headers["x-amzn-RequestId"]


def test_presigned_get(gateway: Any) -> None:
    url = f"{gateway.ec2_url}?{urlencode({'Action': 'DescribeRegions', 'Version': '2016-11-15'})}"
    request = AWSRequest(method="GET", url=url)
    SigV4QueryAuth(Credentials(gateway.access_key, gateway.secret_key), "ec2", "us-east-1", expires=60).add_auth(request)
    response = requests.get(request.url, timeout=30)
    assert response.status_code == 200, response.text
    assert b"regionInfo" in response.content


def test_region_in_signature_selects_data_center(gateway: Any) -> None:
    default = ec2_client(gateway).describe_availability_zones()["AvailabilityZones"]
    barcelona = ec2_client_for_region(gateway, "barcelona").describe_availability_zones()["AvailabilityZones"]
    assert {z["ZoneId"] for z in default}.isdisjoint({z["ZoneId"] for z in barcelona})
    assert {z["RegionName"] for z in barcelona} == {"barcelona"}
    response = signed_post(gateway, "Action=DescribeAvailabilityZones&Version=2016-11-15", region="atlantis")
    assert response.status_code == 400 and ec2_error(response) == "InvalidParameterValue"


def ec2_client_for_region(gateway: Any, region: str) -> Any:
    import boto3

    return boto3.client("ec2", endpoint_url=gateway.ec2_url, region_name=region,
                        aws_access_key_id=gateway.access_key, aws_secret_access_key=gateway.secret_key)


def test_provider_header_overrides_the_region(gateway: Any) -> None:
    client = ec2_client(gateway)
    client.meta.events.register("before-sign.ec2.*", lambda request, **_: request.headers.__setitem__(
        "X-Deltacloud-Provider", f"{gateway.engine_url};barcelona"))
    barcelona = ec2_client_for_region(gateway, "barcelona").describe_availability_zones()["AvailabilityZones"]
    overridden = client.describe_availability_zones()["AvailabilityZones"]
    assert {z["ZoneId"] for z in overridden} == {z["ZoneId"] for z in barcelona}
    assert {z["RegionName"] for z in overridden} == {"barcelona"}


def test_foreign_provider_header_is_refused_without_contact(gateway: Any) -> None:
    client = ec2_client(gateway)
    client.meta.events.register("before-sign.ec2.*", lambda request, **_: request.headers.__setitem__(
        "X-Deltacloud-Provider", "http://169.254.169.254/latest;Default"))
    try:
        client.describe_regions()
    except Exception as exc:  # botocore ClientError
        assert exc.response["Error"]["Code"] == "InvalidParameterValue"  # type: ignore[attr-defined]
    else:
        raise AssertionError("a provider outside the allow-list was accepted")


def test_unsigned_and_malformed_requests(gateway: Any) -> None:
    response = requests.get(gateway.ec2_url, params={"Action": "DescribeRegions"}, timeout=30)
    assert (response.status_code, ec2_error(response)) == (401, "MissingAuthenticationToken")
    response = requests.post(gateway.ec2_url, data={"Action": "DescribeRegions"},
                             headers={"Authorization": "AWS4-HMAC-SHA256 garbage"}, timeout=30)
    assert (response.status_code, ec2_error(response)) == (401, "AuthFailure")
    response = requests.get(gateway.ec2_url, params={"Action": "DescribeRegions", "AWSAccessKeyId": "nobody",
                                                     "Signature": "x", "SignatureVersion": "2",
                                                     "Timestamp": "2030-01-01T00:00:00Z"}, timeout=30)
    assert ec2_error(response) == "InvalidClientTokenId"


def test_unknown_path_and_action_answer_in_ec2_dialect(gateway: Any) -> None:
    response = requests.get(f"{gateway.url}/ec2/no/such/thing", timeout=30)
    assert response.status_code == 404 and ec2_error(response) == "InvalidAction"
    response = signed_post(gateway, "Version=2016-11-15")
    assert ec2_error(response) == "MissingAction"
    response = signed_post(gateway, "Action=DescribeInstances&Version=2016-11-15&MaxResults=ten")
    assert (response.status_code, ec2_error(response)) == (400, "InvalidParameterValue")
    response = signed_post(gateway, "Action=DescribeInstances&Version=2016-11-15&MaxResults=2")
    assert ec2_error(response) == "InvalidParameterValue"


def test_old_version_is_echoed(gateway: Any) -> None:
    response = signed_post(gateway, "Action=DescribeRegions&Version=2014-10-01")
    assert b'xmlns="http://ec2.amazonaws.com/doc/2014-10-01/"' in response.content


def test_bad_user_data_is_malformed_user_data(gateway: Any) -> None:
    """Not base64, or over 16 KB: AWS answers InvalidUserData.Malformed (Terraform users meet it)."""
    for user_data in ("not%20base64!", "A" * 30000):
        response = signed_post(gateway, "Action=RunInstances&Version=2016-11-15&ImageId=ami-"
                               f"{'0' * 32}&MinCount=1&MaxCount=1&UserData={user_data}")
        assert (response.status_code, ec2_error(response)) == (400, "InvalidUserData.Malformed")
        assert "UserData" in etree.fromstring(response.content).findtext("Errors/Error/Message")
