"""AttachNetworkInterface, DetachNetworkInterface and ModifyNetworkInterfaceAttribute on the network
provider's interfaces (see ..interface_changes; the driver binds a new VM NIC to the interface's port).

An attachment is the VM NIC that holds the interface (`eni-attach-` and the NIC's UUID); an instance's own NICs
come and go with it (detaching one is OperationNotPermitted). sourceDestCheck is the port's port security,
which on OVN also switches the port's groups' filtering: turned off, the port passes all traffic.
"""
from __future__ import annotations

import re
import uuid
from typing import Any

from .. import ids, inventory, networks
from ..call import Call
from ..errors import Ec2Error, invalid_value
from ..provider_networks import ProviderNetworks
from . import action

ATTACHMENT = re.compile(r"^eni-attach-(?P<hex>[0-9a-f]{32})$")
MAX_DEVICE_INDEX = 15


def _interface_id(call: Call) -> tuple[str, str]:
    given = call.need("NetworkInterfaceId")
    (interface_id,) = networks.decode_ids("eni", [given], "NetworkInterfaceID") or [""]
    return given, interface_id


def _not_found(given: str) -> Ec2Error:
    return Ec2Error("InvalidNetworkInterfaceID.NotFound", f"The networkInterface ID '{given[:100]}' does not exist")


@action("AttachNetworkInterface", mutating=True)
def attach_network_interface(call: Call) -> dict[str, Any]:
    given, interface_id = _interface_id(call)
    instance_id = ids.decode("i", call.need("InstanceId"))
    index = call.need("DeviceIndex")
    if not isinstance(index, int) or not 1 <= index <= MAX_DEVICE_INDEX:
        raise invalid_value(f"Value ({str(index)[:20]}) for parameter deviceIndex is invalid: give 1 to "
                            f"{MAX_DEVICE_INDEX} (0 is the instance's primary interface)")
    if call.get("NetworkCardIndex") not in (None, 0):
        raise invalid_value("NetworkCardIndex: this cloud has one network card (0)")
    reserved = next((r for r in call.driver.reserved_interfaces(call.scope) if r.id == interface_id), None)
    if reserved is None:
        if interface_id in {r.id for r in call.driver.attached_interfaces(call.scope).values()}:
            raise Ec2Error("InvalidNetworkInterface.InUse", f"Interface: [{given[:100]}] in use.")
        raise _not_found(given)
    instance = inventory.one_instance(call, instance_id)
    subnet = next((s for s in ProviderNetworks.of(call, changing=True).subnets if s.id == reserved.subnet_id), None)
    if subnet is not None and subnet.realm_id and instance.realm_id and subnet.realm_id != instance.realm_id:
        raise Ec2Error("InvalidParameterCombination", "The network interface and the instance are in different "
                                                      "availability zones.")
    call.check_dry_run()
    nic_id = call.driver.attach_interface(call.scope, interface_id, instance_id, index)
    return {"AttachmentId": ids.encode("eni-attach", nic_id), "NetworkCardIndex": 0}


@action("DetachNetworkInterface", mutating=True)
def detach_network_interface(call: Call) -> dict[str, Any]:
    given = call.need("AttachmentId")
    found = ATTACHMENT.match(given.strip().lower())
    if found is None:
        raise Ec2Error("InvalidAttachmentID.Malformed", f"Invalid id: \"{given[:100]}\" (expecting \"eni-attach-...\")")
    nic_id = str(uuid.UUID(hex=found["hex"]))
    if nic_id not in call.driver.attached_interfaces(call.scope):
        if any(n.id == nic_id for n in call.driver.interfaces(call.scope)):
            raise Ec2Error("OperationNotPermitted", f"The network interface of attachment '{given[:100]}' is one of "
                                                    "the instance's own and cannot be detached.")
        raise Ec2Error("InvalidAttachmentID.NotFound", f"The attachment ID '{given[:100]}' does not exist")
    call.check_dry_run()
    call.driver.detach_interface(call.scope, nic_id)
    return {}


@action("ModifyNetworkInterfaceAttribute", mutating=True)
def modify_network_interface_attribute(call: Call) -> dict[str, Any]:
    given, interface_id = _interface_id(call)
    description = (call.get("Description") or {}).get("Value")
    check = (call.get("SourceDestCheck") or {}).get("Value")
    groups_given = call.get("Groups")
    if call.get("Attachment") or call.get("EnaSrdSpecification") or call.get("EnablePrimaryIpv6"):
        raise Ec2Error("UnsupportedOperation", "Only Description, SourceDestCheck and Groups can be changed here")
    if description is None and check is None and not groups_given:
        raise Ec2Error("MissingParameter", "Name one of Description, SourceDestCheck or SecurityGroupId")
    provided = ProviderNetworks.of(call, groups=True, changing=True)
    own = {r.id: r for r in call.driver.reserved_interfaces(call.scope)}
    own.update({r.id: r for r in call.driver.attached_interfaces(call.scope).values()})
    subnet_of_nic = {n.id: n.network_id for n in call.driver.interfaces(call.scope)}
    if interface_id in own:
        vpc_id = next((s.vpc_id for s in provided.subnets if s.id == own[interface_id].subnet_id), None)
    elif interface_id in subnet_of_nic:
        vpc_id = next((s.vpc_id for s in provided.subnets if s.network_id == subnet_of_nic[interface_id]), None)
        if vpc_id is None:
            raise Ec2Error("UnsupportedOperation", f"The interface {given[:100]} is on a logical network, whose "
                                                   "groups cannot be changed")
        if description is not None:
            raise Ec2Error("UnsupportedOperation", "The description of an instance's own interface is its NIC's name")
    else:
        raise _not_found(given)
    group_ids = None
    if groups_given:
        group_ids = []
        for group_given in groups_given:
            (group_id,) = networks.decode_ids("sg", [group_given], "GroupId") or [""]
            group = next((g for g in provided.groups if g.id == group_id), None)
            if group is None:
                raise Ec2Error("InvalidGroup.NotFound", f"The security group '{group_given[:100]}' does not exist")
            if group.vpc_id != vpc_id:
                raise Ec2Error("InvalidParameter", f"Security group {group_given[:100]} and interface {given[:100]} "
                                                   "belong to different networks.")
            group_ids.append(group.id)
    if description is not None and len(str(description)) > 255:
        raise invalid_value("Description is at most 255 characters long")
    call.check_dry_run()
    call.driver.update_interface(call.scope, interface_id, group_ids=group_ids,
                                 description=None if description is None else str(description),
                                 source_dest_check=None if check is None else bool(check))
    return {}
