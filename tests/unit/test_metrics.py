"""/metrics in-process on a real store: the store's gauges, and store errors counted (not a taken name)."""
from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from prometheus_client.parser import text_string_to_metric_families

from gateway.app import create_app, current_gateway
from gateway.config import load
from gateway.errors import AlreadyExists


def scrape(client) -> dict[str, float]:
    answer = client.get("/metrics")
    assert answer.status_code == 200
    return {sample.name + "".join(f"|{k}={v}" for k, v in sorted(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(answer.get_data(as_text=True))
            for sample in family.samples}


def test_store_gauges_follow_the_store_and_a_broken_store_is_reported(tmp_path: Path) -> None:
    app = create_app(load(None, environ={}, data_dir=str(tmp_path), metrics_enabled=True), start_workers=False)
    client = app.test_client()
    with app.app_context():
        gateway = current_gateway()
    store = gateway.store
    store.claim_token("lab|a", "token-1", "f", {})
    store.claim_token("lab|a", "token-2", "f", {})
    store.add_tombstone("lab|Default", "vm-1", "instance", {})
    store.create_credential("u", "p", access_key="AKDUP")
    try:
        store.create_credential("u", "p", access_key="AKDUP")
    except AlreadyExists:
        pass
    first = scrape(client)
    assert (first["cloudgw_idempotency_tokens"], first["cloudgw_tombstones"], first["cloudgw_store_up"]) == (2, 1, 1)
    assert first["cloudgw_operations_queue_depth"] == 0 and first["cloudgw_operations_oldest_age_seconds"] == 0
    errors_before = first.get("cloudgw_store_errors_total|error=OperationalError", 0.0)
    assert not any(k.startswith("cloudgw_store_errors_total|error=IntegrityError") for k in first)

    with store.begin() as conn:  # the store breaks under the gateway (a table gone)
        conn.execute(sa.text("DROP TABLE tombstones"))
    broken = scrape(client)
    assert broken["cloudgw_store_up"] == 0
    assert broken["cloudgw_store_errors_total|error=OperationalError"] == errors_before + 1
    gateway.close()
