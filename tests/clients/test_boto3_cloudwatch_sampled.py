"""End to end: the gateway samples its engine's VM statistics into the metric store that CloudWatch reads.

The other CloudWatch tests feed the store themselves and the sampler's own tests read into a list; this is
the one place where a running gateway's sampler thread, the engine's statistics and boto3's
GetMetricStatistics meet, as a user of `make serve` would see them.
"""
from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from tests.clients.cloudwatch_helpers import cloudwatch_client
from tests.clients.ec2_helpers import ec2_client
from tests.conftest import start_gateway


@pytest.fixture(scope="module")
def sampling_gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A gateway of this module's own that samples its simulator every second."""
    handle = start_gateway(tmp_path_factory.mktemp("cloudwatch-sampled"), settings={
        "CLOUDGW_CLOUDWATCH_SAMPLING": "true", "CLOUDGW_CLOUDWATCH_SAMPLE_SECONDS": "1"})
    yield handle
    handle.stop()


def statistics(cloudwatch: Any, instance_id: str, metric: str, namespace: str = "AWS/EC2") -> list[dict[str, Any]]:
    now = datetime.now(timezone.utc)
    return cloudwatch.get_metric_statistics(
        Namespace=namespace, MetricName=metric, Dimensions=[{"Name": "InstanceId", "Value": instance_id}],
        StartTime=now - timedelta(minutes=10), EndTime=now + timedelta(minutes=1), Period=60,
        Statistics=["Maximum", "SampleCount"])["Datapoints"]


def test_a_running_instance_load_reaches_get_metric_statistics(sampling_gateway: Any) -> None:
    ec2, cloudwatch = ec2_client(sampling_gateway), cloudwatch_client(sampling_gateway)
    image = ec2.describe_images(Filters=[{"Name": "name", "Values": ["centos-stream-9"]}])["Images"][0]["ImageId"]
    instance_id = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1, InstanceType="o1.small")[
        "Instances"][0]["InstanceId"]
    try:
        ec2.get_waiter("instance_running").wait(InstanceIds=[instance_id], WaiterConfig={"Delay": 1})
        vm = instance_id.removeprefix("i-")
        vm = f"{vm[:8]}-{vm[8:12]}-{vm[12:16]}-{vm[16:20]}-{vm[20:]}"
        sampling_gateway.simulator_control("load", vm=vm, cpu_percent=73, net_rx=1000).raise_for_status()
        deadline = time.monotonic() + 60
        while True:
            cpu = statistics(cloudwatch, instance_id, "CPUUtilization")
            network = statistics(cloudwatch, instance_id, "NetworkIn")
            if (any(p["Maximum"] == 73 for p in cpu) and any(p["Maximum"] > 0 for p in network)) \
                    or time.monotonic() > deadline:
                break
            time.sleep(1)
        assert any(p["Maximum"] == 73 and p["Unit"] == "Percent" for p in cpu), cpu
        assert any(p["Maximum"] > 0 and p["Unit"] == "Bytes" for p in network), network
        listed = cloudwatch.list_metrics(Namespace="AWS/EC2", Dimensions=[{"Name": "InstanceId",
                                                                          "Value": instance_id}])["Metrics"]
        assert {"CPUUtilization", "NetworkIn", "NetworkOut"} <= {m["MetricName"] for m in listed}
    finally:
        ec2.terminate_instances(InstanceIds=[instance_id])
