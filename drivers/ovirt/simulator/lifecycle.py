"""The VM state machine: which actions each status allows, and the timed steps that follow them.

Actions validate against the engine's blacklist matrix (ActionUtils.java) and answer with the
engine's messages; the state then changes through steps queued on the store's clock. Durations are
the real engine's typical ones, in simulated seconds (the clock's speed factor shrinks them).
"""

from __future__ import annotations

from typing import Any

from . import events
from .entities import Attachment, Disk, Job, Nic, Snapshot, Template, User, Vm
from .errors import conflict, failed
from .permissions import CREATOR_ROLE
from .store import Store

TIMINGS: dict[str, float] = {
    "wait_for_launch": 3.0,    # host accepted the run request; qemu starting
    "powering_up": 10.0,       # firmware and guest boot until the guest agent says hello
    "guest_report": 5.0,       # agent reports IPs, fqdn and OS a little after `up`
    "restoring_state": 5.0,
    "powering_down": 5.0,      # ACPI shutdown
    "stop": 1.0,               # power off
    "saving_state": 5.0,
    "reboot": 8.0,
    "snapshot": 5.0,
    "disk_create": 5.0,
    "disk_remove": 3.0,
    "clone_copy": 45.0,        # clone=true copies the template's disks in full
    "template_copy": 20.0,     # a new template's disks are copied (collapsed) from its VM's
    "snapshot_clone": 15.0,    # a VM cloned from a snapshot: the snapshot's disks copied in full
    "disk_copy": 10.0,         # a disk copied into a new floating disk
}

RUNNING = {"up", "powering_up", "wait_for_launch", "reboot_in_progress", "powering_down", "migrating",
           "paused", "saving_state", "restoring_state", "not_responding", "unknown"}


def _locked(action: str) -> Exception:
    return conflict(f"Cannot {action} VM: VM is locked. Please try again in a few minutes.")


def _bump(vm: Vm) -> None:
    """A new course for the VM: steps queued for the previous one are dropped."""
    vm.generation += 1
    vm.touch()


def _set(store: Store, vm: Vm, status: str, **changes: Any) -> None:
    vm.status = status
    for name, value in changes.items():
        setattr(vm, name, value)
    vm.touch()


def _finish(store: Store, job: Job | None, at: float) -> None:
    if job is not None:
        store.schedule(at, lambda t: store.finish_job(job, t))


# -- creation -----------------------------------------------------------------------------------------

def create_vm(store: Store, *, name: str, cluster_id: str, template: Template, owner: User,
              clone: bool = False, settle_now: bool = False, index: int | None = None,
              vm_id: str | None = None, **fields: Any) -> Vm:
    """Create a VM from `template`: NICs and disks are copied, the VM is `image_locked` while the
    disks are copied (unless `settle_now`, used for seeding), then `down`."""
    now = store.now()
    vm = Vm(id=vm_id or store.new_id(), name=name, cluster_id=cluster_id, template_id=template.id,
            original_template_id=template.id, index=index or store.next_vm_index(),
            memory=template.memory, sockets=template.sockets, cores=template.cores,
            threads=template.threads, os_type=template.os_type, creation_time=now,
            initialization=dict(template.initialization) if template.initialization else None)
    for key, value in fields.items():
        if value is not None:
            setattr(vm, key, value)
    vm.user_roles[owner.id] = CREATOR_ROLE
    for tnic in template.nics:
        vm.nics.append(Nic(store.new_id(), tnic.name, store.next_mac(), tnic.vnic_profile_id, tnic.interface))
    copying = bool(template.attachments) and not settle_now
    for att in template.attachments:
        tdisk = store.disks[att.disk_id]
        disk = Disk(store.new_id(), tdisk.name, tdisk.storage_domain_id, tdisk.provisioned_size,
                    actual_size=tdisk.actual_size if clone else 0, format=tdisk.format,
                    sparse=tdisk.sparse, status="locked" if copying else "ok", image_id=store.new_id(),
                    owner_vm_id=vm.id)
        store.disks[disk.id] = disk
        vm.attachments.append(Attachment(disk.id, att.bootable, att.interface))
    vm.snapshots.append(Snapshot(store.new_id(), "Active VM", now, snapshot_type="active"))
    store.add_vm(vm)
    events.vm_added(store, vm, copying)
    if copying:
        vm.status = "image_locked"
        delay = TIMINGS["clone_copy"] if clone else template.copy_seconds

        def copied(at: float) -> None:
            for a in vm.attachments:
                store.disks[a.disk_id].status = "ok"
            _set(store, vm, "down")
            events.vm_add_finished(store, vm)
        store.schedule(now + delay, copied, vm)
    return vm


