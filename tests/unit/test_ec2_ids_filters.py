"""EC2 ids (reversible, stateless), filters with wildcards, and stable pagination."""
from __future__ import annotations

import uuid

import pytest

from frontends.ec2 import ids
from frontends.ec2.errors import Ec2Error, from_gateway
from frontends.ec2.filters import apply_filters, paginate
from frontends.ec2.present import EC2_STATES, state
from gateway import errors as gw
from gateway.model import InstanceState


def test_ids_round_trip_and_accept_plain_uuids() -> None:
    backend = str(uuid.uuid4())
    ec2_id = ids.instance_id(backend)
    assert ec2_id == "i-" + backend.replace("-", "")
    assert ids.decode("i", ec2_id) == backend
    assert ids.decode("i", backend.upper()) == backend


@pytest.mark.parametrize("prefix,bad,code", [("i", "i-123", "InvalidInstanceID.Malformed"),
                                             ("i", "ami-" + "0" * 32, "InvalidInstanceID.Malformed"),
                                             ("ami", "ami-XYZ", "InvalidAMIID.Malformed"),
                                             ("i", "i-" + "A" * 32, "InvalidInstanceID.Malformed")])
def test_malformed_ids(prefix: str, bad: str, code: str) -> None:
    with pytest.raises(Ec2Error) as caught:
        ids.decode(prefix, bad)
    assert caught.value.code == code


ITEMS = [{"Name": "web-1", "Tags": [{"Key": "env", "Value": "prod"}]},
         {"Name": "web-2", "Tags": [{"Key": "env", "Value": "dev"}]},
         {"Name": "db*1", "Tags": []}]
KNOWN = {"name": lambda i: [i["Name"]]}


def names(filters: list[dict]) -> list[str]:
    return [i["Name"] for i in apply_filters(ITEMS, filters, KNOWN)]


def test_filters_and_across_or_within_with_wildcards_and_tags() -> None:
    assert names([{"Name": "name", "Values": ["web-?"]}]) == ["web-1", "web-2"]
    assert names([{"Name": "name", "Values": ["web-*"]}, {"Name": "tag:env", "Values": ["dev", "x"]}]) == ["web-2"]
    assert names([{"Name": "name", "Values": ["db\\*1"]}]) == ["db*1"]
    assert names([{"Name": "tag-key", "Values": ["env"]}]) == ["web-1", "web-2"]
    assert names([{"Name": "tag-value", "Values": ["pr*"]}]) == ["web-1"]


def test_unknown_filter_is_invalid_parameter_value() -> None:
    with pytest.raises(Ec2Error) as caught:
        names([{"Name": "colour", "Values": ["red"]}])
    assert caught.value.code == "InvalidParameterValue"


def test_pages_are_stable_when_items_come_and_go() -> None:
    items = [f"i-{n:02d}" for n in range(10)]
    page, token = paginate(items, str, 4, None)
    assert page == items[:4] and token
    items.remove("i-01")
    items.append("i-00a")  # sorts before the token: must not shift the next page
    page2, token2 = paginate(items, str, 4, token)
    assert page2 == ["i-04", "i-05", "i-06", "i-07"]
    page3, token3 = paginate(items, str, 4, token2)
    assert page3 == ["i-08", "i-09"] and token3 is None


def test_every_canonical_state_has_an_ec2_code() -> None:
    assert set(EC2_STATES) == set(InstanceState)
    assert state(InstanceState.TERMINATED) == {"Code": 48, "Name": "terminated"}
    assert state(InstanceState.SHUTTING_DOWN) == {"Code": 32, "Name": "shutting-down"}


@pytest.mark.parametrize("error,code,status", [
    (gw.NotFound("instance", "x"), "InvalidInstanceID.NotFound", 400),
    (gw.NotFound("image", "x"), "InvalidAMIID.NotFound", 400),
    (gw.NotFound("hardware profile", "x"), "InvalidInstanceType", 400),
    (gw.NotFound("realm", "x"), "InvalidZone.NotFound", 400),
    (gw.AlreadyExists("key pair", "k"), "InvalidKeyPair.Duplicate", 400),
    (gw.InvalidState("busy"), "IncorrectInstanceState", 400),
    (gw.Forbidden("no"), "UnauthorizedOperation", 403),
    (gw.BackendUnavailable("down"), "Unavailable", 503),
    (gw.BackendError("odd"), "ServiceUnavailable", 502),
    (gw.GatewayError("ours"), "InternalError", 500),
])
def test_gateway_errors_become_ec2_codes(error: gw.GatewayError, code: str, status: int) -> None:
    mapped = from_gateway(error)
    assert (mapped.code, mapped.status) == (code, status)
