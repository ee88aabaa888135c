"""boto3 over real HTTP: network interfaces of their own (CreateNetworkInterface and what follows) on the
embedded default's OVN network provider, checked where they live too (the provider's Neutron ports, the
engine's VM NICs)."""
from __future__ import annotations

import uuid
from typing import Any

import pytest
import requests

from tests.clients.ec2_helpers import ec2_client, expect
from tests.clients.test_boto3_ec2_vpc_networking import neutron

CENTOS = "ami-7e000000000040008000000000000011"


@pytest.fixture(scope="module")
def ec2(net_gateway: Any) -> Any:
    return ec2_client(net_gateway)


def backend(ec2_id: str) -> str:
    return str(uuid.UUID(hex=ec2_id.partition("-")[2]))


def port_of(gateway: Any, eni_id: str) -> dict[str, Any]:
    return next(p for p in neutron(gateway, "ports") if p["id"] == backend(eni_id))


def test_an_interface_of_its_own_is_a_port_holding_its_address_and_groups(net_gateway: Any, ec2: Any) -> None:
    vpc_id = ec2.create_vpc(CidrBlock="10.60.0.0/16")["Vpc"]["VpcId"]
    subnet_id = ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.60.1.0/24")["Subnet"]["SubnetId"]
    web = ec2.create_security_group(VpcId=vpc_id, GroupName="web", Description="web")["GroupId"]
    made = ec2.create_network_interface(SubnetId=subnet_id, Groups=[web], PrivateIpAddress="10.60.1.50",
                                        Description="second leg")["NetworkInterface"]
    eni_id = made["NetworkInterfaceId"]
    assert eni_id.startswith("eni-") and made["Status"] == "available" and made["PrivateIpAddress"] == "10.60.1.50"
    assert made["Groups"] == [{"GroupId": web, "GroupName": "web"}] and made["VpcId"] == vpc_id
    port = port_of(net_gateway, eni_id)
    assert port["fixed_ips"][0]["ip_address"] == "10.60.1.50" and port["security_groups"] == [backend(web)]
    assert port["device_owner"] == "" and port["mac_address"] == made["MacAddress"]
    # another without an address or groups: the pool's next address, the VPC's default group
    plain = ec2.create_network_interface(SubnetId=subnet_id, TagSpecifications=[
        {"ResourceType": "network-interface", "Tags": [{"Key": "Name", "Value": "spare"}]}])["NetworkInterface"]
    assert plain["TagSet"] == [{"Key": "Name", "Value": "spare"}]
    default = ec2.describe_security_groups(Filters=[{"Name": "vpc-id", "Values": [vpc_id]},
                                                    {"Name": "group-name", "Values": ["default"]}])["SecurityGroups"][0]
    assert plain["Groups"] == [{"GroupId": default["GroupId"], "GroupName": "default"}]
    assert plain["PrivateIpAddress"] == "10.60.1.2" and plain["Description"] == ""
    listed = ec2.describe_network_interfaces(NetworkInterfaceIds=[eni_id])["NetworkInterfaces"]
    assert [(n["Status"], n["Description"], n["SubnetId"]) for n in listed] == [("available", "second leg", subnet_id)]
    by_subnet = ec2.describe_network_interfaces(Filters=[{"Name": "subnet-id", "Values": [subnet_id]},
                                                         {"Name": "status", "Values": ["available"]}])
    assert {n["NetworkInterfaceId"] for n in by_subnet["NetworkInterfaces"]} == {eni_id, plain["NetworkInterfaceId"]}
    tagged = ec2.describe_network_interfaces(NetworkInterfaceIds=[plain["NetworkInterfaceId"]])["NetworkInterfaces"]
    assert tagged[0]["TagSet"] == [{"Key": "Name", "Value": "spare"}]
    expect("DependencyViolation", ec2.delete_subnet, SubnetId=subnet_id)
    expect("DependencyViolation", ec2.delete_security_group, GroupId=web)
    ec2.delete_network_interface(NetworkInterfaceId=eni_id)
    ec2.delete_network_interface(NetworkInterfaceId=plain["NetworkInterfaceId"])
    assert not any(p["id"] == backend(eni_id) for p in neutron(net_gateway, "ports"))
    expect("InvalidNetworkInterfaceID.NotFound", ec2.delete_network_interface, NetworkInterfaceId=eni_id)
    expect("InvalidNetworkInterfaceID.NotFound", ec2.describe_network_interfaces, NetworkInterfaceIds=[eni_id])
    ec2.delete_security_group(GroupId=web)
    ec2.delete_subnet(SubnetId=subnet_id)
    ec2.delete_vpc(VpcId=vpc_id)


