"""Shared by the EC2 client tests: boto3 clients on the session gateway, raw signed requests."""
from __future__ import annotations

import time
from typing import Any

import boto3
import pytest
import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

REGION = "us-east-1"


def ec2_client(gateway: Any, *, secret: str | None = None, retries: int = 1, url: str | None = None) -> Any:
    return boto3.client("ec2", endpoint_url=url or gateway.ec2_url, region_name=REGION,
                        aws_access_key_id=gateway.access_key, aws_secret_access_key=secret or gateway.secret_key,
                        config=Config(retries={"max_attempts": retries, "mode": "standard"}))


def error_code(exc: ClientError) -> str:
    return exc.response["Error"]["Code"]


def expect(code: str, call: Any, *args: Any, **kwargs: Any) -> ClientError:
    """The ClientError `call(...)` raises, which must carry the EC2 error `code`."""
    with pytest.raises(ClientError) as caught:
        call(*args, **kwargs)
    assert error_code(caught.value) == code, caught.value.response["Error"]
    return caught.value


def addressed_instances(ec2: Any, ids: list[str], timeout: float = 30) -> list[dict[str, Any]]:
    """The instances once each has a private IP: oVirt learns a VM's addresses from its guest agent a few
    seconds after the VM is up, so `running` alone does not imply one."""
    deadline = time.monotonic() + timeout
    while True:
        instances = [i for r in ec2.describe_instances(InstanceIds=ids)["Reservations"] for i in r["Instances"]]
        if all(i.get("PrivateIpAddress") for i in instances) or time.monotonic() > deadline:
            return instances
        time.sleep(0.2)


def signed_post(gateway: Any, body: str, *, secret: str | None = None, tamper: str | None = None,
                region: str = REGION) -> requests.Response:
    """POST a SigV4-signed form as boto3 would; `tamper` replaces the body after signing."""
    request = AWSRequest(method="POST", url=gateway.ec2_url, data=body.encode(),
                         headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
    SigV4Auth(Credentials(gateway.access_key, secret or gateway.secret_key), "ec2", region).add_auth(request)
    prepared = request.prepare()
    data = tamper.encode() if tamper is not None else prepared.body
    return requests.post(gateway.ec2_url, data=data, headers=dict(prepared.headers), timeout=30)


def ec2_error(response: requests.Response) -> str:
    """The EC2 error code of an XML error answer."""
    from lxml import etree

    root = etree.fromstring(response.content)
    return root.findtext("Errors/Error/Code") or ""
