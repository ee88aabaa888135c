"""boto3 against a gateway on its embedded default: discovery, key pairs, a full instance lifecycle with
waiters, filters and the paginator, client-token idempotency, and every error code clients branch on."""
from __future__ import annotations

import base64
from typing import Any

import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from datetime import datetime, timedelta, timezone
import time
from unittest import mock

from tests.clients.ec2_helpers import addressed_instances, ec2_client, ec2_error, expect, signed_post

FAST = {"Delay": 0.7, "MaxAttempts": 120}


@pytest.fixture(scope="module")
def image_id(ec2: Any) -> str:
    images = ec2.describe_images(Filters=[{"Name": "name", "Values": ["debian-*", "centos-*"]}])["Images"]
    assert images, "the simulator seeds cloud images"
    return sorted(i["ImageId"] for i in images)[0]


def test_discovery(ec2: Any) -> None:
    regions = {r["RegionName"] for r in ec2.describe_regions()["Regions"]}
    assert {"us-east-1", "barcelona"} <= regions
    zones = ec2.describe_availability_zones(Filters=[{"Name": "state", "Values": ["available"]}])
    assert zones["AvailabilityZones"] and all(z["RegionName"] == "us-east-1" for z in zones["AvailabilityZones"])
    names = {i["Name"] for i in ec2.describe_images(Owners=["self"])["Images"]}
    assert "Blank" in names and len(names) >= 3
    types = {t["InstanceType"]: t for t in ec2.describe_instance_types()["InstanceTypes"]}
    assert "o1.small" in types
    assert types["o1.small"]["VCpuInfo"]["DefaultVCpus"] >= 1 and types["o1.small"]["MemoryInfo"]["SizeInMiB"] > 0
    one = ec2.describe_instance_types(InstanceTypes=["o1.small"])["InstanceTypes"]
    assert [t["InstanceType"] for t in one] == ["o1.small"]
    attributes = ec2.describe_account_attributes(AttributeNames=["supported-platforms"])["AccountAttributes"]
    assert attributes[0]["AttributeValues"] == [{"AttributeValue": "VPC"}]


def test_key_pairs(ec2: Any) -> None:
    public = ed25519.Ed25519PrivateKey.generate().public_key().public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    imported = ec2.import_key_pair(KeyName="b3-imported", PublicKeyMaterial=public)
    created = ec2.create_key_pair(KeyName="b3-created", KeyType="rsa")
    assert created["KeyMaterial"].startswith("-----BEGIN RSA PRIVATE KEY-----")
    ed = ec2.create_key_pair(KeyName="b3-ed", KeyType="ed25519")
    listed = {k["KeyName"]: k for k in ec2.describe_key_pairs(KeyNames=["b3-imported", "b3-created", "b3-ed"])
              ["KeyPairs"]}
    assert listed["b3-imported"]["KeyFingerprint"] == imported["KeyFingerprint"]
    assert listed["b3-created"]["KeyFingerprint"] == created["KeyFingerprint"]
    assert listed["b3-ed"]["KeyType"] == "ed25519" and "KeyMaterial" not in listed["b3-ed"]
    expect("InvalidKeyPair.Duplicate", ec2.create_key_pair, KeyName="b3-created")
    for name in ("b3-imported", "b3-created", "b3-ed"):
        ec2.delete_key_pair(KeyName=name)
    expect("InvalidKeyPair.NotFound", ec2.describe_key_pairs, KeyNames=["b3-created"])
    assert ed["KeyPairId"].startswith("key-")