def test_bad_interface_requests_get_ec2s_codes(ec2: Any) -> None:
    vpc_id = ec2.create_vpc(CidrBlock="10.61.0.0/16")["Vpc"]["VpcId"]
    subnet_id = ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.61.1.0/28")["Subnet"]["SubnetId"]
    other_vpc = ec2.create_vpc(CidrBlock="10.62.0.0/16")["Vpc"]["VpcId"]
    stranger = ec2.create_security_group(VpcId=other_vpc, GroupName="x", Description="x")["GroupId"]
    taken = ec2.create_network_interface(SubnetId=subnet_id, PrivateIpAddress="10.61.1.5")["NetworkInterface"]
    for code, kwargs in (
            ("InvalidSubnetID.Malformed", {"SubnetId": "subnet-zz"}),
            ("InvalidSubnetID.NotFound", {"SubnetId": "subnet-" + "0" * 32}),
            ("InvalidGroupId.Malformed", {"SubnetId": subnet_id, "Groups": ["sg-zz"]}),
            ("InvalidGroup.NotFound", {"SubnetId": subnet_id, "Groups": ["sg-" + "0" * 32]}),
            ("InvalidParameter", {"SubnetId": subnet_id, "Groups": [stranger]}),
            ("InvalidParameterValue", {"SubnetId": subnet_id, "PrivateIpAddress": "10.61.2.5"}),
            ("InvalidParameterValue", {"SubnetId": subnet_id, "PrivateIpAddress": "10.61.1.1"}),  # the gateway's
            ("InvalidParameterValue", {"SubnetId": subnet_id, "PrivateIpAddress": "not-an-address"}),
            ("InvalidIPAddress.InUse", {"SubnetId": subnet_id, "PrivateIpAddress": "10.61.1.5"}),
            ("UnsupportedOperation", {"SubnetId": subnet_id, "SecondaryPrivateIpAddressCount": 2})):
        expect(code, ec2.create_network_interface, **kwargs)
    expect("DryRunOperation", ec2.create_network_interface, SubnetId=subnet_id, DryRun=True)
    expect("InvalidNetworkInterfaceID.Malformed", ec2.delete_network_interface, NetworkInterfaceId="eni-zz")
    # a /28 has 13 addresses for interfaces (.2 to .14): the 14th asks too much
    made = [ec2.create_network_interface(SubnetId=subnet_id)["NetworkInterface"]["NetworkInterfaceId"] for _ in range(12)]
    expect("InsufficientFreeAddressesInSubnet", ec2.create_network_interface, SubnetId=subnet_id)
    for eni_id in made + [taken["NetworkInterfaceId"]]:
        ec2.delete_network_interface(NetworkInterfaceId=eni_id)
    ec2.delete_subnet(SubnetId=subnet_id)
    ec2.delete_security_group(GroupId=stranger)
    ec2.delete_vpc(VpcId=vpc_id)
    ec2.delete_vpc(VpcId=other_vpc)


def engine_nics(gateway: Any, instance_id: str) -> list[dict[str, Any]]:
    from lxml import etree
    answer = requests.get(f"{gateway.engine_url}/vms/{backend(instance_id)}/nics", auth=("admin@internal", "admin"),
                          timeout=10)
    answer.raise_for_status()
    return [{"id": n.get("id"), "name": n.findtext("name"), "mac": n.findtext("mac/address"),
             "plugged": n.findtext("plugged")} for n in etree.fromstring(answer.content).iterfind("nic")]


