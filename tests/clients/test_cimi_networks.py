"""CIMI over real HTTP on the embedded default's OVN network provider: ForwardingGroups (VPCs), Networks
(subnets) made and deleted by CIMI clients, NetworkPorts, and a machine's networkInterfaces added and
removed; each checked from the other side with boto3, which sees the same VPCs, subnets and interfaces.
"""
from __future__ import annotations

from typing import Any

import pytest
import requests
from lxml import etree

from tests.clients.ec2_helpers import addressed_instances, ec2_client
from tests.integration.cimi_client import NS, CimiClient
from tests.simulator_fixtures import ADMIN

CENTOS = "ami-7e000000000040008000000000000011"


@pytest.fixture(scope="module")
def ec2(net_gateway: Any) -> Any:
    return ec2_client(net_gateway)


def by_cidr(entries: list[dict[str, Any]], cidr: str) -> dict[str, Any]:
    found = [e for e in entries if e.get("cidr") == cidr]
    assert len(found) == 1, (cidr, entries)
    return found[0]


def error(response: requests.Response) -> tuple[int, str]:
    """(status, message) of a CIMI error in JSON."""
    assert response.headers["Content-Type"] == "application/json", response.text[:300]
    body = response.json()
    assert body["status"] == response.status_code and "Traceback" not in response.text
    return response.status_code, body["message"]


@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_the_entry_point_lists_the_network_collections_that_take_new_members(net_gateway: Any, fmt: str) -> None:
    cimi = CimiClient(net_gateway, fmt)
    cep = cimi.cep()
    for name in ("networks", "networkTemplates", "networkConfigs", "networkPorts", "forwardingGroups"):
        assert cep[name]["href"].startswith(cep["baseURI"])
    assert cimi.operation(cimi.get(cep["networks"]["href"]), "add") == cep["networks"]["href"]
    assert cimi.operation(cimi.get(cep["forwardingGroups"]["href"]), "add") == cep["forwardingGroups"]["href"]
    assert cimi.operation(cimi.get(cep["networkPorts"]["href"]), "add") is None  # ports come with machines
    expanded = cimi.get(cimi.cep_url, **{"$expand": "forwardingGroups,networkPorts,networkConfigs"})
    assert {"count"} <= set(expanded["forwardingGroups"]) and {"count"} <= set(expanded["networkPorts"])
    first = cimi.get(cep["networks"]["href"], **{"$first": "1", "$last": "1", "$select": "name"})
    assert first["count"] >= 1 and len(first["networks"]) == 1 and "networkType" not in first["networks"][0]
    metadata = {m["name"]: m for m in cimi.entries("resourceMetadata")}
    assert [a["name"] for a in metadata["NetworkConfiguration"]["attributes"]] == ["cidr"]


