"""Real Terraform with the real hashicorp/aws provider: a network of its own on the OVN network provider.

One configuration as a user writes it: a tagged `aws_vpc`, two `aws_subnet`s, security groups with inline
ingress/egress blocks (a CIDR rule, a group-to-group port range, ICMP, all out) and a separate
`aws_vpc_security_group_ingress_rule`, an `aws_instance` in one subnet with a group and a fixed private IP,
and an `aws_network_interface` in the other subnet attached to it. `apply`; `plan -detailed-exitcode` shows
no changes (exit 0); `destroy`. After the apply the objects are checked where they live (the provider's
Neutron API and the engine), and after the destroy that nothing of them is left. The embedded default's data
center has one cluster, so both subnets are in its one availability zone.
"""
from __future__ import annotations

import os
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
import requests
from lxml import etree

from tests.clients.real_tools import provider_folder, unavailable
from tests.clients.test_boto3_ec2_vpc_networking import engine_networks, neutron
from tests.clients.test_terraform_real import TIMINGS, Terraform, applied, backend_id, engine_has, resources

CONFIGURATION = """
terraform {
  required_providers {
    aws = { source = "hashicorp/aws", version = "5.100.0" }
  }
}
variable "endpoint" { type = string }
variable "suffix" { type = string }

provider "aws" {
  region                      = "us-east-1"
  access_key                  = "cloudgw-demo"
  secret_key                  = "cloudgw-demo-secret"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  skip_region_validation      = true
  endpoints {
    ec2 = var.endpoint
    sts = var.endpoint
  }
}

data "aws_ami" "centos" {
  most_recent = true
  owners      = ["self"]
  filter {
    name   = "name"
    values = ["centos-stream-*"]
  }
}
data "aws_availability_zones" "all" {}

resource "aws_vpc" "net" {
  cidr_block = "10.50.0.0/16"
  tags       = { Name = "tf-net-${var.suffix}", env = "net" }
}
resource "aws_subnet" "front" {
  vpc_id            = aws_vpc.net.id
  cidr_block        = "10.50.1.0/24"
  availability_zone = data.aws_availability_zones.all.names[0]
}
resource "aws_subnet" "back" {
  vpc_id            = aws_vpc.net.id
  cidr_block        = "10.50.2.0/24"
  availability_zone = data.aws_availability_zones.all.names[length(data.aws_availability_zones.all.names) - 1]
}
resource "aws_security_group" "app" {
  name        = "tf-app-${var.suffix}"
  description = "app tier"
  vpc_id      = aws_vpc.net.id
}
resource "aws_security_group" "web" {
  name        = "tf-web-${var.suffix}"
  description = "web tier"
  vpc_id      = aws_vpc.net.id
  ingress {
    description = "ssh"
    protocol    = "tcp"
    from_port   = 22
    to_port     = 22
    cidr_blocks = ["10.0.0.0/8"]
  }
  ingress {
    protocol        = "tcp"
    from_port       = 8000
    to_port         = 8099
    security_groups = [aws_security_group.app.id]
  }
  ingress {
    protocol    = "icmp"
    from_port   = -1
    to_port     = -1
    cidr_blocks = ["0.0.0.0/0"]
  }
  egress {
    protocol    = "-1"
    from_port   = 0
    to_port     = 0
    cidr_blocks = ["0.0.0.0/0"]
  }
}
resource "aws_vpc_security_group_ingress_rule" "https" {
  security_group_id = aws_security_group.app.id
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "10.50.0.0/16"
}
resource "aws_instance" "app" {
  ami                    = data.aws_ami.centos.id
  instance_type          = "o1.small"
  subnet_id              = aws_subnet.front.id
  vpc_security_group_ids = [aws_security_group.web.id]
  private_ip             = "10.50.1.10"
  tags                   = { Name = "tf-net-${var.suffix}" }
}
resource "aws_network_interface" "back" {
  subnet_id       = aws_subnet.back.id
  private_ips     = ["10.50.2.20"]
  security_groups = [aws_security_group.app.id]
  description     = "back end"
  attachment {
    instance     = aws_instance.app.id
    device_index = 1
  }
}
"""
RESOURCES = 8


def rule_traffic(rule: dict[str, Any]) -> tuple[Any, ...]:
    """A Neutron rule's direction, protocol, ports and peer (a group, a prefix, or "any": no prefix is any)."""
    return (rule["direction"], rule["protocol"], rule["port_range_min"], rule["port_range_max"],
            rule["remote_group_id"] or rule["remote_ip_prefix"] or "any")


def engine_nics(gateway: Any, vm_id: str) -> list[dict[str, str]]:
    answer = requests.get(f"{gateway.engine_url}/vms/{vm_id}/nics", auth=gateway.admin, timeout=30)
    answer.raise_for_status()
    return [{"id": n.get("id"), "name": n.findtext("name") or "", "mac": n.findtext("mac/address") or ""}
            for n in etree.fromstring(answer.content).iterfind("nic")]


