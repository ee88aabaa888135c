"""Metric alarms through boto3: the worker evaluates them (every second here) and an alarm on a VM's
CPUUtilization stops that VM through the gateway's own lifecycle call, as the identity that put it."""
from __future__ import annotations

import dataclasses
import os
import subprocess
import time
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

import pytest

from frontends.cloudwatch import alarm_store
from gateway.cli import EMBEDDED_PROVIDER
from gateway.metric_points import DataPoint
from gateway.metric_store import MetricStore
from gateway.store import Store, load_or_create_key
from tests.clients.cloudwatch_helpers import cloudwatch_client
from tests.clients.ec2_helpers import ec2_client
from tests.conftest import CLOUDGW, ROOT, start_gateway

SNS = "arn:aws:sns:us-east-1:123456789012:ops"


@pytest.fixture(scope="module")
def alarm_gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A gateway of this module's own whose worker evaluates alarms every second."""
    handle = start_gateway(tmp_path_factory.mktemp("cloudwatch-alarms"),
                           settings={"CLOUDGW_CLOUDWATCH_EVALUATION_SECONDS": "1"})
    yield handle
    handle.stop()


@pytest.fixture(scope="module")
def cloudwatch(alarm_gateway: Any) -> Any:
    return cloudwatch_client(alarm_gateway)


def minutes_ago(minutes: int) -> datetime:
    return datetime.now(timezone.utc).replace(second=0, microsecond=0) - timedelta(minutes=minutes)


def eventually(check: Callable[[], Any], timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.3)


def alarm(cloudwatch: Any, name: str) -> dict[str, Any]:
    [found] = cloudwatch.describe_alarms(AlarmNames=[name])["MetricAlarms"]
    return found


def in_state(cloudwatch: Any, name: str, state: str) -> Callable[[], bool]:
    return lambda: alarm(cloudwatch, name)["StateValue"] == state


def test_an_alarm_goes_to_alarm_and_back_as_its_metric_and_set_alarm_state_say(cloudwatch: Any) -> None:
    space, name = f"Test/{uuid.uuid4().hex[:8]}", f"load-{uuid.uuid4().hex[:8]}"
    dims = [{"Name": "Host", "Value": "web1"}]
    cloudwatch.put_metric_alarm(AlarmName=name, Namespace=space, MetricName="Load", Dimensions=dims,
                                Statistic="Average", Period=60, EvaluationPeriods=3, DatapointsToAlarm=2,
                                Threshold=50.0, ComparisonOperator="GreaterThanThreshold", AlarmActions=[SNS])
    created = alarm(cloudwatch, name)
    assert (created["StateValue"], created["TreatMissingData"], created["DatapointsToAlarm"]) == (
        "INSUFFICIENT_DATA", "missing", 2)
    assert created["AlarmArn"].startswith("arn:aws:cloudwatch:us-east-1:") and created["AlarmArn"].endswith(name)
    # The current minute and the five before it: whichever two whole minutes the worker reads, both breach.
    cloudwatch.put_metric_data(Namespace=space, MetricData=[
        {"MetricName": "Load", "Dimensions": dims, "Timestamp": minutes_ago(m), "Value": 80.0} for m in range(6)])
    assert eventually(in_state(cloudwatch, name, "ALARM"))
    assert "Threshold Crossed" in alarm(cloudwatch, name)["StateReason"]

    history = cloudwatch.describe_alarm_history(AlarmName=name)["AlarmHistoryItems"]
    assert [item["HistoryItemType"] for item in history][:3] == ["Action", "StateUpdate", "ConfigurationUpdate"]
    assert history[0]["HistorySummary"].startswith(f"Recorded action {SNS}")
    assert history[1]["HistorySummary"] == "Alarm updated from INSUFFICIENT_DATA to ALARM"

    cloudwatch.set_alarm_state(AlarmName=name, StateValue="OK", StateReason="testing the pager")
    assert alarm(cloudwatch, name)["StateReason"] == "testing the pager"  # at once, until the next evaluation
    assert eventually(in_state(cloudwatch, name, "ALARM"))  # the data still breaches

    cloudwatch.disable_alarm_actions(AlarmNames=[name])
    assert alarm(cloudwatch, name)["ActionsEnabled"] is False
    found = cloudwatch.describe_alarms_for_metric(Namespace=space, MetricName="Load", Dimensions=dims)["MetricAlarms"]
    assert [a["AlarmName"] for a in found] == [name]
    assert cloudwatch.describe_alarms(StateValue="ALARM", AlarmNamePrefix=name[:10])["MetricAlarms"]
    cloudwatch.delete_alarms(AlarmNames=[name])
    assert cloudwatch.describe_alarms(AlarmNames=[name])["MetricAlarms"] == []