@pytest.mark.parametrize("fmt,block", [("xml", "10.61"), ("json", "10.62")])
def test_a_network_made_in_a_forwarding_group_is_an_ec2_subnet_of_its_vpc(net_gateway: Any, ec2: Any, fmt: str,
                                                                          block: str) -> None:
    cimi = CimiClient(net_gateway, fmt)
    groups_url, networks_url = cimi.collection_url("forwardingGroups"), cimi.collection_url("networks")
    made = cimi.post(groups_url, {"name": f"lab-{fmt}", "forwardingGroupTemplate": {"cidr": f"{block}.0.0/16"}})
    group = cimi.parse(made)
    assert made.headers["Location"] == group["id"] and group["cidr"] == f"{block}.0.0/16"
    zone = ec2.describe_availability_zones()["AvailabilityZones"][0]
    response = cimi.post(networks_url, {"name": f"web-{fmt}", "properties": {"tier": "web"}, "networkTemplate": {
        "networkConfig": {"cidr": f"{block}.1.0/24"}, "forwardingGroup": {"href": group["id"]},
        "realm": zone["ZoneName"]}})
    network = cimi.parse(response)
    assert response.headers["Location"] == network["id"] and network["name"] == f"web-{fmt}"
    assert network["forwardingGroup"]["href"] == group["id"] and network["state"] == "STARTED"
    assert network["realm"] == zone["ZoneId"] and cimi.operation(network, "delete") == network["id"]
    assert network["properties"]["tier"] == "web" and network["properties"]["gateway"] == f"{block}.1.1"
    assert cimi.get(network["id"])["cidr"] == f"{block}.1.0/24"
    assert [n["id"] for n in cimi.entries("networks", **{"$filter": f"cidr='{block}.1.0/24'"})] == [network["id"]]
    if fmt == "json":  # the test client's XML reader keeps one of several <network> elements
        assert cimi.get(group["id"])["networks"] == [{"href": network["id"]}]

    vpc = next(v for v in ec2.describe_vpcs()["Vpcs"] if v["CidrBlock"] == f"{block}.0.0/16")
    assert vpc["VpcId"].removeprefix("vpc-") == group["id"].rsplit("/", 1)[1].replace("-", "")
    assert {"Key": "Name", "Value": f"lab-{fmt}"} in vpc["Tags"]
    subnet = next(s for s in ec2.describe_subnets()["Subnets"] if s["CidrBlock"] == f"{block}.1.0/24")
    assert subnet["VpcId"] == vpc["VpcId"] and subnet["AvailabilityZone"] == zone["ZoneName"]
    assert {"Key": "Name", "Value": f"web-{fmt}"} in subnet["Tags"] and {"Key": "tier", "Value": "web"} in subnet["Tags"]

    assert cimi.request("DELETE", group["id"], expect=409).status_code == 409  # it has a network
    cimi.request("DELETE", network["id"], expect=200)
    assert not [s for s in ec2.describe_subnets()["Subnets"] if s["CidrBlock"] == f"{block}.1.0/24"]
    cimi.request("DELETE", network["id"], expect=404)
    cimi.request("DELETE", group["id"], expect=200)
    assert not [v for v in ec2.describe_vpcs()["Vpcs"] if v["CidrBlock"] == f"{block}.0.0/16"]
    cimi.request("GET", group["id"], expect=404)


def test_a_vpc_and_subnet_made_with_ec2_are_a_forwarding_group_and_network(net_gateway: Any, ec2: Any) -> None:
    vpc_id = ec2.create_vpc(CidrBlock="10.63.0.0/16", TagSpecifications=[
        {"ResourceType": "vpc", "Tags": [{"Key": "Name", "Value": "from-ec2"}]}])["Vpc"]["VpcId"]
    subnet_id = ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.63.7.0/24")["Subnet"]["SubnetId"]
    cimi = CimiClient(net_gateway, "json")
    group = by_cidr(cimi.entries("forwardingGroups"), "10.63.0.0/16")
    network = by_cidr(cimi.entries("networks"), "10.63.7.0/24")
    assert group["name"] == "from-ec2" and group["networks"] == [{"href": network["id"]}]
    assert network["forwardingGroup"]["href"] == group["id"] and network["networkType"] == "PRIVATE"
    logical = {n["id"] for n in cimi.entries("networks") if "cidr" not in n}
    assert logical and network["id"] not in logical  # the imported logical network is listed once, as the subnet
    cimi.request("DELETE", network["id"], expect=200)
    assert subnet_id not in {s["SubnetId"] for s in ec2.describe_subnets()["Subnets"]}
    cimi.request("DELETE", group["id"], expect=200)
    assert vpc_id not in {v["VpcId"] for v in ec2.describe_vpcs()["Vpcs"]}


