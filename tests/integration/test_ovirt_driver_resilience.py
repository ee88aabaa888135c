"""The oVirt driver when things go wrong or grow: restarts mid-operation, tokens expiring, the engine
going away and coming back, user-level scope, refused engines, and listings that cost the same for 10
or 1,000 VMs."""
from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import requests

from gateway.errors import BackendUnavailable, NotFound, ProviderRefused
from gateway.model import InstanceSpec, InstanceState
from gateway.operations import DONE, FAILED, PENDING, Next
from gateway.scope import choose_provider

from .ovirt_env import ADMIN, CENTOS, DEBIAN, DEFAULT_CLUSTER, USER, Engine, Gateway, running_engine


def test_a_run_interrupted_by_a_restart_is_finished_by_the_next_process(gw: Gateway) -> None:
    created = gw.driver.create_instance(gw.scope(), InstanceSpec(image_id=CENTOS, user_data=b"#!/bin/sh\necho hi"))
    claimed = gw.runner.claim()  # the first process takes the operation's lease and dies mid-step
    assert claimed is not None and claimed.kind == "ovirt.run"
    after = gw.restart()
    after.settle(90)  # the lease expires (30 s) and the new process runs every step
    (op,) = after.runner.find(target=created.id)
    assert op.state == DONE
    assert after.driver.instance(after.scope(), created.id).state is InstanceState.RUNNING


def test_a_terminate_interrupted_by_a_restart_is_finished_by_the_next_process(gw: Gateway) -> None:
    scope = gw.scope()
    vm_id = gw.driver.create_instance(scope, InstanceSpec(image_id=DEBIAN)).id
    gw.settle(60)
    gw.driver.destroy_instance(scope, vm_id)
    assert gw.runner.run_once()  # `stop` was sent...
    gw.runner.claim()  # ...and the process dies holding `wait_for_down`
    after = gw.restart()
    after.settle(90)
    with pytest.raises(NotFound):
        after.driver.instance(after.scope(), vm_id)
    assert [i.id for i in after.driver.terminated_instances(after.scope())] == [vm_id]


def test_an_expired_token_is_renewed(gw: Gateway, engine: Engine) -> None:
    scope = gw.scope()
    gw.driver.instances(scope)
    engine.control("faults", expire_tokens=True)
    gw.forget_requests()
    gw.driver.instances(scope)
    assert sum("sso/oauth/token" in r for r in gw.requests) == 1
    assert any(r.startswith("GET") and "/vms?" in r for r in gw.requests)


def test_the_engine_down_and_back(gw: Gateway, engine: Engine) -> None:
    scope = gw.scope()
    created = gw.driver.create_instance(scope, InstanceSpec(image_id=CENTOS))
    engine.control("faults", engine_down=True)
    with pytest.raises(BackendUnavailable) as caught:
        gw.driver.instances(scope)
    assert caught.value.retryable
    gw.settle(20)
    (op,) = gw.runner.find(target=created.id)
    assert op.state == PENDING and op.attempts > 0 and op.last_error  # waiting, not failed
    engine.clear_faults()
    gw.settle(120)
    assert gw.runner.find(target=created.id)[0].state == DONE
    assert gw.driver.instance(scope, created.id).state is InstanceState.RUNNING


def test_user_level_scope_sends_filter_and_sees_its_own_vms(gw: Gateway) -> None:
    admin_vm = gw.driver.create_instance(gw.scope(), InstanceSpec(image_id=CENTOS, start=False)).id
    gw.settle(30)
    user_scope = gw.scope(USER, user_level=True)
    gw.forget_requests()
    mine = gw.driver.create_instance(user_scope, InstanceSpec(image_id=CENTOS, start=False)).id
    gw.settle(30)
    seen = {i.id for i in gw.driver.instances(user_scope)}
    assert mine in seen and admin_vm not in seen
    sent = gw.headers_sent_to("/api/vms")  # the user's create, run operation and listing
    assert sent and all(h.get("Filter") == "true" for h in sent)
    assert {mine, admin_vm} <= {i.id for i in gw.driver.instances(gw.scope(ADMIN))}
    assert "Filter" not in gw.headers_sent_to("/api/vms")[-1]


def test_an_engine_outside_the_configuration_is_refused_without_contact(gw: Gateway) -> None:
    with pytest.raises(ProviderRefused):
        choose_provider(gw.config, "http://169.254.169.254/latest/meta-data;Default")
    with pytest.raises(ProviderRefused):
        choose_provider(gw.config, f"{gw.engine.handle.url}/other-engine/api;Default")
    choice = choose_provider(gw.config, f"{gw.engine.url};barcelona;user")
    assert (choice.datacenter, choice.user_level) == ("barcelona", True)
    assert gw.requests == []


