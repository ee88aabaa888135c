"""DescribeInstances served from the inventory view through boto3, with its instance items kept rendered
between requests (frontends/ec2/item_cache.py): whatever changes, a listing of the whole data center says
exactly what a request naming the instances says (those are read from the engine and presented afresh), and
repeated listings cost no listing of every VM."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.clients.ec2_helpers import ec2_client
from tests.conftest import start_gateway

CENTOS_AMI = "ami-7e000000000040008000000000000011"


@pytest.fixture(scope="module")
def viewing(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A gateway of its own with the view on, polling the engine's events at every request."""
    handle = start_gateway(tmp_path_factory.mktemp("inventory-view"),
                           settings={"CLOUDGW_INVENTORY_ENABLED": "true", "CLOUDGW_INVENTORY_POLL_SECONDS": "0.001"})
    yield handle
    handle.stop()


def listed(ec2: Any, ids: list[str] | None = None) -> dict[str, dict[str, Any]]:
    """Every instance of the answer by id, with its reservation's id."""
    answer = ec2.describe_instances(**({"InstanceIds": ids} if ids else {}))
    return {i["InstanceId"]: {**i, "ReservationId": r["ReservationId"]}
            for r in answer["Reservations"] for i in r["Instances"]}


def assert_view_says_what_the_engine_says(ec2: Any, ids: list[str]) -> dict[str, dict[str, Any]]:
    whole = listed(ec2)
    named = listed(ec2, ids)  # at most 100 named: read from the engine, never from the view or the cache
    for instance_id in ids:
        assert whole[instance_id] == named[instance_id]
    return whole


def test_listings_from_the_view_follow_every_change_and_match_what_the_engine_says(viewing: Any) -> None:
    ec2 = ec2_client(viewing)
    made = [i["InstanceId"] for i in ec2.run_instances(
        ImageId=CENTOS_AMI, MinCount=2, MaxCount=2, InstanceType="o1.tiny", ClientToken="view-items",
        TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": "role", "Value": "web"}]}])["Instances"]]
    ec2.get_waiter("instance_running").wait(InstanceIds=made, WaiterConfig={"Delay": 1, "MaxAttempts": 180})

    first = assert_view_says_what_the_engine_says(ec2, made)
    assert assert_view_says_what_the_engine_says(ec2, made) == first  # the second from the kept items

    ec2.create_tags(Resources=[made[0]], Tags=[{"Key": "role", "Value": "db"}])
    after_tags = assert_view_says_what_the_engine_says(ec2, made)
    assert {"Key": "role", "Value": "db"} in after_tags[made[0]]["Tags"]
    ec2.create_tags(Resources=[made[1]], Tags=[{"Key": "Name", "Value": "renamed"}])
    assert {"Key": "Name", "Value": "renamed"} in assert_view_says_what_the_engine_says(ec2, made)[made[1]]["Tags"]

    ec2.modify_instance_attribute(InstanceId=made[1], BlockDeviceMappings=[
        {"DeviceName": after_tags[made[1]]["RootDeviceName"], "Ebs": {"DeleteOnTermination": False}}])
    after_flag = assert_view_says_what_the_engine_says(ec2, made)
    assert after_flag[made[1]]["BlockDeviceMappings"][0]["Ebs"]["DeleteOnTermination"] is False

    ec2.stop_instances(InstanceIds=[made[0]])
    stopping = assert_view_says_what_the_engine_says(ec2, made)
    assert stopping[made[0]]["State"]["Name"] in ("stopping", "stopped")
    ec2.get_waiter("instance_stopped").wait(InstanceIds=[made[0]], WaiterConfig={"Delay": 1, "MaxAttempts": 180})
    assert assert_view_says_what_the_engine_says(ec2, made)[made[0]]["State"]["Name"] == "stopped"

    ec2.terminate_instances(InstanceIds=made)
    ending = listed(ec2)
    assert all(ending[i]["State"]["Name"] in ("shutting-down", "terminated") for i in made)
