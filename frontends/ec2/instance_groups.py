"""The groups ModifyInstanceAttribute `GroupId.N` gives an instance: those of its primary interface's port.

On EC2 an instance's groups are its primary interface's; here that is its first NIC, whose port on the
network provider's subnet carries them. An instance on a logical network (the read-only views) has the
allow-all `default` group only, which cannot change (UnsupportedOperation).
"""
from __future__ import annotations

from typing import Any

from gateway.model import Instance

from . import ids, networks
from .call import Call
from .errors import Ec2Error
from .provider_networks import ProviderNetworks


def requested(call: Call, instance: Instance, given: list[Any]) -> list[str]:
    """The backend ids of the groups `given` names, all of the VPC of the instance's primary interface."""
    if not given:
        raise Ec2Error("MissingParameter", "Name at least one security group (GroupId.N)")
    provided = ProviderNetworks.of(call, groups=True, changing=True)
    primary = instance.interfaces[0] if instance.interfaces else None
    subnet = next((s for s in provided.subnets if primary is not None and s.network_id == primary.network_id), None)
    if subnet is None:
        raise Ec2Error("UnsupportedOperation", f"The instance {ids.instance_id(instance.id)} is on a logical network: "
                                               "its default group cannot be changed")
    chosen = []
    for text in given:
        (group_id,) = networks.decode_ids("sg", [str(text)], "GroupId") or [""]
        group = next((g for g in provided.groups if g.id == group_id), None)
        if group is None:
            raise Ec2Error("InvalidGroup.NotFound", f"The security group '{str(text)[:100]}' does not exist")
        if group.vpc_id != subnet.vpc_id:
            raise Ec2Error("InvalidParameter", f"Security group {str(text)[:100]} and the instance's subnet belong "
                                               "to different networks.")
        chosen.append(group.id)
    return list(dict.fromkeys(chosen))
