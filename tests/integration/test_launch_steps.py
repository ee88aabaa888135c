"""The launch operation survives a crash at any step: each step after `create` runs twice, the first
outcome lost, as when a process acts on the engine and is killed before recording what it did. The
instance still ends with each new volume made once, the image's disk left out removed and no other, the
root grown and kept on termination as asked."""
from __future__ import annotations

from gateway.model import InstanceSpec, LaunchVolume

from .ovirt_env import CENTOS, Gateway
from .test_terminate_steps import EveryStepTwice

GiB = 1024 ** 3


def test_every_launch_step_repeated_makes_each_volume_once(gw: Gateway) -> None:
    scope = gw.scope()
    source = gw.driver.create_instance(scope, InstanceSpec(image_id=CENTOS, start=False,
                                                           new_volumes=[LaunchVolume("/dev/sdb", GiB)])).id
    gw.settle(60)
    assert [a.device for a in gw.driver.instance(scope, source).attachments] == ["/dev/vda", "/dev/sdb"]
    image = gw.driver.create_image(scope, source, "two-disks")
    gw.settle(60)
    assert [v.device for v in gw.driver.image(scope, image.id).volumes] == ["/dev/vda", "/dev/sdb"]

    twice = EveryStepTwice(gw.runner.kinds["ovirt.run"])
    gw.runner.register(twice)
    spec = InstanceSpec(image_id=image.id, root_volume_bytes=12 * GiB, root_delete_on_termination=False,
                        suppressed_devices=["/dev/sdb"], new_volumes=[LaunchVolume("/dev/sdc", 2 * GiB, False),
                                                                      LaunchVolume("/dev/vdd", GiB)])
    vm_id = gw.driver.create_instance(scope, spec).id
    gw.settle(120)

    assert {"wait_for_disks", "drop_devices", "add_volumes", "grow_root", "start"} <= set(twice.ran)
    instance = gw.driver.instance(scope, vm_id)
    assert instance.state.value == "running"
    attached = {a.device: (a.delete_on_termination, a.interface) for a in instance.attachments}
    assert attached == {"/dev/vda": (False, "virtio"), "/dev/sdc": (False, "virtio_scsi"),
                        "/dev/vdd": (True, "virtio")}
    sizes = {v.attachments[0].device: v.size_bytes for v in gw.driver.volumes(scope)
             if v.attachments and v.attachments[0].instance_id == vm_id}
    assert sizes == {"/dev/vda": 12 * GiB, "/dev/sdc": 2 * GiB, "/dev/vdd": GiB}
