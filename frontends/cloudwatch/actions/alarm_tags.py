"""Tags on alarms: TagResource, UntagResource, ListTagsForResource (and PutMetricAlarm's Tags).

Terraform's `aws_cloudwatch_metric_alarm` reads an alarm's tags after every apply. They are kept in the
store's tags table under the caller's owner key, keyed by the alarm's name, and go with the alarm.
"""
from __future__ import annotations

import re
from typing import Any

from .. import alarm_store
from ..call import Call
from ..errors import invalid_value, not_found
from . import action

ALARM_ARN = re.compile(r"^arn:aws[a-z-]*:cloudwatch:[^:]*:[0-9]*:alarm:(.+)$")
RESOURCE_TYPE = "cloudwatch-alarm"
MAX_TAGS = 50
MAX_TAGGED_NAME = 128  # the store's tags table keys resources by at most 128 characters


def alarm_named_by(call: Call, arn: str) -> str:
    """The name of the caller's alarm an ARN names; ResourceNotFound if it has none such."""
    match = ALARM_ARN.match(arn)
    if match is None:
        raise invalid_value(f"The ARN {arn[:300]} is not a CloudWatch alarm's (arn:aws:cloudwatch:...:alarm:NAME).")
    name = match.group(1)
    if not alarm_store.find(call.gateway.store, call.owner, [name]):
        raise not_found(f"Alarm {name[:255]} does not exist.")
    return name


def check_tags(call: Call, name: str, tags: list[dict[str, str]]) -> None:
    """Refuse tags the alarm cannot take, before anything is stored."""
    if len(name) > MAX_TAGGED_NAME:
        raise invalid_value(f"Tags are kept only on alarms whose names have at most {MAX_TAGGED_NAME} characters.")
    keys = [tag["Key"] for tag in tags]
    if len(set(keys)) != len(keys):
        raise invalid_value("A tag key may be given only once.")
    if len(call.gateway.store.tags(call.owner, [name]).get(name, {}).keys() | set(keys)) > MAX_TAGS:
        raise invalid_value(f"An alarm may have at most {MAX_TAGS} tags.")


def save_tags(call: Call, name: str, tags: list[dict[str, str]]) -> None:
    check_tags(call, name, tags)
    call.gateway.store.set_tags(call.owner, RESOURCE_TYPE, [name], {tag["Key"]: tag["Value"] for tag in tags})


@action("TagResource")
def tag_resource(call: Call) -> dict[str, Any]:
    save_tags(call, alarm_named_by(call, call.need("ResourceARN")), call.need("Tags"))
    return {}


@action("UntagResource")
def untag_resource(call: Call) -> dict[str, Any]:
    name = alarm_named_by(call, call.need("ResourceARN"))
    call.gateway.store.delete_tags(call.owner, [name], {key: None for key in call.need("TagKeys")})
    return {}


@action("ListTagsForResource")
def list_tags_for_resource(call: Call) -> dict[str, Any]:
    name = alarm_named_by(call, call.need("ResourceARN"))
    tags = call.gateway.store.tags(call.owner, [name]).get(name, {})
    return {"Tags": [{"Key": key, "Value": value} for key, value in sorted(tags.items())]}