def test_instance_lifecycle(ec2: Any, image_id: str) -> None:
    ec2.create_key_pair(KeyName="b3-life")
    user_data = "#cloud-config\nruncmd: [echo hello]\n"
    run = ec2.run_instances(
        ImageId=image_id, MinCount=2, MaxCount=2, InstanceType="o1.small", KeyName="b3-life", UserData=user_data,
        TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": "Name", "Value": "b3-web"},
                                                                 {"Key": "suite", "Value": "boto3"}]}])
    ids = [i["InstanceId"] for i in run["Instances"]]
    assert len(ids) == 2 and {i["State"]["Name"] for i in run["Instances"]} == {"pending"}
    assert [i["AmiLaunchIndex"] for i in run["Instances"]] == [0, 1]
    try:
        ec2.get_waiter("instance_running").wait(InstanceIds=ids, WaiterConfig=FAST)
        described = ec2.describe_instances(InstanceIds=ids)["Reservations"]
        assert [r["ReservationId"] for r in described] == [run["ReservationId"]]
        for instance in addressed_instances(ec2, ids):
            assert instance["KeyName"] == "b3-life" and instance["InstanceType"] == "o1.small"
            assert {"Key": "Name", "Value": "b3-web"} in instance["Tags"]
            assert instance["PrivateIpAddress"]
        by_filter = ec2.describe_instances(Filters=[
            {"Name": "tag:suite", "Values": ["boto3"]}, {"Name": "instance-state-name", "Values": ["running"]},
            {"Name": "reservation-id", "Values": [run["ReservationId"]]}, {"Name": "key-name", "Values": ["b3-*"]},
            {"Name": "image-id", "Values": [image_id]}])
        assert sorted(i["InstanceId"] for r in by_filter["Reservations"] for i in r["Instances"]) == sorted(ids)
        paged = [i["InstanceId"] for page in ec2.get_paginator("describe_instances").paginate(
            PaginationConfig={"PageSize": 5}) for r in page["Reservations"] for i in r["Instances"]]
        assert set(ids) <= set(paged) and len(paged) == len(set(paged))
        status = ec2.describe_instance_status(InstanceIds=ids)["InstanceStatuses"]
        assert {s["InstanceStatus"]["Status"] for s in status} == {"ok"}
        attribute = ec2.describe_instance_attribute(InstanceId=ids[0], Attribute="userData")
        assert base64.b64decode(attribute["UserData"]["Value"]).decode() == user_data

        ec2.modify_instance_attribute(InstanceId=ids[1], DisableApiStop={"Value": True})
        expect("OperationNotPermitted", ec2.stop_instances, InstanceIds=ids)
        ec2.modify_instance_attribute(InstanceId=ids[1], DisableApiStop={"Value": False})
        stopping = ec2.stop_instances(InstanceIds=ids)["StoppingInstances"]
        assert {s["PreviousState"]["Code"] for s in stopping} == {16}
        assert {s["CurrentState"]["Name"] for s in stopping} <= {"stopping", "stopped"}
        ec2.get_waiter("instance_stopped").wait(InstanceIds=ids, WaiterConfig=FAST)
        ec2.modify_instance_attribute(InstanceId=ids[0], InstanceType={"Value": "o1.medium"})
        assert ec2.describe_instance_attribute(InstanceId=ids[0], Attribute="instanceType")["InstanceType"] == {
            "Value": "o1.medium"}
        starting = ec2.start_instances(InstanceIds=ids)["StartingInstances"]
        assert {s["PreviousState"]["Name"] for s in starting} == {"stopped"}
        ec2.get_waiter("instance_running").wait(InstanceIds=ids, WaiterConfig=FAST)
        ec2.reboot_instances(InstanceIds=ids)

        ec2.modify_instance_attribute(InstanceId=ids[0], DisableApiTermination={"Value": True})
        expect("OperationNotPermitted", ec2.terminate_instances, InstanceIds=ids)
        ec2.modify_instance_attribute(InstanceId=ids[0], DisableApiTermination={"Value": False})
    finally:
        terminating = ec2.terminate_instances(InstanceIds=ids)["TerminatingInstances"]
        ec2.delete_key_pair(KeyName="b3-life")
    assert {t["CurrentState"]["Name"] for t in terminating} == {"shutting-down"}
    ec2.get_waiter("instance_terminated").wait(InstanceIds=ids, WaiterConfig=FAST)
    gone = ec2.describe_instances(InstanceIds=ids)["Reservations"][0]["Instances"]
    assert {(i["State"]["Code"], i["State"]["Name"]) for i in gone} == {(48, "terminated")}