@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_a_network_made_from_a_stored_template_and_configuration(net_gateway: Any, ec2: Any, fmt: str) -> None:
    cimi = CimiClient(net_gateway, fmt)
    block = {"xml": "10.68", "json": "10.69"}[fmt]
    group = cimi.parse(cimi.post(cimi.collection_url("forwardingGroups"),
                                 {"forwardingGroupTemplate": {"cidr": f"{block}.0.0/16"}}))
    config = cimi.parse(cimi.post(cimi.collection_url("networkConfigs"), {"name": "small", "cidr": f"{block}.4.0/28"}))
    assert config["cidr"] == f"{block}.4.0/28" and config["networkType"] == "PRIVATE"
    template = cimi.parse(cimi.post(cimi.collection_url("networkTemplates"), {
        "name": "small-in-lab", "networkConfig": {"href": config["id"]}, "forwardingGroup": {"href": group["id"]}}))
    assert template["networkConfig"]["href"] == config["id"] and template["forwardingGroup"]["href"] == group["id"]
    assert template["id"] in {t["id"] for t in cimi.entries("networkTemplates")}
    network = cimi.parse(cimi.post(cimi.collection_url("networks"), {"name": f"from-template-{fmt}",
                                                                     "networkTemplate": {"href": template["id"]}}))
    assert network["cidr"] == f"{block}.4.0/28" and network["forwardingGroup"]["href"] == group["id"]
    subnet = next(s for s in ec2.describe_subnets()["Subnets"] if s["CidrBlock"] == f"{block}.4.0/28")
    assert subnet["AvailableIpAddressCount"] == 11  # a /28 less EC2's five
    again = cimi.request("POST", cimi.collection_url("networks"), {"networkTemplate": {"href": template["id"]}})
    assert again.status_code == 409  # the same block again overlaps the first
    cimi.request("DELETE", config["id"], expect=200)
    gone = cimi.request("POST", cimi.collection_url("networks"), {"networkTemplate": {"href": template["id"]}})
    assert gone.status_code == 400  # its configuration is gone
    for url in (template["id"], network["id"], group["id"]):
        cimi.request("DELETE", url, expect=200)


def test_bad_network_requests_get_cimi_errors_not_500s(net_gateway: Any, ec2: Any) -> None:
    cimi = CimiClient(net_gateway, "json")
    groups_url, networks_url = cimi.collection_url("forwardingGroups"), cimi.collection_url("networks")
    group = cimi.parse(cimi.post(groups_url, {"forwardingGroupTemplate": {"cidr": "10.64.0.0/16"}}))
    cimi.post(networks_url, {"networkTemplate": {"networkConfig": {"cidr": "10.64.1.0/24"},
                                                 "forwardingGroup": {"href": group["id"]}}})

    def create(body: Any, url: str = networks_url) -> tuple[int, str]:
        return error(cimi.request("POST", url, body))

    def template(cidr: Any, **extra: Any) -> dict[str, Any]:
        return {"networkTemplate": {"networkConfig": {"cidr": cidr}, "forwardingGroup": {"href": group["id"]}, **extra}}

    assert create(template("10.65.1.0/24"))[0] == 400 and "not inside" in create(template("10.65.1.0/24"))[1]
    assert create(template("10.64.1.128/25"))[0] == 409
    for bad in ("10.64.2.1/24", "10.64.2.0/29x", "fd00::/64", "10.64.0.0/30", [1], {"a": 1}, None):
        assert create(template(bad))[0] == 400, bad
    assert create(template("10.64.3.0/24", realm="atlantis"))[0] == 400
    assert create({"networkTemplate": {"networkConfig": {"cidr": "10.64.3.0/24"}}})[0] == 400  # no group
    assert create({"networkTemplate": {"networkConfig": {"cidr": "10.64.3.0/24"},
                                       "forwardingGroup": {"href": groups_url + "/nope"}}})[0] == 404
    assert create({"networkTemplate": {"networkConfig": {"cidr": "10.64.3.0/24", "networkType": "PUBLIC"},
                                       "forwardingGroup": {"href": group["id"]}}})[0] == 400
    assert create({"networkTemplate": {"href": networks_url + "/templates/1"}})[0] == 400
    assert create({"networkTemplate": {"href": cimi.collection_url("networkTemplates") + "/nope"}})[0] == 400
    configs_url = cimi.collection_url("networkConfigs")
    for bad in ({"cidr": "10.64.7.0/24", "mtu": 9000}, {"cidr": "10.64.7.0/24", "classOfService": "gold"},
                {"cidr": "banana"}, {"name": "no block"}):
        assert create(bad, configs_url)[0] == 400, bad
    assert create({"networkConfig": {"cidr": "10.64.7.0/24"}}, cimi.collection_url("networkTemplates"))[0] == 400
    assert create({"name": "x"})[0] == 400 and create({"networkTemplate": 7})[0] == 400
    assert create(b"{not json")[0] == 400
    assert create({"forwardingGroupTemplate": {"cidr": "10.66.0.0/8"}}, groups_url)[0] == 400
    assert create({"forwardingGroupTemplate": {"cidr": "10.66.0.0/16", "networks": [{"href": networks_url}]}},
                  groups_url)[0] == 400
    logical = next(n for n in cimi.entries("networks") if "cidr" not in n)
    assert error(cimi.request("DELETE", logical["id"]))[0] == 501  # the engine's own networks stay
    assert cimi.operation(logical, "delete") is None
    assert error(cimi.request("DELETE", networks_url + "/0e000000-0000-4000-8000-00000000ffff"))[0] == 404
    xml = cimi.request("POST", networks_url, f"<NetworkCreate xmlns='{NS}'><networkTemplate><networkConfig>"
                       "<cidr>10.64.9.0/24</cidr></networkConfig></networkTemplate></NetworkCreate>",
                       headers={"Content-Type": "application/xml"})
    assert xml.status_code == 400 and "forwardingGroup" in xml.text


