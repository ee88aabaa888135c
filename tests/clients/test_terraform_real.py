"""Real Terraform with the real hashicorp/aws provider against the gateway, as one user's configuration.

Each step is checked as a user would: `apply`; `plan -detailed-exitcode` shows no changes (exit 0);
an instance made outside Terraform is imported and shows no changes either; a tag edit applies in
place; `plan` shows no changes again; `destroy` leaves nothing in the engine. The provider comes from
a local plugin folder (see real_tools), never from the registry.
"""
from __future__ import annotations

import json
import re
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from tests.clients.ec2_helpers import ec2_client
from tests.clients.real_tools import Run, isolated_env, provider_folder, run, tool, unavailable

CONFIGURATION = """
terraform {
  required_providers {
    aws = { source = "hashicorp/aws", version = "5.100.0" }
  }
}
variable "endpoint" { type = string }
variable "env" { type = string }
variable "suffix" { type = string }
variable "ed25519_key" { type = string }
variable "rsa_key" { type = string }

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
data "aws_vpc" "default" { default = true }
data "aws_subnets" "default" {
  filter {
    name   = "vpc-id"
    values = [data.aws_vpc.default.id]
  }
}
data "aws_availability_zones" "all" {}
data "aws_security_group" "default" {
  vpc_id = data.aws_vpc.default.id
  name   = "default"
}

resource "aws_key_pair" "ed25519" {
  key_name   = "tf-ed25519-${var.suffix}"
  public_key = var.ed25519_key
  tags       = { env = var.env }
}
resource "aws_key_pair" "rsa" {
  key_name   = "tf-rsa-${var.suffix}"
  public_key = var.rsa_key
  tags       = { env = var.env }
}
resource "aws_instance" "web" {
  ami               = data.aws_ami.centos.id
  instance_type     = "o1.small"
  key_name          = aws_key_pair.ed25519.key_name
  subnet_id         = data.aws_subnets.default.ids[0]
  availability_zone = data.aws_availability_zones.all.names[0]
  user_data         = "#cloud-config\\nhostname: web\\n"
  tags              = { Name = "tf-web-${var.suffix}", env = var.env }
  root_block_device {
    volume_size = 12
    tags        = { role = "root" }
  }
}
resource "aws_ebs_volume" "data" {
  availability_zone = data.aws_availability_zones.all.names[0]
  size              = 1
  tags              = { Name = "tf-data-${var.suffix}", env = var.env }
}
resource "aws_volume_attachment" "data" {
  device_name = "/dev/sdf"
  volume_id   = aws_ebs_volume.data.id
  instance_id = aws_instance.web.id
}
resource "aws_ebs_snapshot" "described" {
  volume_id   = aws_volume_attachment.data.volume_id
  description = "nightly"
  tags        = { env = var.env }
}
resource "aws_ebs_snapshot" "plain" {
  volume_id = aws_volume_attachment.data.volume_id
}
resource "aws_ec2_tag" "subnet" {
  resource_id = data.aws_subnets.default.ids[0]
  key         = "tf-${var.suffix}"
  value       = var.env
}
resource "aws_ec2_tag" "vpc" {
  resource_id = data.aws_vpc.default.id
  key         = "tf-${var.suffix}"
  value       = var.env
}
output "security_group" { value = data.aws_security_group.default.id }
"""
IMPORTED = """
resource "aws_instance" "imported" {
  ami           = data.aws_ami.centos.id
  instance_type = "o1.small"
  tags          = { Name = "tf-imported-${var.suffix}" }
}
"""
APPLIED = re.compile(r"Resources: (\d+) added, (\d+) changed, (\d+) destroyed")
TIMINGS: dict[str, float] = {}


def public_keys() -> tuple[str, str]:
    openssh = serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
    return (ed25519.Ed25519PrivateKey.generate().public_key().public_bytes(*openssh).decode(),
            rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key().public_bytes(*openssh).decode())


class Terraform:
    """The terraform binary in one working directory, with its data, configuration and home inside it."""

    def __init__(self, workdir: Path, variables: dict[str, str]) -> None:
        self.binary = tool("terraform")
        self.workdir = workdir
        (workdir / "terraformrc").write_text("disable_checkpoint = true\n")
        self.env = isolated_env(workdir / "home", TF_CLI_CONFIG_FILE=str(workdir / "terraformrc"),
                                TF_DATA_DIR=str(workdir / ".terraform"), TF_IN_AUTOMATION="1", TF_INPUT="0",
                                CHECKPOINT_DISABLE="1")
        self.variables = dict(variables)

    def __call__(self, command: str, *args: str, timeout: float = 400) -> Run:
        """`terraform <command> <args>`, the variables in terraform.tfvars.json (read by every command)."""
        (self.workdir / "terraform.tfvars.json").write_text(json.dumps(self.variables))
        result = run([self.binary, command, "-no-color", *args], self.workdir, self.env, timeout=timeout)
        TIMINGS[command] = TIMINGS.get(command, 0.0) + result.seconds
        return result

    def state(self) -> dict[str, Any]:
        return json.loads((self.workdir / "terraform.tfstate").read_text())


