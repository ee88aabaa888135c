"""Fixtures the boto3 client tests share."""
from __future__ import annotations

from typing import Any

import pytest

from tests.clients.ec2_helpers import ec2_client


@pytest.fixture(scope="module")
def ec2(gateway: Any) -> Any:
    """A boto3 EC2 client of the session gateway's demo key (one per test module)."""
    return ec2_client(gateway)