def test_a_machine_takes_and_gives_back_an_interface_on_a_network(net_gateway: Any, ec2: Any) -> None:
    cimi = CimiClient(net_gateway, "json")
    group = cimi.parse(cimi.post(cimi.collection_url("forwardingGroups"),
                                 {"forwardingGroupTemplate": {"cidr": "10.67.0.0/16"}}))
    network = cimi.parse(cimi.post(cimi.collection_url("networks"), {"networkTemplate": {
        "networkConfig": {"cidr": "10.67.1.0/24"}, "forwardingGroup": {"href": group["id"]}}}))
    instance_id = ec2.run_instances(ImageId=CENTOS, MinCount=1, MaxCount=1,
                                    InstanceType="o1.small")["Instances"][0]["InstanceId"]
    ec2.get_waiter("instance_running").wait(InstanceIds=[instance_id], WaiterConfig={"Delay": 1})  # unlocked
    machine_url = f"{cimi.collection_url('machines')}/{_uuid(instance_id)}"
    interfaces_url = cimi.get(machine_url)["networkInterfaces"]["href"]
    listing = cimi.get(interfaces_url)
    assert cimi.operation(listing, "add") == interfaces_url
    (own,) = listing["machineNetworkInterfaces"]
    assert cimi.operation(own, "delete") is None

    added = cimi.post(interfaces_url, {"network": {"href": network["id"]}, "addresses": [{"ip": "10.67.1.40"}]})
    nic = cimi.parse(added)
    assert added.headers["Location"] == nic["id"] and nic["network"]["href"] == network["id"]
    assert "10.67.1.40" in [a["ip"] for a in nic["addresses"]] and cimi.operation(nic, "delete") == nic["id"]
    subnet = next(s for s in ec2.describe_subnets()["Subnets"] if s["CidrBlock"] == "10.67.1.0/24")
    eni = next(e for e in ec2.describe_network_interfaces()["NetworkInterfaces"]
               if e.get("Attachment", {}).get("InstanceId") == instance_id and e["Attachment"]["DeviceIndex"] == 1)
    assert eni["SubnetId"] == subnet["SubnetId"] and eni["Status"] == "in-use"
    port = cimi.get(nic["networkPort"]["href"])
    assert port["network"]["href"] == network["id"] and port["portType"] == "ACCESS"
    assert port["id"] in {p["id"] for p in cimi.entries("networkPorts")}

    assert error(cimi.request("POST", interfaces_url, {"network": {"href": network["id"]},
                                                       "addresses": [{"ip": "10.67.1.40"}]}))[0] == 409
    assert error(cimi.request("POST", interfaces_url, {"network": own["network"]}))[0] == 400  # a logical network
    assert error(cimi.request("POST", interfaces_url, {"addresses": []}))[0] == 400
    assert error(cimi.request("DELETE", own["id"]))[0] == 409  # the machine's own NIC stays
    assert error(cimi.request("DELETE", network["id"]))[0] == 409  # the interface uses it

    cimi.request("DELETE", nic["id"], expect=200)
    assert [n["id"] for n in cimi.get(interfaces_url)["machineNetworkInterfaces"]] == [own["id"]]
    (left,) = [e for e in ec2.describe_network_interfaces()["NetworkInterfaces"]
               if e["SubnetId"] == subnet["SubnetId"]]  # detached, as EC2's DetachNetworkInterface leaves it
    assert left["Status"] == "available" and left["PrivateIpAddress"] == "10.67.1.40"
    ec2.delete_network_interface(NetworkInterfaceId=left["NetworkInterfaceId"])
    ec2.terminate_instances(InstanceIds=[instance_id])
    cimi.request("DELETE", network["id"], expect=200)
    cimi.request("DELETE", group["id"], expect=200)


