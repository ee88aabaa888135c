"""DescribeInstanceAttribute and ModifyInstanceAttribute.

groupSet (`GroupId.N`) is the groups of the primary interface's provider port (see ..instance_groups).
instanceType and userData live in oVirt (sizing, cloud-init script) and change only while stopped;
disableApiTermination (honoured by TerminateInstances) and instanceInitiatedShutdownBehavior have no
home in oVirt and are kept in the instance's EC2 record. A volume's DeleteOnTermination
(`BlockDeviceMapping.N.Ebs.DeleteOnTermination`, the volume named by its device) is the driver's, as
every frontend's terminate obeys it.
"""
from __future__ import annotations

import base64
from typing import Any

from gateway.model import InstanceState

from .. import devices, ids, instance_groups, inventory
from ..call import Call
from ..errors import Ec2Error, combination, invalid_value, missing
from ..launch import SHUTDOWN_BEHAVIOURS, user_data_from
from ..present import Catalog
from ..provider_networks import Placements
from . import action


def _value(value: Any) -> dict[str, Any]:
    return {"Value": value}


def _describe(attribute: str, instance: Any, record: dict[str, Any], catalog: Catalog,
              placements: Placements) -> dict[str, Any]:
    if attribute == "instanceType":
        return {"InstanceType": _value(catalog.type_of(instance.hardware_profile_id))}
    if attribute == "userData":
        data = instance.user_data
        return {"UserData": _value(base64.b64encode(data).decode()) if data else {}}
    if attribute == "disableApiTermination":
        return {"DisableApiTermination": _value(bool(record.get("disable_api_termination")))}
    if attribute == "disableApiStop":
        return {"DisableApiStop": _value(bool(record.get("disable_api_stop")))}
    if attribute == "instanceInitiatedShutdownBehavior":
        return {"InstanceInitiatedShutdownBehavior": _value(record.get("shutdown_behaviour", "stop"))}
    if attribute == "rootDeviceName":
        return {"RootDeviceName": _value(devices.root_name(instance.attachments))}
    if attribute == "groupSet":  # the same groups as DescribeInstances
        return {"Groups": placements.instance(instance)["SecurityGroups"]}
    if attribute == "blockDeviceMapping":
        return {"BlockDeviceMappings": [
            {"DeviceName": name,
             "Ebs": {"VolumeId": ids.encode("vol", a.volume_id), "Status": "attached" if a.active else "detached",
                     "DeleteOnTermination": a.delete_on_termination}}
            for a, name in zip(instance.attachments, devices.names(instance.attachments))]}
    if attribute == "sourceDestCheck":
        return {"SourceDestCheck": _value(True)}
    if attribute in ("ebsOptimized", "enaSupport"):
        return {attribute[0].upper() + attribute[1:]: _value(False)}
    if attribute == "kernel":
        return {"KernelId": {}}
    if attribute == "ramdisk":
        return {"RamdiskId": {}}
    if attribute == "productCodes":
        return {"ProductCodes": []}
    if attribute == "sriovNetSupport":
        return {"SriovNetSupport": {}}
    raise invalid_value(f"Value ({attribute[:100]}) for parameter attribute is invalid. Unknown attribute.")


@action("DescribeInstanceAttribute")
def describe_instance_attribute(call: Call) -> dict[str, Any]:
    instance_id = ids.decode("i", call.need("InstanceId"))
    attribute = call.need("Attribute")
    call.check_dry_run()
    instance = inventory.one_instance(call, instance_id)
    result = _describe(attribute, instance, inventory.record(call, instance_id), inventory.catalog(call),
                       Placements(call))
    return {"InstanceId": ids.instance_id(instance_id), **result}


def _requested_change(call: Call) -> tuple[str, Any]:
    """(attribute, new value) from either `Attribute`+`Value` or one `<Attribute>.Value` structure (or the
    list of `BlockDeviceMapping.N`)."""
    structured = {name: call.get(name) for name in ("InstanceType", "UserData", "DisableApiTermination",
                                                    "InstanceInitiatedShutdownBehavior", "DisableApiStop",
                                                    "SourceDestCheck", "EbsOptimized", "BlockDeviceMappings",
                                                    "Groups")
                  if call.get(name) is not None}
    attribute = call.get("Attribute")
    if attribute:
        if structured:
            raise combination("Use either Attribute and Value or one attribute structure, not both")
        if call.get("Value") is None:
            raise invalid_value("A value is required with Attribute")
        return attribute, call.get("Value")
    if len(structured) != 1:
        raise combination("Modify exactly one attribute at a time")
    (name, value), = structured.items()
    if name == "BlockDeviceMappings":
        return "blockDeviceMapping", value
    if name == "Groups":
        return "groupSet", value
    return name[0].lower() + name[1:], value.get("Value")


