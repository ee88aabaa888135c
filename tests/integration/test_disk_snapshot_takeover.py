"""A CreateSnapshot of a volume attached to no instance (a disk copy) whose gateway is killed with -9 after the
engine began the copy and before the gateway recorded it (the simulator holds the engine's answer to
`POST disks/{id}/copy`, and the gateway dies waiting for it). The copy is never a volume, not even for a moment;
the gateway started again on the same store finds it by its alias and lists it as the snapshot it is."""
from __future__ import annotations

import threading
import time
from typing import Any

from .gateway_process import start
from .test_terminate_takeover import WAIT, backend_id, ec2_client, engine_and_config

__all__ = ["engine_and_config"]  # the fixture, shared with the terminate takeover tests


def copies_named(simulator: Any, prefix: str) -> list[str]:
    store = simulator.store
    with store.lock:
        return [d.id for d in store.disks.values() if d.name.startswith(prefix)]


def test_a_disk_copy_snapshot_killed_before_its_record_is_a_snapshot_after_restart(engine_and_config) -> None:
    simulator, config = engine_and_config
    first, url = start(config)
    try:
        ec2 = ec2_client(url)
        zone = ec2.describe_availability_zones()["AvailabilityZones"][0]["ZoneName"]
        volume_id = ec2.create_volume(Size=1, AvailabilityZone=zone)["VolumeId"]
        ec2.get_waiter("volume_available").wait(VolumeIds=[volume_id], WaiterConfig=WAIT)
        simulator.faults.configure({"hold": {"path": r"/disks/[^/]+/copy$", "method": "POST", "seconds": 60,
                                             "count": 1}})
        asking = threading.Thread(target=lambda: _quietly(ec2.create_snapshot, VolumeId=volume_id), daemon=True)
        asking.start()
        deadline = time.monotonic() + 30
        while not copies_named(simulator, "cloudgw-snapshot-"):  # the engine copies; its answer is held back
            assert time.monotonic() < deadline, "the engine never began the copy"
            time.sleep(0.05)
        (copy_id,) = copies_named(simulator, "cloudgw-snapshot-")
        volumes = {backend_id(v["VolumeId"]) for v in ec2.describe_volumes()["Volumes"]}
        assert copy_id not in volumes  # while the request still waits for the engine
    finally:
        first.kill()  # -9 while the gateway waits for the copy's answer: nothing recorded the copy's id
        first.wait()
    simulator.faults.clear()

    second, url = start(config)
    try:
        ec2 = ec2_client(url)
        volumes = {backend_id(v["VolumeId"]) for v in ec2.describe_volumes()["Volumes"]}
        assert copy_id not in volumes and backend_id(volume_id) in volumes
        snapshots = {backend_id(s["SnapshotId"]): s for s in ec2.describe_snapshots(OwnerIds=["self"])["Snapshots"]}
        assert copy_id in snapshots and snapshots[copy_id]["VolumeId"] == volume_id
        snapshot_id = snapshots[copy_id]["SnapshotId"]
        ec2.get_waiter("snapshot_completed").wait(SnapshotIds=[snapshot_id], WaiterConfig=WAIT)
        assert copy_id not in {backend_id(v["VolumeId"]) for v in ec2.describe_volumes()["Volumes"]}
        ec2.delete_snapshot(SnapshotId=snapshot_id)
        assert copy_id not in {backend_id(s["SnapshotId"]) for s in ec2.describe_snapshots()["Snapshots"]}
        deadline = time.monotonic() + 30
        while copy_id in {backend_id(v["VolumeId"]) for v in ec2.describe_volumes()["Volumes"]} or \
                copy_id in simulator.store.disks:  # the engine settles its removal as requests come in
            assert time.monotonic() < deadline, "the snapshot's disk was never removed"
            time.sleep(0.2)
    finally:
        second.kill()
        second.wait()


def _quietly(call: Any, **params: Any) -> None:
    try:
        call(**params)
    except Exception:  # the gateway is killed while it waits: the client sees the connection drop
        pass
