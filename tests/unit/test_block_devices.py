"""Launch block device mappings and device names: RunInstances' mappings read into the launch spec
(frontends.ec2.block_devices), the oVirt driver's names for a VM's or a template's disks (device_names),
and an image's mappings as boto3 parses them."""
from __future__ import annotations

import pytest

from drivers.ovirt import device_names
from frontends.ec2 import block_devices
from frontends.ec2.errors import Ec2Error
from frontends.ec2.present import image_item
from gateway.model import Image, ImageVolume, InstanceSpec, LaunchVolume, VolumeAttachment

GIB = 1 << 30
SNAP_ROOT, SNAP_DATA = "5a000000-0000-4000-8000-000000000001", "5a000000-0000-4000-8000-000000000002"
IMAGE = Image(id="7e000000-0000-4000-8000-000000000011", name="two-disks", root_device="/dev/vda",
              volumes=[ImageVolume("/dev/vda", 10 * GIB, bootable=True, snapshot_id=SNAP_ROOT),
                       ImageVolume("/dev/sdb", GIB, snapshot_id=SNAP_DATA)])


def spec_of(*mappings: dict) -> InstanceSpec:
    spec = InstanceSpec(image_id=IMAGE.id)
    block_devices.apply(list(mappings), IMAGE, spec)
    return spec


def test_names_follow_the_bus_and_keep_what_was_asked_for() -> None:
    boot = VolumeAttachment("d1", "vm", bootable=True, interface="virtio")
    scsi = VolumeAttachment("d2", "vm", interface="virtio_scsi")
    asked = VolumeAttachment("d3", "vm", device="/dev/sdb", interface="virtio_scsi")
    virtio = VolumeAttachment("d4", "vm", interface="virtio")
    device_names.name_all([scsi, asked, virtio, boot])
    assert [a.device for a in (boot, scsi, asked, virtio)] == ["/dev/vda", "/dev/sdc", "/dev/sdb", "/dev/vdb"]
    for bus in ("virtio_scsi", "ide", "sata"):
        root = VolumeAttachment("d1", "vm", bootable=True, interface=bus)
        device_names.name_all([root])
        assert device_names.root_of([root]) == "/dev/sda"
    assert device_names.interface_for("/dev/vdc") == "virtio"
    assert device_names.interface_for("/dev/xvdf") == "virtio_scsi"


def test_root_new_volumes_and_suppressed_disks_fill_the_spec() -> None:
    spec = spec_of({"DeviceName": "/dev/vda", "Ebs": {"VolumeSize": 20, "DeleteOnTermination": False,
                                                      "SnapshotId": "snap-" + SNAP_ROOT.replace("-", "")}},
                   {"DeviceName": "/dev/sdb", "NoDevice": ""},
                   {"DeviceName": "/dev/sdc", "Ebs": {"VolumeSize": 2}},
                   {"DeviceName": "/dev/xvdd", "Ebs": {"VolumeSize": 3, "DeleteOnTermination": False}},
                   {"DeviceName": "/dev/sdz", "NoDevice": ""})  # nothing of that name: nothing to leave out
    assert (spec.root_volume_bytes, spec.root_delete_on_termination) == (20 * GIB, False)
    assert spec.suppressed_devices == ["/dev/sdb"]
    assert spec.new_volumes == [LaunchVolume("/dev/sdc", 2 * GIB, True), LaunchVolume("/dev/xvdd", 3 * GIB, False)]
    assert spec_of({"DeviceName": "/dev/sdb", "Ebs": {"VolumeSize": 1, "DeleteOnTermination": True}}).new_volumes == []


@pytest.mark.parametrize("mapping, code", [
    ({"DeviceName": "/dev/vda", "NoDevice": ""}, "InvalidBlockDeviceMapping"),
    ({"DeviceName": "/dev/vda", "Ebs": {"VolumeSize": 5}}, "InvalidBlockDeviceMapping"),
    ({"DeviceName": "sdb", "Ebs": {"VolumeSize": 5}}, "InvalidBlockDeviceMapping"),
    ({"DeviceName": "/dev/sdc"}, "InvalidBlockDeviceMapping"),
    ({"DeviceName": "/dev/sdc", "Ebs": {"VolumeSize": 1}, "NoDevice": ""}, "InvalidBlockDeviceMapping"),
    ({"Ebs": {"VolumeSize": 1}}, "MissingParameter"),
    ({"DeviceName": "/dev/sdc", "Ebs": {}}, "MissingParameter"),
    ({"DeviceName": "/dev/sdc", "Ebs": {"VolumeSize": 16385}}, "InvalidParameterValue"),
    ({"DeviceName": "/dev/sdc", "Ebs": {"VolumeSize": 1, "VolumeType": "io2"}}, "InvalidParameterValue"),
    ({"DeviceName": "/dev/sdc", "Ebs": {"VolumeSize": 1, "Throughput": 125}}, "InvalidParameterValue"),
    ({"DeviceName": "/dev/sdc", "Ebs": {"SnapshotId": "snap-" + SNAP_DATA.replace("-", "")}}, "UnsupportedOperation"),
    ({"DeviceName": "/dev/vda", "Ebs": {"SnapshotId": "snap-nonsense"}}, "UnsupportedOperation"),
    ({"DeviceName": "/dev/sdb", "Ebs": {"DeleteOnTermination": False}}, "UnsupportedOperation"),
    ({"DeviceName": "/dev/sdb", "Ebs": {"VolumeSize": 5}}, "UnsupportedOperation"),
    ({"DeviceName": "/dev/sdc", "Ebs": {"VolumeSize": 1, "KmsKeyId": "k"}}, "UnsupportedOperation"),
    ({"DeviceName": "/dev/sdc", "VirtualName": "ephemeral0"}, "UnsupportedOperation"),
])
def test_mappings_the_engine_cannot_honour_are_refused(mapping: dict, code: str) -> None:
    with pytest.raises(Ec2Error) as refused:
        spec_of(mapping)
    assert refused.value.code == code


def test_an_image_shows_each_disk_with_its_snapshot() -> None:
    item = image_item(IMAGE)
    assert item["RootDeviceName"] == "/dev/vda"
    assert item["BlockDeviceMappings"] == [
        {"DeviceName": "/dev/vda", "Ebs": {"DeleteOnTermination": True, "VolumeSize": 10, "VolumeType": "standard",
                                           "Encrypted": False, "SnapshotId": "snap-" + SNAP_ROOT.replace("-", "")}},
        {"DeviceName": "/dev/sdb", "Ebs": {"DeleteOnTermination": True, "VolumeSize": 1, "VolumeType": "standard",
                                           "Encrypted": False, "SnapshotId": "snap-" + SNAP_DATA.replace("-", "")}}]