# -- actions ------------------------------------------------------------------------------------------

def start(store: Store, vm: Vm, job: Job | None, initialization: dict[str, Any] | None,
          run_once: bool) -> None:
    status = vm.status
    if status == "image_locked":
        raise _locked("run")
    if status in ("saving_state", "restoring_state"):
        raise conflict("Cannot run VM. VM is saving/restoring state.")
    if status not in ("down", "suspended", "paused"):
        raise conflict("Cannot run VM. VM is running.")
    if any(store.disks[a.disk_id].status == "locked" for a in vm.attachments if a.disk_id in store.disks):
        raise conflict("Cannot run VM. Disk is locked. Please try again later.")
    now = store.now()
    if status == "paused":
        _bump(vm)
        _set(store, vm, "up")
        events.vm_started(store, vm)
        _finish(store, job, now)
        return
    host = store.host_for(vm.cluster_id)
    if host is None:
        raise conflict("Cannot run VM. There is no host that satisfies current scheduling constraints. "
                       "See below for details:")
    if initialization is not None:
        merged = dict(vm.initialization or {})
        merged.update(initialization)
        vm.initialization = merged
    _bump(vm)
    resuming = status == "suspended"
    _set(store, vm, "wait_for_launch", host_id=host.id, start_time=now, run_once=run_once,
         guest_reported=False, stop_reason=None)
    events.vm_started(store, vm)
    t = now + TIMINGS["wait_for_launch"]
    store.schedule(t, lambda at: _set(store, vm, "powering_up"), vm)
    if resuming:
        store.schedule(t + 1.0, lambda at: _set(store, vm, "restoring_state"), vm)
        t += 1.0 + TIMINGS["restoring_state"]
    else:
        t += TIMINGS["powering_up"]
    store.schedule(t, lambda at: _came_up(store, vm), vm)
    store.schedule(t + TIMINGS["guest_report"], lambda at: _set(store, vm, "up", guest_reported=True), vm)
    _finish(store, job, t)


def _came_up(store: Store, vm: Vm) -> None:
    _set(store, vm, "up")
    events.vm_up(store, vm)  # the guest's report that follows logs nothing


def _go_down(store: Store, vm: Vm, at: float, reason: str | None) -> None:
    events.vm_down(store, vm)  # still on its host: the event links it
    _set(store, vm, "down", host_id=None, stop_time=at, guest_reported=False, run_once=False,
         stop_reason=reason)


def stop(store: Store, vm: Vm, job: Job | None, reason: str | None, verb: str = "stop") -> None:
    status = vm.status
    if status == "image_locked":
        raise _locked(verb)
    if status in ("saving_state", "restoring_state"):
        raise conflict(f"Cannot {verb} VM. VM is saving/restoring state.")
    if status == "down":
        raise conflict(f"Cannot {verb} VM. VM is not running.")
    now = store.now()
    _bump(vm)
    events.vm_stopping(store, vm, graceful=False)
    if status == "suspended":       # stopping a suspended VM discards its saved state
        _go_down(store, vm, now, reason)
        _finish(store, job, now)
        return
    _set(store, vm, "powering_down", guest_reported=False)
    at = now + TIMINGS["stop"]
    store.schedule(at, lambda t: _go_down(store, vm, t, reason), vm)
    _finish(store, job, at)


def shutdown(store: Store, vm: Vm, job: Job | None, reason: str | None) -> None:
    """A graceful shutdown when the guest is up; otherwise the engine falls back to stop."""
    if vm.status != "up":
        stop(store, vm, job, reason, verb="shutdown")
        return
    now = store.now()
    _bump(vm)
    events.vm_stopping(store, vm, graceful=True)
    _set(store, vm, "powering_down")
    at = now + TIMINGS["powering_down"]
    store.schedule(at, lambda t: _go_down(store, vm, t, reason), vm)
    _finish(store, job, at)


def suspend(store: Store, vm: Vm, job: Job | None) -> None:
    if vm.status == "image_locked":
        raise _locked("hibernate")
    if vm.status != "up":
        raise conflict("Cannot hibernate VM. VM is not up.")
    now = store.now()
    _bump(vm)
    _set(store, vm, "saving_state", guest_reported=False)
    at = now + TIMINGS["saving_state"]
    store.schedule(at, lambda t: _set(store, vm, "suspended", host_id=None), vm)
    _finish(store, job, at)