def test_missing_data_is_treated_as_the_alarm_says(cloudwatch: Any) -> None:
    space = f"Test/{uuid.uuid4().hex[:8]}"
    names = {treat: f"{treat}-{uuid.uuid4().hex[:8]}" for treat in ("breaching", "notBreaching", "missing")}
    for treat, name in names.items():
        cloudwatch.put_metric_alarm(AlarmName=name, Namespace=space, MetricName="Silent", Statistic="Sum", Period=60,
                                    EvaluationPeriods=1, Threshold=1.0, ComparisonOperator="GreaterThanThreshold",
                                    TreatMissingData=treat)
    assert eventually(in_state(cloudwatch, names["breaching"], "ALARM"))
    assert eventually(in_state(cloudwatch, names["notBreaching"], "OK"))
    assert alarm(cloudwatch, names["missing"])["StateValue"] == "INSUFFICIENT_DATA"


def test_alarms_refuse_what_they_cannot_do(cloudwatch: Any) -> None:
    from botocore.exceptions import ClientError

    base = dict(AlarmName="refused", Namespace="Test/x", MetricName="m", Statistic="Average", Period=60,
                EvaluationPeriods=1, Threshold=1.0, ComparisonOperator="GreaterThanThreshold")
    for change, code in ((dict(Period=45), "InvalidParameterValue"),
                         (dict(EvaluationPeriods=2, DatapointsToAlarm=3), "InvalidParameterValue"),
                         (dict(AlarmActions=["arn:aws:automate:us-east-1:ec2:stop"]), "InvalidParameterCombination"),
                         (dict(AlarmActions=["not-an-arn"]), "InvalidParameterValue"),
                         (dict(Statistic=None, ExtendedStatistic="p90"), "InvalidParameterValue")):
        arguments = {k: v for k, v in {**base, **change}.items() if v is not None}
        with pytest.raises(ClientError) as caught:
            cloudwatch.put_metric_alarm(**arguments)
        assert caught.value.response["Error"]["Code"] == code, change
    hourly = f"hourly-{uuid.uuid4().hex[:8]}"  # an hour's period may look back 7 days, as CloudWatch allows
    cloudwatch.put_metric_alarm(**{**base, "AlarmName": hourly, "Period": 3600, "EvaluationPeriods": 48})
    cloudwatch.delete_alarms(AlarmNames=[hourly])
    with pytest.raises(ClientError):
        cloudwatch.put_metric_alarm(**{**base, "AlarmName": hourly, "Period": 3600, "EvaluationPeriods": 169})
    for name, tags in ((f"dup-{uuid.uuid4().hex[:8]}", [{"Key": "a", "Value": "1"}, {"Key": "a", "Value": "2"}]),
                       ("long-" + "x" * 200, [{"Key": "a", "Value": "1"}])):  # tags keyed by 128 characters at most
        with pytest.raises(ClientError) as caught:
            cloudwatch.put_metric_alarm(**{**base, "AlarmName": name, "Tags": tags})
        assert caught.value.response["Error"]["Code"] == "InvalidParameterValue"
        assert cloudwatch.describe_alarms(AlarmNames=[name])["MetricAlarms"] == []  # refused means not stored