def test_client_token_is_idempotent(ec2: Any, image_id: str) -> None:
    first = ec2.run_instances(ImageId=image_id, MinCount=1, MaxCount=1, ClientToken="b3-token-1")
    try:
        again = ec2.run_instances(ImageId=image_id, MinCount=1, MaxCount=1, ClientToken="b3-token-1")
        assert again["ReservationId"] == first["ReservationId"]
        assert [i["InstanceId"] for i in again["Instances"]] == [i["InstanceId"] for i in first["Instances"]]
        expect("IdempotentParameterMismatch", ec2.run_instances, ImageId=image_id, MinCount=1, MaxCount=1,
               InstanceType="o1.large", ClientToken="b3-token-1")
        token_filter = ec2.describe_instances(Filters=[{"Name": "client-token", "Values": ["b3-token-1"]}])
        assert len([i for r in token_filter["Reservations"] for i in r["Instances"]]) == 1
    finally:
        ec2.terminate_instances(InstanceIds=[i["InstanceId"] for i in first["Instances"]])


def test_error_codes(ec2: Any, gateway: Any, image_id: str) -> None:
    missing_instance = "i-" + "0" * 31 + "1"
    expect("InvalidInstanceID.NotFound", ec2.describe_instances, InstanceIds=[missing_instance])
    expect("InvalidInstanceID.Malformed", ec2.describe_instances, InstanceIds=["i-123"])
    expect("InvalidAMIID.NotFound", ec2.describe_images, ImageIds=["ami-" + "f" * 32])
    expect("InvalidAMIID.Malformed", ec2.run_instances, ImageId="not-an-ami", MinCount=1, MaxCount=1)
    expect("InvalidParameterValue", ec2.describe_instances, Filters=[{"Name": "colour", "Values": ["red"]}])
    expect("InvalidParameterCombination", ec2.describe_instances, InstanceIds=[missing_instance], MaxResults=5)
    expect("InvalidKeyPair.NotFound", ec2.run_instances, ImageId=image_id, MinCount=1, MaxCount=1, KeyName="nope")
    expect("InvalidZone.NotFound", ec2.run_instances, ImageId=image_id, MinCount=1, MaxCount=1,
           Placement={"AvailabilityZone": "atlantis"})
    expect("InvalidInstanceType", ec2.run_instances, ImageId=image_id, MinCount=1, MaxCount=1,
           InstanceType="o1.enormous")
    expect("MissingParameter", ec2.run_instances, MinCount=1, MaxCount=1)
    response = signed_post(gateway, "Action=FlyToTheMoon&Version=2016-11-15")
    assert (response.status_code, ec2_error(response)) == (400, "InvalidAction")
    response = signed_post(gateway, "Action=StopInstances&Version=2016-11-15")
    assert ec2_error(response) == "MissingParameter"


def test_dry_run_on_every_mutating_action(ec2: Any, image_id: str) -> None:
    run = ec2.run_instances(ImageId=image_id, MinCount=1, MaxCount=1)
    instance_id = run["Instances"][0]["InstanceId"]
    try:
        ec2.get_waiter("instance_running").wait(InstanceIds=[instance_id], WaiterConfig=FAST)
        calls = [
            (ec2.run_instances, {"ImageId": image_id, "MinCount": 1, "MaxCount": 1}),
            (ec2.stop_instances, {"InstanceIds": [instance_id]}),
            (ec2.start_instances, {"InstanceIds": [instance_id]}),
            (ec2.reboot_instances, {"InstanceIds": [instance_id]}),
            (ec2.terminate_instances, {"InstanceIds": [instance_id]}),
            (ec2.modify_instance_attribute, {"InstanceId": instance_id, "DisableApiTermination": {"Value": True}}),
            (ec2.create_tags, {"Resources": [instance_id], "Tags": [{"Key": "dry", "Value": "run"}]}),
            (ec2.delete_tags, {"Resources": [instance_id]}),
            (ec2.create_key_pair, {"KeyName": "b3-dry"}),
            (ec2.delete_key_pair, {"KeyName": "b3-dry"}),
            (ec2.describe_instances, {}),
        ]
        for call, kwargs in calls:
            error = expect("DryRunOperation", call, DryRun=True, **kwargs)
            assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 412
        instance = ec2.describe_instances(InstanceIds=[instance_id])["Reservations"][0]["Instances"][0]
        assert instance["State"]["Name"] == "running"
        assert not any(t["Key"] == "dry" for t in instance["Tags"])
        assert not ec2.describe_key_pairs(Filters=[{"Name": "key-name", "Values": ["b3-dry"]}])["KeyPairs"]
        expect("IncorrectInstanceState", ec2.modify_instance_attribute, InstanceId=instance_id,
               InstanceType={"Value": "o1.medium"})
    finally:
        ec2.terminate_instances(InstanceIds=[instance_id])


