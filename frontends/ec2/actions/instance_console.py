"""GetConsoleOutput and GetPasswordData: what oVirt can say about a guest's console and password.

The engine's REST API offers no serial console log (its consoles are live graphical or serial sessions
through the VM's `graphicsconsoles`, never a recorded text), so GetConsoleOutput answers EC2's shape with
no `Output`, honestly empty, with the time of the answer. EC2's password data is a Windows administrator
password encrypted with the key pair; oVirt sets a Windows password through sysprep and never gives it
back, so PasswordData is empty for every instance (EC2's answer while a password is not yet available).
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from .. import ids, inventory
from ..call import Call
from . import action


@action("GetConsoleOutput")
def get_console_output(call: Call) -> dict[str, Any]:
    instance = inventory.one_instance(call, ids.decode("i", call.need("InstanceId")))
    call.check_dry_run()
    return {"InstanceId": ids.instance_id(instance.id), "Timestamp": datetime.now(timezone.utc)}


@action("GetPasswordData")
def get_password_data(call: Call) -> dict[str, Any]:
    instance = inventory.one_instance(call, ids.decode("i", call.need("InstanceId")))
    call.check_dry_run()
    return {"InstanceId": ids.instance_id(instance.id), "Timestamp": datetime.now(timezone.utc),
            "PasswordData": ""}
