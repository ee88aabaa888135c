"""boto3 acting as an ordinary oVirt user (`user@internal`) through its own EC2 key: the engine's
permissions show through as EC2 answers.

An instance the admin made is invisible to the user (the engine's user-level API, the default for
non-admins, does not find it), so EC2 calls it unknown, as AWS does another account's instance. Once the
admin gives it to the user with oVirt's UserRole, the user sees it, but changing it needs a role the user
lacks: the engine answers 403 and boto3 gets `UnauthorizedOperation`. The user's own instances it runs
and terminates as usual.
"""
from __future__ import annotations

import dataclasses
import subprocess
import time
import uuid
from typing import Any

import pytest
import requests
from botocore.exceptions import ClientError
from lxml import etree

from tests.clients.ec2_helpers import ec2_client, error_code
from tests.conftest import CLOUDGW, ROOT

FAST = {"Delay": 0.3, "MaxAttempts": 200}
USER_KEY, USER_SECRET = "AKUSERPERMISSIONS01", "user-permissions-secret"


@pytest.fixture(scope="module")
def admin_ec2(gateway: Any) -> Any:
    return ec2_client(gateway)


@pytest.fixture(scope="module")
def user_ec2(gateway: Any) -> Any:
    """An EC2 key for user@internal, added to the running gateway's store with the CLI (the gateway
    looks credentials up at each request, so no restart)."""
    created = subprocess.run(
        [*CLOUDGW, "credentials", "create", "--data-dir", str(gateway.data_dir), "--user", "user@internal",
         "--password", "user", "--access-key", USER_KEY, "--secret-key", USER_SECRET],
        cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert created.returncode == 0, created.stderr
    return ec2_client(dataclasses.replace(gateway, access_key=USER_KEY, secret_key=USER_SECRET))


@pytest.fixture(scope="module")
def image_id(admin_ec2: Any) -> str:
    images = admin_ec2.describe_images(Filters=[{"Name": "name", "Values": ["centos-*"]}])["Images"]
    return sorted(i["ImageId"] for i in images)[0]


def run_one(ec2: Any, image_id: str) -> str:
    return ec2.run_instances(ImageId=image_id, MinCount=1, MaxCount=1, InstanceType="o1.small")["Instances"][0][
        "InstanceId"]


def give_to_user(gateway: Any, instance_id: str, role: str) -> None:
    """What an oVirt admin does in the engine: a permission with `role` on the VM for user@internal."""
    vm_id = str(uuid.UUID(instance_id.removeprefix("i-")))
    users = etree.fromstring(requests.get(f"{gateway.engine_url}/users", auth=gateway.admin, timeout=10).content)
    user_id = next(u.get("id") for u in users if u.findtext("user_name") == "user@internal")
    grant = f"<permission><role><name>{role}</name></role><user id='{user_id}'/></permission>"
    given = requests.post(f"{gateway.engine_url}/vms/{vm_id}/permissions", data=grant, auth=gateway.admin,
                          headers={"Content-Type": "application/xml"}, timeout=10)
    assert given.status_code == 201, given.text


def failure(call: Any, **kwargs: Any) -> tuple[str, int, str]:
    """The EC2 error code, HTTP status and message boto3 got."""
    with pytest.raises(ClientError) as caught:
        call(**kwargs)
    response = caught.value.response
    return error_code(caught.value), response["ResponseMetadata"]["HTTPStatusCode"], response["Error"]["Message"]


def test_the_user_may_not_change_an_instance_it_was_only_allowed_to_use(gateway: Any, admin_ec2: Any, user_ec2: Any,
                                                                        image_id: str) -> None:
    admins = run_one(admin_ec2, image_id)
    try:
        admin_ec2.get_waiter("instance_running").wait(InstanceIds=[admins], WaiterConfig=FAST)
        assert failure(user_ec2.terminate_instances, InstanceIds=[admins])[:2] == ("InvalidInstanceID.NotFound", 400)

        give_to_user(gateway, admins, "UserRole")     # may use it (run, stop), not edit or remove it
        assert user_ec2.describe_instances(InstanceIds=[admins])["Reservations"]
        user_ec2.stop_instances(InstanceIds=[admins])
        user_ec2.get_waiter("instance_stopped").wait(InstanceIds=[admins], WaiterConfig=FAST)
        code, status, message = failure(user_ec2.modify_instance_attribute, InstanceId=admins,
                                        InstanceType={"Value": "o1.medium"})
        assert (code, status) == ("UnauthorizedOperation", 403)
        assert "User is not authorized to perform this action." in message
        attribute = admin_ec2.describe_instance_attribute(InstanceId=admins, Attribute="instanceType")
        assert attribute["InstanceType"] == {"Value": "o1.small"}
    finally:
        admin_ec2.terminate_instances(InstanceIds=[admins])
    admin_ec2.get_waiter("instance_terminated").wait(InstanceIds=[admins], WaiterConfig=FAST)


def test_the_user_runs_and_terminates_its_own_instance(user_ec2: Any, admin_ec2: Any, image_id: str) -> None:
    mine = run_one(user_ec2, image_id)
    user_ec2.get_waiter("instance_running").wait(InstanceIds=[mine], WaiterConfig=FAST)
    user_ec2.modify_instance_attribute(InstanceId=mine, DisableApiTermination={"Value": False})
    user_ec2.terminate_instances(InstanceIds=[mine])
    user_ec2.get_waiter("instance_terminated").wait(InstanceIds=[mine], WaiterConfig=FAST)
    assert mine in {i["InstanceId"] for r in admin_ec2.describe_instances(
        Filters=[{"Name": "instance-state-name", "Values": ["terminated"]}])["Reservations"] for i in r["Instances"]}


def owner_id(ec2: Any, instance_id: str) -> str:
    return ec2.describe_instances(InstanceIds=[instance_id])["Reservations"][0]["OwnerId"]


def test_an_image_shared_with_the_user_appears_in_its_describe_images(user_ec2: Any, admin_ec2: Any,
                                                                       image_id: str) -> None:
    """launchPermission is the template's UserTemplateBasedVm permission: the user-level API then shows it."""
    admins, mine = run_one(admin_ec2, image_id), run_one(user_ec2, image_id)
    try:
        admin_ec2.get_waiter("instance_running").wait(InstanceIds=[admins], WaiterConfig=FAST)
        user_account = owner_id(user_ec2, mine)
        made = admin_ec2.create_image(InstanceId=admins, Name=f"shared-{uuid.uuid4().hex[:8]}",
                                      Description="before")["ImageId"]
        admin_ec2.get_waiter("image_available").wait(ImageIds=[made], WaiterConfig=FAST)
        assert failure(user_ec2.describe_images, ImageIds=[made])[0] == "InvalidAMIID.NotFound"
        assert made not in {i["ImageId"] for i in user_ec2.describe_images(ExecutableUsers=["self"])["Images"]}
        assert admin_ec2.describe_image_attribute(ImageId=made, Attribute="launchPermission")["LaunchPermissions"] == []
        assert made not in {i["ImageId"] for i in admin_ec2.describe_images(ExecutableUsers=[user_account])["Images"]}

        admin_ec2.modify_image_attribute(ImageId=made, LaunchPermission={"Add": [{"UserId": user_account}]})
        assert admin_ec2.describe_image_attribute(ImageId=made, Attribute="launchPermission")[
            "LaunchPermissions"] == [{"UserId": user_account}]
        assert made in {i["ImageId"] for i in admin_ec2.describe_images(ExecutableUsers=[user_account])["Images"]}
        assert made not in {i["ImageId"] for i in admin_ec2.describe_images(ExecutableUsers=["all"])["Images"]}
        shared = user_ec2.describe_images(ImageIds=[made])["Images"][0]
        assert shared["Public"] is False and shared["OwnerId"] != user_account
        assert made in {i["ImageId"] for i in user_ec2.describe_images(ExecutableUsers=["self"])["Images"]}
        assert failure(user_ec2.modify_image_attribute, ImageId=made, Description={"Value": "mine now"})[:2] == \
            ("UnauthorizedOperation", 403)

        admin_ec2.modify_image_attribute(ImageId=made, Description={"Value": "after"})
        assert admin_ec2.describe_image_attribute(ImageId=made, Attribute="description")["Description"] == \
            {"Value": "after"}
        admin_ec2.modify_image_attribute(ImageId=made, Attribute="launchPermission", OperationType="add",
                                         UserGroups=["all"])
        assert admin_ec2.describe_images(ImageIds=[made])["Images"][0]["Public"] is True
        admin_ec2.reset_image_attribute(ImageId=made, Attribute="launchPermission")
        assert admin_ec2.describe_image_attribute(ImageId=made, Attribute="launchPermission")["LaunchPermissions"] == []
        assert failure(user_ec2.describe_images, ImageIds=[made])[0] == "InvalidAMIID.NotFound"
        assert failure(admin_ec2.modify_image_attribute, ImageId=made,
                       LaunchPermission={"Add": [{"UserId": "123456789012"}]})[0] == "InvalidParameterValue"
        assert failure(admin_ec2.modify_image_attribute, ImageId=made, Attribute="blockDeviceMapping",
                       Value="x")[0] == "InvalidParameterValue"
        admin_ec2.deregister_image(ImageId=made)
        for change, kwargs in (  # gone at once for sharing and editing too, while the engine deletes its disks
                (admin_ec2.modify_image_attribute, {"Description": {"Value": "gone"}}),
                (admin_ec2.modify_image_attribute, {"LaunchPermission": {"Add": [{"Group": "all"}]}}),
                (admin_ec2.reset_image_attribute, {"Attribute": "launchPermission"}),
                (admin_ec2.describe_image_attribute, {"Attribute": "launchPermission"})):
            assert failure(change, ImageId=made, **kwargs)[0] == "InvalidAMIID.NotFound"
        while made in {i["ImageId"] for i in admin_ec2.describe_images(Owners=["self"])["Images"]}:
            time.sleep(0.2)  # gone once the engine has deleted its disks: no later test meets it half-removed
    finally:
        admin_ec2.terminate_instances(InstanceIds=[admins])
        user_ec2.terminate_instances(InstanceIds=[mine])


def test_a_user_the_network_provider_refuses_still_lists_and_is_refused_only_for_changes(admin_ec2: Any,
                                                                                         user_ec2: Any) -> None:
    """ovirt-provider-ovn admits only the users its authorization plugin names (the engine's admin by default,
    as the simulator's): another user sees the logical networks' read-only views and none of the provider's
    objects, and a change of the provider's is its refusal in words."""
    admin_vpcs = {v["VpcId"] for v in admin_ec2.describe_vpcs()["Vpcs"]}
    user_vpcs = {v["VpcId"] for v in user_ec2.describe_vpcs()["Vpcs"]}
    assert user_vpcs and user_vpcs <= admin_vpcs
    assert user_ec2.describe_security_groups()["SecurityGroups"]
    code, status, message = failure(user_ec2.create_vpc, CidrBlock="10.77.0.0/16")
    assert (code, status) == ("AuthFailure", 401) and "network provider" in message