def test_tags(ec2: Any, image_id: str) -> None:
    run = ec2.run_instances(ImageId=image_id, MinCount=1, MaxCount=1)
    instance_id = run["Instances"][0]["InstanceId"]
    try:
        ec2.create_tags(Resources=[instance_id, image_id], Tags=[{"Key": "team", "Value": "0123"},
                                                                 {"Key": "Name", "Value": "b3-tagged"}])
        tags = ec2.describe_tags(Filters=[{"Name": "resource-id", "Values": [instance_id]}])["Tags"]
        assert {(t["Key"], t["Value"]) for t in tags} >= {("team", "0123"), ("Name", "b3-tagged")}
        assert {t["ResourceType"] for t in tags} == {"instance"}
        images = ec2.describe_tags(Filters=[{"Name": "resource-type", "Values": ["image"]},
                                            {"Name": "key", "Values": ["team"]}])["Tags"]
        assert [t["ResourceId"] for t in images] == [image_id]
        ec2.delete_tags(Resources=[instance_id], Tags=[{"Key": "team", "Value": "other"}])  # value differs: kept
        ec2.delete_tags(Resources=[image_id], Tags=[{"Key": "team"}])
        remaining = ec2.describe_tags(Filters=[{"Name": "key", "Values": ["team"]}])["Tags"]
        assert [t["ResourceId"] for t in remaining] == [instance_id]
        expect("InvalidInstanceID.NotFound", ec2.create_tags, Resources=["i-" + "0" * 32],
               Tags=[{"Key": "a", "Value": "b"}])
    finally:
        ec2.terminate_instances(InstanceIds=[instance_id])


def test_signatures_refused(gateway: Any) -> None:
    expect("SignatureDoesNotMatch", ec2_client(gateway, secret="wrong-secret").describe_regions)
    body = "Action=DescribeRegions&Version=2016-11-15"
    tampered = signed_post(gateway, body, tamper=body.replace("DescribeRegions", "DescribeImages"))
    assert (tampered.status_code, ec2_error(tampered)) == (403, "SignatureDoesNotMatch")
    assert signed_post(gateway, body).status_code == 200


def test_stale_date_refused(gateway: Any) -> None:
    stale = datetime.now(timezone.utc).replace(tzinfo=None) - timedelta(minutes=10)
    with mock.patch("botocore.auth.get_current_datetime", return_value=stale):
        expect("RequestExpired", ec2_client(gateway).describe_regions)


def clear_faults(gateway: Any) -> None:
    requests.delete(f"{gateway.simulator_url}/__simulator__/faults", timeout=10)


def test_engine_failures_are_retryable_ec2_errors(ec2: Any, gateway: Any) -> None:
    try:
        gateway.simulator_control("faults", error={"path": "/vms$", "method": "GET", "status": 503, "count": 20})
        error = expect("Unavailable", ec2.describe_instances)
        assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 503
        clear_faults(gateway)
        gateway.simulator_control("faults", error={"path": "/vms$", "method": "GET", "status": 418, "count": 20})
        error = expect("ServiceUnavailable", ec2.describe_instances)  # an answer the API never gives: 502
        assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 502
    finally:
        clear_faults(gateway)
    assert "Reservations" in ec2.describe_instances()


def test_terminating_instance_never_vanishes(ec2: Any, image_id: str) -> None:
    """Polled every few ms while it terminates, an instance is always there: shutting-down, then terminated
    (waiters fail on InvalidInstanceID.NotFound)."""
    ids = [i["InstanceId"] for i in ec2.run_instances(ImageId=image_id, MinCount=1, MaxCount=1)["Instances"]]
    ec2.terminate_instances(InstanceIds=ids)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        states = {i["State"]["Name"] for r in ec2.describe_instances(InstanceIds=ids)["Reservations"]
                  for i in r["Instances"]}
        if states == {"terminated"}:
            return
        time.sleep(0.005)
    pytest.fail("the instance never reached terminated")
