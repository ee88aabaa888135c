"""DescribeInstances carries every structure AWS always sends, read from the XML itself.

botocore tolerates missing elements; the Go SDK v2 under Terraform does not (a network interface
without `<attachment>` crashed the provider on `Attachment.DeviceIndex`), nor do the Java and .NET
SDKs. So these checks read the rendered document with lxml, element by element, as a strict client does.
"""
from __future__ import annotations

from datetime import datetime, timezone

from lxml import etree

from frontends.ec2 import networks
from frontends.ec2.present import Catalog, image_item, instance_item
from frontends.ec2.render import render_response
from gateway.model import Address, Image, Instance, InstanceState, Network, NetworkInterface, Realm, VolumeAttachment

NS = {"ec2": "http://ec2.amazonaws.com/doc/2016-11-15/"}
LAUNCHED = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
NETWORK = "00000000-0000-4000-8000-000000000009"
ALWAYS_PRESENT = {  # element -> its children AWS always sends (groupName may be empty)
    "placement": ["availabilityZone", "groupName", "tenancy"],
    "monitoring": ["state"],
    "cpuOptions": ["coreCount", "threadsPerCore"],
    "metadataOptions": ["state", "httpTokens", "httpPutResponseHopLimit", "httpEndpoint", "httpProtocolIpv6",
                        "instanceMetadataTags"],
    "capacityReservationSpecification": ["capacityReservationPreference"],
    "enclaveOptions": ["enabled"],
    "hibernationOptions": ["configured"],
    "maintenanceOptions": ["autoRecovery"],
    "privateDnsNameOptions": ["hostnameType", "enableResourceNameDnsARecord", "enableResourceNameDnsAAAARecord"],
}
INTERFACE_ALWAYS_PRESENT = {
    "attachment": ["attachmentId", "deviceIndex", "status", "attachTime", "deleteOnTermination", "networkCardIndex"],
}


def vm(nics: int) -> Instance:
    interfaces = [NetworkInterface(id=f"00000000-0000-4000-8000-00000000010{n}", instance_id="vm", name=f"nic{n + 1}",
                                   mac=f"56:6f:00:00:00:0{n}", network_id=NETWORK, ipv4=[f"10.0.0.{n + 2}"])
                  for n in range(nics)]
    return Instance(id="11111111-2222-4333-8444-555555555555", name="web", state=InstanceState.RUNNING,
                    realm_id="realm", cpus=2, launch_time=LAUNCHED, interfaces=interfaces,
                    addresses=[Address("ipv4", "10.0.0.2"), Address("hostname", "web.example")],
                    attachments=[VolumeAttachment("22222222-2222-4333-8444-555555555555", "vm", bootable=True)])


def instance_element(instance: Instance) -> etree._Element:
    item = instance_item(instance, Catalog(zones={"realm": "Default"}, owner_id="123456789012"))
    body = render_response("DescribeInstances", {"Reservations": [
        {"ReservationId": "r-1", "OwnerId": "123456789012", "Groups": [], "Instances": [item]}]}, "req", None)
    (element,) = etree.fromstring(body).findall("ec2:reservationSet/ec2:item/ec2:instancesSet/ec2:item", NS)
    return element


def missing(parent: etree._Element, wanted: dict[str, list[str]]) -> list[str]:
    absent = []
    for name, children in wanted.items():
        found = parent.find(f"ec2:{name}", NS)
        if found is None:
            absent.append(name)
            continue
        absent += [f"{name}/{c}" for c in children if found.find(f"ec2:{c}", NS) is None]
    return absent


def test_every_always_present_structure_is_in_the_instance() -> None:
    assert missing(instance_element(vm(1)), ALWAYS_PRESENT) == []


def test_each_network_interface_has_its_attachment_with_its_device_index() -> None:
    interfaces = instance_element(vm(2)).findall("ec2:networkInterfaceSet/ec2:item", NS)
    assert len(interfaces) == 2
    for interface in interfaces:
        assert missing(interface, INTERFACE_ALWAYS_PRESENT) == []
        assert interface.findtext("ec2:groupSet/ec2:item/ec2:groupId", None, NS)
    indexes = [i.findtext("ec2:attachment/ec2:deviceIndex", None, NS) for i in interfaces]
    assert indexes == ["0", "1"]
    assert interfaces[0].findtext("ec2:attachment/ec2:status", None, NS) == "attached"
    assert interfaces[0].findtext("ec2:attachment/ec2:attachTime", None, NS) == "2026-01-02T03:04:05.000Z"


def test_an_instance_with_no_nic_still_has_the_instance_structures() -> None:
    element = instance_element(vm(0))
    assert missing(element, ALWAYS_PRESENT) == []
    assert element.find("ec2:networkInterfaceSet", NS) is not None


def test_images_subnets_and_vpcs_carry_what_aws_always_sends() -> None:
    image = image_item(Image(id="7e000000-0000-4000-8000-000000000011", name="centos", disk_bytes=10 << 30))
    body = render_response("DescribeImages", {"Images": [image]}, "req", None)
    (element,) = etree.fromstring(body).findall("ec2:imagesSet/ec2:item", NS)
    assert [n for n in ("usageOperation", "enaSupport", "bootMode", "platformDetails", "blockDeviceMapping",
                        "productCodes") if element.find(f"ec2:{n}", NS) is None] == []

    network = Network(id=NETWORK, name="ovirtmgmt")
    subnet = networks.Subnet("33333333-2222-4333-8444-555555555555", network, Realm("realm", "Default", "dc", "dc"))
    body = render_response("DescribeSubnets", {"Subnets": [
        networks.subnet_item(subnet, default=True, owner_id="1", region="us-east-1")]}, "req", None)
    (element,) = etree.fromstring(body).findall("ec2:subnetSet/ec2:item", NS)
    assert missing(element, {"privateDnsNameOptionsOnLaunch": ["hostnameType"], "blockPublicAccessStates": [
        "internetGatewayBlockMode"]}) == []
    assert element.find("ec2:enableDns64", NS) is not None and element.find("ec2:ipv6Native", NS) is not None
    body = render_response("DescribeVpcs", {"Vpcs": [networks.vpc_item(network, default=True, owner_id="1")]},
                           "req", None)
    (element,) = etree.fromstring(body).findall("ec2:vpcSet/ec2:item", NS)
    assert missing(element, {"blockPublicAccessStates": ["internetGatewayBlockMode"]}) == []
    assert element.findtext("ec2:dhcpOptionsId", None, NS).startswith("dopt-")