def test_deleting_an_interface_attached_through_ec2_detaches_it_and_keeps_it(net_gateway: Any, ec2: Any) -> None:
    """A Terraform aws_network_interface attached to an instance: CIMI's DELETE takes it off the machine as
    EC2's DetachNetworkInterface would, and its address, groups, description and tags stay."""
    cimi = CimiClient(net_gateway, "json")
    vpc_id = ec2.create_vpc(CidrBlock="10.71.0.0/16")["Vpc"]["VpcId"]
    subnet_id = ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.71.1.0/24")["Subnet"]["SubnetId"]
    web = ec2.create_security_group(VpcId=vpc_id, GroupName="web", Description="web")["GroupId"]
    made = ec2.create_network_interface(SubnetId=subnet_id, Groups=[web], PrivateIpAddress="10.71.1.50",
                                        Description="tf-managed", TagSpecifications=[{
                                            "ResourceType": "network-interface",
                                            "Tags": [{"Key": "Name", "Value": "db"}]}])["NetworkInterface"]
    eni_id = made["NetworkInterfaceId"]
    instance_id = ec2.run_instances(ImageId=CENTOS, MinCount=1, MaxCount=1,
                                    InstanceType="o1.small")["Instances"][0]["InstanceId"]
    ec2.get_waiter("instance_running").wait(InstanceIds=[instance_id], WaiterConfig={"Delay": 1})
    ec2.attach_network_interface(NetworkInterfaceId=eni_id, InstanceId=instance_id, DeviceIndex=1)
    interfaces_url = f"{cimi.collection_url('machines')}/{_uuid(instance_id)}/network_interfaces"
    attached = [n for n in cimi.get(interfaces_url)["machineNetworkInterfaces"] if cimi.operation(n, "delete")]
    assert len(attached) == 1 and "10.71.1.50" in [a["ip"] for a in attached[0]["addresses"]]

    cimi.request("DELETE", attached[0]["id"], expect=200)
    (kept,) = ec2.describe_network_interfaces(NetworkInterfaceIds=[eni_id])["NetworkInterfaces"]
    assert kept["Status"] == "available" and kept["PrivateIpAddress"] == "10.71.1.50"
    assert kept["Description"] == "tf-managed" and [g["GroupId"] for g in kept["Groups"]] == [web]
    assert kept["TagSet"] == [{"Key": "Name", "Value": "db"}]
    assert len(cimi.get(interfaces_url)["machineNetworkInterfaces"]) == 1
    ec2.delete_network_interface(NetworkInterfaceId=eni_id)
    ec2.terminate_instances(InstanceIds=[instance_id])
    ec2.get_waiter("instance_terminated").wait(InstanceIds=[instance_id], WaiterConfig={"Delay": 1})
    ec2.delete_security_group(GroupId=web)
    ec2.delete_subnet(SubnetId=subnet_id)
    ec2.delete_vpc(VpcId=vpc_id)


def _uuid(ec2_id: str) -> str:
    hex_id = ec2_id.split("-", 1)[1]
    return f"{hex_id[:8]}-{hex_id[8:12]}-{hex_id[12:16]}-{hex_id[16:20]}-{hex_id[20:]}"


