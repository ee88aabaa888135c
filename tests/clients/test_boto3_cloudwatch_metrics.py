"""boto3 against the gateway's CloudWatch API in each of its three wire protocols: PutMetricData, then
ListMetrics, GetMetricStatistics and GetMetricData answer what was put, over the right periods; mistakes
get CloudWatch's error codes in the protocol the client spoke."""
from __future__ import annotations

import gzip
import math
import time
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

import cbor2
import pytest
import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from tests.clients.cloudwatch_helpers import PROTOCOLS, REGION, cloudwatch_client, wire_of

CHOICES = [None, *PROTOCOLS]  # None: whatever botocore picks by itself


def namespace() -> str:
    return f"Test/{uuid.uuid4().hex[:10]}"


def minute_ago(minutes: int) -> datetime:
    now = datetime.now(timezone.utc).replace(second=0, microsecond=0)
    return now - timedelta(minutes=minutes)


def code_of(call: Any, *args: Any, **kwargs: Any) -> tuple[str, int]:
    with pytest.raises(ClientError) as caught:
        call(*args, **kwargs)
    return caught.value.response["Error"]["Code"], caught.value.response["ResponseMetadata"]["HTTPStatusCode"]


@pytest.mark.parametrize("protocol", CHOICES)
def test_statistics_and_metric_data_average_over_the_right_periods(gateway: Any, protocol: str | None) -> None:
    sent: list[dict[str, str]] = []
    cloudwatch = cloudwatch_client(gateway, protocol, sent=sent)
    space, base = namespace(), minute_ago(10)
    dims = [{"Name": "Host", "Value": "web1"}]
    cloudwatch.put_metric_data(Namespace=space, MetricData=[
        {"MetricName": "Load", "Dimensions": dims, "Timestamp": base + timedelta(minutes=m), "Value": 10.0 * m,
         "Unit": "Percent"} for m in range(6)])
    expected = protocol or cloudwatch.meta.service_model.resolved_protocol
    assert {wire_of(headers) for headers in sent} == {expected}

    stats = cloudwatch.get_metric_statistics(
        Namespace=space, MetricName="Load", Dimensions=dims, StartTime=base, EndTime=base + timedelta(minutes=6),
        Period=120, Statistics=["Average", "Sum", "SampleCount", "Minimum", "Maximum"])
    points = sorted(stats["Datapoints"], key=lambda p: p["Timestamp"])
    assert stats["Label"] == "Load"
    assert [(p["Timestamp"], p["Average"], p["Sum"], p["SampleCount"], p["Minimum"], p["Maximum"], p["Unit"])
            for p in points] == [(base + timedelta(minutes=2 * k), 20.0 * k + 5, 40.0 * k + 10, 2.0, 20.0 * k,
                                  20.0 * k + 10, "Percent") for k in range(3)]
    assert cloudwatch.get_metric_statistics(Namespace=space, MetricName="Load", Dimensions=dims, StartTime=base,
                                            EndTime=base + timedelta(minutes=6), Period=60, Statistics=["Sum"],
                                            Unit="Count")["Datapoints"] == []  # no series in that unit

    stat = {"Metric": {"Namespace": space, "MetricName": "Load", "Dimensions": dims}, "Period": 180,
            "Stat": "Average"}
    data = cloudwatch.get_metric_data(StartTime=base, EndTime=base + timedelta(minutes=6), MetricDataQueries=[
        {"Id": "load", "MetricStat": stat},
        {"Id": "doubled", "Expression": "load * 2 + 1", "Label": "twice"},
        {"Id": "total", "Expression": "SUM(METRICS())"},
        {"Id": "hidden", "MetricStat": {**stat, "Stat": "Maximum"}, "ReturnData": False},
        {"Id": "spread", "Expression": "hidden - load"}])
    results = {r["Id"]: r for r in data["MetricDataResults"]}
    assert set(results) == {"load", "doubled", "total", "spread"}
    newest_first = [base + timedelta(minutes=3), base]
    assert results["load"]["Timestamps"] == newest_first and results["load"]["Values"] == [40.0, 10.0]
    assert results["load"]["Label"] == "Load" and results["load"]["StatusCode"] == "Complete"
    assert results["doubled"]["Values"] == [81.0, 21.0] and results["doubled"]["Label"] == "twice"
    assert results["total"]["Values"] == [90.0, 30.0]  # SUM of load (average) and hidden (maximum) at each time
    assert results["spread"]["Values"] == [10.0, 10.0]


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_mistakes_get_cloudwatch_codes_in_each_protocol(gateway: Any, protocol: str) -> None:
    cloudwatch = cloudwatch_client(gateway, protocol)
    base = minute_ago(30)
    assert code_of(cloudwatch.put_metric_data, Namespace="AWS/EC2",
                   MetricData=[{"MetricName": "CPUUtilization", "Value": 1.0}]) == ("InvalidParameterValue", 400)
    both = {"MetricName": "m", "Value": 1.0, "StatisticValues": {"SampleCount": 1, "Sum": 1, "Minimum": 1,
                                                                 "Maximum": 1}}
    assert code_of(cloudwatch.put_metric_data, Namespace=namespace(), MetricData=[both]) == (
        "InvalidParameterCombination", 400)
    assert code_of(cloudwatch.put_metric_data, Namespace=namespace(),
                   MetricData=[{"MetricName": "m", "Value": 1e300}]) == ("InvalidParameterValue", 400)
    assert code_of(cloudwatch.put_metric_data, Namespace=namespace(),  # 2^360 x 1e300 = inf
                   MetricData=[{"MetricName": "m", "Values": [2.0 ** 360], "Counts": [1e300]}]) == (
        "InvalidParameterValue", 400)
    query = dict(Namespace=namespace(), MetricName="m", StartTime=base, EndTime=base + timedelta(minutes=20))
    assert code_of(cloudwatch.get_metric_statistics, Period=90, Statistics=["Sum"], **query) == (
        "InvalidParameterValue", 400)
    assert code_of(cloudwatch.get_metric_statistics, Period=60, ExtendedStatistics=["p99"], **query) == (
        "InvalidParameterValue", 400)
    assert code_of(cloudwatch.get_metric_statistics, Period=60, **query) == ("InvalidParameterCombination", 400)
    too_long = dict(query, StartTime=base - timedelta(days=2))
    assert code_of(cloudwatch.get_metric_statistics, Period=60, Statistics=["Sum"], **too_long) == (
        "InvalidParameterCombination", 400)  # 2,900 datapoints > 1,440
    assert code_of(cloudwatch.get_metric_data, StartTime=base, EndTime=base + timedelta(minutes=5),
                   MetricDataQueries=[{"Id": "a", "Expression": "RATE(b)"}])[0] == "InvalidParameterValue"
    assert code_of(cloudwatch.delete_alarms, AlarmNames=[f"nope-{uuid.uuid4().hex}"]) == ("ResourceNotFound", 404)
    forged = cloudwatch_client(gateway, protocol, secret="not-the-secret")
    assert code_of(forged.list_metrics) == ("SignatureDoesNotMatch", 403)
    stranger = cloudwatch_client(gateway, protocol, access_key="AKNOBODY")
    assert code_of(stranger.list_metrics) == ("InvalidClientTokenId", 401)