def resources(state: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    """name -> attributes of the managed resources of one type in a state file."""
    return {r["name"]: r["instances"][0]["attributes"] for r in state["resources"]
            if r["mode"] == "managed" and r["type"] == kind and r["instances"]}


def applied(result: Run) -> tuple[int, int, int]:
    match = APPLIED.search(result.output)
    assert match, result.output[-3000:]
    return int(match[1]), int(match[2]), int(match[3])


def engine_has(gateway: Any, path: str) -> bool:
    response = requests.get(f"{gateway.engine_url}/{path}", auth=gateway.admin, timeout=30)
    assert response.status_code in (200, 404), response.text[:300]
    return response.status_code == 200


def backend_id(ec2_id: str) -> str:
    return str(uuid.UUID(hex=ec2_id.split("-", 1)[1]))


@pytest.fixture()
def terraform(gateway: Any, tmp_path: Path) -> Terraform:
    folder = provider_folder()
    if folder is None:
        unavailable("no hashicorp/aws provider (terraform-provider-aws_*) in a local plugin folder; "
                    "set CLOUDGW_TF_PLUGIN_DIR to the folder holding registry.terraform.io")
    (tmp_path / "main.tf").write_text(CONFIGURATION)
    ed25519_key, rsa_key = public_keys()
    tf = Terraform(tmp_path, {"endpoint": gateway.url + "/", "env": "one", "suffix": uuid.uuid4().hex[:8],
                              "ed25519_key": ed25519_key, "rsa_key": rsa_key})
    tf("init", f"-plugin-dir={folder}").ok()
    return tf


@pytest.mark.timeout(900)  # the tools' own fixed waits make ~200 s on a quiet machine; CI machines are not
def test_terraform_lifecycle_with_import(gateway: Any, terraform: Terraform) -> None:
    started = time.monotonic()
    ec2 = ec2_client(gateway)

    first = terraform("apply", "-auto-approve").ok()
    assert applied(first) == (9, 0, 0)
    state = terraform.state()
    web = resources(state, "aws_instance")["web"]
    assert web["root_block_device"][0]["volume_size"] == 12
    assert web["root_block_device"][0]["tags"] == {"role": "root"}
    snapshots = resources(state, "aws_ebs_snapshot")
    assert snapshots["plain"]["description"] == "" and snapshots["described"]["description"] == "nightly"
    suffix = web["tags"]["Name"].removeprefix("tf-web-")
    subnet_tags = ec2.describe_subnets(SubnetIds=[web["subnet_id"]])["Subnets"][0]["Tags"]
    assert {"Key": f"tf-{suffix}", "Value": "one"} in subnet_tags

    # An instance made outside Terraform, imported, then described by a resource block of its own.
    image = resources(state, "aws_instance")["web"]["ami"]
    outside = ec2.run_instances(ImageId=image, InstanceType="o1.small", MinCount=1, MaxCount=1, TagSpecifications=[
        {"ResourceType": "instance", "Tags": [{"Key": "Name", "Value": f"tf-imported-{suffix}"}]}])
    outside_id = outside["Instances"][0]["InstanceId"]
    ec2.get_waiter("instance_running").wait(InstanceIds=[outside_id], WaiterConfig={"Delay": 1, "MaxAttempts": 120})
    (terraform.workdir / "imported.tf").write_text(IMPORTED)
    terraform("import", "aws_instance.imported", outside_id).ok()

    unchanged = terraform("plan", "-detailed-exitcode")
    assert unchanged.returncode == 0, unchanged.output[-4000:]

    terraform.variables["env"] = "two"
    edited = terraform("apply", "-auto-approve").ok()
    added, changed, destroyed = applied(edited)
    assert added == 0 and destroyed == 0 and changed >= 4, edited.output[-3000:]  # in place, nothing replaced
    assert terraform("plan", "-detailed-exitcode").returncode == 0

    state = terraform.state()
    instances = [backend_id(i["id"]) for i in resources(state, "aws_instance").values()]
    disks = [backend_id(v["id"]) for v in resources(state, "aws_ebs_volume").values()]
    disks += [backend_id(i["root_block_device"][0]["volume_id"]) for i in resources(state, "aws_instance").values()]
    terraform("destroy", "-auto-approve").ok()
    TIMINGS["total"] = time.monotonic() - started
    print("terraform wall times (s):", {k: round(v, 1) for k, v in TIMINGS.items()})

    deadline = time.monotonic() + 60
    while any(engine_has(gateway, f"vms/{i}") for i in instances) or any(engine_has(gateway, f"disks/{d}") for d in disks):
        assert time.monotonic() < deadline, "the engine still has the configuration's VMs or disks"
        time.sleep(0.5)
    assert not ec2.describe_key_pairs(Filters=[{"Name": "key-name", "Values": [f"tf-*-{suffix}"]}])["KeyPairs"]
    tags = ec2.describe_tags(Filters=[{"Name": "key", "Values": [f"tf-{suffix}"]}])["Tags"]
    assert tags == []