def test_a_machine_made_on_a_network_has_its_one_interface_there(net_gateway: Any, ec2: Any) -> None:
    cimi = CimiClient(net_gateway, "json")
    group = cimi.parse(cimi.post(cimi.collection_url("forwardingGroups"),
                                 {"forwardingGroupTemplate": {"cidr": "10.70.0.0/16"}}))
    network = cimi.parse(cimi.post(cimi.collection_url("networks"), {"networkTemplate": {
        "networkConfig": {"cidr": "10.70.2.0/24"}, "forwardingGroup": {"href": group["id"]}}}))
    template = cimi.parse(cimi.post(cimi.collection_url("machineTemplates"), {
        "name": "on-the-network", "machineImage": {"href": cimi.preferred_image()},
        "machineConfig": {"href": cimi.preferred_config()},
        "networkInterfaces": [{"network": {"href": network["id"]}, "addresses": [{"ip": "10.70.2.77"}]}]}))
    assert template["networkInterfaces"] == [{"network": {"href": network["id"]}, "addresses": [{"ip": "10.70.2.77"}]}]
    for bad, status in (("10.70.3.5", 400), ("10.70.2.0", 400), ("banana", 400)):
        refused = cimi.request("POST", cimi.collection_url("machines"), {"machineTemplate": {
            "href": template["id"], "networkInterfaces": [{"network": {"href": network["id"]},
                                                           "addresses": [{"ip": bad}]}]}})
        assert error(refused)[0] == status, bad
    logical = next(n for n in cimi.entries("networks") if "cidr" not in n)
    refused = cimi.request("POST", cimi.collection_url("machines"), {"machineTemplate": {
        "href": template["id"], "networkInterfaces": [{"network": {"href": logical["id"]}}]}})
    assert error(refused)[0] == 400

    made = cimi.post(cimi.collection_url("machines"), {"name": "placed", "machineTemplate": {"href": template["id"]}},
                     expect=(201, 202))
    machine = cimi.parse(made)
    assert machine["realm"] == network["realm"]
    cimi.wait_job(made.headers["CIMI-Job-URI"], timeout=60)
    (nic,) = cimi.get(machine["networkInterfaces"]["href"])["machineNetworkInterfaces"]
    assert nic["network"]["href"] == network["id"]
    (instance,) = addressed_instances(ec2, ["i-" + machine["id"].rsplit("/", 1)[1].replace("-", "")])
    assert instance["PrivateIpAddress"] == "10.70.2.77" and instance["VpcId"] == "vpc-" + group["id"].rsplit(
        "/", 1)[1].replace("-", "")
    again = cimi.request("POST", cimi.collection_url("machines"), {"machineTemplate": {"href": template["id"]}})
    assert error(again)[0] == 409  # its address is taken
    ec2.terminate_instances(InstanceIds=[instance["InstanceId"]])
    ec2.get_waiter("instance_terminated").wait(InstanceIds=[instance["InstanceId"]], WaiterConfig={"Delay": 1})
    for url in (template["id"], network["id"], group["id"]):
        cimi.request("DELETE", url, expect=200)


def test_a_user_the_network_provider_refuses_lists_and_is_refused_for_changes(net_gateway: Any) -> None:
    """ovirt-provider-ovn admits only the users its authorization plugin names (the engine's admin, as the
    simulator's): another user lists the logical networks, and a change is the provider's refusal."""
    admin = CimiClient(net_gateway, "json")
    group = admin.parse(admin.post(admin.collection_url("forwardingGroups"),
                                   {"forwardingGroupTemplate": {"cidr": "10.58.0.0/16"}}))
    user = CimiClient(net_gateway, "json", auth=("user@internal", "user"))
    assert user.entries("networks") and not [n for n in user.entries("networks") if "cidr" in n]
    refused = user.request("POST", user.collection_url("networks"), {"networkTemplate": {
        "networkConfig": {"cidr": "10.58.1.0/24"}, "forwardingGroup": {"href": group["id"]}}})
    assert error(refused)[0] == 401 and "network provider" in error(refused)[1]
    admin.request("DELETE", group["id"], expect=200)