def test_values_with_counts_and_statistic_sets_add_up(gateway: Any) -> None:
    cloudwatch = cloudwatch_client(gateway)
    space, base = namespace(), minute_ago(5)
    cloudwatch.put_metric_data(Namespace=space, MetricData=[
        {"MetricName": "Latency", "Timestamp": base, "Values": [1.0, 3.0], "Counts": [2, 1]},
        {"MetricName": "Latency", "Timestamp": base + timedelta(seconds=30),
         "StatisticValues": {"SampleCount": 5, "Sum": 50.0, "Minimum": 0.5, "Maximum": 20.0}}])
    [point] = cloudwatch.get_metric_statistics(
        Namespace=space, MetricName="Latency", StartTime=base, EndTime=base + timedelta(minutes=1), Period=60,
        Statistics=["SampleCount", "Sum", "Average", "Minimum", "Maximum"])["Datapoints"]
    assert (point["SampleCount"], point["Sum"], point["Minimum"], point["Maximum"], point["Unit"]) == (
        8.0, 55.0, 0.5, 20.0, "None")
    assert math.isclose(point["Average"], 55.0 / 8)


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_list_metrics_filters_and_pages(gateway: Any, protocol: str) -> None:
    """501 metrics in one PutMetricData: botocore gzips a body that large (Content-Encoding: gzip)."""
    cloudwatch = cloudwatch_client(gateway, protocol)
    space = namespace()
    cloudwatch.put_metric_data(Namespace=space, MetricData=[
        {"MetricName": f"m{n:03d}", "Dimensions": [{"Name": "Shard", "Value": str(n % 2)}], "Value": 1.0}
        for n in range(501)])
    first = cloudwatch.list_metrics(Namespace=space)
    assert len(first["Metrics"]) == 500 and "NextToken" in first
    second = cloudwatch.list_metrics(Namespace=space, NextToken=first["NextToken"])
    assert [m["MetricName"] for m in second["Metrics"]] == ["m500"] and "NextToken" not in second
    odd = cloudwatch.list_metrics(Namespace=space, Dimensions=[{"Name": "Shard", "Value": "1"}])["Metrics"]
    assert len(odd) == 250 and {m["Dimensions"][0]["Value"] for m in odd} == {"1"}
    paginated = [m for page in cloudwatch.get_paginator("list_metrics").paginate(Namespace=space, MetricName="m007",
                                                                                 RecentlyActive="PT3H")
                 for m in page["Metrics"]]
    assert paginated == [{"Namespace": space, "MetricName": "m007", "Dimensions": [{"Name": "Shard", "Value": "1"}]}]
    assert code_of(cloudwatch.list_metrics, NextToken="garbage")[0] == "InvalidNextToken"