def test_an_interface_attached_is_a_nic_bound_to_its_port_and_outlives_it(net_gateway: Any, ec2: Any) -> None:
    vpc_id = ec2.create_vpc(CidrBlock="10.63.0.0/16")["Vpc"]["VpcId"]
    subnet_id = ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.63.1.0/24")["Subnet"]["SubnetId"]
    web = ec2.create_security_group(VpcId=vpc_id, GroupName="web", Description="web")["GroupId"]
    app = ec2.create_security_group(VpcId=vpc_id, GroupName="app", Description="app")["GroupId"]
    instance_id = ec2.run_instances(ImageId=CENTOS, MinCount=1, MaxCount=1, InstanceType="o1.small",
                                    SubnetId=subnet_id, SecurityGroupIds=[web])["Instances"][0]["InstanceId"]
    ec2.get_waiter("instance_running").wait(InstanceIds=[instance_id], WaiterConfig={"Delay": 1, "MaxAttempts": 120})
    eni = ec2.create_network_interface(SubnetId=subnet_id, Groups=[web], PrivateIpAddress="10.63.1.60",
                                       Description="second leg", TagSpecifications=[
                                           {"ResourceType": "network-interface",
                                            "Tags": [{"Key": "role", "Value": "backend"}]}])["NetworkInterface"]
    eni_id = eni["NetworkInterfaceId"]
    expect("InvalidParameterValue", ec2.attach_network_interface, NetworkInterfaceId=eni_id, InstanceId=instance_id,
           DeviceIndex=0)
    expect("DryRunOperation", ec2.attach_network_interface, NetworkInterfaceId=eni_id, InstanceId=instance_id,
           DeviceIndex=1, DryRun=True)
    assert [n["name"] for n in engine_nics(net_gateway, instance_id)] == ["nic1"]
    attachment = ec2.attach_network_interface(NetworkInterfaceId=eni_id, InstanceId=instance_id,
                                              DeviceIndex=1)["AttachmentId"]
    assert attachment.startswith("eni-attach-")
    # where it lives: a second NIC of the VM, plugged, with the port's MAC; the port names that NIC
    nic = next(n for n in engine_nics(net_gateway, instance_id) if n["name"] == "nic2")
    assert nic["mac"] == eni["MacAddress"] and nic["plugged"] == "true"
    assert attachment == "eni-attach-" + nic["id"].replace("-", "")
    port = port_of(net_gateway, eni_id)
    assert (port["device_owner"], port["device_id"]) == ("oVirt", nic["id"])
    assert port["fixed_ips"][0]["ip_address"] == "10.63.1.60"
    assert len([p for p in neutron(net_gateway, "ports") if p["device_id"] == nic["id"]]) == 1  # no second port
    [listed] = ec2.describe_network_interfaces(NetworkInterfaceIds=[eni_id])["NetworkInterfaces"]
    assert (listed["Status"], listed["Description"], listed["PrivateIpAddress"]) == ("in-use", "second leg", "10.63.1.60")
    assert listed["Attachment"]["InstanceId"] == instance_id and listed["Attachment"]["DeviceIndex"] == 1
    assert listed["Attachment"]["AttachmentId"] == attachment
    assert listed["TagSet"] == [{"Key": "role", "Value": "backend"}]
    expect("InvalidNetworkInterface.InUse", ec2.delete_network_interface, NetworkInterfaceId=eni_id)
    expect("InvalidNetworkInterface.InUse", ec2.attach_network_interface, NetworkInterfaceId=eni_id,
           InstanceId=instance_id, DeviceIndex=2)
    # its attributes are its port's: groups, description, port security
    ec2.modify_network_interface_attribute(NetworkInterfaceId=eni_id, Groups=[app, web])
    ec2.modify_network_interface_attribute(NetworkInterfaceId=eni_id, Description={"Value": "backend leg"})
    ec2.modify_network_interface_attribute(NetworkInterfaceId=eni_id, SourceDestCheck={"Value": False})
    port = port_of(net_gateway, eni_id)
    assert sorted(port["security_groups"]) == sorted([backend(app), backend(web)])
    assert port["port_security_enabled"] is False and port["name"] == "eni:backend leg"
    [listed] = ec2.describe_network_interfaces(NetworkInterfaceIds=[eni_id])["NetworkInterfaces"]
    assert listed["Description"] == "backend leg" and listed["SourceDestCheck"] is False
    assert {g["GroupName"] for g in listed["Groups"]} == {"app", "web"}
    # the instance's own interface: its groups change, it is not detached
    primary = next(n for n in ec2.describe_network_interfaces(Filters=[
        {"Name": "attachment.instance-id", "Values": [instance_id]}])["NetworkInterfaces"]
        if n["Attachment"]["DeviceIndex"] == 0)
    ec2.modify_network_interface_attribute(NetworkInterfaceId=primary["NetworkInterfaceId"], Groups=[app])
    assert ec2.describe_instances(InstanceIds=[instance_id])["Reservations"][0]["Instances"][0]["SecurityGroups"] == [
        {"GroupId": app, "GroupName": "app"}]
    expect("OperationNotPermitted", ec2.detach_network_interface, AttachmentId=primary["Attachment"]["AttachmentId"])
    # detached: the NIC goes, the port stays with its address, available again
    expect("DryRunOperation", ec2.detach_network_interface, AttachmentId=attachment, DryRun=True)
    expect("DryRunOperation", ec2.modify_network_interface_attribute, NetworkInterfaceId=eni_id,
           Description={"Value": "x"}, DryRun=True)
    ec2.detach_network_interface(AttachmentId=attachment)
    assert [n["name"] for n in engine_nics(net_gateway, instance_id)] == ["nic1"]
    port = port_of(net_gateway, eni_id)
    assert (port["device_owner"], port["device_id"], port["fixed_ips"][0]["ip_address"]) == ("", "", "10.63.1.60")
    [listed] = ec2.describe_network_interfaces(NetworkInterfaceIds=[eni_id])["NetworkInterfaces"]
    assert listed["Status"] == "available" and "Attachment" not in listed
    expect("InvalidAttachmentID.NotFound", ec2.detach_network_interface, AttachmentId=attachment)
    expect("InvalidAttachmentID.Malformed", ec2.detach_network_interface, AttachmentId="eni-attach-zz")
    ec2.delete_network_interface(NetworkInterfaceId=eni_id)
    ec2.terminate_instances(InstanceIds=[instance_id])
    ec2.get_waiter("instance_terminated").wait(InstanceIds=[instance_id], WaiterConfig={"Delay": 1, "MaxAttempts": 120})
    ec2.delete_security_group(GroupId=web)
    ec2.delete_security_group(GroupId=app)
    ec2.delete_subnet(SubnetId=subnet_id)
    ec2.delete_vpc(VpcId=vpc_id)


