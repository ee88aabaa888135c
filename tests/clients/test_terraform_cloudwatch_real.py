"""Real Terraform with the real hashicorp/aws provider: an `aws_cloudwatch_metric_alarm` on an instance,
whose action stops it. `apply`, then `plan -detailed-exitcode` shows no changes (exit 0), a threshold
edit applies in place, `destroy` removes the alarm and the instance. The provider's CloudWatch endpoint
is the gateway's (its Go SDK v2 speaks awsQuery to CloudWatch, by what its model for 5.100 lists)."""
from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.clients.cloudwatch_helpers import cloudwatch_client
from tests.clients.real_tools import provider_folder, unavailable
from tests.clients.test_terraform_real import Terraform, applied, resources

CONFIGURATION = """
terraform {
  required_providers {
    aws = { source = "hashicorp/aws", version = "5.100.0" }
  }
}
variable "endpoint" { type = string }
variable "suffix" { type = string }
variable "threshold" { type = number }

provider "aws" {
  region                      = "us-east-1"
  access_key                  = "cloudgw-demo"
  secret_key                  = "cloudgw-demo-secret"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  skip_region_validation      = true
  endpoints {
    ec2        = var.endpoint
    sts        = var.endpoint
    cloudwatch = var.endpoint
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
resource "aws_instance" "web" {
  ami           = data.aws_ami.centos.id
  instance_type = "o1.small"
  tags          = { Name = "tf-cw-${var.suffix}" }
}
resource "aws_cloudwatch_metric_alarm" "cpu" {
  alarm_name          = "tf-cpu-${var.suffix}"
  alarm_description   = "stop a runaway web server"
  namespace           = "AWS/EC2"
  metric_name         = "CPUUtilization"
  dimensions          = { InstanceId = aws_instance.web.id }
  statistic           = "Average"
  period              = 300
  evaluation_periods  = 2
  datapoints_to_alarm = 2
  threshold           = var.threshold
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = ["arn:aws:automate:us-east-1:ec2:stop"]
  tags                = { team = "web" }
}
"""


@pytest.fixture()
def terraform(gateway: Any, tmp_path: Path) -> Terraform:
    folder = provider_folder()
    if folder is None:
        unavailable("no hashicorp/aws provider (terraform-provider-aws_*) in a local plugin folder; "
                    "set CLOUDGW_TF_PLUGIN_DIR to the folder holding registry.terraform.io")
    (tmp_path / "main.tf").write_text(CONFIGURATION)
    tf = Terraform(tmp_path, {"endpoint": gateway.url + "/", "suffix": uuid.uuid4().hex[:8], "threshold": 90})
    tf("init", f"-plugin-dir={folder}").ok()
    return tf


@pytest.mark.timeout(900)
def test_terraform_creates_an_alarm_on_an_instance(gateway: Any, terraform: Terraform) -> None:
    assert applied(terraform("apply", "-auto-approve").ok()) == (2, 0, 0)
    alarm = resources(terraform.state(), "aws_cloudwatch_metric_alarm")["cpu"]
    cloudwatch = cloudwatch_client(gateway)
    [found] = cloudwatch.describe_alarms(AlarmNames=[alarm["alarm_name"]])["MetricAlarms"]
    assert (found["Threshold"], found["Period"], found["TreatMissingData"]) == (90.0, 300, "notBreaching")
    assert found["Dimensions"] == [{"Name": "InstanceId", "Value": resources(terraform.state(), "aws_instance")[
        "web"]["id"]}]
    assert cloudwatch.list_tags_for_resource(ResourceARN=found["AlarmArn"])["Tags"] == [{"Key": "team",
                                                                                         "Value": "web"}]

    unchanged = terraform("plan", "-detailed-exitcode")
    assert unchanged.returncode == 0, unchanged.output[-4000:]

    terraform.variables["threshold"] = 80
    assert applied(terraform("apply", "-auto-approve").ok()) == (0, 1, 0)
    assert cloudwatch.describe_alarms(AlarmNames=[alarm["alarm_name"]])["MetricAlarms"][0]["Threshold"] == 80.0
    assert terraform("plan", "-detailed-exitcode").returncode == 0

    terraform("destroy", "-auto-approve").ok()
    assert cloudwatch.describe_alarms(AlarmNames=[alarm["alarm_name"]])["MetricAlarms"] == []