@pytest.fixture()
def terraform(net_gateway: Any, tmp_path: Path) -> Terraform:
    folder = provider_folder()
    if folder is None:
        unavailable("no hashicorp/aws provider (terraform-provider-aws_*) in a local plugin folder; "
                    "set CLOUDGW_TF_PLUGIN_DIR to the folder holding registry.terraform.io")
    (tmp_path / "main.tf").write_text(CONFIGURATION)
    tf = Terraform(tmp_path, {"endpoint": net_gateway.url + "/", "suffix": uuid.uuid4().hex[:8]})
    if os.environ.get("TF_LOG"):  # to see each call the provider makes: TF_LOG=DEBUG, the log in the workdir
        tf.env.update(TF_LOG=os.environ["TF_LOG"], TF_LOG_PATH=str(tmp_path / "terraform.log"))
    tf("init", f"-plugin-dir={folder}").ok()
    return tf


@pytest.mark.timeout(900)  # the provider's own fixed waits; CI machines are slower than a quiet one
def test_terraform_builds_a_network_and_takes_it_down(net_gateway: Any, terraform: Terraform) -> None:
    started = time.monotonic()
    first = terraform("apply", "-auto-approve").ok()
    assert applied(first) == (RESOURCES, 0, 0)
    state = terraform.state()
    vpc, subnets = resources(state, "aws_vpc")["net"], resources(state, "aws_subnet")
    groups, instance = resources(state, "aws_security_group"), resources(state, "aws_instance")["app"]
    interface = resources(state, "aws_network_interface")["back"]
    assert vpc["enable_dns_support"] is True and vpc["enable_dns_hostnames"] is False
    assert instance["private_ip"] == "10.50.1.10" and instance["subnet_id"] == subnets["front"]["id"]
    assert interface["private_ip"] == "10.50.2.20" and interface["attachment"][0]["instance"] == instance["id"]

    # where they live: the router, its two networks with their subnets, the groups' rules, the two ports
    router_id = backend_id(vpc["id"])
    assert any(r["id"] == router_id for r in neutron(net_gateway, "routers"))
    held = {s["cidr"]: s for s in neutron(net_gateway, "subnets")}
    assert {"10.50.1.0/24", "10.50.2.0/24"} <= set(held)
    web_id, app_id = backend_id(groups["web"]["id"]), backend_id(groups["app"]["id"])
    rules = neutron(net_gateway, "security-group-rules")
    assert sorted(rule_traffic(r) for r in rules if r["security_group_id"] == web_id) == sorted([
        ("ingress", "tcp", 22, 22, "10.0.0.0/8"), ("ingress", "tcp", 8000, 8099, app_id),
        ("ingress", "icmp", None, None, "any"), ("egress", None, None, None, "any")])
    assert [rule_traffic(r) for r in rules if r["security_group_id"] == app_id] == [
        ("ingress", "tcp", 443, 443, "10.50.0.0/16")]  # Terraform revoked the group's default egress rule
    vm_id = backend_id(instance["id"])
    nics = engine_nics(net_gateway, vm_id)
    assert len(nics) == 2
    ports = {ip["ip_address"]: p for p in neutron(net_gateway, "ports") for ip in p["fixed_ips"]}
    assert ports["10.50.1.10"]["security_groups"] == [web_id]
    assert ports["10.50.2.20"]["security_groups"] == [app_id]
    assert {ports["10.50.1.10"]["device_id"], ports["10.50.2.20"]["device_id"]} == {n["id"] for n in nics}
    imported = {n["id"] for n in engine_networks(net_gateway) if n["external"]}
    assert len(imported) >= 2

    unchanged = terraform("plan", "-detailed-exitcode")
    assert unchanged.returncode == 0, unchanged.output[-4000:]

    # after detaching the interface the provider polls its attachment until it is `detached`: the gateway shows it
    # so at once (else the provider counts 20 not-found answers, ~160 s)
    terraform("destroy", "-auto-approve", timeout=600).ok()
    TIMINGS["total"] = time.monotonic() - started
    print("terraform wall times (s):", {k: round(v, 1) for k, v in TIMINGS.items()})

    deadline = time.monotonic() + 60
    while engine_has(net_gateway, f"vms/{vm_id}"):
        assert time.monotonic() < deadline, "the engine still has the configuration's VM"
        time.sleep(0.5)
    assert not any(r["id"] == router_id for r in neutron(net_gateway, "routers"))
    assert not {"10.50.1.0/24", "10.50.2.0/24"} & {s["cidr"] for s in neutron(net_gateway, "subnets")}
    assert not {web_id, app_id} & {g["id"] for g in neutron(net_gateway, "security-groups")}
    assert not {"10.50.1.10", "10.50.2.20"} & {ip["ip_address"] for p in neutron(net_gateway, "ports")
                                                for ip in p["fixed_ips"]}
    assert not [n for n in engine_networks(net_gateway) if n["external"]]
