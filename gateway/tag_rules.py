"""What a tag may be, for every frontend (EC2's rules), and tagging a resource just made, all or nothing.

CIMI's properties and a Deltacloud name become tags of the VPC or subnet they create; checking them first,
with the rules EC2 clients know, means a bad one is a 400 before anything is made rather than a store error
after, and a tag write that still fails removes what was made, so a retry does not leave a second VPC.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING

from .errors import InvalidParameter
from .scope import Scope

if TYPE_CHECKING:
    from .driver import Driver

MAX_KEY = 128
MAX_VALUE = 256


def check_tag(key: str, value: str | None, parameter: str | None = None) -> None:
    """InvalidParameter unless `key` is 1-128 characters not starting with `aws:` and `value` at most 256."""
    if not key or len(key) > MAX_KEY:
        raise InvalidParameter(f"Tag keys must be 1 to {MAX_KEY} characters long", parameter=parameter)
    if key.lower().startswith("aws:"):
        raise InvalidParameter("Tag keys starting with 'aws:' are reserved for internal use", parameter=parameter)
    if value is not None and len(value) > MAX_VALUE:
        raise InvalidParameter(f"Tag values must be at most {MAX_VALUE} characters long", parameter=parameter)


def check_tags(tags: Mapping[str, str | None], parameter: str | None = None) -> None:
    for key, value in tags.items():
        check_tag(key, value, parameter)


def non_vm_tags(driver: Driver, scope: Scope, resource_ids: Sequence[str]) -> dict[str, dict[str, str]]:
    """resource id -> tags of objects that are never VMs (networks, subnets, security groups): the store's
    alone (`stored_tags`) where the driver keeps them apart, so that no VM is listed for a VM's `Name` (the
    only thing `tags` adds, and only for VM ids); `tags` otherwise; {} if the driver keeps no tags."""
    if not resource_ids:
        return {}
    if driver.can("stored_tags"):
        return driver.stored_tags(scope, resource_ids)
    return driver.tags(scope, resource_ids) if driver.can("tags") else {}


def tag_new(driver: Driver, scope: Scope, kind: str, resource_id: str, tags: Mapping[str, str],
            undo: Callable[[], None]) -> None:
    """Tag what was just made; if that fails, `undo` the making (its own failure is secondary) and re-raise."""
    if not tags or not driver.can("set_tags"):
        return
    try:
        driver.set_tags(scope, kind, [resource_id], dict(tags))
    except Exception:
        try:
            undo()
        except Exception:  # the tag failure is the answer; a failed undo leaves what a retry would find
            pass
        raise
