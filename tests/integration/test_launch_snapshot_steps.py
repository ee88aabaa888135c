"""A launch's volumes from snapshots (`Ebs.SnapshotId`) survive a crash at any step: every step of the launch
and of the copies it queues runs twice, the first outcome lost, as when a process acts on the engine and is
killed before recording what it did. Each snapshot is still copied once (a VM snapshot through one helper VM,
a disk-copy snapshot with one disk copy), each copy attached once under its device before the first start,
with its own DeleteOnTermination and the launch's volume tags, and no helper VM is left behind."""
from __future__ import annotations

from gateway.model import InstanceSpec, LaunchVolume, VolumeSpec

from .ovirt_env import CENTOS, Gateway
from .test_terminate_steps import EveryStepTwice

GiB = 1024 ** 3


def test_every_step_repeated_copies_each_snapshot_once_and_attaches_it_before_the_start(gw: Gateway) -> None:
    scope, engine = gw.scope(), gw.engine.simulator.store
    source = gw.driver.create_instance(scope, InstanceSpec(image_id=CENTOS, start=False,
                                                           new_volumes=[LaunchVolume("/dev/sdb", 2 * GiB)])).id
    loose = gw.driver.create_volume(scope, VolumeSpec(size_bytes=GiB, name="loose"))
    gw.settle(60)
    data = next(a.volume_id for a in gw.driver.instance(scope, source).attachments if a.device == "/dev/sdb")
    of_vm = gw.driver.create_snapshot(scope, source, "data", volume_ids=[data])
    of_loose = gw.driver.snapshot_volume(scope, loose.id, "loose")
    gw.settle(20)
    disks_before = set(engine.disks)

    launch, copies = (EveryStepTwice(gw.runner.kinds[k]) for k in ("ovirt.run", "ovirt.volume_from_snapshot"))
    gw.runner.register(launch)
    gw.runner.register(copies)
    spec = InstanceSpec(image_id=CENTOS, volume_tags={"suite": "snap"}, new_volumes=[
        LaunchVolume("/dev/sdc", 3 * GiB, False, snapshot_id=of_vm.id),
        LaunchVolume("/dev/vdd", GiB, snapshot_id=of_loose.id)])
    vm_id = gw.driver.create_instance(scope, spec).id
    gw.settle(120)

    assert "snapshot_volumes" in launch.ran and {"clone", "wait_for_copy", "grow", "detach"} <= set(copies.ran)
    instance = gw.driver.instance(scope, vm_id)
    assert instance.state.value == "running"
    attached = {a.device: (a.delete_on_termination, a.interface) for a in instance.attachments}
    assert attached == {"/dev/vda": (True, "virtio"), "/dev/sdc": (False, "virtio_scsi"),
                        "/dev/vdd": (True, "virtio")}
    made = set(engine.disks) - disks_before
    assert made == {a.volume_id for a in instance.attachments}  # the boot disk and one copy of each snapshot
    assert not [vm for vm in engine.vms.values() if vm.comment.startswith("cloudgw-helper-")]
    volumes = {v.attachments[0].device: v for v in gw.driver.volumes(scope)
               if v.attachments and v.attachments[0].instance_id == vm_id}
    assert {d: v.size_bytes for d, v in volumes.items() if d != "/dev/vda"} == {"/dev/sdc": 3 * GiB, "/dev/vdd": GiB}
    assert all(v.tags == {"suite": "snap"} for v in volumes.values())
