"""Who may do what: the engine's permission check, minimally but with its answers.

The engine checks every command's permissions before validating it (`CommandBase.isUserAuthorizedToRunAction`
runs ahead of `validate()`): the command names the objects and the action group it needs (`RemoveVm`:
DELETE_VM on the VM, `AddVmTemplate`: CREATE_TEMPLATE, `AddDisk`: CREATE_DISK on the storage domain, tags:
TAG_MANAGEMENT on the system), and a user without a role holding that group on the object or on one of its
parents gets USER_NOT_AUTHORIZED_TO_PERFORM_ACTION, an error of type NO_PERMISSION that the REST layer
(`ErrorMessageHelper`) answers with 403 and `[User is not authorized to perform this action.]`.

What is modelled: admins hold SuperUser on the system and pass every check. The seeded ordinary user holds,
on the system, VmCreator (CREATE_VM) and UserTemplateBasedVm (it may use every template); it gets
UserVmManager on each VM it creates (as the engine grants its creator), and whatever role an admin gives it
on a VM (`POST /vms/{id}/permissions`). A disk inherits the roles on the VMs it is attached to. Roles carry
the engine's own action groups (`packaging/dbscripts/data/00700_insert_roles_groups.sql`), so a VM given
with UserRole can be started and stopped but not edited or removed.

Reads are not permission checks but filters: the user-level API (the default for non-admins) simply does
not find a VM the user holds no role on, so `GET` and `DELETE /vms/{id}` (which reads first) answer 404;
power actions run the command directly and so answer 403, whether or not the VM exists.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from .entities import Template, Vm
from .errors import ApiError

if TYPE_CHECKING:
    from .call import Call

NOT_AUTHORIZED = "User is not authorized to perform this action."
# QueriesCommandBase refuses an unfiltered query of a non-admin with this text; the REST layer finds no
# message for it in its catalogue, so it lower-cases it and, with no error type, answers 400.
QUERY_REFUSED = "query execution failed due to insufficient permissions."

_USER_ROLE = frozenset({"LOGIN", "RUN_VM", "STOP_VM", "SHUT_DOWN_VM", "REBOOT_VM", "HIBERNATE_VM", "CHANGE_VM_CD",
                        "CONNECT_TO_VM", "ACCESS_IMAGE_STORAGE", "VM_POOL_BASIC_OPERATIONS"})
_VM_MANAGER = _USER_ROLE | {"CREATE_VM", "DELETE_VM", "EDIT_VM_PROPERTIES", "CONFIGURE_VM_NETWORK",
                            "CONFIGURE_VM_STORAGE", "MANIPULATE_VM_SNAPSHOTS", "MANIPULATE_PERMISSIONS",
                            "CREATE_DISK", "DELETE_DISK", "ATTACH_DISK", "EDIT_DISK_PROPERTIES",
                            "ASSIGN_CPU_PROFILE", "CONNECT_TO_SERIAL_CONSOLE", "ADD_USERS_AND_GROUPS_FROM_DIRECTORY"}

# name -> (id, action groups), with the engine's predefined ids.
ROLES: dict[str, tuple[str, frozenset[str]]] = {
    "UserRole": ("00000000-0000-0000-0001-000000000001", _USER_ROLE),
    "UserVmManager": ("def00006-0000-0000-0000-def000000006", frozenset(_VM_MANAGER)),
    # On a template: may make VMs from it (what a template shared with a user or with Everyone gives).
    "UserTemplateBasedVm": ("def00009-0000-0000-0000-def000000009", frozenset({"LOGIN", "CREATE_VM"})),
    # What the engine grants a template's creator: only its holder (and admins) see an unshared template.
    "TemplateOwner": ("def00008-0000-0000-0000-def000000008", frozenset({
        "LOGIN", "CREATE_VM", "EDIT_TEMPLATE_PROPERTIES", "DELETE_TEMPLATE", "MANIPULATE_PERMISSIONS"})),
}
EVERYONE = "eee00000-0000-0000-0000-123456789eee"  # the engine's built-in group of every user
TEMPLATE_USE_ROLE = "UserTemplateBasedVm"
CREATOR_ROLE = "UserVmManager"
# What the ordinary user holds on the system object: VmCreator and UserTemplateBasedVm.
SYSTEM_GROUPS = frozenset({"LOGIN", "CREATE_VM", "VM_BASIC_OPERATIONS"})


def forbidden() -> ApiError:
    """The engine's NO_PERMISSION answer: 403 with its message list as the detail."""
    return ApiError(403, "Operation Failed", f"[{NOT_AUTHORIZED}]")


def role_named(name: str | None, role_id: str | None) -> str | None:
    """The name of a known role given by name or id, or None."""
    for role_name, (rid, _) in ROLES.items():
        if (name and name.lower() == role_name.lower()) or role_id == rid:
            return role_name
    return None


def allowed(call: "Call", group: str, vms: Iterable[Vm] = ()) -> bool:
    """Whether the caller holds `group` on the system or through a role on one of `vms`."""
    user = call.user
    if user.admin or group in SYSTEM_GROUPS:
        return True
    for vm in vms:
        role = vm.user_roles.get(user.id)
        if role is not None and group in ROLES[role][1]:
            return True
    return False


def sees_template(call: "Call", template: Template) -> bool:
    """The user-level API shows a non-admin the templates shared with it or with Everyone, and its own."""
    return (not call.filtered or call.user.admin or EVERYONE in template.group_roles
            or call.user.id in template.user_roles)


def require(call: "Call", group: str, vms: Iterable[Vm] = ()) -> None:
    """Raise the engine's 403 unless the caller holds `group` (on the system, or on one of `vms`)."""
    if not allowed(call, group, vms):
        raise forbidden()


def vm_for_command(call: "Call", vm_id: str, group: str) -> Vm:
    """The VM a command that reads nothing first (the power actions) acts on: the permission check comes
    first, so a non-admin gets 403 for a VM it holds no role on, even an unknown one; an admin gets the
    usual 404 for an unknown id."""
    vm = call.store.vms.get(vm_id)
    require(call, group, [vm] if vm is not None else [])
    return call.vm(vm_id)
