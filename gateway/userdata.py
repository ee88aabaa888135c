"""User data as every frontend receives it: base64 text, decoded strictly and bounded in size.

EC2 (RunInstances, ModifyInstanceAttribute), CIMI (`userData`) and Deltacloud (`user_data`) all carry a
guest's user data (a cloud-init script) base64-encoded. Decoding it in one place keeps the three in
agreement on what is accepted: strict base64 (no silently dropped characters), line breaks allowed
where a frontend's clients wrap their base64 (Ruby's `encode64`, MIME), and one size limit, EC2's 16 KB
of raw data, which also keeps oVirt's cloud-init payload small. Errors are InvalidParameter naming the
parameter, so each frontend renders them in its own dialect (EC2: InvalidParameterValue).
"""
from __future__ import annotations

import base64
import binascii

from .errors import InvalidParameter

MAX_USER_DATA_BYTES = 16 * 1024  # EC2's limit: 16 KB of raw data, before base64 encoding


def decode_base64(text: str, parameter: str, *, line_breaks: bool = False) -> bytes:
    """The bytes `text` encodes; InvalidParameter naming `parameter` when it is not strict base64.

    With `line_breaks`, whitespace (wrapped lines) is ignored; otherwise it is an error, as any other
    character outside the base64 alphabet is.
    """
    compact = "".join(text.split()) if line_breaks else text
    try:
        return base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidParameter(f"{parameter} must be base64-encoded", parameter=parameter) from None


def check_user_data_size(data: bytes, parameter: str) -> bytes:
    """`data` itself, or InvalidParameter when it exceeds MAX_USER_DATA_BYTES."""
    if len(data) > MAX_USER_DATA_BYTES:
        raise InvalidParameter(f"{parameter} is limited to {MAX_USER_DATA_BYTES} bytes of raw data "
                               f"(got {len(data)})", parameter=parameter)
    return data


def decode_user_data(text: str, parameter: str, *, line_breaks: bool = False) -> bytes:
    """User data from its base64 text: strict base64, at most MAX_USER_DATA_BYTES once decoded.

    The encoded length is checked first, so an oversized value is refused without decoding it.
    """
    encoded_limit = 4 * -(-MAX_USER_DATA_BYTES // 3)
    length = len(text) if not line_breaks else sum(1 for c in text if not c.isspace())
    if length > encoded_limit:
        raise InvalidParameter(f"{parameter} is limited to {MAX_USER_DATA_BYTES} bytes of raw data",
                               parameter=parameter)
    return check_user_data_size(decode_base64(text, parameter, line_breaks=line_breaks), parameter)
