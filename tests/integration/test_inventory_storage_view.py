"""Volume and image listings from the inventory view ([inventory] enabled), against the simulator over real
HTTP on a frozen clock: disks and templates listed once and kept current from the same event poll as the
instances, attachments taken from the view's instances instead of a second listing of every VM.

What a client relies on: the answers are those of a per-request listing, a disk made by another tool shows
after a poll (its events link no disk: the event's code says so), the gateway's own volume and image changes
show in the next listing, the engine failing falls back to the per-request listing, and a caller who is not
a confirmed administrator, or the view off, costs exactly today's requests.
"""
from __future__ import annotations

import requests
from lxml import etree

from drivers.ovirt.mapping import BLANK_TEMPLATE_ID
from gateway.model import InstanceSpec, InstanceState, ResourceState, VolumeSpec

from .ovirt_env import CENTOS, DEFAULT_DC, USER, Engine, Gateway
from .test_inventory_view import ADMIN_AUTH, advance, engine_vm, on_fake_clock, viewing, views, vm_listings  # noqa: F401

GiB = 1024 ** 3


def listings(gw: Gateway, collection: str) -> int:
    """Requests that listed the data center's disks or templates (`collection`), not one of them by id."""
    return sum(1 for r in gw.requests if r.startswith("GET ") and f"/{collection}?" in r and "search=" in r)


def events_read(gw: Gateway) -> int:
    return sum(1 for r in gw.requests if r.startswith("GET ") and "/events?" in r)


def engine_disk(engine: Engine, alias: str) -> str:
    """A floating disk made outside the gateway (the engine's own API, as another tool would)."""
    domains = etree.fromstring(requests.get(f"{engine.url}/datacenters/{DEFAULT_DC}/storagedomains",
                                            auth=ADMIN_AUTH, timeout=10).content)
    domain = next(d.get("id") for d in domains if d.findtext("type") == "data")
    body = (f"<disk><alias>{alias}</alias><provisioned_size>{GiB}</provisioned_size><format>cow</format>"
            f"<storage_domains><storage_domain id='{domain}'/></storage_domains></disk>")
    answer = requests.post(f"{engine.url}/disks", data=body, auth=ADMIN_AUTH,
                           headers={"Content-Type": "application/xml"}, timeout=10)
    assert answer.status_code in (201, 202), answer.text
    return etree.fromstring(answer.content).get("id")


def furnished(gw: Gateway) -> tuple[str, str]:
    """Two VMs made elsewhere (their disks), one floating volume and one attached under a device name."""
    vm_id = engine_vm(gw.engine, "storage-view-0")
    engine_vm(gw.engine, "storage-view-1")
    floating = gw.driver.create_volume(gw.scope(), VolumeSpec(size_bytes=GiB, name="floating"))
    attached = gw.driver.create_volume(gw.scope(), VolumeSpec(size_bytes=GiB, name="attached"))
    advance(gw.engine, 60)
    gw.driver.attach_volume(gw.scope(), attached.id, vm_id, "/dev/sdf", delete_on_termination=True)
    gw.driver.set_tags(gw.scope(), "volume", [floating.id], {"team": "blue"})
    return floating.id, attached.id


def test_listings_equal_the_engines_and_list_disks_templates_and_vms_once(gw: Gateway, views: list) -> None:
    floating, attached = furnished(gw)
    views.append(viewing(gw, poll_seconds=3600))
    view_driver = views[0]
    gw.forget_requests()
    volumes = [view_driver.volumes(gw.scope()) for _ in range(3)]
    images = [view_driver.images(gw.scope()) for _ in range(3)]
    assert (vm_listings(gw), listings(gw, "disks"), listings(gw, "templates")) == (1, 1, 1)  # filled once
    plain_volumes, plain_images = gw.driver.volumes(gw.scope()), gw.driver.images(gw.scope())
    assert all(answer == plain_volumes for answer in volumes) and all(answer == plain_images for answer in images)
    by_id = {v.id: v for v in volumes[-1]}
    assert by_id[attached].state is ResourceState.IN_USE and by_id[attached].attachments[0].device == "/dev/sdf"
    assert by_id[floating].tags == {"team": "blue"} and len(volumes[-1]) == 4  # two boot disks, two volumes
    assert view_driver.volumes(gw.scope(), [attached]) == [by_id[attached]]
    volumes[0][0].attachments.clear(), volumes[0][0].tags.update(changed="by one request")  # a request's copies
    images[0][0].tags["changed"] = "by one request"
    images[0][0].extra.clear()
    assert view_driver.volumes(gw.scope()) == plain_volumes and view_driver.images(gw.scope()) == plain_images