def test_get_metric_data_pages_with_next_token_oldest_first(gateway: Any) -> None:
    cloudwatch = cloudwatch_client(gateway)
    space, base = namespace(), minute_ago(8)
    cloudwatch.put_metric_data(Namespace=space, MetricData=[
        {"MetricName": "Hits", "Timestamp": base + timedelta(minutes=m), "Value": float(m)} for m in range(5)])
    query = [{"Id": "hits", "MetricStat": {"Metric": {"Namespace": space, "MetricName": "Hits"}, "Period": 60,
                                           "Stat": "Sum"}}]
    pages = list(cloudwatch.get_paginator("get_metric_data").paginate(
        MetricDataQueries=query, StartTime=base, EndTime=base + timedelta(minutes=8), ScanBy="TimestampAscending",
        PaginationConfig={"PageSize": 2}))
    assert [r["Values"] for page in pages for r in page["MetricDataResults"]] == [[0.0, 1.0], [2.0, 3.0], [4.0]]
    assert [r["StatusCode"] for page in pages for r in page["MetricDataResults"]] == ["PartialData", "PartialData",
                                                                                      "Complete"]


def signed(gateway: Any, body: bytes, headers: dict[str, str], path: str = "/",
           region: str = REGION) -> requests.Response:
    request = AWSRequest(method="POST", url=f"{gateway.url}{path}", data=body, headers=headers)
    SigV4Auth(Credentials(gateway.access_key, gateway.secret_key), "monitoring", region).add_auth(request)
    prepared = request.prepare()
    return requests.post(prepared.url, data=prepared.body, headers=dict(prepared.headers), timeout=30)


def test_garbage_bodies_are_client_errors_in_the_protocol_spoken(gateway: Any) -> None:
    cbor_path = "/service/GraniteServiceVersion20100801/operation/ListMetrics"
    bad_cbor = signed(gateway, b"\xff\x00garbage", {"smithy-protocol": "rpc-v2-cbor",
                                                    "Content-Type": "application/cbor"}, cbor_path)
    assert bad_cbor.status_code == 400 and bad_cbor.headers["smithy-protocol"] == "rpc-v2-cbor"
    assert cbor2.loads(bad_cbor.content)["__type"].endswith("SerializationException")
    wrong_type = signed(gateway, cbor2.dumps({"Namespace": 42}), {"smithy-protocol": "rpc-v2-cbor",
                                                                  "Content-Type": "application/cbor"}, cbor_path)
    assert wrong_type.status_code == 400
    assert wrong_type.headers["x-amzn-query-error"] == "InvalidParameterValue;Sender"
    bad_json = signed(gateway, b"{not json", {"X-Amz-Target": "GraniteServiceVersion20100801.ListMetrics",
                                              "Content-Type": "application/x-amz-json-1.0"})
    assert bad_json.status_code == 400 and bad_json.json()["__type"].endswith("SerializationException")
    unknown = signed(gateway, b"Action=PutDashboard&Version=2010-08-01&DashboardName=x&DashboardBody=%7B%7D",
                     {"Content-Type": "application/x-www-form-urlencoded"})
    assert unknown.status_code == 400 and b"<Code>InvalidAction</Code>" in unknown.content
    unsigned = requests.post(f"{gateway.url}{cbor_path}", data=cbor2.dumps({}),
                             headers={"smithy-protocol": "rpc-v2-cbor"}, timeout=30)
    assert unsigned.status_code == 401 and unsigned.headers["x-amzn-query-error"].startswith(
        "MissingAuthenticationToken;")


def test_get_metric_data_asking_for_too_many_periods_is_refused(gateway: Any) -> None:
    """8 queries x 15 days at one minute are 172,800 periods, beyond CloudWatch's 100,800 a call; 4 are not."""
    cloudwatch = cloudwatch_client(gateway)
    end = minute_ago(0)
    queries = [{"Id": f"q{i}", "MetricStat": {"Metric": {"Namespace": namespace(), "MetricName": "m"}, "Period": 60,
                                              "Stat": "Sum"}} for i in range(8)]
    window = dict(StartTime=end - timedelta(days=15), EndTime=end)
    assert code_of(cloudwatch.get_metric_data, MetricDataQueries=queries, **window) == (
        "InvalidParameterCombination", 400)
    assert len(cloudwatch.get_metric_data(MetricDataQueries=queries[:4], **window)["MetricDataResults"]) == 4


