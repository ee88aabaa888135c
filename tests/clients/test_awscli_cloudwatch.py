"""aws-cli (`aws --endpoint-url ... cloudwatch ...`) against the session gateway's CloudWatch API.

aws-cli v1 speaks awsJson 1.0 to CloudWatch (`X-Amz-Target`, with `x-amzn-query-mode: true`)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

AWS = str(Path(sys.executable).with_name("aws"))


@pytest.fixture(scope="module")
def aws(gateway: Any, tmp_path_factory: pytest.TempPathFactory) -> Any:
    home = tmp_path_factory.mktemp("awscli-cloudwatch")
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(home), "AWS_ACCESS_KEY_ID": gateway.access_key,
           "AWS_SECRET_ACCESS_KEY": gateway.secret_key, "AWS_DEFAULT_REGION": "us-east-1",
           "AWS_CONFIG_FILE": str(home / "config"), "AWS_SHARED_CREDENTIALS_FILE": str(home / "credentials"),
           "AWS_EC2_METADATA_DISABLED": "true", "AWS_MAX_ATTEMPTS": "1"}

    def run(*args: str, check: bool = True) -> Any:
        done = subprocess.run([AWS, "--endpoint-url", f"{gateway.url}/", "cloudwatch", *args, "--output", "json"],
                              env=env, capture_output=True, text=True, timeout=120)
        if not check:
            return done
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout) if done.stdout.strip() else {}

    return run


def minutes_before(now: datetime) -> Any:
    """`at(n)`: the whole minute n minutes before `now`, the same for every call of a test (aws-cli takes a
    second or two a call: reading the clock at each one moved every later point a minute once it turned)."""
    start = now.replace(second=0, microsecond=0)
    return lambda minutes_ago: (start - timedelta(minutes=minutes_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_put_then_read_statistics_and_metric_data(aws: Any, tmp_path: Path) -> None:
    space, at = f"Cli/{uuid.uuid4().hex[:8]}", minutes_before(datetime.now(timezone.utc))
    for minute, value in ((9, 10), (8, 30), (7, 50), (6, 70)):
        aws("put-metric-data", "--namespace", space, "--metric-name", "Queue", "--dimensions", "queue=jobs",
            "--value", str(value), "--unit", "Count", "--timestamp", at(minute))  # put-metric-data's own shorthand
    stats = aws("get-metric-statistics", "--namespace", space, "--metric-name", "Queue", "--dimensions",
                "Name=queue,Value=jobs", "--start-time", at(9), "--end-time", at(5), "--period", "120",
                "--statistics", "Average", "Maximum")
    points = sorted(stats["Datapoints"], key=lambda p: p["Timestamp"])
    assert [(p["Average"], p["Maximum"], p["Unit"]) for p in points] == [(20.0, 30.0, "Count"), (60.0, 70.0, "Count")]
    queries = tmp_path / "queries.json"
    queries.write_text(json.dumps([
        {"Id": "q", "MetricStat": {"Metric": {"Namespace": space, "MetricName": "Queue",
                                              "Dimensions": [{"Name": "queue", "Value": "jobs"}]},
                                   "Period": 240, "Stat": "Sum"}},
        {"Id": "half", "Expression": "q / 2"}]))
    data = aws("get-metric-data", "--metric-data-queries", f"file://{queries}", "--start-time", at(9),
               "--end-time", at(5))
    results = {r["Id"]: r["Values"] for r in data["MetricDataResults"]}
    assert results == {"q": [160.0], "half": [80.0]}
    listed = aws("list-metrics", "--namespace", space)["Metrics"]
    assert listed == [{"Namespace": space, "MetricName": "Queue", "Dimensions": [{"Name": "queue", "Value": "jobs"}]}]


def test_alarms_and_errors(aws: Any) -> None:
    name = f"cli-{uuid.uuid4().hex[:8]}"
    aws("put-metric-alarm", "--alarm-name", name, "--namespace", "Cli/x", "--metric-name", "Queue", "--statistic",
        "Maximum", "--period", "300", "--evaluation-periods", "1", "--threshold", "100", "--comparison-operator",
        "GreaterThanThreshold", "--treat-missing-data", "notBreaching")
    [found] = aws("describe-alarms", "--alarm-names", name)["MetricAlarms"]
    assert (found["Period"], found["Threshold"], found["TreatMissingData"]) == (300, 100.0, "notBreaching")
    aws("delete-alarms", "--alarm-names", name)
    assert aws("describe-alarms", "--alarm-names", name)["MetricAlarms"] == []
    refused = aws("put-metric-data", "--namespace", "AWS/EC2", "--metric-name", "CPUUtilization", "--value", "1",
                  check=False)
    assert refused.returncode != 0 and "InvalidParameterValue" in refused.stderr
    gone = aws("delete-alarms", "--alarm-names", name, check=False)
    assert gone.returncode != 0 and "ResourceNotFound" in gone.stderr
