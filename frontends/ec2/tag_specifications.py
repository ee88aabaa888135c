"""TagSpecifications, read and checked once for every EC2 create action, before anything is made.

CreateTags' rules (gateway.tag_rules: a key of 1-128 characters not starting with `aws:`, a value of at most
256) hold for the tags a create action gives its new object too; checking them here, as AWS does, means a
bad tag is InvalidParameterValue rather than a VPC, volume or VM made and then a store error (PostgreSQL's
tag key column holds 255 characters) or a reserved key kept.
"""
from __future__ import annotations

from collections.abc import Collection
from gateway.errors import InvalidParameter
from gateway.tag_rules import check_tag

from .call import Call
from .errors import invalid_value


def checked_tag(key: str, value: str | None) -> None:
    """gateway.tag_rules' rules, shared with CIMI and Deltacloud, as EC2's InvalidParameterValue."""
    try:
        check_tag(key, value)
    except InvalidParameter as exc:
        raise invalid_value(exc.message) from None


def tags_by_type(call: Call, resource_types: Collection[str] | None, default: str | None) -> dict[str, dict[str, str]]:
    """resource type -> {key: value} of the call's TagSpecifications; a specification without a ResourceType
    is `default`'s; a type outside `resource_types` (None: any) or a tag against the rules is refused."""
    found: dict[str, dict[str, str]] = {}
    for spec in call.get("TagSpecifications", []):
        kind = spec.get("ResourceType") or default or ""
        if resource_types is not None and kind not in resource_types:
            raise invalid_value(f"'{kind[:50]}' is not a valid taggable resource type for this operation")
        for tag in spec.get("Tags") or []:
            key, value = tag.get("Key") or "", tag.get("Value")
            checked_tag(key, value)
            found.setdefault(kind, {})[key] = value or ""
    return found


def tags_for(call: Call, resource_type: str) -> dict[str, str]:
    """The tags a create action's TagSpecifications give the one `resource_type` it makes (checked)."""
    return tags_by_type(call, (resource_type,), resource_type).get(resource_type, {})