def test_a_header_choosing_the_operation_must_be_signed(gateway: Any) -> None:
    """A captured request replayed with another, unsigned X-Amz-Target (or Content-Encoding) is refused: the
    signature must cover what chooses the operation and how the body is read, as botocore signs them."""
    request = AWSRequest(method="POST", url=f"{gateway.url}/", data=b"{}",
                         headers={"Content-Type": "application/x-amz-json-1.0"})
    SigV4Auth(Credentials(gateway.access_key, gateway.secret_key), "monitoring", REGION).add_auth(request)
    prepared = request.prepare()
    for extra in ({"X-Amz-Target": "GraniteServiceVersion20100801.DescribeAlarms"},
                  {"X-Amz-Target": "GraniteServiceVersion20100801.ListMetrics", "Content-Encoding": "identity"}):
        answer = requests.post(prepared.url, data=prepared.body, headers={**prepared.headers, **extra}, timeout=30)
        assert answer.status_code == 403 and answer.json()["__type"].endswith("IncompleteSignature"), extra
    signed_too = signed(gateway, b"{}", {"Content-Type": "application/x-amz-json-1.0",
                                         "X-Amz-Target": "GraniteServiceVersion20100801.DescribeAlarms"})
    assert signed_too.status_code == 200


def test_a_truncated_gzip_body_is_refused(gateway: Any) -> None:
    """A gzip body cut before its checksum was read as far as it went; it is malformed."""
    headers = {"Content-Type": "application/x-amz-json-1.0", "Content-Encoding": "gzip",
               "X-Amz-Target": "GraniteServiceVersion20100801.ListMetrics"}
    assert signed(gateway, gzip.compress(b"{}"), headers).status_code == 200
    cut = signed(gateway, gzip.compress(b"{}")[:-8], headers)
    assert cut.status_code == 400 and cut.json()["__type"].endswith("SerializationException")


def test_an_unsigned_query_form_is_told_cloudwatch_by_its_version(gateway: Any) -> None:
    """Version=2010-08-01 in a POSTed form (not the query string) is CloudWatch's, so the refusal is CloudWatch's
    own, not EC2's."""
    answer = requests.post(f"{gateway.url}/", data={"Action": "ListMetrics", "Version": "2010-08-01"}, timeout=30)
    assert answer.status_code == 401 and b"<ErrorResponse" in answer.content
    assert b"<Code>MissingAuthenticationToken</Code>" in answer.content


def test_a_region_longer_than_the_store_keeps_is_refused(gateway: Any) -> None:
    """An alarm keeps its signature's region (255 characters at most): a longer one is the client's error, not
    a PostgreSQL DataError."""
    answer = signed(gateway, b"Action=ListMetrics&Version=2010-08-01", {
        "Content-Type": "application/x-www-form-urlencoded"}, region="r" * 256)
    assert answer.status_code == 400 and b"<Code>InvalidParameterValue</Code>" in answer.content


def test_ec2_still_answers_beside_cloudwatch(gateway: Any) -> None:
    from tests.clients.ec2_helpers import ec2_client

    assert ec2_client(gateway, url=f"{gateway.url}/").describe_regions()["Regions"]  # told apart by the signature


def test_old_data_answers_only_the_periods_its_age_allows(gateway: Any) -> None:
    """As CloudWatch documents: data 15 to 63 days old is kept at five minutes, so a 60-second Period over it
    answers nothing and a 300-second one answers the whole five minutes."""
    from gateway.cli import EMBEDDED_PROVIDER
    from gateway.metric_points import DataPoint
    from gateway.metric_store import MetricStore
    from gateway.store import Store, load_or_create_key

    space = namespace()
    start = datetime.fromtimestamp((time.time() - 20 * 86400) // 300 * 300, timezone.utc)
    owner = f"{EMBEDDED_PROVIDER}|{gateway.admin[0]}"  # the demo key's identity: PutMetricData's scope
    old = MetricStore(Store(f"sqlite:///{gateway.data_dir / 'cloudgw.db'}",
                            load_or_create_key(gateway.data_dir / "secret.key")))
    old.put_points([DataPoint(owner, space, "Old", (), start.timestamp() + m * 60 + 1, float(m)) for m in range(5)])
    old.store.close()
    cloudwatch = cloudwatch_client(gateway)
    query = dict(Namespace=space, MetricName="Old", StartTime=start, EndTime=start + timedelta(minutes=5),
                 Statistics=["Sum", "SampleCount"])
    assert cloudwatch.get_metric_statistics(Period=60, **query)["Datapoints"] == []
    [point] = cloudwatch.get_metric_statistics(Period=300, **query)["Datapoints"]
    assert (point["Timestamp"], point["Sum"], point["SampleCount"]) == (start, 10.0, 5.0)
