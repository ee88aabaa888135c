"""Real Ansible (amazon.aws) building a VPC network on the embedded default's OVN network provider.

One playbook as a user would write it: its `up` part (a VPC with DNS options, two subnets, a security group
with CIDR, group, port-range and ICMP rules and the group its rule names, an instance in a subnet, an
interface of its own with a fixed address and a group, attached to the instance) run twice, the second run
changing nothing; its `change` part (one rule fewer, purged; the interface detached); its `down` part
deleting everything in dependency order. Between the runs the objects are checked where they live: the OVN
provider's Neutron API and the engine. Every module task costs a Python start with boto3, so the playbook
has as few as the scenario allows (the module makes the web group from the rule that names it).
"""
from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any

import pytest
import requests
from lxml import etree

from tests.clients.ansible_runs import Ansible, changed_tasks, recap
from tests.clients.ec2_helpers import REGION, ec2_client
from tests.clients.test_boto3_ec2_vpc_networking import engine_networks, neutron
from tests.conftest import ADMIN

CENTOS = "ami-7e000000000040008000000000000011"  # the simulator's centos-stream-9 template in Default
ENI_ADDRESS = "10.70.1.50"
PLAYBOOK = """
- hosts: localhost
  connection: local
  gather_facts: false
  module_defaults:
    group/amazon.aws.aws:
      endpoint_url: "{{ endpoint }}"
      access_key: "{{ access_key }}"
      secret_key: "{{ secret_key }}"
      region: "{{ region }}"
  vars:
    app_rules:
      - {proto: tcp, ports: [22], cidr_ip: 10.0.0.0/8, rule_desc: ssh}
      - {proto: tcp, ports: ["8080-8089"], group_name: "web-{{ suffix }}", group_desc: web servers, rule_desc: from web}
      - {proto: icmp, icmp_type: 8, icmp_code: -1, cidr_ip: 10.70.0.0/16, rule_desc: ping}
      - {proto: udp, ports: [53], cidr_ip: 10.70.0.0/16, rule_desc: dns}
    first_subnet: "{{ found.subnets | selectattr('cidr_block', 'eq', '10.70.1.0/24') | map(attribute='id') | first }}"
  tasks:
    - name: VPC
      amazon.aws.ec2_vpc_net:
        name: "net-{{ suffix }}"
        cidr_block: 10.70.0.0/16
        dns_support: true
        dns_hostnames: false  # a provider VPC has no DNS host names
        tags: {suite: "{{ suffix }}"}
      register: vpc
      tags: [up]
    - name: subnets
      amazon.aws.ec2_vpc_subnet:
        vpc_id: "{{ vpc.vpc.id }}"
        cidr: "{{ item }}"
        az: "{{ zone }}"
        tags: {suite: "{{ suffix }}"}
      loop: [10.70.1.0/24, 10.70.2.0/24]
      register: subnets
      tags: [up]
    - name: app group, and the web group its rules name (the module makes it)
      amazon.aws.ec2_security_group:
        name: "app-{{ suffix }}"
        description: application servers
        vpc_id: "{{ vpc.vpc.id }}"
        rules: "{{ app_rules }}"
        tags: {suite: "{{ suffix }}"}
      register: app
      tags: [up]
    - name: subnet facts (the VPC's id with them)
      amazon.aws.ec2_vpc_subnet_info:
        filters: {"tag:suite": "{{ suffix }}"}
      register: found
      tags: [change, down]
    - name: app group without its DNS rule
      amazon.aws.ec2_security_group:
        name: "app-{{ suffix }}"
        description: application servers
        vpc_id: "{{ found.subnets[0].vpc_id }}"
        rules: "{{ app_rules[:-1] }}"
        purge_rules: true
      tags: [change]
    - name: instance in the first subnet
      amazon.aws.ec2_instance:
        name: "net-web-{{ suffix }}"
        image_id: "{{ image }}"
        instance_type: o1.small
        vpc_subnet_id: "{{ subnets.results[0].subnet.id }}"
        security_groups: ["web-{{ suffix }}"]
        tags: {suite: "{{ suffix }}"}
        state: present
        wait: false  # the module's own wait polls every 15 s; the next task polls every second
      tags: [up]
    - name: instance facts (once it runs)
      amazon.aws.ec2_instance_info:
        filters: {"tag:Name": "net-web-{{ suffix }}", instance-state-name: [running]}
      register: described
      until: described.instances | length == 1
      retries: 120
      delay: 1
      tags: [up]
    - name: second interface, attached
      amazon.aws.ec2_eni:
        subnet_id: "{{ subnets.results[0].subnet.id }}"
        private_ip_address: "{{ eni_address }}"
        security_groups: ["{{ app.group_id }}"]
        description: second leg
        name: "net-eni-{{ suffix }}"
        instance_id: "{{ described.instances[0].instance_id }}"
        device_index: 1
        attached: true
      tags: [up]
    - name: second interface, detached
      amazon.aws.ec2_eni:
        subnet_id: "{{ first_subnet }}"
        private_ip_address: "{{ eni_address }}"
        attached: false
      tags: [change]

    - name: second interface deleted
      amazon.aws.ec2_eni:
        subnet_id: "{{ first_subnet }}"
        private_ip_address: "{{ eni_address }}"
        state: absent
      tags: [down]
    - name: instance terminated
      amazon.aws.ec2_instance:
        filters: {"tag:Name": "net-web-{{ suffix }}"}
        state: absent
        wait: false
      tags: [down]
    - name: instance facts (once it is gone)
      amazon.aws.ec2_instance_info:
        filters: {"tag:Name": "net-web-{{ suffix }}", instance-state-name: [pending, running, shutting-down, stopping, stopped]}
      register: remaining
      until: remaining.instances | length == 0
      retries: 120
      delay: 1
      tags: [down]
    - name: groups deleted (the one whose rules name the other first)
      amazon.aws.ec2_security_group:
        name: "{{ item }}-{{ suffix }}"
        vpc_id: "{{ found.subnets[0].vpc_id }}"
        state: absent
      loop: [app, web]
      tags: [down]
    - name: subnets deleted
      amazon.aws.ec2_vpc_subnet:
        vpc_id: "{{ found.subnets[0].vpc_id }}"
        cidr: "{{ item.cidr_block }}"
        state: absent
      loop: "{{ found.subnets }}"
      tags: [down]
    - name: VPC deleted
      amazon.aws.ec2_vpc_net:
        vpc_id: "{{ found.subnets[0].vpc_id }}"
        state: absent
      tags: [down]
"""