def test_one_events_request_per_poll_serves_instances_volumes_and_images(gw: Gateway, views: list) -> None:
    furnished(gw)
    views.append(viewing(gw, poll_seconds=1))
    view_driver = views[0]
    clock = on_fake_clock(view_driver)
    view_driver.volumes(gw.scope()), view_driver.images(gw.scope())
    for second in range(2, 5):  # no event meanwhile: every poll costs the events request, no listing
        clock.now = second
        gw.forget_requests()
        view_driver.instances(gw.scope()), view_driver.volumes(gw.scope()), view_driver.images(gw.scope())
        polls = sum(1 for r in gw.requests if "/events?" in r and "from=" in r)
        assert polls == 1  # one poll for all three (and, the feed being empty, one look at its newest index)
        assert (vm_listings(gw), listings(gw, "disks"), listings(gw, "templates")) == (0, 0, 0)


def test_a_disk_made_elsewhere_shows_after_a_poll_and_not_before(gw: Gateway, views: list) -> None:
    views.extend([viewing(gw, poll_seconds=0), viewing(gw, poll_seconds=3600)])
    polling, stale = views
    polling.volumes(gw.scope()), stale.volumes(gw.scope())
    made = engine_disk(gw.engine, "made-elsewhere")
    assert {v.id: v.state for v in polling.volumes(gw.scope())}[made] is ResourceState.PENDING  # locked
    assert made not in {v.id for v in stale.volumes(gw.scope())}  # served from its view, not the engine
    advance(gw.engine, 60)
    assert {v.id: v.state for v in polling.volumes(gw.scope())}[made] is ResourceState.AVAILABLE
    requests.delete(f"{gw.engine.url}/disks/{made}", auth=ADMIN_AUTH, timeout=10).raise_for_status()
    advance(gw.engine, 60)
    gw.forget_requests()
    assert made not in {v.id for v in polling.volumes(gw.scope())}
    assert vm_listings(gw) == 0 and listings(gw, "disks") == 1  # the disk events' codes: disks listed again
    gw.forget_requests()
    assert polling.volumes(gw.scope()) == gw.driver.volumes(gw.scope()) and listings(gw, "disks") == 1  # plain one


def test_an_image_made_elsewhere_shows_after_a_poll_with_the_volumes_unchanged(gw: Gateway, views: list) -> None:
    vm_id = engine_vm(gw.engine, "storage-view-source")
    advance(gw.engine, 60)
    views.extend([viewing(gw, poll_seconds=0), viewing(gw, poll_seconds=3600)])
    polling, stale = views
    for driver in views:
        driver.volumes(gw.scope()), driver.images(gw.scope())
    body = f"<template><name>made-elsewhere</name><vm id='{vm_id}'/></template>"
    answer = requests.post(f"{gw.engine.url}/templates", data=body, auth=ADMIN_AUTH,
                           headers={"Content-Type": "application/xml"}, timeout=10)
    assert answer.status_code in (201, 202), answer.text
    made = etree.fromstring(answer.content).get("id")
    assert made in {i.id for i in polling.images(gw.scope())} and made not in {i.id for i in stale.images(gw.scope())}
    advance(gw.engine, 120)
    assert {i.id: i.state for i in polling.images(gw.scope())}[made] is ResourceState.AVAILABLE
    assert polling.images(gw.scope()) == gw.driver.images(gw.scope())
    assert polling.volumes(gw.scope()) == gw.driver.volumes(gw.scope())  # the template's disks are no volumes


def test_the_gateways_own_volume_and_image_changes_show_in_the_next_listing(gw: Gateway, views: list) -> None:
    vm_id = engine_vm(gw.engine, "storage-view-own")
    advance(gw.engine, 60)
    views.append(viewing(gw, poll_seconds=3600))
    view_driver, scope = views[0], gw.scope()
    view_driver.volumes(scope), view_driver.images(scope)
    made = view_driver.create_volume(scope, VolumeSpec(size_bytes=GiB, name="own"))
    assert made.id in {v.id for v in view_driver.volumes(scope)}
    advance(gw.engine, 60)
    view_driver.attach_volume(scope, made.id, vm_id, "/dev/sdg")
    assert {v.id: v.state for v in view_driver.volumes(scope)}[made.id] is ResourceState.IN_USE
    view_driver.detach_volume(scope, made.id)
    advance(gw.engine, 60)
    view_driver.delete_volume(scope, made.id)
    assert view_driver.volumes(scope) == gw.driver.volumes(scope)
    assert {v.id: v.state for v in view_driver.volumes(scope)}.get(made.id) in (None, ResourceState.DELETING)
    image = view_driver.create_image(scope, vm_id, "own image")
    assert image.id in {i.id for i in view_driver.images(scope)}
    assert view_driver.images(scope) == gw.driver.images(scope)
    assert view_driver.volumes(scope) == gw.driver.volumes(scope)  # the image's disks are no volumes