CIMI_EXPANSIONS = ("*", "networkInterfaces", "volumes", "disks")


def listing_costs(vms: int, tmp_path: Path) -> dict[str, int]:
    """Engine requests per listing, cold (the data center resolved again), on an engine with `vms` VMs: the
    driver's listings, and CIMI's machine listing with each `$expand` (the frontend served on a port)."""
    with running_engine(vms=vms) as engine:
        gw = Gateway(engine, tmp_path)
        try:
            scope = gw.scope()
            gw.driver.validate_credentials(scope)  # the token, outside the counts
            costs: dict[str, int] = {}
            for name, listing in (("instances", gw.driver.instances), ("interfaces", gw.driver.interfaces),
                                  ("volumes", gw.driver.volumes), ("images", gw.driver.images),
                                  ("snapshots", gw.driver.snapshots), ("tags", gw.driver.tags)):
                gw.driver._forget_places()
                gw.forget_requests()
                found = listing(scope)
                costs[name] = len(gw.requests)
                if name == "instances":
                    assert len(found) >= vms // 2 - 1  # the seed spreads VMs over both data centers
            with serving_gateway(gw) as (url, driver):
                for expansion in CIMI_EXPANSIONS:
                    driver._forget_places()
                    gw.forget_requests()
                    answer = requests.get(f"{url}/cimi/machines", params={"$expand": expansion},
                                          auth=("admin@internal", "admin"), headers={"Accept": "application/json"},
                                          timeout=600)
                    assert answer.status_code == 200, answer.text
                    assert answer.json()["count"] >= vms // 2 - 1
                    costs[f"cimi machines $expand={expansion}"] = len(gw.requests)
            return costs
        finally:
            gw.close()


@contextmanager
def serving_gateway(gw: Gateway) -> Iterator[tuple[str, Any]]:
    """The whole gateway app over `gw`'s store and configuration on a free port, its engine requests
    counted in `gw.requests` like the driver's own; yields its URL and its driver."""
    from werkzeug.serving import make_server

    from gateway.app import create_app

    app = create_app(gw.config, start_workers=False, store=gw.store)
    driver = app.extensions["cloudgw"].driver_for(gw.provider)
    driver.client_for(gw.provider).session.hooks["response"].append(
        lambda r, *a, **k: gw.sent.append((r.request.method, r.url, dict(r.request.headers))))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        requests.get(f"http://127.0.0.1:{server.server_port}/cimi/cloudEntryPoint", auth=("admin@internal", "admin"),
                     timeout=30).raise_for_status()  # the engine token, outside the counts
        yield f"http://127.0.0.1:{server.server_port}", driver
    finally:
        server.shutdown()
        driver.close()


def test_listing_costs_the_same_for_10_and_1000_vms(tmp_path: Path) -> None:
    small = listing_costs(10, tmp_path / "small")
    large = listing_costs(1000, tmp_path / "large")
    assert small == large
    assert large["instances"] <= 5  # data centers, clusters, storage domains, vNIC profiles, VMs
    # CIMI's expansions: the listing, then every machine's NICs in one request and boot volumes in one call
    assert large["cimi machines $expand=*"] <= large["instances"] + large["interfaces"] + large["volumes"]


def test_a_terminate_the_engine_refuses_leaves_no_tombstone(gw: Gateway) -> None:
    """A user given only UserRole may stop a VM but not remove it: the instance must not read as terminated."""

    vm_id = gw.driver.create_instance(gw.scope(), InstanceSpec(image_id=CENTOS)).id
    gw.settle(60)
    grant = ("<permission><role><name>UserRole</name></role>"
             "<user id='05e70000-0000-4000-8000-000000000002'/></permission>")
    given = requests.post(f"{gw.engine.url}/vms/{vm_id}/permissions", data=grant, auth=("admin@internal", "admin"),
                          headers={"Content-Type": "application/xml", "Version": "4"}, timeout=10)
    assert given.status_code == 201, given.text
    user = gw.scope(USER, user_level=True)
    gw.driver.destroy_instance(user, vm_id)
    gw.settle(120)
    [operation] = [o for o in gw.runner.find(target=vm_id) if o.kind == "ovirt.terminate"]
    assert operation.state == "failed" and "not authorized" in (operation.last_error or "")
    assert gw.driver.terminated_instances(gw.scope(), [vm_id]) == []
    assert gw.driver.instance(gw.scope(), vm_id).state == InstanceState.STOPPED


