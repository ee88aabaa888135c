"""A launch that fails for good after its VM was made: the VM is terminated, as AWS ends such an instance.

AWS shows an instance whose launch failed (a volume that could not be made, an internal error) as
`terminated` with a StateReason `Server.InternalError`, and keeps nothing of it running or stopped. Here the
failed `ovirt.run` hands the VM to the durable terminate operation (`ovirt.terminate`: stop, keep the
volumes whose DeleteOnTermination is false, remove, tombstone), whose tombstone carries the launch's error
(`Instance.extra[LAUNCH_ERROR]`) for each frontend to show. The termination's id is derived from the
launch, so a failing step repeated after a crash never begins a second one.
"""
from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from gateway.errors import GatewayError, NotFound
from gateway.model import LAUNCH_ERROR, to_json
from gateway.operations import Operation

if TYPE_CHECKING:
    from .operations import OvirtOperation

TERMINATE = "ovirt.terminate"
SCOPE_KEYS = ("provider", "engine", "datacenter", "user_level", "request_id", "place")
NAMESPACE = uuid.UUID("0f6f2a8e-3b0e-4d55-9a43-1c6e2d7b5a90")


def termination_id(launch_id: str) -> str:
    return uuid.uuid5(NAMESPACE, f"{launch_id} terminate").hex


def terminate(step: "OvirtOperation", op: Operation, message: str) -> None:
    """Begin terminating the VM of a failed launch (once); a VM already gone needs nothing."""
    vm_id = op.data.get("vm_id")
    operations = step.driver.operations
    if not vm_id or operations.get(termination_id(op.id)) is not None:
        return
    try:
        scope = step.scope(op)
        current = step.driver.instance(scope, vm_id)
    except NotFound:
        return
    except GatewayError:  # the provider is gone or the engine unreachable: the VM stays, as before
        return
    current.extra = {**current.extra, LAUNCH_ERROR: message}
    operations.submit(TERMINATE, operation_id=termination_id(op.id), target=vm_id, owner=op.owner,
                      secret=op.secret, data={**{k: op.data[k] for k in SCOPE_KEYS if k in op.data},
                                              "vm_id": vm_id, "instance": to_json(current)})

