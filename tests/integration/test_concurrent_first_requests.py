"""Twenty pollers arriving together at a gateway process whose caches are cold (a new worker, or the data
center's 30-second description just expired) cost the engine what one does: one SSO login and one description
of the data center, which the others wait for, instead of one each (issue 14: engine requests independent of
the number of polling clients)."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

from .test_listing_engine_requests import gateway_over


def test_twenty_cold_describe_instances_log_in_once_and_describe_the_data_center_once(tmp_path: Path) -> None:
    with gateway_over(tmp_path, 40) as (ec2, simulator_url):
        requests.delete(f"{simulator_url}/__simulator__/stats", timeout=10).raise_for_status()
        with ThreadPoolExecutor(20) as pool:
            answers = list(pool.map(lambda _: ec2.describe_instances(), range(20)))
        seen = requests.get(f"{simulator_url}/__simulator__/stats", timeout=10).json()["requests"]
    assert all(len([i for r in a["Reservations"] for i in r["Instances"]]) >= 20 for a in answers)
    logins = {path: n for path, n in seen.items() if "sso" in path}
    assert sum(logins.values()) == 1, seen
    assert seen.get("GET /instancetypes") == 1 and seen.get("GET /templates") == 1, seen
    # the data center: described for the scope, and for the zone names, which ask for a description no older
    # than themselves (one load may serve both); never once per request
    assert all(seen.get(path, 0) in (1, 2) for path in ("GET /datacenters", "GET /vnicprofiles")), seen
    assert seen.get("GET /vms") == 20, seen  # each listing still asks the engine (the inventory view is off)
