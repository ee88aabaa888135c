"""User data decoding shared by the EC2, CIMI and Deltacloud frontends: strict base64, one size limit."""
from __future__ import annotations

import base64

import pytest

from gateway.errors import InvalidParameter
from gateway.userdata import MAX_USER_DATA_BYTES, check_user_data_size, decode_base64, decode_user_data


def test_a_script_round_trips() -> None:
    script = b"#cloud-config\npackages: [nginx]\n"
    assert decode_user_data(base64.b64encode(script).decode(), "UserData") == script


def test_wrapped_lines_only_where_the_frontend_allows_them() -> None:
    wrapped = base64.encodebytes(b"#!/bin/sh\necho hi\n" * 10).decode()
    assert decode_user_data(wrapped, "user_data", line_breaks=True) == b"#!/bin/sh\necho hi\n" * 10
    with pytest.raises(InvalidParameter):
        decode_user_data(wrapped, "UserData")


@pytest.mark.parametrize("bad", ["not base64!", "aGk", "aGk=x", "aG\x00k="])
def test_anything_but_strict_base64_names_the_parameter(bad: str) -> None:
    with pytest.raises(InvalidParameter) as caught:
        decode_user_data(bad, "userData", line_breaks=True)
    assert caught.value.parameter == "userData"
    assert caught.value.message == "userData must be base64-encoded"


def test_sixteen_kilobytes_of_raw_data_and_not_one_more() -> None:
    exact = b"x" * MAX_USER_DATA_BYTES
    assert decode_user_data(base64.b64encode(exact).decode(), "UserData") == exact
    with pytest.raises(InvalidParameter) as caught:
        decode_user_data(base64.b64encode(exact + b"y").decode(), "UserData")
    assert "16384 bytes" in caught.value.message and caught.value.parameter == "UserData"
    with pytest.raises(InvalidParameter):  # refused by its encoded length, before decoding
        decode_user_data("A" * 10 * MAX_USER_DATA_BYTES, "UserData")
    with pytest.raises(InvalidParameter):  # already decoded (an EC2 blob): the same limit
        check_user_data_size(exact + b"y", "UserData")


def test_plain_base64_has_no_size_limit() -> None:
    big = b"k" * (4 * MAX_USER_DATA_BYTES)
    assert decode_base64(base64.b64encode(big).decode(), "PublicKeyMaterial") == big
