"""An instance's metrics page over real HTTP: points written to the gateway's metric store (as the sampler
writes them) come back as SVG polylines and a table, a missing minute is a gap, another user's instance is a
404, and a hostile instance name is escaped."""
from __future__ import annotations

import re
import uuid

import boto3

from .sampled_points import sampled
from .signing_in import signed_in


def ec2(gateway):
    return boto3.client("ec2", endpoint_url=gateway.ec2_url, region_name="us-east-1",
                        aws_access_key_id=gateway.access_key, aws_secret_access_key=gateway.secret_key)


def launched(gateway) -> str:
    client = ec2(gateway)
    image = client.describe_images(Filters=[{"Name": "name", "Values": ["centos-stream-9"]}])["Images"][0]["ImageId"]
    return client.run_instances(ImageId=image, MinCount=1, MaxCount=1, InstanceType="o1.small")["Instances"][0][
        "InstanceId"]


def series_markup(page: str, metric: str) -> str:
    found = re.search(r'<g class="series series-\d" data-metric="' + metric + r'">(.*?)</g>', page, re.S)
    assert found, f"no {metric} line in the page"
    return found.group(1)


def polylines(markup: str) -> list[int]:
    """The number of points of each polyline."""
    return [len(points.split()) for points in re.findall(r'<polyline points="([^"]+)"', markup)]


def test_an_instances_points_are_polylines_with_a_gap_and_a_table(gateway) -> None:
    instance = launched(gateway)
    uuid_id = str(uuid.UUID(instance.removeprefix("i-")))
    sampled(gateway, instance, "CPUUtilization", {10: 12.5, 9: 37.25, 8: 50.0, 5: 81.75, 4: 64.0}, "Percent")
    sampled(gateway, instance, "NetworkIn", {10: 2048.0, 9: 4096.0}, "Bytes")
    session = signed_in(gateway.url)
    listing = session.get(f"{gateway.url}/console/instances", timeout=30).text
    assert f"/console/instances/{uuid_id}/metrics" in listing  # linked from the instance's row

    answer = session.get(f"{gateway.url}/console/instances/{uuid_id}/metrics", timeout=30)
    assert answer.status_code == 200
    page = answer.text
    assert polylines(series_markup(page, "CPUUtilization")) == [3, 2]  # minutes 7 and 6 missing: a gap
    for value in ("12.5", "37.25", "50", "81.75", "64"):
        assert f"<td>{value}</td>" in page
    assert polylines(series_markup(page, "NetworkIn")) == [2]
    assert "<td>4,096</td>" in page
    assert "(Percent)" in page and "(Bytes)" in page
    assert page.count("<title id=") == 2 and page.count("<details>") == 2  # CPU and network: accessible
    assert page.count("No data in this period.") == 2  # no disk or memory points: no chart, said in words
    day = session.get(f"{gateway.url}/console/instances/{uuid_id}/metrics", params={"window": "24h"}, timeout=30).text
    assert polylines(series_markup(day, "CPUUtilization")) in ([2], [3])  # 5-minute periods merge minutes
    bad = session.get(f"{gateway.url}/console/instances/{uuid_id}/metrics", params={"window": "1y"}, timeout=30)
    assert bad.status_code == 400 and "Unknown window" in bad.text and "Traceback" not in bad.text
    ec2(gateway).terminate_instances(InstanceIds=[instance])


def test_a_user_level_user_cannot_see_another_users_instance_metrics(gateway) -> None:
    instance = launched(gateway)  # the administrator's
    uuid_id = str(uuid.UUID(instance.removeprefix("i-")))
    sampled(gateway, instance, "CPUUtilization", {3: 42.75}, "Percent")
    assert "42.75" in signed_in(gateway.url).get(f"{gateway.url}/console/instances/{uuid_id}/metrics",
                                                  timeout=30).text
    user = signed_in(gateway.url, "user@internal", "user", user_level=True)
    answer = user.get(f"{gateway.url}/console/instances/{uuid_id}/metrics", timeout=30)
    assert answer.status_code == 404 and "42.75" not in answer.text
    ec2(gateway).terminate_instances(InstanceIds=[instance])


def test_a_hostile_instance_name_is_escaped_on_the_metrics_page(gateway) -> None:
    instance = launched(gateway)
    uuid_id = str(uuid.UUID(instance.removeprefix("i-")))
    marker = uuid.uuid4().hex[:8]
    ec2(gateway).create_tags(Resources=[instance], Tags=[{"Key": "Name", "Value": f"<script>alert('{marker}')</script>"}])
    sampled(gateway, instance, "CPUUtilization", {2: 1.0, 1: 2.0}, "Percent")
    page = signed_in(gateway.url).get(f"{gateway.url}/console/instances/{uuid_id}/metrics", timeout=30)
    assert page.status_code == 200
    assert f"&lt;script&gt;alert(&#39;{marker}&#39;)&lt;/script&gt;" in page.text
    assert "<script>alert" not in page.text
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    ec2(gateway).terminate_instances(InstanceIds=[instance])
