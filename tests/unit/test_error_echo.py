"""Error messages quote what a client sent, but never more than ECHO_LIMIT characters of it."""
from __future__ import annotations

from typing import Callable

import pytest

from frontends.cimi.query import page, parse_filter
from frontends.cimi.reading import boolean, integer
from frontends.deltacloud.negotiation import NotAcceptable, choose_format
from frontends.ec2.errors import Ec2Error
from frontends.ec2.protocol import parse_params
from gateway.errors import ECHO_LIMIT, NotFound, echo

HUGE = "x" * 100_000
BOUND = ECHO_LIMIT + 200  # the echoed value plus the message's own words


def test_echo_keeps_short_values_and_cuts_long_ones_visibly() -> None:
    assert echo("web-1") == "web-1"
    assert echo("a" * ECHO_LIMIT) == "a" * ECHO_LIMIT
    assert echo("a" * (ECHO_LIMIT + 1)) == "a" * ECHO_LIMIT + "..."
    assert echo(12345, limit=3) == "123..."


def message_of(refuse: Callable[[], object]) -> str:
    with pytest.raises((Exception,)) as caught:
        refuse()
    exc = caught.value
    return str(getattr(exc, "message", None) or getattr(exc, "description", None) or exc)


@pytest.mark.parametrize("refuse", [
    lambda: parse_filter(f"name = 'a' and {HUGE}"),
    lambda: parse_filter(f"name = '{HUGE}' )"),
    lambda: parse_filter(f"created > 2012-13-01T00:00:00.{'1' * 100_000}Z"),
    lambda: page([], HUGE, None),
    lambda: integer({"cpu": HUGE}, "cpu"),
    lambda: boolean({"force": HUGE}, "force"),
], ids=["filter", "filter-token", "filter-date", "first", "integer", "boolean"])
def test_cimi_messages_are_bounded(refuse: Callable[[], object]) -> None:
    message = message_of(refuse)
    assert len(message) < BOUND and "..." in message


def test_ec2_and_deltacloud_messages_are_bounded() -> None:
    with pytest.raises(Ec2Error) as caught:
        parse_params("DescribeInstances", {f"InstanceId.{HUGE}": "i-1"})
    assert len(caught.value.message) < BOUND
    with pytest.raises(NotAcceptable) as refused:
        choose_format(HUGE, None)
    assert len(str(refused.value)) < BOUND


def test_not_found_names_a_long_id_shortened() -> None:
    assert len(NotFound("instance", HUGE).message) < BOUND
