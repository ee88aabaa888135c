"""EC2 parameters holding text XML cannot carry: a 400 in EC2's format before anything reaches the engine.

A Name tag with a control character used to reach the driver, whose XML request to the engine could not
be written: a 500 (issue 10, found while extending tests/property).
"""
from __future__ import annotations

import re

import pytest

from tests.clients.ec2_helpers import ec2_error, signed_post
from tests.gateway_state import settled, snapshot


def zone(gateway) -> str:
    answer = signed_post(gateway, "Action=DescribeAvailabilityZones&Version=2016-11-15")
    return re.findall("<zoneName>(.*?)</zoneName>", answer.text)[0]


@pytest.mark.parametrize("tag", ["Value=a%01b", "Value=%EF%BF%BE", "Value=ok&TagSpecification.1.Tag.2.Key=k%1B"])
def test_unwritable_tag_text_is_refused_before_the_engine(gateway, tag: str) -> None:
    before = settled(lambda: snapshot(gateway))
    response = signed_post(gateway, f"Action=CreateVolume&Version=2016-11-15&Size=1&AvailabilityZone={zone(gateway)}"
                                    f"&TagSpecification.1.ResourceType=volume&TagSpecification.1.Tag.1.Key=Name"
                                    f"&TagSpecification.1.Tag.1.{tag}")
    assert response.status_code == 400, response.text
    assert ec2_error(response) == "InvalidParameterValue"
    assert "cannot be represented" in response.text
    assert snapshot(gateway) == before