def test_an_added_interface_takes_the_first_free_device_index_whatever_the_nics_are_called(
        net_gateway: Any, ec2: Any) -> None:
    """A machine whose NIC the engine's user renamed (eth0, not nic1): the added one is the second (device
    index 1, named nic2), never index 0, which is the primary interface's."""
    cimi = CimiClient(net_gateway, "json")
    vpc_id = ec2.create_vpc(CidrBlock="10.72.0.0/16")["Vpc"]["VpcId"]
    subnet_id = ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.72.1.0/24")["Subnet"]["SubnetId"]
    network = next(n for n in cimi.entries("networks") if n.get("cidr") == "10.72.1.0/24")
    instance_id = ec2.run_instances(ImageId=CENTOS, MinCount=1, MaxCount=1,
                                    InstanceType="o1.small")["Instances"][0]["InstanceId"]
    ec2.get_waiter("instance_running").wait(InstanceIds=[instance_id], WaiterConfig={"Delay": 1})
    vm = f"{net_gateway.simulator_url}/ovirt-engine/api/vms/{_uuid(instance_id)}"
    (own,) = etree.fromstring(requests.get(f"{vm}/nics", auth=ADMIN, timeout=10).content).findall("nic")
    requests.put(f"{vm}/nics/{own.get('id')}", data="<nic><name>eth0</name></nic>", auth=ADMIN, timeout=10,
                 headers={"Content-Type": "application/xml"}).raise_for_status()
    interfaces_url = f"{cimi.collection_url('machines')}/{_uuid(instance_id)}/network_interfaces"

    nic = cimi.parse(cimi.post(interfaces_url, {"network": {"href": network["id"]}}))
    assert nic["name"] == "nic2"
    (instance,) = ec2.describe_instances(InstanceIds=[instance_id])["Reservations"][0]["Instances"]
    assert sorted(i["Attachment"]["DeviceIndex"] for i in instance["NetworkInterfaces"]) == [0, 1]
    cimi.request("DELETE", nic["id"], expect=200)
    (left,) = [e for e in ec2.describe_network_interfaces()["NetworkInterfaces"] if e["SubnetId"] == subnet_id]
    ec2.delete_network_interface(NetworkInterfaceId=left["NetworkInterfaceId"])
    ec2.terminate_instances(InstanceIds=[instance_id])
    ec2.get_waiter("instance_terminated").wait(InstanceIds=[instance_id], WaiterConfig={"Delay": 1})
    ec2.delete_subnet(SubnetId=subnet_id)
    ec2.delete_vpc(VpcId=vpc_id)


def test_bad_properties_are_refused_before_anything_is_made(net_gateway: Any, ec2: Any) -> None:
    """Properties become EC2 tags, so EC2's rules apply: a 300-character key, an empty one or an `aws:` one
    is a 400, and no VPC or subnet is left behind for a retry to duplicate."""
    cimi = CimiClient(net_gateway, "json")
    groups_url, networks_url = cimi.collection_url("forwardingGroups"), cimi.collection_url("networks")
    vpcs_before = {v["VpcId"] for v in ec2.describe_vpcs()["Vpcs"]}
    for bad in ({"k" * 300: "v"}, {"": "v"}, {"aws:owner": "me"}, {"tier": "v" * 300}):
        refused = cimi.request("POST", groups_url, {"properties": bad,
                                                    "forwardingGroupTemplate": {"cidr": "10.73.0.0/16"}})
        assert error(refused)[0] == 400, bad
    assert {v["VpcId"] for v in ec2.describe_vpcs()["Vpcs"]} == vpcs_before
    group = cimi.parse(cimi.post(groups_url, {"forwardingGroupTemplate": {"cidr": "10.73.0.0/16"}}))
    for bad in ({"k" * 300: "v"}, {"aws:owner": "me"}):
        refused = cimi.request("POST", networks_url, {"properties": bad, "networkTemplate": {
            "networkConfig": {"cidr": "10.73.1.0/24"}, "forwardingGroup": {"href": group["id"]}}})
        assert error(refused)[0] == 400, bad
    assert not [s for s in ec2.describe_subnets()["Subnets"] if s["CidrBlock"] == "10.73.1.0/24"]
    cimi.request("DELETE", group["id"], expect=200)