def test_volumes_and_images_made_through_another_process_show_there_at_once(gw: Gateway, views: list) -> None:
    """Each gunicorn worker keeps its own view: a write marks the kind it changed in the store they share."""
    vm_id = engine_vm(gw.engine, "storage-view-other")
    advance(gw.engine, 60)
    views.extend([viewing(gw, poll_seconds=3600), viewing(gw, poll_seconds=3600)])
    writer, reader = views
    scope = gw.scope()
    reader.volumes(scope), reader.images(scope)
    made = writer.create_volume(scope, VolumeSpec(size_bytes=GiB, name="other-process"))
    assert made.id in {v.id for v in reader.volumes(scope)}
    image = writer.create_image(scope, vm_id, "other process image")
    assert image.id in {i.id for i in reader.images(scope)}


def test_an_engine_failing_the_relisting_falls_back_to_the_per_request_listing(gw: Gateway, views: list) -> None:
    furnished(gw)
    views.append(viewing(gw, poll_seconds=3600))
    view_driver = views[0]
    view_driver.volumes(gw.scope())
    engine_disk(gw.engine, "made-elsewhere")
    view_driver.create_volume(gw.scope(), VolumeSpec(size_bytes=GiB, name="own"))  # the disks: listed next
    gw.engine.control("faults", error={"path": "/disks$", "method": "GET", "status": 503, "count": 2})  # with its retry
    assert view_driver.volumes(gw.scope()) == gw.driver.volumes(gw.scope())  # the view's listing failed
    gw.forget_requests()
    assert view_driver.volumes(gw.scope()) == gw.driver.volumes(gw.scope())
    assert vm_listings(gw) == 1  # the plain driver's: the failed disk listing left the view ready, the disks
    assert listings(gw, "disks") == 2  # still marked, so listed again (and the plain driver's)


def test_a_user_who_is_not_an_administrator_never_reads_the_storage_views(gw: Gateway, views: list) -> None:
    furnished(gw)
    views.append(viewing(gw, poll_seconds=3600))
    view_driver = views[0]
    view_driver.volumes(gw.scope()), view_driver.images(gw.scope())  # an administrator's listings fill the view
    for user in (gw.scope(USER), gw.scope(USER, user_level=True)):
        gw.forget_requests()
        assert view_driver.volumes(user) == gw.driver.volumes(user)
        assert view_driver.images(user) == gw.driver.images(user)
        assert listings(gw, "disks") == 2 and listings(gw, "templates") == 4  # volumes list templates too


def test_with_the_view_off_listings_make_todays_requests(gw: Gateway) -> None:
    furnished(gw)
    gw.forget_requests()
    gw.driver.volumes(gw.scope()), gw.driver.images(gw.scope())
    paths = [r.split(" ", 1)[1].split("/ovirt-engine/api/", 1)[1].split("?", 1)[0] for r in gw.requests]
    templates = ["templates", f"templates/{BLANK_TEMPLATE_ID}"]  # the data center's, and Blank (the engine's)
    assert paths == ["disks", "vms", *templates, *templates] and events_read(gw) == 0
    assert gw.driver._inventory_state is None


def test_launches_and_terminations_of_instances_list_the_disks_again(gw: Gateway, views: list) -> None:
    """Through one process: the view's driver runs its own launch and termination steps, as in the gateway."""
    views.append(viewing(gw, poll_seconds=3600))
    view_driver, scope = views[0], gw.scope()
    for kind in view_driver.operation_kinds():
        gw.runner.register(kind)
    before = {v.id for v in view_driver.volumes(scope)}
    launched = view_driver.create_instance(scope, InstanceSpec(image_id=CENTOS, start=False))
    gw.settle(60)
    assert view_driver.instance(scope, launched.id).state is InstanceState.STOPPED
    after = {v.id for v in view_driver.volumes(scope)}
    assert after - before and after == {v.id for v in gw.driver.volumes(scope)}
    view_driver.destroy_instance(scope, launched.id)
    gw.settle(60)
    assert {v.id for v in view_driver.volumes(scope)} == before == {v.id for v in gw.driver.volumes(scope)}
