"""frontends/ec2/item_cache.py: an instance item is made once while nothing it shows changes, made again as soon
as something does, and an instance's churn replaces its slot instead of growing the cache."""
from __future__ import annotations

from gateway.inventory import InventoryView
from gateway.model import Instance, InstanceState

from frontends.ec2.item_cache import ItemCache, instance_items
from frontends.ec2.present import Catalog, instance_item


def view_of(*instances: Instance) -> InventoryView:
    view = InventoryView("dc")
    view.fill(instances, cursor=1, now=0.0)
    return view


def test_an_item_is_made_once_while_nothing_it_shows_changes() -> None:
    cache, catalog = ItemCache(), Catalog(zones={"r": "zone-a"}, owner_id="123")
    view = view_of(Instance(id="a", name="a", state=InstanceState.RUNNING, realm_id="r"))
    first = list(instance_items(view.snapshot(), catalog, cache))
    again = list(instance_items(view.snapshot(), catalog, cache))
    assert again[0] is first[0] and first[0] == instance_item(view.snapshot()[0], catalog)

    tagged = view.snapshot()
    tagged[0].tags["role"] = "db"
    changed = list(instance_items(tagged, catalog, cache))
    assert changed[0] is not first[0] and {"Key": "role", "Value": "db"} in changed[0]["Tags"]
    moved = list(instance_items(view.snapshot(), Catalog(zones={"r": "zone-b"}, owner_id="123"), cache))
    assert moved[0]["Placement"]["AvailabilityZone"] == "zone-b"
    assert len(cache) == 1  # one slot for the instance, whatever it went through


def test_instances_not_from_a_view_are_presented_afresh_and_the_cache_is_bounded() -> None:
    cache, catalog = ItemCache(limit=2), Catalog()
    fresh = Instance(id="x", name="x", state=InstanceState.STOPPED)
    assert list(instance_items([fresh], catalog, cache)) == [instance_item(fresh, catalog)] and len(cache) == 0
    view = view_of(*(Instance(id=n, name=n, state=InstanceState.RUNNING) for n in "abc"))
    list(instance_items(view.snapshot(), catalog, cache))
    assert len(cache) == 2
