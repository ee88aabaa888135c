"""EC2 query parameters parsed by the botocore input shape: what botocore serializes comes back equal."""
from __future__ import annotations

import pytest
from botocore.serialize import create_serializer

from frontends.ec2.errors import Ec2Error
from frontends.ec2.protocol import parse_params
from frontends.ec2.service import operation


def wire(action: str, params: dict) -> dict[str, str]:
    """The form botocore would send for `params` (strings, as on the wire)."""
    body = create_serializer("ec2").serialize_to_request(params, operation(action))["body"]
    return {k: str(v) for k, v in body.items()}


def test_run_instances_round_trips_through_botocore_serializer() -> None:
    params = {
        "ImageId": "ami-0123", "MinCount": 2, "MaxCount": 3, "InstanceType": "o1.small", "KeyName": "k",
        "Placement": {"AvailabilityZone": "Default"}, "ClientToken": "tok", "DisableApiTermination": True,
        "TagSpecifications": [{"ResourceType": "instance",
                               "Tags": [{"Key": "Name", "Value": "web"}, {"Key": "007", "Value": "0123"}]},
                              {"ResourceType": "volume", "Tags": [{"Key": "a", "Value": ""}]}],
    }
    assert parse_params("RunInstances", wire("RunInstances", params)) == params


def test_every_list_element_is_read_in_numeric_order() -> None:
    flat = {f"InstanceId.{n}": f"i-{n}" for n in range(1, 13)}
    parsed = parse_params("DescribeInstances", flat)
    assert parsed["InstanceIds"] == [f"i-{n}" for n in range(1, 13)]


def test_filters_with_several_values() -> None:
    filters = [{"Name": "instance-state-name", "Values": ["running", "pending"]}, {"Name": "tag:env", "Values": ["x"]}]
    assert parse_params("DescribeInstances", wire("DescribeInstances", {"Filters": filters}))["Filters"] == filters


def test_strings_stay_strings_and_numbers_are_decimal() -> None:
    parsed = parse_params("DescribeInstances", {"MaxResults": "0123", "NextToken": "0x1f"})
    assert parsed == {"MaxResults": 123, "NextToken": "0x1f"}


def test_booleans_are_true_or_false_only() -> None:
    assert parse_params("StopInstances", {"InstanceId.1": "i-1", "Force": "TRUE"})["Force"] is True
    with pytest.raises(Ec2Error) as caught:
        parse_params("StopInstances", {"InstanceId.1": "i-1", "Force": "yes"})
    assert caught.value.code == "InvalidParameterValue"


def test_bad_integer_and_bad_index_are_invalid_values() -> None:
    for flat in ({"MaxResults": "ten"}, {"InstanceId.x": "i-1"}, {"InstanceId.0": "i-1"}):
        with pytest.raises(Ec2Error) as caught:
            parse_params("DescribeInstances", flat)
        assert caught.value.code == "InvalidParameterValue"


def test_blob_is_base64_decoded() -> None:
    flat = wire("ImportKeyPair", {"KeyName": "k", "PublicKeyMaterial": b"ssh-ed25519 AAAA"})
    assert parse_params("ImportKeyPair", flat)["PublicKeyMaterial"] == b"ssh-ed25519 AAAA"


def test_required_member_missing() -> None:
    with pytest.raises(Ec2Error) as caught:
        parse_params("StopInstances", {})
    assert (caught.value.code, caught.value.status) == ("MissingParameter", 400)
    assert "InstanceId" in caught.value.message


def test_auth_and_unknown_parameters_are_ignored() -> None:
    flat = {"Action": "DescribeInstances", "Version": "2016-11-15", "Signature": "x", "Bogus.1": "y"}
    assert parse_params("DescribeInstances", flat) == {}


def test_structured_attribute_values() -> None:
    flat = {"InstanceId": "i-1", "DisableApiTermination.Value": "true", "UserData.Value": "aGk="}
    parsed = parse_params("ModifyInstanceAttribute", flat)
    assert parsed["DisableApiTermination"] == {"Value": True}
    assert parsed["UserData"] == {"Value": b"hi"}


def test_unindexed_list_value_is_one_element() -> None:
    assert parse_params("DescribeInstances", {"InstanceId": "i-1"})["InstanceIds"] == ["i-1"]
