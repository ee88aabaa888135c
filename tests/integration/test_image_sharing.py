"""Sharing and editing images (launch permissions, description) through the driver, against the simulator.

A deregistered image is gone for clients at once (the listing rule of gateway.engine_states), though the
engine keeps the template locked while it deletes its disks: sharing it, reading whom it is shared with or
changing its description then answers NotFound, and nothing is asked of the engine but reads.
"""
from __future__ import annotations

import pytest

from gateway.errors import NotFound
from gateway.model import InstanceSpec

from .ovirt_env import CENTOS, Gateway


def test_a_deregistered_image_can_no_longer_be_shared_or_edited(gw: Gateway) -> None:
    scope = gw.scope()
    vm_id = gw.driver.create_instance(scope, InstanceSpec(image_id=CENTOS, start=False)).id
    gw.settle(60)
    image = gw.driver.create_image(scope, vm_id, "golden")
    gw.settle(60)
    gw.driver.delete_image(scope, image.id)
    assert gw.driver._get(scope, f"templates/{image.id}").findtext("status") == "locked"  # the engine still has it
    gw.forget_requests()
    for change in (lambda: gw.driver.update_image(scope, image.id, description="after"),
                   lambda: gw.driver.launch_permissions(scope, image.id),
                   lambda: gw.driver.share_image(scope, image.id, public=True),
                   lambda: gw.driver.share_image(scope, image.id, add_users=["user@internal"])):
        with pytest.raises(NotFound) as refused:
            change()
        assert refused.value.kind == "image"
    assert [r for r in gw.requests if not r.startswith("GET ")] == []