def _as_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if str(value).lower() in ("true", "false"):
        return str(value).lower() == "true"
    raise invalid_value(f"Value ({str(value)[:40]}) is invalid. Expected true or false.")


def _delete_on_termination_changes(mappings: list[dict[str, Any]], instance: Any) -> list[tuple[str, bool]]:
    """(volume id, DeleteOnTermination) per `BlockDeviceMapping.N`, each naming an attached volume by its
    device name (the one DescribeInstances shows)."""
    if not mappings:
        raise missing("BlockDeviceMapping.1.DeviceName")
    by_name = dict(zip(devices.names(instance.attachments), instance.attachments))
    changes = []
    for n, mapping in enumerate(mappings, 1):
        name, ebs = mapping.get("DeviceName"), mapping.get("Ebs") or {}
        if not name:
            raise missing(f"BlockDeviceMapping.{n}.DeviceName")
        if mapping.get("NoDevice") is not None or mapping.get("VirtualName"):
            raise Ec2Error("UnsupportedOperation", "Only Ebs.DeleteOnTermination of an attached volume can be "
                                                   "changed on a running or stopped instance")
        if ebs.get("DeleteOnTermination") is None:
            raise missing(f"BlockDeviceMapping.{n}.Ebs.DeleteOnTermination")
        attachment = by_name.get(name)
        if attachment is None:
            raise Ec2Error("InvalidInstanceAttributeValue", f"No device is currently mapped at {name[:100]}")
        if ebs.get("VolumeId") and ids.decode("vol", ebs["VolumeId"]) != attachment.volume_id:
            raise Ec2Error("InvalidInstanceAttributeValue",
                           f"The volume {ebs['VolumeId'][:100]} is not the one mapped at {name[:100]}")
        changes.append((attachment.volume_id, _as_bool(ebs["DeleteOnTermination"])))
    return changes


def _require_stopped(instance: Any, attribute: str) -> None:
    if instance.state is not InstanceState.STOPPED:
        raise Ec2Error("IncorrectInstanceState",
                       f"The instance '{ids.instance_id(instance.id)}' must be stopped to change {attribute}")


@action("ModifyInstanceAttribute", mutating=True)
def modify_instance_attribute(call: Call) -> dict[str, Any]:
    instance_id = ids.decode("i", call.need("InstanceId"))
    attribute, value = _requested_change(call)
    if value is None:
        raise invalid_value(f"A value is required for {attribute}")
    instance = inventory.one_instance(call, instance_id)
    if attribute == "instanceType":
        profile = inventory.profile_for(call, str(value))
        _require_stopped(instance, attribute)
        call.check_dry_run()
        call.driver.update_instance(call.scope, instance_id,
                                    hardware_profile_id=profile if isinstance(profile, str) else profile.id)
    elif attribute == "userData":
        data = user_data_from(value)  # UserData.Value arrives decoded (a blob), Value as base64
        _require_stopped(instance, attribute)
        call.check_dry_run()
        call.driver.update_instance(call.scope, instance_id, user_data=data)
    elif attribute in ("disableApiTermination", "disableApiStop"):
        flag = _as_bool(value)
        call.check_dry_run()
        key = "disable_api_termination" if attribute == "disableApiTermination" else "disable_api_stop"
        inventory.put_record(call, instance_id, **{key: flag})
    elif attribute == "instanceInitiatedShutdownBehavior":
        if value not in SHUTDOWN_BEHAVIOURS:
            raise invalid_value(f"instanceInitiatedShutdownBehavior must be one of {', '.join(SHUTDOWN_BEHAVIOURS)}")
        call.check_dry_run()
        inventory.put_record(call, instance_id, shutdown_behaviour=value)
    elif attribute == "blockDeviceMapping":
        if not isinstance(value, list):
            raise invalid_value("blockDeviceMapping is changed with BlockDeviceMapping.N.DeviceName and "
                                "BlockDeviceMapping.N.Ebs.DeleteOnTermination")
        changes = _delete_on_termination_changes(value, instance)
        call.require("set_delete_on_termination")
        call.check_dry_run()
        for volume_id, delete in changes:
            call.driver.set_delete_on_termination(call.scope, instance_id, volume_id, delete)
    elif attribute == "groupSet":
        group_ids = instance_groups.requested(call, instance, value if isinstance(value, list) else [value])
        call.check_dry_run()
        call.driver.update_interface(call.scope, instance.interfaces[0].id, group_ids=group_ids)
    elif attribute in ("sourceDestCheck", "ebsOptimized"):
        if _as_bool(value) != (attribute == "sourceDestCheck"):
            raise Ec2Error("UnsupportedOperation", f"{attribute} cannot be changed on this cloud")
        call.check_dry_run()
    else:
        raise invalid_value(f"Value ({attribute[:100]}) for parameter attribute is invalid. "
                            "It cannot be modified on this cloud.")
    return {}
