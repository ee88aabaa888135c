"""Whose metrics a caller reads: its own PutMetricData series, and the sampled series of the instances the
engine lets it see (an ordinary oVirt user: its own VMs')."""
from __future__ import annotations

import dataclasses
import subprocess
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from gateway.cli import EMBEDDED_PROVIDER
from gateway.metric_points import DataPoint
from gateway.metric_store import MetricStore
from gateway.store import Store, load_or_create_key
from tests.clients.cloudwatch_helpers import cloudwatch_client
from tests.clients.ec2_helpers import ec2_client
from tests.conftest import CLOUDGW, ROOT

USER_KEY, USER_SECRET = "AKUSERCLOUDWATCH01", "user-cloudwatch-secret"


@pytest.fixture(scope="module")
def user_cloudwatch(gateway: Any) -> Any:
    """A CloudWatch client of an EC2 key acting as user@internal, an ordinary oVirt user."""
    created = subprocess.run(
        [*CLOUDGW, "credentials", "create", "--data-dir", str(gateway.data_dir), "--user", "user@internal",
         "--password", "user", "--access-key", USER_KEY, "--secret-key", USER_SECRET],
        cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert created.returncode == 0, created.stderr
    return cloudwatch_client(dataclasses.replace(gateway, access_key=USER_KEY, secret_key=USER_SECRET))


def test_put_metric_data_is_seen_by_its_owner_only(gateway: Any, user_cloudwatch: Any) -> None:
    admin = cloudwatch_client(gateway)
    space = f"Test/{uuid.uuid4().hex[:8]}"
    admin.put_metric_data(Namespace=space, MetricData=[{"MetricName": "Mine", "Value": 1.0}])
    assert [m["MetricName"] for m in admin.list_metrics(Namespace=space)["Metrics"]] == ["Mine"]
    assert user_cloudwatch.list_metrics(Namespace=space)["Metrics"] == []


def test_a_user_does_not_read_the_sampled_series_of_a_vm_it_cannot_see(gateway: Any, user_cloudwatch: Any) -> None:
    ec2 = ec2_client(gateway)  # the administrator's VM: invisible to user@internal
    image = ec2.describe_images(Filters=[{"Name": "name", "Values": ["centos-stream-9"]}])["Images"][0]["ImageId"]
    instance = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]
    minute = datetime.now(timezone.utc).replace(second=0, microsecond=0) - timedelta(minutes=3)
    samples = MetricStore(Store(f"sqlite:///{gateway.data_dir / 'cloudgw.db'}",
                                load_or_create_key(gateway.data_dir / "secret.key")))
    samples.put_points([DataPoint(EMBEDDED_PROVIDER, "AWS/EC2", "CPUUtilization", (("InstanceId", instance),),
                                  minute.timestamp(), 42.0, "Percent")])
    samples.store.close()
    dims = [{"Name": "InstanceId", "Value": instance}]
    query = dict(Namespace="AWS/EC2", MetricName="CPUUtilization", Dimensions=dims, StartTime=minute,
                 EndTime=minute + timedelta(minutes=1), Period=60, Statistics=["Maximum"])
    admin = cloudwatch_client(gateway)
    assert len(admin.list_metrics(Namespace="AWS/EC2", Dimensions=dims)["Metrics"]) == 1
    assert [p["Maximum"] for p in admin.get_metric_statistics(**query)["Datapoints"]] == [42.0]
    assert user_cloudwatch.list_metrics(Namespace="AWS/EC2", Dimensions=dims)["Metrics"] == []
    assert user_cloudwatch.get_metric_statistics(**query)["Datapoints"] == []
    ec2.terminate_instances(InstanceIds=[instance])


def test_a_user_cannot_put_an_alarm_on_a_vm_it_cannot_see(gateway: Any, user_cloudwatch: Any) -> None:
    """An alarm's StateReason would show the metric's values: an alarm on another user's VM is refused."""
    ec2 = ec2_client(gateway)  # the administrator's VM: invisible to user@internal
    image = ec2.describe_images(Filters=[{"Name": "name", "Values": ["centos-stream-9"]}])["Images"][0]["ImageId"]
    instance = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]
    alarm = dict(AlarmName=f"peek-{uuid.uuid4().hex[:8]}", Namespace="AWS/EC2", MetricName="CPUUtilization",
                 Dimensions=[{"Name": "InstanceId", "Value": instance}], Statistic="Maximum", Period=60,
                 EvaluationPeriods=1, Threshold=0.0, ComparisonOperator="GreaterThanThreshold")
    try:
        with pytest.raises(user_cloudwatch.exceptions.ClientError) as refused:
            user_cloudwatch.put_metric_alarm(**alarm)
        assert refused.value.response["Error"]["Code"] == "InvalidParameterValue"
        assert user_cloudwatch.describe_alarms(AlarmNames=[alarm["AlarmName"]])["MetricAlarms"] == []
        admin = cloudwatch_client(gateway)
        admin.put_metric_alarm(**alarm)  # its owner may
        admin.delete_alarms(AlarmNames=[alarm["AlarmName"]])
    finally:
        ec2.terminate_instances(InstanceIds=[instance])