def reboot(store: Store, vm: Vm, job: Job | None) -> None:
    if vm.status == "image_locked":
        raise _locked("reboot")
    if vm.status in ("down", "suspended"):
        raise conflict("Cannot reboot VM. VM is not running.")
    if vm.status not in ("up", "powering_up"):
        raise conflict("Cannot reboot VM. VM is not up.")
    now = store.now()
    _bump(vm)
    _set(store, vm, "reboot_in_progress", guest_reported=False)
    events.vm_rebooted(store, vm)
    at = now + TIMINGS["reboot"]
    store.schedule(at, lambda t: _set(store, vm, "up"), vm)
    store.schedule(at + TIMINGS["guest_report"], lambda t: _set(store, vm, "up", guest_reported=True), vm)
    _finish(store, job, at)


def remove(store: Store, vm: Vm, detach_only: bool = False) -> None:
    """Remove a VM: gone from the API at once; its disks stay `locked` briefly, then disappear."""
    if vm.delete_protected:
        raise conflict("Cannot remove VM. Delete protection is enabled. In order to delete, disable "
                       "Delete protection first.")
    if vm.status == "suspended":
        raise conflict("Cannot remove VM. VM is not down.")
    if vm.status not in ("down", "image_locked", "unassigned"):
        raise conflict("Cannot remove VM. VM is running.")
    now = store.now()
    _bump(vm)
    store.remove_vm(vm)
    events.vm_removed(store, vm)
    disk_ids = [a.disk_id for a in vm.attachments]
    for disk_id in disk_ids:
        disk = store.disks.get(disk_id)
        if disk is None:
            continue
        if detach_only:
            disk.owner_vm_id = None
        else:
            disk.status = "locked"
    if not detach_only:
        def drop(at: float) -> None:
            for disk_id in disk_ids:
                store.disks.pop(disk_id, None)
        store.schedule(now + TIMINGS["disk_remove"], drop)


def add_snapshot(store: Store, vm: Vm, description: str, persist_memory: bool,
                 job: Job | None, config: dict[str, Any], disk_ids: list[str] | None = None) -> Snapshot:
    """Snapshot the VM's disks, or only `disk_ids` (CreateSnapshotForVm's validation: each must exist and be
    attached to the VM); the disks left out are not locked and the snapshot does not list them."""
    attached = [a.disk_id for a in vm.attachments]
    if disk_ids:
        absent = [d for d in disk_ids if d not in store.disks]
        if absent:
            raise conflict(f"Cannot create Snapshot. The following disk(s) do not exist: {', '.join(absent)}.")
        foreign = [store.disks[d].name for d in disk_ids if d not in attached]
        if foreign:
            raise conflict(f"Cannot create Snapshot. The following disk(s) are not attached to VM {vm.name}: "
                           f"{', '.join(foreign)}.")
    if vm.status == "image_locked":
        raise _locked("create snapshot for")
    if vm.status in ("suspended", "saving_state", "restoring_state", "migrating"):
        raise failed(409, f"Cannot create Snapshot. VM status is illegal: {vm.status}.")
    if any(s.status == "locked" for s in vm.snapshots):
        raise conflict("Cannot create Snapshot. Snapshot is currently being created for VM "
                       f"{vm.name}.")
    now = store.now()
    snap = Snapshot(store.new_id(), description, now, status="locked",
                    persist_memorystate=persist_memory and vm.status == "up", vm_config=config,
                    disk_ids=[d for d in attached if not disk_ids or d in disk_ids])
    snap.disk_sizes = {d: store.disks[d].provisioned_size for d in snap.disk_ids if d in store.disks}
    vm.snapshots.append(snap)
    events.snapshot_creating(store, vm, description)
    locked = [store.disks[d] for d in snap.disk_ids if d in store.disks]
    for disk in locked:
        disk.status = "locked"
    vm.touch()

    def done(at: float) -> None:
        snap.status = "ok"
        for disk in locked:
            if disk.status == "locked":
                disk.status = "ok"
        vm.touch()
        events.snapshot_created(store, vm, description)
        if job is not None:
            store.finish_job(job, at)
    store.schedule(now + TIMINGS["snapshot"], done)
    return snap


def remove_snapshot(store: Store, vm: Vm, snap: Snapshot) -> None:
    if snap.snapshot_type == "active":
        raise conflict("Cannot remove Snapshot. Snapshot of type Active VM cannot be removed.")
    if snap.status == "locked" or any(s.status == "locked" for s in vm.snapshots):  # vmNotDuringSnapshot
        raise conflict("Cannot remove Snapshot. Snapshot is currently being created for VM "
                       f"{vm.name}.")
    snap.status = "locked"
    vm.touch()
    events.snapshot_removing(store, vm, snap.description)

    def gone(at: float) -> None:
        if snap in vm.snapshots:
            vm.snapshots.remove(snap)
        vm.touch()
        if store.vms.get(vm.id) is vm:
            events.snapshot_removed(store, vm, snap.description)
    store.schedule(store.now() + TIMINGS["snapshot"], gone)

