"""EC2 driven by generated, correctly signed (SigV4, as botocore signs) Query API requests.

Actions, parameter names with list indexes, and values (unicode, control characters, invalid UTF-8)
are generated; the signature is always right, so what is tested is everything after it. Every answer
is an EC2 XML document (an `<Errors>` one for every error) without a 500 or a traceback, and a refused
request changes nothing.
"""
from __future__ import annotations

import base64
import re
from typing import Any
from urllib.parse import urlencode

import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from hypothesis import given, settings
from hypothesis import strategies as st

from .formats import check_ec2
from .strategies import text, unwritable_text, words
from .world import World

ACTIONS = ["DescribeInstances", "DescribeImages", "DescribeKeyPairs", "CreateKeyPair", "ImportKeyPair",
           "DeleteKeyPair", "CreateTags", "DeleteTags", "DescribeTags", "TerminateInstances", "StopInstances",
           "StartInstances", "RunInstances", "DescribeVolumes", "CreateVolume", "DescribeSubnets",
           "DescribeInstanceAttribute", "DescribeRegions", "DescribeAvailabilityZones", "ModifyInstanceAttribute",
           "GetCallerIdentity", "CreateImage", "DeregisterImage", "RegisterImage", "CopyImage",
           "DescribeImageAttribute", "ModifyImageAttribute", "ResetImageAttribute", "Nope",
           # the network provider's (OVN) VPCs, subnets, groups and rules, and the interfaces
           "CreateVpc", "DeleteVpc", "CreateSubnet", "DeleteSubnet", "DescribeVpcs", "CreateSecurityGroup",
           "DeleteSecurityGroup", "DescribeSecurityGroups", "AuthorizeSecurityGroupIngress",
           "AuthorizeSecurityGroupEgress", "RevokeSecurityGroupIngress", "RevokeSecurityGroupEgress",
           "DescribeSecurityGroupRules", "DescribeNetworkInterfaces"]
SCALAR_PARAMS = ["KeyName", "PublicKeyMaterial", "DryRun", "MaxResults", "NextToken", "ImageId", "InstanceType",
                 "MinCount", "MaxCount", "Size", "AvailabilityZone", "VolumeId", "Attribute", "InstanceId",
                 "UserData", "ClientToken", "KeyType", "Version", "Name", "Description", "NoReboot",
                 "RootDeviceName", "SourceImageId", "SourceRegion", "OperationType", "Value", "CidrBlock", "VpcId",
                 "GroupId", "GroupName", "GroupDescription", "IpProtocol", "FromPort", "ToPort", "CidrIp", "SubnetId",
                 "AvailabilityZoneId"]
LIST_PARAMS = ["InstanceId", "ResourceId", "SubnetId", "AttributeName", "ImageId", "KeyName", "VolumeId",
               "RegionName", "ZoneName", "SecurityGroupRuleId", "NetworkInterfaceId", "GroupId", "GroupName", "VpcId",
               "SecurityGroupId"]
STRUCT_PARAMS = ["Filter.{}.Name", "Filter.{}.Value.{}", "Tag.{}.Key", "Tag.{}.Value", "TagSpecification.{}.Tag.{}.Key",
                 "TagSpecification.{}.Tag.{}.Value", "TagSpecification.{}.ResourceType",
                 "BlockDeviceMapping.{}.DeviceName", "BlockDeviceMapping.{}.NoDevice", "BlockDeviceMapping.{}.Ebs.SnapshotId",
                 "LaunchPermission.Add.{}.UserId", "LaunchPermission.Remove.{}.Group", "UserId.{}", "UserGroup.{}",
                 "Description.Value", "IpPermissions.{}.IpProtocol", "IpPermissions.{}.FromPort", "IpPermissions.{}.ToPort",
                 "IpPermissions.{}.IpRanges.{}.CidrIp", "IpPermissions.{}.Ipv6Ranges.{}.CidrIpv6",
                 "IpPermissions.{}.UserIdGroupPairs.{}.GroupId", "IpPermissions.{}.UserIdGroupPairs.{}.GroupName",
                 "IpPermissions.{}.PrefixListIds.{}.PrefixListId"]
INDEXES = st.one_of(st.integers(1, 3).map(str), st.sampled_from(["0", "01", "x", "-1", "1.5", " 1", "\u00b2", "\u0661", ""]))
VALUES = st.one_of(words, st.sampled_from(
    ["i-0123456789abcdef0", "ami-7e000000000040008000000000000099", "o1.small", "1", "0", "true", "false",
     "X-Injected: 1", "ssh-rsa AAAA", "ssh-dss AAAAB3NzaC1kc3MAAACBAP", "c3NoLXJzYSBBQUFB", "instance-state-name",
     "tag:Name", "running", "us-east-1", "*", "volume", "instance", "Default", "Name", "tcp", "-1", "icmp", "65536",
     "10.0.0.0/33", "::/0", "sg-0123", "vpc-0123456789abcdef0123456789abcdef", "subnet-x", "default"]))


