"""Fixtures the boto3 client tests share."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.clients.ec2_helpers import ec2_client
from tests.conftest import start_gateway
from tests.simulator_fixtures import ADMIN, running_simulator


@pytest.fixture(scope="module")
def ec2(gateway: Any) -> Any:
    """A boto3 EC2 client of the session gateway's demo key (one per test module)."""
    return ec2_client(gateway)


@pytest.fixture()
def engine() -> Iterator[tuple[Any, Any]]:
    """The official oVirt SDK's connection to a simulator of its own whose clock moves only when advanced,
    and that simulator's handle."""
    import ovirtsdk4 as sdk

    with running_simulator(frozen=True) as (sim, handle):
        connection = sdk.Connection(url=handle.api_url, username=ADMIN[0], password=ADMIN[1])
        try:
            yield connection, handle
        finally:
            connection.close()


@pytest.fixture(scope="module")
def net_gateway(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A gateway of the test module's own on the embedded default: network tests make VPCs, subnets and
    ports that other tests would see."""
    handle = start_gateway(tmp_path_factory.mktemp(request.module.__name__.rpartition(".")[2]))
    yield handle
    handle.stop()
