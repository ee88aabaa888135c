"""The scoped data center, when the driver's 30-second reading of it runs out, is read again by one request
while the others go on with the last reading: under load every request in flight used to make the same four
engine requests at once (a RunInstances or TerminateInstances among them waited for all of them)."""
from __future__ import annotations

import threading
import time

import requests


from .ovirt_env import Gateway


def test_one_request_reads_the_data_center_again_while_the_others_use_the_last(gw: Gateway) -> None:
    listed = {i.id for i in gw.driver.instances(gw.scope())}
    gw.driver._places.expire()  # that reading has just run out
    stats = f"{gw.engine.handle.url}/__simulator__/stats"
    requests.delete(stats, timeout=10).raise_for_status()
    gw.engine.control("faults", hold={"path": "/datacenters$", "method": "GET", "seconds": 3, "count": 1})
    reading = threading.Thread(target=gw.driver.instances, args=(gw.scope(),))
    reading.start()
    deadline = time.monotonic() + 30
    while requests.get(stats, timeout=10).json()["requests"].get("GET /datacenters", 0) < 1:
        assert time.monotonic() < deadline, "the data center was not read again once its reading ran out"
        time.sleep(0.01)
    assert {i.id for i in gw.driver.instances(gw.scope())} == listed
    assert reading.is_alive(), "the second request waited for the first one's reading"
    reading.join()
    assert requests.get(stats, timeout=10).json()["requests"]["GET /datacenters"] == 1
    gw.driver.instances(gw.scope())  # the new reading serves from now on
    assert requests.get(stats, timeout=10).json()["requests"]["GET /datacenters"] == 1