def test_a_detached_attachment_is_found_detached_by_its_id_until_attached_again(ec2: Any) -> None:
    """Terraform waits after DetachNetworkInterface for the attachment-id filter to find it `detached`; a plain
    listing shows the interface available without an Attachment, as Ansible's ec2_eni expects."""
    vpc_id = ec2.create_vpc(CidrBlock="10.64.0.0/16")["Vpc"]["VpcId"]
    subnet_id = ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.64.1.0/24")["Subnet"]["SubnetId"]
    instance_id = ec2.run_instances(ImageId=CENTOS, MinCount=1, MaxCount=1, InstanceType="o1.small",
                                    SubnetId=subnet_id)["Instances"][0]["InstanceId"]
    ec2.get_waiter("instance_running").wait(InstanceIds=[instance_id], WaiterConfig={"Delay": 1, "MaxAttempts": 120})
    eni_id = ec2.create_network_interface(SubnetId=subnet_id)["NetworkInterface"]["NetworkInterfaceId"]
    first = ec2.attach_network_interface(NetworkInterfaceId=eni_id, InstanceId=instance_id,
                                         DeviceIndex=2)["AttachmentId"]
    ec2.detach_network_interface(AttachmentId=first)

    def by_attachment(attachment_id: str) -> list[dict[str, Any]]:
        return ec2.describe_network_interfaces(Filters=[{"Name": "attachment.attachment-id",
                                                         "Values": [attachment_id]}])["NetworkInterfaces"]

    [found] = by_attachment(first)
    assert (found["NetworkInterfaceId"], found["Status"]) == (eni_id, "available")
    assert {k: found["Attachment"][k] for k in ("AttachmentId", "InstanceId", "DeviceIndex", "Status")} == {
        "AttachmentId": first, "InstanceId": instance_id, "DeviceIndex": 2, "Status": "detached"}
    detached = ec2.describe_network_interfaces(Filters=[{"Name": "attachment.status", "Values": ["detached"]},
                                                        {"Name": "subnet-id", "Values": [subnet_id]}])
    assert [n["Attachment"]["AttachmentId"] for n in detached["NetworkInterfaces"]] == [first]
    [plain] = ec2.describe_network_interfaces(NetworkInterfaceIds=[eni_id])["NetworkInterfaces"]
    assert plain["Status"] == "available" and "Attachment" not in plain
    assert ec2.describe_network_interfaces(Filters=[{"Name": "attachment.instance-id", "Values": [instance_id]},
                                                    {"Name": "attachment.device-index", "Values": ["2"]}]
                                           )["NetworkInterfaces"] == []
    expect("InvalidAttachmentID.NotFound", ec2.detach_network_interface, AttachmentId=first)
    # attached again: the new attachment is the one found; the old one is gone
    second = ec2.attach_network_interface(NetworkInterfaceId=eni_id, InstanceId=instance_id,
                                          DeviceIndex=1)["AttachmentId"]
    assert second != first and by_attachment(first) == []
    [found] = by_attachment(second)
    assert (found["Status"], found["Attachment"]["Status"], found["Attachment"]["DeviceIndex"]) == (
        "in-use", "attached", 1)
    ec2.detach_network_interface(AttachmentId=second)
    assert by_attachment(second)[0]["Attachment"]["Status"] == "detached"
    ec2.delete_network_interface(NetworkInterfaceId=eni_id)
    assert by_attachment(second) == []
    ec2.terminate_instances(InstanceIds=[instance_id])
    ec2.get_waiter("instance_terminated").wait(InstanceIds=[instance_id], WaiterConfig={"Delay": 1, "MaxAttempts": 120})
    ec2.delete_subnet(SubnetId=subnet_id)
    ec2.delete_vpc(VpcId=vpc_id)