SUFFIX = uuid.uuid4().hex[:8]


@pytest.fixture()
def ansible(net_gateway: Any, tmp_path: Path) -> Ansible:
    zone = ec2_client(net_gateway).describe_availability_zones()["AvailabilityZones"][0]["ZoneName"]
    return Ansible(tmp_path, PLAYBOOK, {
        "endpoint": net_gateway.url + "/", "access_key": net_gateway.access_key,
        "secret_key": net_gateway.secret_key, "region": REGION, "suffix": SUFFIX, "image": CENTOS,
        "zone": zone, "eni_address": ENI_ADDRESS})


def backend(ec2_id: str) -> str:
    return str(uuid.UUID(hex=ec2_id.rpartition("-")[2]))


def ingress_rules(gateway: Any, group_id: str) -> list[dict[str, Any]]:
    """The group's ingress rules as the OVN provider holds them."""
    return [r for r in neutron(gateway, "security-group-rules")
            if r["security_group_id"] == backend(group_id) and r["direction"] == "ingress"]


def engine_items(gateway: Any, path: str) -> list[Any] | None:
    """The elements of an engine collection or entity as any engine client reads them; None if it is not there."""
    answer = requests.get(f"{gateway.engine_url}/{path}", auth=ADMIN, timeout=10)
    if answer.status_code == 404:
        return None
    answer.raise_for_status()
    return list(etree.fromstring(answer.content))


def engine_nics(gateway: Any, vm_id: str) -> list[str]:
    return [nic.get("id") for nic in engine_items(gateway, f"vms/{vm_id}/nics") or []]


def engine_profiles(gateway: Any) -> list[str]:
    """The networks the engine's vNIC profiles are of; the engine always has the collection, so a 404 here
    is a broken path, not "no profiles" (which would let the clean-up check pass whatever is left)."""
    profiles = engine_items(gateway, "vnicprofiles")
    assert profiles is not None, "the engine did not answer GET vnicprofiles"
    return [p.find("network").get("id") for p in profiles]


