"""Responses rendered from boto3-shaped dicts, parsed back with botocore's own EC2 parser."""
from __future__ import annotations

from datetime import datetime, timezone

from botocore.parsers import create_parser

from frontends.ec2.render import Rendered, render_error, render_response, render_value
from frontends.ec2.service import operation

from .ec2_roundtrip import parsed

INSTANCE = {
    "InstanceId": "i-0123", "ImageId": "ami-1", "State": {"Code": 16, "Name": "running"},
    "AmiLaunchIndex": 0, "LaunchTime": datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=timezone.utc),
    "Placement": {"AvailabilityZone": "Default", "Tenancy": "default"}, "EbsOptimized": False,
    "SourceDestCheck": True, "Tags": [{"Key": "Name", "Value": "a <b> & 'c'"}], "SecurityGroups": [],
    "KeyName": None, "CpuOptions": {"CoreCount": 2, "ThreadsPerCore": 1},
}


def test_describe_instances_round_trip() -> None:
    result = {"Reservations": [{"ReservationId": "r-1", "OwnerId": "123", "Groups": [], "Instances": [INSTANCE]}]}
    out = parsed("DescribeInstances", result)
    instance = out["Reservations"][0]["Instances"][0]
    expected = {k: v for k, v in INSTANCE.items() if v is not None}
    assert instance == expected
    assert "NextToken" not in out


def test_an_item_rendered_earlier_is_written_as_the_renderer_would_write_it() -> None:
    shape = operation("DescribeInstances").output_shape.members["Reservations"].member.members["Instances"].member
    kept = Rendered(INSTANCE, render_value(shape, INSTANCE))
    plain, reused = ({"Reservations": [{"ReservationId": "r-1", "Instances": [item]}]} for item in (INSTANCE, kept))
    assert render_response("DescribeInstances", reused, "r", None) == render_response("DescribeInstances", plain, "r", None)
    assert kept == INSTANCE  # filters and paging read it as the dict it was made from


def test_top_level_lists_are_present_even_when_empty() -> None:
    assert parsed("DescribeInstances", {})["Reservations"] == []
    body = render_response("DescribeInstances", {"NextToken": None}, "r", None).decode()
    assert "<reservationSet/>" in body and "nextToken" not in body


def test_booleans_are_lower_case_and_version_is_echoed() -> None:
    body = render_response("DescribeInstances", {"Reservations": [
        {"ReservationId": "r", "Instances": [{"InstanceId": "i", "EbsOptimized": True}]}]}, "r", "2014-10-01").decode()
    assert "<ebsOptimized>true</ebsOptimized>" in body
    assert 'xmlns="http://ec2.amazonaws.com/doc/2014-10-01/"' in body


def test_hostile_version_is_not_echoed() -> None:
    body = render_response("DescribeRegions", {}, "r", '"><x>').decode()
    assert "2016-11-15" in body and "<x>" not in body


def test_action_without_output_answers_return_true() -> None:
    body = render_response("RebootInstances", {}, "r", None).decode()
    assert "<return>true</return>" in body


def test_control_characters_are_dropped() -> None:
    out = parsed("DescribeTags", {"Tags": [{"Key": "k", "Value": "a\x01b", "ResourceId": "i-1",
                                            "ResourceType": "instance"}]})
    assert out["Tags"][0]["Value"] == "ab"


def test_lone_surrogates_are_dropped() -> None:
    """A value stored before input was checked (JSON lets a client send "\\ud800") still renders."""
    out = parsed("DescribeTags", {"Tags": [{"Key": "k\ud800", "Value": "a\udfffb\ufffe", "ResourceId": "i-1",
                                            "ResourceType": "instance"}]})
    assert (out["Tags"][0]["Key"], out["Tags"][0]["Value"]) == ("k", "ab")


def test_error_document_parses_with_code_and_request_id() -> None:
    response = {"body": render_error("InvalidInstanceID.NotFound", "no <such>", "req-9"), "headers": {},
                "status_code": 400}
    out = create_parser("ec2").parse(response, operation("DescribeInstances").output_shape)
    assert out["Error"] == {"Code": "InvalidInstanceID.NotFound", "Message": "no <such>"}
    assert out["ResponseMetadata"]["RequestId"] == "req-9"


def test_run_instances_reservation_directly_under_root() -> None:
    out = parsed("RunInstances", {"ReservationId": "r-1", "OwnerId": "1", "Groups": [],
                                  "Instances": [{"InstanceId": "i-1", "State": {"Code": 0, "Name": "pending"}}]})
    assert out["ReservationId"] == "r-1" and out["Instances"][0]["State"]["Name"] == "pending"
