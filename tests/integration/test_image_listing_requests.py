"""DescribeImages with ExecutableUsers=<account> costs the same engine requests however many images are
shared: the launch permissions come from the template listing (`follow=permissions`) and the users' names
from one request, never two or three requests per image not public (as it did).

A gateway process in front of a simulator whose request counters (`/__simulator__/stats`) say which engine
requests the EC2 call made; the images are templates an administrator made (shared with no one), some then
shared with user@internal, whose account id a credential of this gateway gives.
"""
from __future__ import annotations

import uuid
from pathlib import Path

import boto3
import requests
from lxml import etree

from drivers.ovirt.mapping import BLANK_TEMPLATE_ID
from gateway.config import load
from gateway.store import Store

from .ovirt_env import DEFAULT_CLUSTER
from .test_listing_engine_requests import engine_requests, gateway_over

ADMIN = ("admin@internal", "admin")
USER_KEY, USER_SECRET = "AKSHAREDUSER", "shared-user-secret"


def private_templates(simulator_url: str, count: int) -> list[str]:
    """`count` templates of a VM without disks (made at once), as an administrator makes them in the engine:
    shared with no one."""
    api = f"{simulator_url}/ovirt-engine/api"
    headers = {"Content-Type": "application/xml", "Accept": "application/xml"}
    vm = etree.fromstring(requests.post(f"{api}/vms", auth=ADMIN, headers=headers, timeout=10, data=(
        f'<vm><name>source-{uuid.uuid4().hex[:6]}</name><cluster id="{DEFAULT_CLUSTER}"/>'
        f'<template id="{BLANK_TEMPLATE_ID}"/></vm>')).content)
    made = []
    for n in range(count):
        answer = requests.post(f"{api}/templates", auth=ADMIN, headers=headers, timeout=10,
                               data=f'<template><name>private-{n}</name><vm id="{vm.get("id")}"/></template>')
        answer.raise_for_status()
        made.append("ami-" + uuid.UUID(etree.fromstring(answer.content).get("id")).hex)
    return made


def test_describe_images_for_an_account_costs_the_same_requests_however_many_images_are_shared(
        tmp_path: Path) -> None:
    seen: dict[int, dict[str, int]] = {}
    for count in (1, 6):
        with gateway_over(tmp_path, vms=count) as (ec2, simulator_url):  # vms: a configuration file of its own
            Store.from_config(load(tmp_path / f"cloudgw-{count}.toml")).create_credential(
                "user@internal", "user", access_key=USER_KEY, secret_key=USER_SECRET, provider="lab")
            endpoint = ec2.meta.endpoint_url
            user = boto3.client("sts", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id=USER_KEY,
                                aws_secret_access_key=USER_SECRET).get_caller_identity()["Account"]
            images = private_templates(simulator_url, count + 1)
            shared, kept = images[:-1], images[-1]
            for image_id in shared:
                ec2.modify_image_attribute(ImageId=image_id, LaunchPermission={"Add": [{"UserId": user}]})
            listing = lambda: ec2.describe_images(ExecutableUsers=[user])  # noqa: E731
            seen[count] = engine_requests(simulator_url, listing)
            found = {i["ImageId"]: i["Public"] for i in listing()["Images"]}
        assert set(shared) <= set(found) and kept not in found
        assert all(found[i] for i in found if i not in shared)  # the rest: public images, anyone's to launch
    assert seen[1] == seen[6], seen
    assert seen[6].get("GET /templates") == 1 and seen[6].get("GET /users") == 1, seen[6]
    assert "GET /templates/<id>/permissions" not in seen[6], seen[6]
