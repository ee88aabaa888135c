"""Real Ansible (the amazon.aws collection bundled with `ansible`) against the gateway.

One playbook, as a user would write it: its `up` part run twice (the second run must change nothing:
every module used there is idempotent), the `aws_ec2` inventory plugin listing the running instances
grouped by a tag, then its `down` part (stop, start, detach, delete, terminate) run once. The modules
run with the test virtualenv's Python (boto3 is there), and Ansible writes nothing outside the test's
directory.
"""
from __future__ import annotations

import json
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from tests.clients.ec2_helpers import REGION, ec2_client
from tests.clients.ansible_runs import Ansible, changed_tasks, plain, recap

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
  tasks:
    - name: key pair
      amazon.aws.ec2_key:
        name: "ansible-{{ suffix }}"
        key_material: "{{ public_key }}"
        tags: {suite: "{{ suffix }}"}
      tags: [up]
    - name: image
      amazon.aws.ec2_ami_info:
        owners: [self]
        filters: {name: "centos-stream-*"}
      register: images
      tags: [up]
    - name: default VPC
      amazon.aws.ec2_vpc_net_info:
        filters: {isDefault: "true"}
      register: vpcs
      tags: [up]
    - name: its subnets
      amazon.aws.ec2_vpc_subnet_info:
        filters: {vpc-id: "{{ vpcs.vpcs[0].id }}"}
      register: subnets
      tags: [up]
    - name: its default security group
      amazon.aws.ec2_security_group_info:
        filters: {vpc-id: "{{ vpcs.vpcs[0].id }}", group-name: default}
      register: default_group
      tags: [up]
    - name: tag the VPC
      amazon.aws.ec2_tag:
        resource: "{{ vpcs.vpcs[0].id }}"
        tags: {"ansible-{{ suffix }}": "yes"}
      tags: [up]
    - name: instance running
      amazon.aws.ec2_instance:
        name: "ansible-web-{{ suffix }}"
        image_id: "{{ images.images[0].image_id }}"
        instance_type: o1.small
        key_name: "ansible-{{ suffix }}"
        vpc_subnet_id: "{{ subnets.subnets[0].id }}"
        security_group: "{{ default_group.security_groups[0].group_id }}"
        user_data: "#cloud-config\\nhostname: web\\n"
        volumes:
          - device_name: "{{ images.images[0].root_device_name }}"
            ebs: {volume_size: 12, delete_on_termination: true}
        tags: {suite: "{{ suffix }}", role: web}
        state: running
        wait: false  # the module's own wait polls every 15 s; the next task polls every second
      tags: [up]
    - &running
      name: instance facts (once it runs)
      amazon.aws.ec2_instance_info:
        filters: {"tag:Name": "ansible-web-{{ suffix }}", instance-state-name: [running]}
      register: described
      until: described.instances | length == 1
      retries: 120
      delay: 1
      tags: [up, down]
    - name: data volume attached
      amazon.aws.ec2_vol:
        name: "ansible-data-{{ suffix }}"
        volume_size: 1
        instance: "{{ described.instances[0].instance_id }}"
        device_name: /dev/sdf
        tags: {suite: "{{ suffix }}"}
      register: volume
      tags: [up]
    - name: volume facts
      amazon.aws.ec2_vol_info:
        filters: {"tag:Name": "ansible-data-{{ suffix }}"}
      register: volumes
      tags: [up, down]
    - name: snapshot (one per hour at most)
      amazon.aws.ec2_snapshot:
        volume_id: "{{ volumes.volumes[0].id }}"
        description: "ansible {{ suffix }}"
        last_snapshot_min_age: 60
        snapshot_tags: {suite: "{{ suffix }}"}
        wait: true
      tags: [up]
    - name: snapshot facts
      amazon.aws.ec2_snapshot_info:
        filters: {"tag:suite": "{{ suffix }}"}
      register: snapshots
      tags: [up, down]
    - name: what the facts say
      ansible.builtin.assert:
        that:
          - described.instances | length == 1
          - described.instances[0].tags.role == "web"
          - described.instances[0].key_name == "ansible-" ~ suffix
          - volumes.volumes | length == 1
          - volumes.volumes[0].attachment_set[0].device == "/dev/sdf"
          - snapshots.snapshots | length == 1
          - snapshots.snapshots[0].description == "ansible " ~ suffix
      tags: [up]

    - name: instance stopped
      amazon.aws.ec2_instance:
        instance_ids: ["{{ described.instances[0].instance_id }}"]
        state: stopped
        wait: false
      tags: [down]
    - name: instance facts (once it is stopped)
      amazon.aws.ec2_instance_info:
        instance_ids: ["{{ described.instances[0].instance_id }}"]
      register: stopped
      until: stopped.instances[0].state.name == "stopped"
      retries: 120
      delay: 1
      tags: [down]
    - name: instance running again
      amazon.aws.ec2_instance:
        instance_ids: ["{{ described.instances[0].instance_id }}"]
        state: running
        wait: false
      tags: [down]
    - *running
    - name: snapshot deleted
      amazon.aws.ec2_snapshot:
        snapshot_id: "{{ snapshots.snapshots[0].snapshot_id }}"
        state: absent
      tags: [down]
    - name: volume detached
      amazon.aws.ec2_vol:
        id: "{{ volumes.volumes[0].id }}"
        instance: None
      tags: [down]
    - name: volume deleted
      amazon.aws.ec2_vol:
        id: "{{ volumes.volumes[0].id }}"
        state: absent
      tags: [down]
    - name: instance terminated
      amazon.aws.ec2_instance:
        instance_ids: ["{{ described.instances[0].instance_id }}"]
        state: absent
        wait: false
      tags: [down]
    - name: key pair deleted
      amazon.aws.ec2_key:
        name: "ansible-{{ suffix }}"
        state: absent
      tags: [down]
