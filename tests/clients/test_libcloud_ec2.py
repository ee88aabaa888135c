"""libcloud's EC2 driver (GET requests signed with Signature V2, its default for us-east-1)."""
from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlsplit

import pytest
from libcloud.compute.base import NodeSize
from libcloud.compute.drivers.ec2 import EC2NodeDriver
from libcloud.compute.types import NodeState


@pytest.fixture(scope="module")
def driver(gateway: Any) -> EC2NodeDriver:
    url = urlsplit(gateway.url)
    driver = EC2NodeDriver(gateway.access_key, gateway.secret_key, secure=False, host=url.hostname, port=url.port,
                           region="us-east-1")
    assert driver.signature_version == "2"
    return driver


def wait_for(driver: EC2NodeDriver, node_id: str, state: str, timeout: float = 60, addressed: bool = False) -> Any:
    """Poll until the node is in `state` (and, with `addressed`, has a private IP: oVirt learns a VM's
    addresses from its guest agent a few seconds after the VM is up, so `running` alone does not imply one)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        nodes = [n for n in driver.list_nodes(ex_node_ids=[node_id])]
        if nodes and nodes[0].state == state and (nodes[0].private_ips or not addressed):
            return nodes[0]
        time.sleep(0.5)
    raise AssertionError(f"node {node_id} never became {state}")


def test_list_images_and_locations(driver: EC2NodeDriver) -> None:
    images = driver.list_images(ex_owner="self")
    assert any(i.name.startswith("debian-") for i in images)
    locations = driver.list_locations()
    assert locations and locations[0].availability_zone.region_name == "us-east-1"


def test_create_and_destroy_node(driver: EC2NodeDriver) -> None:
    image = next(i for i in driver.list_images(ex_owner="self") if i.name.startswith("debian-"))
    size = NodeSize(id="o1.small", name="o1.small", ram=0, disk=0, bandwidth=None, price=None, driver=driver)
    node = driver.create_node(name="libcloud-node", image=image, size=size)
    try:
        assert node.id.startswith("i-") and node.name == "libcloud-node"
        running = wait_for(driver, node.id, NodeState.RUNNING, addressed=True)
        assert running.extra["instance_type"] == "o1.small"
        assert node.id in {n.id for n in driver.list_nodes()}
        assert driver.reboot_node(running)
    finally:
        assert driver.destroy_node(node)
    wait_for(driver, node.id, NodeState.TERMINATED)
