"""CloudWatch's request values by shape (Query, JSON/CBOR documents), its answers in each protocol read
back with botocore's own parsers, and the metric math GetMetricData evaluates."""
from __future__ import annotations

from datetime import datetime, timezone

import botocore.parsers
import cbor2
import pytest

from frontends.cloudwatch import wire
from frontends.cloudwatch.errors import CloudWatchError
from frontends.cloudwatch.metric_math import Evaluator
from frontends.cloudwatch.service import operation
from frontends.cloudwatch.shapes import from_document, from_query, params_tree

WHEN = datetime(2026, 12, 1, 3, 0, tzinfo=timezone.utc)


def test_query_lists_and_structures_are_read_by_the_model() -> None:
    params = {"Namespace": "App", "MetricData.member.1.MetricName": "Load", "MetricData.member.1.Value": "0123",
              "MetricData.member.1.Dimensions.member.1.Name": "Host",
              "MetricData.member.1.Dimensions.member.1.Value": "0123",
              "MetricData.member.1.Timestamp": "2026-12-01T03:00:00Z",
              "MetricData.member.2.MetricName": "Load", "MetricData.member.2.Values.member.1": "1.5"}
    parsed = from_query(operation("PutMetricData").input_shape, params_tree(params))
    assert parsed == {"Namespace": "App", "MetricData": [
        {"MetricName": "Load", "Value": 123.0, "Timestamp": WHEN, "Dimensions": [{"Name": "Host", "Value": "0123"}]},
        {"MetricName": "Load", "Values": [1.5]}]}


@pytest.mark.parametrize("document, code", [
    ({"Namespace": 42, "MetricData": []}, "InvalidParameterValue"),
    ({"MetricData": [{"MetricName": "m"}]}, "MissingParameter"),
    ({"Namespace": "A", "MetricData": [{"MetricName": "m", "Value": float("nan")}]}, "InvalidParameterValue"),
    ({"Namespace": "A", "MetricData": [{"MetricName": "m", "Timestamp": "yesterday"}]}, "InvalidParameterValue"),
    ({"Namespace": "A", "MetricData": {"MetricName": "m"}}, "InvalidParameterValue"),
])
def test_documents_of_the_wrong_shape_are_refused(document: dict, code: str) -> None:
    with pytest.raises(CloudWatchError) as caught:
        from_document(operation("PutMetricData").input_shape, document)
    assert caught.value.code == code


@pytest.mark.parametrize("protocol", [wire.CBOR, wire.JSON, wire.QUERY])
def test_answers_read_back_with_botocore_parsers(protocol: str) -> None:
    result = {"Label": "Load", "Datapoints": [{"Timestamp": WHEN, "Average": 2.5, "SampleCount": 2.0,
                                               "Unit": "Percent"}]}
    answer = wire.encode_output(protocol, "GetMetricStatistics", result, "req-1")
    parser = botocore.parsers.create_parser(protocol)
    response = {"body": answer.body, "headers": answer.headers, "status_code": answer.status}
    parsed = parser.parse(response, operation("GetMetricStatistics").output_shape)
    assert parsed["Label"] == "Load"
    assert parsed["Datapoints"] == [{"Timestamp": WHEN, "Average": 2.5, "SampleCount": 2.0, "Unit": "Percent"}]
    error = wire.encode_error(protocol, CloudWatchError("InvalidParameterCombination", "no"), "req-2")
    parsed_error = parser.parse({"body": error.body, "headers": error.headers, "status_code": error.status},
                                operation("GetMetricStatistics").output_shape)
    assert parsed_error["Error"]["Code"] == "InvalidParameterCombination"


def evaluate(expression: str) -> dict[float, float]:
    series = {"a": {0.0: 1.0, 60.0: 2.0}, "b": {60.0: 4.0, 120.0: 8.0}}
    return Evaluator(expression, series, {"a": "Load a", "b": "Load b"}, ["a", "b"]).evaluate()


def test_metric_math() -> None:
    assert evaluate("a * 2 + 1") == {0.0: 3.0, 60.0: 5.0}
    assert evaluate("-(a) / 2") == {0.0: -0.5, 60.0: -1.0}
    assert evaluate("b - a") == {60.0: 2.0}  # only where both have a value
    assert evaluate("SUM(METRICS())") == {0.0: 1.0, 60.0: 6.0, 120.0: 8.0}
    assert evaluate("AVG([a, b])") == {0.0: 1.0, 60.0: 3.0, 120.0: 8.0}
    assert evaluate("MAX(METRICS('b'))") == {60.0: 4.0, 120.0: 8.0}
    assert evaluate("a / (b - b)") == {}  # a division by zero leaves the timestamp out


@pytest.mark.parametrize("expression", ["RATE(a)", "a +", "METRICS()", "c * 2", "SEARCH('x', 'Sum', 60)", "a ; b",
                                        "1 / 0", "2 + 3", "(" * 1000 + "a" + ")" * 1000])
def test_metric_math_refuses_clearly(expression: str) -> None:
    with pytest.raises(CloudWatchError) as caught:
        evaluate(expression)
    assert caught.value.code == "InvalidParameterValue" and expression[:4] in caught.value.message
    assert "supported" in caught.value.message or "Id" in caught.value.message or "zero" in caught.value.message


STATS = b'"Namespace":"A","MetricName":"m","StartTime":1,"EndTime":61,"Statistics":["Sum"]'


@pytest.mark.parametrize("protocol, name, body, params, code", [
    (wire.JSON, "GetMetricStatistics", b'{%s,"Period":Infinity}' % STATS, {}, "SerializationException"),
    (wire.JSON, "GetMetricStatistics", b'{%s,"Period":NaN}' % STATS, {}, "SerializationException"),
    (wire.JSON, "PutMetricData", b'{"Namespace":"A","MetricData":[{"MetricName":"m","Value":1%s}]}' % (b"0" * 400),
     {}, "InvalidParameterValue"),
    (wire.CBOR, "GetMetricStatistics", None, {}, "InvalidParameterValue"),  # Period 60 x 10^400, a CBOR bignum
    (wire.JSON, "GetMetricStatistics", b'{%s,"Period":4294967356}' % STATS, {}, "InvalidParameterValue"),
    (wire.JSON, "PutMetricData", b'{"Namespace":"A","MetricData":[{"MetricName":"%s","Value":1}]}' % (b"m" * 256),
     {}, "InvalidParameterValue"),
    (wire.JSON, "PutMetricData", b'{"Namespace":"A","MetricData":[{"MetricName":"m","Value":1,"Unit":"Parsecs"}]}',
     {}, "InvalidParameterValue"),
    (wire.QUERY, "ListMetrics", b"", {"Namespace": "n" * 256}, "InvalidParameterValue"),
    (wire.QUERY, "DescribeAlarms", b"", {"MaxRecords": "9999999999"}, "InvalidParameterValue"),
])
def test_out_of_range_input_is_a_client_error_never_an_exception(protocol: str, name: str, body: bytes | None,
                                                                 params: dict, code: str) -> None:
    """Non-JSON constants, numbers no double or int32 holds and values beyond the model's lengths and enums
    are refused as the client's mistake (they were OverflowError or ValueError 500s, or DataErrors later)."""
    if body is None:
        body = cbor2.dumps({"Namespace": "A", "MetricName": "m", "StartTime": 1, "EndTime": 61,
                            "Statistics": ["Sum"], "Period": 60 * 10 ** 400})
    with pytest.raises(CloudWatchError) as caught:
        wire.decode_input(protocol, name, body, params)
    assert caught.value.code == code
