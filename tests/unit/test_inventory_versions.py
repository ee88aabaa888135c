"""What the rendered-item cache relies on (gateway/inventory.py): a view keeps an unchanged instance's version
across refreshes, gives a changed one a new version, and a copy's content key follows whatever a request
decorated it with."""
from __future__ import annotations

from dataclasses import replace

from gateway.inventory import InventoryView, content_key
from gateway.model import Instance, InstanceState, VolumeAttachment, from_json, to_json


def vm(instance_id: str, **changes: object) -> Instance:
    base = Instance(id=instance_id, name=instance_id, state=InstanceState.RUNNING,
                    attachments=[VolumeAttachment(volume_id=f"{instance_id}-disk", instance_id=instance_id)])
    return replace(base, **changes)


def keys(view: InventoryView) -> dict[str, object]:
    return {i.id: content_key(i) for i in view.snapshot()}


def test_a_refresh_keeps_the_version_of_what_did_not_change_and_renews_what_did() -> None:
    view = InventoryView("dc")
    view.fill([vm("a"), vm("b")], cursor=1, now=0.0)
    first = keys(view)
    view.fill([vm("a"), vm("b", state=InstanceState.STOPPED)], cursor=2, now=1.0)
    second = keys(view)
    assert second["a"] == first["a"]
    assert second["b"] != first["b"]
    view.apply({"a": vm("a", cpus=4), "b": None}, cursor=3, now=2.0)
    third = keys(view)
    assert third["a"] != second["a"] and "b" not in third


def test_a_copys_key_follows_what_a_request_decorates_it_with() -> None:
    view = InventoryView("dc")
    view.fill([vm("a")], cursor=1, now=0.0)
    plain, tagged, flagged, stopping = view.snapshot(), view.snapshot(), view.snapshot(), view.snapshot()
    tagged[0].tags["role"] = "db"
    flagged[0].attachments[0].delete_on_termination = True
    stopping[0].state = InstanceState.SHUTTING_DOWN
    found = [content_key(i[0]) for i in (plain, tagged, flagged, stopping)]
    assert len(set(found)) == 4
    assert content_key(view.snapshot()[0]) == found[0]  # the copies changed, not the view


def test_only_copies_of_a_view_have_a_key_and_none_survives_the_store() -> None:
    assert content_key(vm("a")) is None
    view = InventoryView("dc")
    view.fill([vm("a")], cursor=1, now=0.0)
    copy = view.snapshot()[0]
    assert copy.revision is not None and "revision" not in to_json(copy)
    assert from_json(Instance, to_json(copy)).revision is None


def test_an_instance_written_again_during_its_refetch_stays_marked() -> None:
    view = InventoryView("dc")
    view.fill([vm("a")], cursor=1, now=0.0)
    view.note_writes(["a"])
    taken = view.written()  # a request starts refetching it
    view.note_writes(["a"])  # a second write lands meanwhile: that refetch may predate it
    view.refetched(taken)
    assert "a" in view.written()
    view.refetched(view.written())
    assert not view.written()


def test_an_answer_read_before_a_full_listing_never_overwrites_it() -> None:
    view = InventoryView("dc")
    view.fill([vm("a"), vm("b")], cursor=1, now=0.0)
    early = view.begin_read()  # a read by id begins
    listing = view.begin_read()  # then a full listing, which finds a stopped and b gone
    view.fill([vm("a", state=InstanceState.STOPPED)], cursor=2, now=1.0, stamp=listing)
    view.apply({"a": vm("a"), "b": vm("b")}, stamp=early)  # the read by id answers last
    assert {i.id: i.state for i in view.snapshot()} == {"a": InstanceState.STOPPED}


def test_a_request_waits_only_for_writes_and_listings_from_before_it_arrived() -> None:
    """Under a stream of writes, requests queued behind one refetch or relisting each doing another in turn
    made the last wait for all of them (DescribeVolumes p50 9 s embedded)."""
    view = InventoryView("dc")
    view.fill([vm("a"), vm("b")], cursor=1, now=0.0)
    view.note_writes(["a"])
    asked = view.begin_read()
    view.note_writes(["b"])  # after the request arrived: not its to wait for
    assert set(view.written(asked)) == {"a"} and set(view.written()) == {"a", "b"}
    view.fill_listing("disks", [], began=view.begin_read())
    view.mark_stale(["disks"])  # a write after that listing began
    assert view.listed_since("disks", asked)  # the request that asked before it needs no other listing
    assert not view.listed_since("disks", view.begin_read()) and view.needs(["disks"]) == {"disks"}