@pytest.mark.parametrize("verb, waiter", [("stop", "instance_stopped"), ("terminate", "instance_terminated")])
def test_an_alarm_on_cpu_stops_or_terminates_the_instance(alarm_gateway: Any, cloudwatch: Any, verb: str,
                                                          waiter: str) -> None:
    ec2 = ec2_client(alarm_gateway, url=alarm_gateway.ec2_url)
    image = ec2.describe_images(Filters=[{"Name": "name", "Values": ["centos-stream-9"]}])["Images"][0]["ImageId"]
    instance = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1, InstanceType="o1.small")["Instances"][0]
    instance_id = instance["InstanceId"]
    ec2.get_waiter("instance_running").wait(InstanceIds=[instance_id], WaiterConfig={"Delay": 1})
    # AWS/EC2 belongs to the sampler: write its series as the sampler does, through the store's put_points.
    data = alarm_gateway.data_dir
    samples = MetricStore(Store(f"sqlite:///{data / 'cloudgw.db'}", load_or_create_key(data / "secret.key")))
    samples.put_points(DataPoint(EMBEDDED_PROVIDER, "AWS/EC2", "CPUUtilization", (("InstanceId", instance_id),),
                                 minutes_ago(m).timestamp() + 5, 97.0, "Percent") for m in range(6))
    samples.store.close()
    stop = f"arn:aws:automate:us-east-1:ec2:{verb}"
    name = f"cpu-{uuid.uuid4().hex[:8]}"
    cloudwatch.put_metric_alarm(AlarmName=name, Namespace="AWS/EC2", MetricName="CPUUtilization",
                                Dimensions=[{"Name": "InstanceId", "Value": instance_id}], Statistic="Average",
                                Period=60, EvaluationPeriods=2, Threshold=90.0,
                                ComparisonOperator="GreaterThanOrEqualToThreshold", AlarmActions=[stop])
    assert eventually(in_state(cloudwatch, name, "ALARM"))
    ec2.get_waiter(waiter).wait(InstanceIds=[instance_id], WaiterConfig={"Delay": 1, "MaxAttempts": 60})
    actions = cloudwatch.describe_alarm_history(AlarmName=name, HistoryItemType="Action")["AlarmHistoryItems"]
    assert [item["HistorySummary"] for item in actions] == [f"Successfully executed action {stop}"]
    ec2.terminate_instances(InstanceIds=[instance_id])


def test_an_alarm_of_a_user_reads_nothing_of_a_vm_it_cannot_see(alarm_gateway: Any, cloudwatch: Any) -> None:
    """An alarm put before its VM left the user's sight (stored directly: PutMetricAlarm now refuses it) reads
    the VM's series as missing data, so neither its state nor its StateReason shows another user's values."""
    key, secret = "AKALARMUSER0000001", "alarm-user-secret"
    created = subprocess.run(
        [*CLOUDGW, "credentials", "create", "--data-dir", str(alarm_gateway.data_dir), "--user", "user@internal",
         "--password", "user", "--access-key", key, "--secret-key", secret],
        cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert created.returncode == 0, created.stderr
    user = cloudwatch_client(dataclasses.replace(alarm_gateway, access_key=key, secret_key=secret))
    ec2 = ec2_client(alarm_gateway, url=alarm_gateway.ec2_url)  # the administrator's VM: invisible to the user
    image = ec2.describe_images(Filters=[{"Name": "name", "Values": ["centos-stream-9"]}])["Images"][0]["ImageId"]
    instance_id = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]
    data = alarm_gateway.data_dir
    store = Store(f"sqlite:///{data / 'cloudgw.db'}", load_or_create_key(data / "secret.key"))
    MetricStore(store).put_points(
        DataPoint(EMBEDDED_PROVIDER, "AWS/EC2", "CPUUtilization", (("InstanceId", instance_id),),
                  minutes_ago(m).timestamp() + 5, 97.0, "Percent") for m in range(6))
    definition = dict(Namespace="AWS/EC2", MetricName="CPUUtilization", Statistic="Maximum", Period=60,
                      Dimensions=[{"Name": "InstanceId", "Value": instance_id}], EvaluationPeriods=2,
                      Threshold=90.0, ComparisonOperator="GreaterThanThreshold", TreatMissingData="notBreaching")
    name = f"peek-{uuid.uuid4().hex[:8]}"
    alarm_store.put(store, f"{EMBEDDED_PROVIDER}|user@internal", name, access_key=key, region="us-east-1",
                    definition=definition, actions_enabled=True, now=time.time())
    store.close()
    cloudwatch.put_metric_alarm(AlarmName=name, **definition)  # the owner's twin alarm reads the data
    try:
        assert eventually(in_state(cloudwatch, name, "ALARM"))
        assert eventually(in_state(user, name, "OK"))
        seen = alarm(user, name)
        assert "97" not in seen["StateReason"] and "97" not in seen.get("StateReasonData", "")
    finally:
        user.delete_alarms(AlarmNames=[name])
        cloudwatch.delete_alarms(AlarmNames=[name])
        ec2.terminate_instances(InstanceIds=[instance_id])