def test_a_launch_whose_process_died_after_the_engine_made_the_vm_is_adopted_by_the_next(gw: Gateway) -> None:
    from lxml.builder import E

    from drivers.ovirt.instances import launch_mark

    scope = gw.scope()
    (launch,) = gw.driver.reserve_launches(scope, 1)
    gw.runner.renew(launch, data={"start": True, "tags": {"Name": "web one", "env": "dev"}, "desired": "web one"})
    made = gw.driver._call(scope, "POST", "vms", idempotent=False, body=E.vm(  # the engine acts; the process dies
        E.name("vm-adopted"), E.comment(launch_mark(launch)), E.cluster(id=DEFAULT_CLUSTER), E.template(id=CENTOS)))
    after = gw.restart()
    after.settle(120)  # the launch's lease runs out; the next process finds the VM and carries on
    op = after.runner.get(launch)
    assert (op.state, op.target) == (DONE, made.get("id"))
    instance = after.driver.instance(after.scope(), made.get("id"))
    assert instance.state is InstanceState.RUNNING
    assert instance.tags == {"Name": "web one", "env": "dev"}


def test_a_launch_whose_process_died_before_the_engine_made_the_vm_fails_and_leaves_none(gw: Gateway) -> None:
    scope = gw.scope()
    (launch,) = gw.driver.reserve_launches(scope, 1)
    before = {i.id for i in gw.driver.instances(scope)}
    after = gw.restart()
    after.settle(120)
    op = after.runner.get(launch)
    assert op.state == FAILED and not op.target
    assert {i.id for i in after.driver.instances(after.scope())} == before


def test_reserved_launches_not_used_are_withdrawn_but_used_ones_run(gw: Gateway) -> None:
    scope = gw.scope()
    used, unused = gw.driver.reserve_launches(scope, 2)
    created = gw.driver.create_instance(scope, InstanceSpec(image_id=CENTOS), launch_id=used)
    gw.driver.abandon_launches(scope, [used, unused])
    gw.settle(60)
    assert (gw.runner.get(used).state, gw.runner.get(used).target) == (DONE, created.id)
    assert gw.runner.get(unused) is None  # nothing was asked of the engine for it: no trace is left
    assert gw.driver.launch_results(scope, [used, unused]) == [created.id]


def test_a_launch_refused_before_the_engine_leaves_no_operation(gw: Gateway) -> None:
    scope = gw.scope()
    (launch,) = gw.driver.reserve_launches(scope, 1)
    with pytest.raises(NotFound):
        gw.driver.create_instance(scope, InstanceSpec(image_id="7e000000-0000-4000-8000-00000000dead"),
                                  launch_id=launch)
    gw.driver.abandon_launches(scope, [launch])
    with pytest.raises(NotFound):
        gw.driver.create_instance(scope, InstanceSpec(image_id="7e000000-0000-4000-8000-00000000dead"))
    assert gw.runner.find() == []


def test_a_launch_timed_out_without_a_vm_says_the_engine_made_none(gw: Gateway) -> None:
    scope = gw.scope()
    (launch,) = gw.driver.reserve_launches(scope, 1)
    gw.runner.finish(gw.runner.renew(launch), Next("create", data={"remove": True}))  # answered as a timeout
    gw.settle(60)
    op = gw.runner.get(launch)
    assert (op.state, op.last_error) == (FAILED, "The engine did not answer in time and made no instance")


def test_a_launch_the_engine_made_without_answering_in_time_leaves_no_vm(gw: Gateway, engine: Engine) -> None:
    scope = gw.scope()
    before = {i.id for i in gw.driver.instances(scope)}
    gw.driver.client_for(gw.provider).timeout = (2.0, 1.0)  # the create's answer is overdue after 1 s
    engine.control("faults", hold={"path": "/vms$", "method": "POST", "seconds": 2, "count": 1})
    with pytest.raises(BackendUnavailable):
        gw.driver.create_instance(scope, InstanceSpec(image_id=CENTOS))
    gw.driver.client_for(gw.provider).timeout = (2.0, 10.0)
    made = {i.id for i in gw.driver.instances(scope)} - before
    assert len(made) == 1  # the engine did make it
    gw.settle(120)  # a worker finds the VM by its launch and removes it
    assert {i.id for i in gw.driver.instances(scope)} == before
