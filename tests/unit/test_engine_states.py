"""The per-engine-state tables: every engine status has a row, the driver's mapping and the canonical
state machine agree with them, and the simulator (which follows the engine's ActionUtils matrix) accepts
exactly the VM actions a row says it accepts now."""
from __future__ import annotations

from typing import Callable

import pytest

from drivers.ovirt import mapping
from drivers.ovirt.simulator import lifecycle, seed
from drivers.ovirt.simulator.clock import Clock
from drivers.ovirt.simulator.control import VM_STATUSES
from drivers.ovirt.simulator.entities import Vm
from drivers.ovirt.simulator.errors import ApiError
from drivers.ovirt.simulator.store import Store
from gateway import engine_states
from gateway.engine_states import (DISK, SNAPSHOT, TEMPLATE, VM, image_state, instance_accepts, instance_offers,
                                   volume_state)
from gateway.lifecycle import ACTIONS
from gateway.model import Image, Instance, InstanceState as S, ResourceState as R, Volume, VolumeAttachment

CENTOS = "7e000000-0000-4000-8000-000000000011"
SIMULATED: dict[str, Callable[[Store, Vm], None]] = {
    "start": lambda store, vm: lifecycle.start(store, vm, None, None, False),
    "stop": lambda store, vm: lifecycle.stop(store, vm, None, None),
    "reboot": lambda store, vm: lifecycle.reboot(store, vm, None),
    "suspend": lambda store, vm: lifecycle.suspend(store, vm, None),
}


def test_every_engine_status_has_a_row_and_the_mapping_reads_it() -> None:
    assert set(VM) == set(VM_STATUSES)
    assert set(DISK) == set(TEMPLATE) == {"ok", "locked", "illegal"}
    assert set(SNAPSHOT) == {"ok", "locked", "in_preview"}
    for status, row in VM.items():
        assert mapping.vm_state(status)[0] is row.model


def test_the_canonical_machine_holds_every_action_a_status_offers() -> None:
    for status, row in VM.items():
        offered = row.offered - {"capture", "attach"}
        assert offered <= set(ACTIONS[row.model]), status  # type: ignore[index]


@pytest.mark.parametrize("status", VM_STATUSES)
def test_the_engine_accepts_what_a_row_accepts_now_and_refuses_what_it_does_not_accept(status: str) -> None:
    row = VM[status]
    for action, simulate in SIMULATED.items():
        store = Store(Clock(frozen=True, start=1_700_000_000))
        seed.load(store)
        admin = next(u for u in store.users.values() if u.admin)
        template = store.templates[CENTOS]
        vm = lifecycle.create_vm(store, name="unit", cluster_id=template.cluster_id or "", template=template,
                                 owner=admin, settle_now=True)
        vm.status = status
        if action in row.now:
            simulate(store, vm)
        elif not row.accepts(action):
            with pytest.raises(ApiError) as refused:
                simulate(store, vm)
            assert refused.value.status == 409, (status, action)


def test_a_rebooting_vm_offers_no_reboot_and_takes_one_as_done() -> None:
    rebooting = Instance(id="vm", name="vm", state=S.RUNNING, backend_state="reboot_in_progress")
    assert instance_offers(rebooting) == ["stop", "destroy"]
    assert instance_accepts(rebooting, "reboot") and engine_states.instance_already(rebooting, "reboot")


def test_what_the_gateway_itself_gives_overrides_the_engine_status() -> None:
    terminating = Instance(id="vm", name="vm", state=S.SHUTTING_DOWN, backend_state="up")
    assert instance_offers(terminating) == [] and engine_states.instance_already(terminating, "destroy")
    launching = Instance(id="vm", name="vm", state=S.PENDING, backend_state="down")
    assert instance_offers(launching) == ["destroy", "attach"] and engine_states.instance_already(launching, "start")
    locked = Instance(id="vm", name="vm", state=S.PENDING, backend_state="image_locked")
    assert instance_offers(locked) == ["start", "destroy", "attach"] and "start" in engine_states.instance_state(locked).later


def test_volumes_and_images_offer_by_their_status() -> None:
    creating = Volume(id="d", name="d", size_bytes=1, state=R.PENDING, backend_state="locked")
    assert volume_state(creating).later == {"attach", "delete"} and not volume_state(creating).now
    deleting = Volume(id="d", name="d", size_bytes=1, state=R.DELETING, backend_state="locked")
    assert not volume_state(deleting).offered
    in_use = Volume(id="d", name="d", size_bytes=1, state=R.IN_USE, backend_state="ok",
                    attachments=[VolumeAttachment("d", "vm")])
    assert volume_state(in_use).offered == {"detach"}
    assert image_state(Image(id="t", name="t", state=R.PENDING, backend_state="locked")).offered == {"delete"}
    assert image_state(Image(id="t", name="t", backend_state="ok")).offered == {"launch", "delete"}
    assert image_state(Image(id="t", name="t", state=R.ERROR, backend_state="weird")).offered == {"delete"}


def test_a_vm_its_launch_will_start_offers_no_start() -> None:
    launching = Instance(id="vm", name="vm", state=S.PENDING, backend_state="image_locked",
                         extra={engine_states.LAUNCHING: True})
    assert instance_offers(launching) == ["destroy", "attach"] and engine_states.instance_already(launching, "start")