"""
@pytest.fixture()
def ansible(gateway: Any, tmp_path: Path) -> Ansible:
    public_key = ed25519.Ed25519PrivateKey.generate().public_key().public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode()
    return Ansible(tmp_path, PLAYBOOK, {
        "endpoint": gateway.url + "/", "access_key": gateway.access_key, "secret_key": gateway.secret_key,
        "region": REGION, "suffix": uuid.uuid4().hex[:8], "public_key": public_key})


@pytest.mark.timeout(900)  # the tools' own fixed waits make ~200 s on a quiet machine; CI machines are not
def test_playbook_is_idempotent_and_inventory_groups_by_tag(gateway: Any, ansible: Ansible) -> None:
    started = time.monotonic()
    suffix = json.loads((ansible.workdir / "variables.json").read_text())["suffix"]

    _, changed = recap(ansible.play("first run", "up"))
    assert changed >= 5  # key, VPC tag, instance, volume, snapshot
    second = ansible.play("second run", "up")
    assert recap(second)[1] == 0, changed_tasks(second.output)

    listed = ansible.inventory_list({
        "plugin": "amazon.aws.aws_ec2", "regions": [REGION], "endpoint_url": gateway.url + "/",
        "access_key": gateway.access_key, "secret_key": gateway.secret_key,
        "filters": {"instance-state-name": "running", "tag:suite": suffix},
        "hostnames": ["instance-id"], "keyed_groups": [{"key": "tags.role", "prefix": "role"}]})
    ec2 = ec2_client(gateway)
    running = [i["InstanceId"] for r in ec2.describe_instances(Filters=[
        {"Name": "tag:suite", "Values": [suffix]}, {"Name": "instance-state-name", "Values": ["running"]}])["Reservations"]
        for i in r["Instances"]]
    assert len(running) == 1
    assert listed["role_web"]["hosts"] == running
    assert plain(listed["_meta"]["hostvars"][running[0]]["tags"]["suite"]) == suffix

    _, changed = recap(ansible.play("down", "down"))
    assert changed >= 6
    ansible.timings["total"] = time.monotonic() - started
    print("ansible wall times (s):", {k: round(v, 1) for k, v in ansible.timings.items()})
    ec2.get_waiter("instance_terminated").wait(InstanceIds=running, WaiterConfig={"Delay": 1, "MaxAttempts": 120})
    assert not ec2.describe_volumes(Filters=[{"Name": "tag:Name", "Values": [f"ansible-data-{suffix}"]}])["Volumes"]
    assert not ec2.describe_snapshots(Filters=[{"Name": "tag:suite", "Values": [suffix]}])["Snapshots"]
    assert not ec2.describe_key_pairs(Filters=[{"Name": "key-name", "Values": [f"ansible-{suffix}"]}])["KeyPairs"]