def test_an_instance_gets_its_fixed_address_and_its_groups_change(net_gateway: Any, ec2: Any) -> None:
    vpc_id = ec2.create_vpc(CidrBlock="10.64.0.0/16")["Vpc"]["VpcId"]
    subnet_id = ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.64.1.0/24")["Subnet"]["SubnetId"]
    web = ec2.create_security_group(VpcId=vpc_id, GroupName="web", Description="web")["GroupId"]
    app = ec2.create_security_group(VpcId=vpc_id, GroupName="app", Description="app")["GroupId"]
    other_vpc = ec2.create_vpc(CidrBlock="10.65.0.0/16")["Vpc"]["VpcId"]
    stranger = ec2.create_security_group(VpcId=other_vpc, GroupName="x", Description="x")["GroupId"]
    held = ec2.create_network_interface(SubnetId=subnet_id, PrivateIpAddress="10.64.1.9")["NetworkInterface"]
    launch = {"ImageId": CENTOS, "MinCount": 1, "MaxCount": 1, "InstanceType": "o1.small", "SubnetId": subnet_id}
    expect("InvalidIPAddress.InUse", ec2.run_instances, PrivateIpAddress="10.64.1.9", **launch)
    expect("InvalidParameterValue", ec2.run_instances, PrivateIpAddress="10.64.2.9", **launch)
    expect("InvalidParameterValue", ec2.run_instances, PrivateIpAddress="10.64.1.1", **launch)  # the gateway's
    expect("InvalidParameterCombination", ec2.run_instances, PrivateIpAddress="10.64.1.40",
           **{**launch, "MinCount": 2, "MaxCount": 2})
    instance_id = ec2.run_instances(PrivateIpAddress="10.64.1.40", SecurityGroupIds=[web],
                                    **launch)["Instances"][0]["InstanceId"]
    ec2.get_waiter("instance_running").wait(InstanceIds=[instance_id], WaiterConfig={"Delay": 1, "MaxAttempts": 120})
    [nic] = engine_nics(net_gateway, instance_id)
    [port] = [p for p in neutron(net_gateway, "ports") if p["device_id"] == nic["id"]]  # one port: the one made for it
    assert port["fixed_ips"][0]["ip_address"] == "10.64.1.40" and port["security_groups"] == [backend(web)]
    assert port["mac_address"] == nic["mac"] and nic["plugged"] == "true"
    instance = ec2.describe_instances(InstanceIds=[instance_id])["Reservations"][0]["Instances"][0]
    assert instance["NetworkInterfaces"][0]["PrivateIpAddresses"][0]["PrivateIpAddress"] == "10.64.1.40"
    # ModifyInstanceAttribute GroupId.N: the groups of the primary interface's port
    ec2.modify_instance_attribute(InstanceId=instance_id, Groups=[app, web])
    [port] = [p for p in neutron(net_gateway, "ports") if p["device_id"] == nic["id"]]
    assert sorted(port["security_groups"]) == sorted([backend(app), backend(web)])
    groups = ec2.describe_instance_attribute(InstanceId=instance_id, Attribute="groupSet")["Groups"]
    assert {g["GroupName"] for g in groups} == {"app", "web"}
    expect("InvalidParameter", ec2.modify_instance_attribute, InstanceId=instance_id, Groups=[stranger])
    expect("InvalidGroup.NotFound", ec2.modify_instance_attribute, InstanceId=instance_id, Groups=["sg-" + "0" * 32])
    expect("InvalidGroupId.Malformed", ec2.modify_instance_attribute, InstanceId=instance_id, Groups=["sg-zz"])
    ec2.modify_instance_attribute(InstanceId=instance_id, Groups=[app])
    assert ec2.describe_instances(InstanceIds=[instance_id])["Reservations"][0]["Instances"][0]["SecurityGroups"] == [
        {"GroupId": app, "GroupName": "app"}]
    ec2.terminate_instances(InstanceIds=[instance_id])
    ec2.get_waiter("instance_terminated").wait(InstanceIds=[instance_id], WaiterConfig={"Delay": 1, "MaxAttempts": 120})
    ec2.delete_network_interface(NetworkInterfaceId=held["NetworkInterfaceId"])
    for group in (web, app, stranger):
        ec2.delete_security_group(GroupId=group)
    ec2.delete_subnet(SubnetId=subnet_id)
    ec2.delete_vpc(VpcId=vpc_id)
    ec2.delete_vpc(VpcId=other_vpc)


def test_a_fixed_address_or_new_groups_on_a_logical_network_are_refused(ec2: Any) -> None:
    launch = {"ImageId": CENTOS, "MinCount": 1, "MaxCount": 1, "InstanceType": "o1.small"}
    expect("MissingParameter", ec2.run_instances, PrivateIpAddress="10.0.0.9", **launch)
    instance_id = ec2.run_instances(**launch)["Instances"][0]["InstanceId"]
    expect("UnsupportedOperation", ec2.modify_instance_attribute, InstanceId=instance_id, Groups=["sg-" + "1" * 32])
    ec2.terminate_instances(InstanceIds=[instance_id])
