"""Listings cost the same engine requests whatever the number of VMs, and never list the VMs twice.

A gateway process on a configuration file in front of a simulator seeded with few or many VMs; the
simulator's request counters (`/__simulator__/stats`, the benchmarks' counting proxy) say which engine
requests one EC2 call made. A DescribeVolumes used to list every VM twice (once for the disks' attachments,
once more for the attached instances' zones): 2.0 to 2.8 s a request at 1,000 VMs.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import boto3
import requests
from botocore.config import Config
from lxml import etree

from drivers.ovirt.simulator.server import Simulator, serve_in_thread
from gateway.config import load
from gateway.store import Store

from .gateway_process import start
from .ovirt_env import CENTOS

ACCESS, SECRET = "AKCOUNTING", "counting-secret"
ENGINE_ADMIN = ("admin@internal", "admin")


@contextmanager
def gateway_over(tmp_path: Path, vms: int) -> Iterator[tuple[Any, str]]:
    """(boto3 EC2 client, simulator URL) of a gateway in front of a simulator seeded with `vms` VMs (half of
    them in the data center `Default`)."""
    engine = serve_in_thread(Simulator(speed=20, vms=vms, control_api=True))
    config = tmp_path / f"cloudgw-{vms}.toml"
    config.write_text(f'[server]\ndata_dir = "{tmp_path / f"data-{vms}"}"\n\n'
                      f'[[providers]]\nname = "lab"\nurl = "{engine.api_url}"\ndefault_datacenter = "Default"\n'
                      'region_aliases = { "us-east-1" = "Default" }\n')
    Store.from_config(load(config)).create_credential("admin@internal", "admin", access_key=ACCESS,
                                                      secret_key=SECRET, provider="lab")
    process, url = start(config)
    try:
        yield boto3.client("ec2", endpoint_url=f"{url}/", region_name="us-east-1", aws_access_key_id=ACCESS,
                           aws_secret_access_key=SECRET, config=Config(retries={"max_attempts": 0})), engine.url
    finally:
        process.kill()
        process.wait()
        engine.shutdown()


def engine_requests(simulator_url: str, call: Any) -> dict[str, int]:
    """The engine requests `call()` made, by method and path template (after one warm-up call, so cached
    lookups such as the data center and the SSO token are not counted)."""
    call()
    requests.delete(f"{simulator_url}/__simulator__/stats", timeout=10).raise_for_status()
    call()
    return requests.get(f"{simulator_url}/__simulator__/stats", timeout=10).json()["requests"]


def test_describe_volumes_lists_the_vms_once_whatever_their_number(tmp_path: Path) -> None:
    seen: dict[int, dict[str, int]] = {}
    for vms in (4, 80):
        with gateway_over(tmp_path, vms) as (ec2, simulator_url):
            seen[vms] = engine_requests(simulator_url, ec2.describe_volumes)
            volumes = ec2.describe_volumes()["Volumes"]
            instances = {i["InstanceId"]: i for r in ec2.describe_instances()["Reservations"]
                         for i in r["Instances"]}
        attached = [v for v in volumes if v["Attachments"]]
        assert len(attached) >= vms // 2  # every seeded VM in Default has its template's disk
        for volume in attached:  # zone and device as DescribeInstances shows the instance
            attachment = volume["Attachments"][0]
            instance = instances[attachment["InstanceId"]]
            assert volume["AvailabilityZone"] == instance["Placement"]["AvailabilityZone"]
            assert attachment["Device"] in [m["DeviceName"] for m in instance["BlockDeviceMappings"]]
    assert seen[4] == seen[80], seen
    assert seen[80].get("GET /vms") == 1, seen[80]
    assert "GET /vms/<id>" not in seen[80], seen[80]


def test_describe_instances_asks_once_why_vms_made_elsewhere_are_locked(tmp_path: Path) -> None:
    """VMs another tool is making (image_locked while their template's disks are copied) show as pending
    `create`, told from VMs being captured by one search for locked disks, not one request per VM."""
    with gateway_over(tmp_path, 4) as (ec2, simulator_url):
        requests.post(f"{simulator_url}/__simulator__/clock", json={"frozen": True}, timeout=10).raise_for_status()
        engine = f"{simulator_url}/ovirt-engine/api"
        cluster = etree.fromstring(requests.get(f"{engine}/clusters", params={"search": "name=Default"},
                                                auth=ENGINE_ADMIN, timeout=10).content).find("cluster").get("id")
        for n in range(5):  # made by another client of the engine, not through the gateway
            requests.post(f"{engine}/vms", auth=ENGINE_ADMIN, timeout=10, headers={"Content-Type": "application/xml"},
                          data=f'<vm><name>elsewhere-{n}</name><cluster id="{cluster}"/>'
                               f'<template id="{CENTOS}"/></vm>').raise_for_status()
        seen = engine_requests(simulator_url, ec2.describe_instances)
        found = [i for r in ec2.describe_instances()["Reservations"] for i in r["Instances"]]
    elsewhere = [i for i in found if any(t["Value"].startswith("elsewhere-") for t in i.get("Tags", []))]
    assert len(elsewhere) == 5 and {i["State"]["Name"] for i in elsewhere} == {"pending"}
    assert not [path for path in seen if path.startswith("GET /vms/<id>")], seen
    assert seen.get("GET /disks", 0) <= 1, seen