@st.composite
def parameter_names(draw: st.DrawFn) -> str:
    kind = draw(st.sampled_from(["scalar", "list", "struct", "junk"]))
    if kind == "scalar":
        return draw(st.sampled_from(SCALAR_PARAMS))
    if kind == "list":
        return f"{draw(st.sampled_from(LIST_PARAMS))}.{draw(INDEXES)}"
    if kind == "struct":
        pattern = draw(st.sampled_from(STRUCT_PARAMS))
        return pattern.format(*(draw(INDEXES) for _ in range(pattern.count("{}"))))
    return draw(text)


def requests_strategy() -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries({
        "action": st.one_of(st.sampled_from(ACTIONS), st.sampled_from(ACTIONS), st.sampled_from(ACTIONS), text),
        "version": st.sampled_from(["2016-11-15"] * 6 + ["2011-06-15", "", "x"]),
        "params": st.lists(st.tuples(parameter_names(), VALUES), min_size=1, max_size=5),
        "path": st.sampled_from(["/ec2/", "/"]),
    })


def signed(gateway, path: str, body: bytes) -> requests.PreparedRequest:
    request = AWSRequest(method="POST", url=gateway.url + path, data=body,
                         headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
    SigV4Auth(Credentials(gateway.access_key, gateway.secret_key), "ec2", "us-east-1").add_auth(request)
    return request.prepare()


def test_any_signed_ec2_request_is_answered_in_ec2_without_a_500(world: World, gateway) -> None:
    session = requests.Session()

    @settings(max_examples=120)
    @given(spec=requests_strategy())
    def any_request(spec: dict[str, Any]) -> None:
        pairs = [("Action", spec["action"]), ("Version", spec["version"]), *spec["params"]]
        body = urlencode(pairs, encoding="utf-8", errors="surrogatepass").encode()
        prepared = signed(gateway, spec["path"], body)
        what = f"{spec['path']} {body!r:.400}"
        before = world.quick()
        response = session.post(prepared.url, data=prepared.body, headers=dict(prepared.headers), timeout=60)
        world.check_status(response, what)
        check_ec2(response, what)
        world.check_log(what)
        world.unchanged(before, response, what)

    any_request()


# Valid requests but for one value: `{zone}` is filled in, one parameter gets the unwritable text.
CREATES = {
    "CreateVolume": {"Size": "1", "AvailabilityZone": "{zone}", "TagSpecification.1.ResourceType": "volume",
                     "TagSpecification.1.Tag.1.Key": "Name", "TagSpecification.1.Tag.1.Value": "v",
                     "TagSpecification.1.Tag.2.Key": "k", "TagSpecification.1.Tag.2.Value": "v"},
    "CreateKeyPair": {"KeyName": "prop-key"},
    "ImportKeyPair": {"KeyName": "prop-import", "PublicKeyMaterial": "{key}"},
}


def test_a_create_spoiled_by_unwritable_text_is_refused_before_any_side_effect(world: World, gateway) -> None:

    zones = signed(gateway, "/ec2/", b"Action=DescribeAvailabilityZones&Version=2016-11-15")
    answer = requests.post(zones.url, data=zones.body, headers=dict(zones.headers), timeout=30)
    fill = {"{zone}": re.findall("<zoneName>(.*?)</zoneName>", answer.text)[0],
            "{key}": base64.b64encode(ed25519.Ed25519PrivateKey.from_private_bytes(bytes(range(32))).public_key().public_bytes(
                serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)).decode()}
    session = requests.Session()

    @settings(max_examples=30)
    @given(action=st.sampled_from(sorted(CREATES)), data=st.data(), bad=unwritable_text(surrogates=False))
    def spoiled_create(action: str, data: st.DataObject, bad: str) -> None:
        params = {k: fill.get(v, v) for k, v in CREATES[action].items()}
        params[data.draw(st.sampled_from(sorted(params)))] = bad
        body = urlencode({"Action": action, "Version": "2016-11-15", **params}).encode()
        prepared = signed(gateway, "/ec2/", body)
        what = f"{body!r}"
        before = world.quick()
        response = session.post(prepared.url, data=prepared.body, headers=dict(prepared.headers), timeout=60)
        world.check_status(response, what)
        check_ec2(response, what)
        world.check_log(what)
        assert response.status_code == 400, f"{what}: {response.status_code} {response.text[:300]}"
        world.unchanged(before, response, what)

    spoiled_create()