@pytest.mark.timeout(900)  # the modules' start-up on a busy machine; CI machines are slower than a quiet one
def test_playbook_builds_changes_and_removes_a_vpc_network(net_gateway: Any, ansible: Ansible) -> None:
    started = time.monotonic()
    ec2 = ec2_client(net_gateway)
    _, changed = recap(ansible.play("first run", "up"))
    assert changed == 5  # tasks: the VPC, the subnets (one loop), the groups, the instance, the interface
    second = ansible.play("second run", "up")
    assert recap(second)[1] == 0, changed_tasks(second.output)

    # what the first run made, where it lives
    (vpc,) = ec2.describe_vpcs(Filters=[{"Name": "tag:Name", "Values": [f"net-{SUFFIX}"]}])["Vpcs"]
    assert vpc["CidrBlock"] == "10.70.0.0/16" and {"Key": "suite", "Value": SUFFIX} in vpc["Tags"]
    subnets = {s["CidrBlock"]: s for s in ec2.describe_subnets(
        Filters=[{"Name": "vpc-id", "Values": [vpc["VpcId"]]}])["Subnets"]}
    assert sorted(subnets) == ["10.70.1.0/24", "10.70.2.0/24"]
    groups = {g["GroupName"]: g for g in ec2.describe_security_groups(
        Filters=[{"Name": "vpc-id", "Values": [vpc["VpcId"]]}])["SecurityGroups"]}
    web, app = groups[f"web-{SUFFIX}"], groups[f"app-{SUFFIX}"]
    (instance,) = [i for r in ec2.describe_instances(Filters=[{"Name": "tag:Name", "Values": [f"net-web-{SUFFIX}"]}])[
        "Reservations"] for i in r["Instances"]]
    assert instance["SubnetId"] == subnets["10.70.1.0/24"]["SubnetId"]
    assert instance["SecurityGroups"] == [{"GroupId": web["GroupId"], "GroupName": web["GroupName"]}]
    (eni,) = ec2.describe_network_interfaces(
        Filters=[{"Name": "private-ip-address", "Values": [ENI_ADDRESS]}])["NetworkInterfaces"]
    assert (eni["Status"], eni["Attachment"]["InstanceId"], eni["Attachment"]["DeviceIndex"]) == (
        "in-use", instance["InstanceId"], 1)
    assert eni["Groups"] == [{"GroupId": app["GroupId"], "GroupName": app["GroupName"]}]
    assert eni["TagSet"] == [{"Key": "Name", "Value": f"net-eni-{SUFFIX}"}] and eni["Description"] == "second leg"
    port = next(p for p in neutron(net_gateway, "ports") if p["id"] == backend(eni["NetworkInterfaceId"]))
    assert port["fixed_ips"][0]["ip_address"] == ENI_ADDRESS and port["security_groups"] == [backend(app["GroupId"])]
    assert port["device_id"] in engine_nics(net_gateway, backend(instance["InstanceId"]))
    rules = ingress_rules(net_gateway, app["GroupId"])
    assert sorted((r["protocol"], r["port_range_min"], r["port_range_max"], r["remote_ip_prefix"]) for r in rules) == [
        ("icmp", 8, None, "10.70.0.0/16"), ("tcp", 22, 22, "10.0.0.0/8"), ("tcp", 8080, 8089, None),
        ("udp", 53, 53, "10.70.0.0/16")]
    assert next(r for r in rules if r["port_range_min"] == 8080)["remote_group_id"] == backend(web["GroupId"])
    subnet_ids = {backend(s["SubnetId"]) for s in subnets.values()}
    network_ids = {s["network_id"] for s in neutron(net_gateway, "subnets") if s["id"] in subnet_ids}
    names = {n["name"] for n in neutron(net_gateway, "networks") if n["id"] in network_ids}
    imported = [n for n in engine_networks(net_gateway) if n["name"] in names]
    assert len(imported) == 2 and all(n["external"] for n in imported)

    _, changed = recap(ansible.play("change", "change"))
    assert changed == 2  # one rule purged, the interface detached
    assert sorted(r["protocol"] for r in ingress_rules(net_gateway, app["GroupId"])) == ["icmp", "tcp", "tcp"]
    (detached,) = ec2.describe_network_interfaces(NetworkInterfaceIds=[eni["NetworkInterfaceId"]])["NetworkInterfaces"]
    assert detached["Status"] == "available" and "Attachment" not in detached

    _, changed = recap(ansible.play("down", "down"))
    assert changed == 5  # tasks: the interface, the instance, the groups, the subnets (loops), the VPC
    ansible.timings["total"] = time.monotonic() - started
    print("ansible wall times (s):", {k: round(v, 1) for k, v in ansible.timings.items()})
    made = {backend(vpc["VpcId"]), *subnet_ids, *network_ids, *(backend(g["GroupId"]) for g in groups.values()),
            backend(eni["NetworkInterfaceId"])}
    for collection in ("routers", "networks", "subnets", "ports", "security-groups"):
        left = [item["id"] for item in neutron(net_gateway, collection) if item["id"] in made]
        assert not left, (collection, left)
    assert not [n for n in engine_networks(net_gateway) if n["name"] in names]
    assert not {n["id"] for n in imported} & set(engine_profiles(net_gateway))
    assert engine_items(net_gateway, f"vms/{backend(instance['InstanceId'])}") is None
    assert not ec2.describe_vpcs(Filters=[{"Name": "vpc-id", "Values": [vpc["VpcId"]]}])["Vpcs"]
