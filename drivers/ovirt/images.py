"""Images made from instances (CreateImage, Deltacloud create_image, CIMI capture) and their removal.

Making one is the durable `ovirt.image` operation (image_capture.py). The request that asks for it checks
what the engine would refuse (the instance, the disks named, the name), submits the operation held by its
process and runs its first steps itself until the template exists, since its id is the engine's and the
client needs it in the answer: at once for a stopped instance, after the shutdown for a running one, after
the snapshot the template is copied from when volumes are left out or with NoReboot. The rest (the copy,
removing that snapshot, starting the instance again) is the worker's. Sharing (launch permissions) is the template's permissions.
"""
from __future__ import annotations

import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from lxml.builder import E

from gateway import engine_states
from gateway.errors import (AlreadyExists, BackendUnavailable, GatewayError, InvalidParameter, InvalidState,
                            NotFound, NotSupported)
from gateway.model import Image, LaunchPermissions, ResourceState
from gateway.operations import Done, Fail, Next, Operation
from gateway.scope import Scope

from . import mapping
from .base import OvirtBase, Place
from .image_capture import CAPTURE, IMAGE_RECORDS, template_name_for

if TYPE_CHECKING:
    from gateway.config import Config
    from gateway.operations import OperationRunner
    from gateway.store import Store

ANSWER_SECONDS = 50.0  # how long CreateImage waits for the template (under boto3's 60 s read timeout)


class ImagesMixin(OvirtBase):
    def __init__(self, config: "Config", store: "Store", operations: "OperationRunner") -> None:
        super().__init__(config, store, operations)
        store.keep_records("image", IMAGE_RECORDS)  # housekeeping drops them with a vanished template

    def create_image(self, scope: Scope, instance_id: str, name: str, description: str = "", *,
                     no_reboot: bool = False, excluded_volume_ids: Sequence[str] = (),
                     tags: dict[str, str] | None = None, snapshot_tags: dict[str, str] | None = None) -> Image:
        """Make an image of the instance as a durable operation; answers once the engine has the template
        (state pending while its disks are copied). A running instance is shut down for the copy and
        started again after it; with `no_reboot` it runs on and the image is copied from a snapshot taken
        for it. `excluded_volume_ids` are attached volumes left out of the image."""
        place = self._place(scope)
        vm = self._vm(scope, place, instance_id, follow="disk_attachments")
        status = vm.findtext("status") or "unknown"
        attached = {a.get("id", ""): a for a in vm.iterfind("disk_attachments/disk_attachment")}
        for volume_id in excluded_volume_ids:
            if volume_id not in attached:
                raise InvalidParameter(f"The volume '{volume_id}' is not attached to the instance '{instance_id}'",
                                       parameter="BlockDeviceMapping")
            if attached[volume_id].findtext("bootable") == "true":
                raise InvalidParameter("The root volume cannot be left out of an image", parameter="BlockDeviceMapping")
        if any(i.name == name for i in self.images(scope)):
            raise AlreadyExists("image", name, f"An image named '{name}' already exists")
        if status in ("image_locked", "not_responding", "unknown"):
            raise InvalidState(f"The instance '{instance_id}' is {status}; try again once it has settled",
                               resource_id=instance_id, state=status)
        return self._capture(scope, place, name, description, tags, {
            "vm_id": instance_id, "exclude": list(dict.fromkeys(excluded_volume_ids)), "no_reboot": no_reboot,
            "snapshot_tags": snapshot_tags or {}})

    def create_image_from_snapshot(self, scope: Scope, snapshot_id: str, name: str, description: str = "", *,
                                   tags: dict[str, str] | None = None) -> Image:
        """The engine's template from a VM snapshot (4.3+): the snapshot's disks as they were, with the VM's
        configuration; the VM goes on as it is. A snapshot of a free volume (a disk copy, disk_snapshots) is
        refused before anything is recorded: the engine makes a template only from a VM or a VM's snapshot."""
        place = self._place(scope)
        found = self.snapshots(scope, [snapshot_id])
        if not found:
            raise NotFound("snapshot", snapshot_id)
        if not found[0].instance_id:
            raise NotSupported("An image can be registered only from a snapshot of an instance's volume")
        if found[0].state is not ResourceState.AVAILABLE:
            raise InvalidState(f"The snapshot '{snapshot_id}' is {found[0].state.value}", resource_id=snapshot_id)
        if any(i.name == name for i in self.images(scope)):
            raise AlreadyExists("image", name, f"An image named '{name}' already exists")
        return self._capture(scope, place, name, description, tags,
                             {"vm_id": found[0].instance_id, "snapshot_id": snapshot_id})

    def _capture(self, scope: Scope, place: Place, name: str, description: str, tags: dict[str, str] | None,
                 source: dict[str, object]) -> Image:
        """Submit the image operation held by this request, run it until the engine has the template."""
        operation_id = uuid.uuid4().hex
        operation = self.operations.submit(
            CAPTURE, owner=scope.owner_key, secret=self._secret(scope), operation_id=operation_id, held=True,
            data={**self._scope_data(scope, place), **source, "name": name, "description": description,
                  "engine_name": template_name_for(name, operation_id), "dc_name": place.region.name,
                  "tags": tags or {}})
        template_id = self._capture_until_copying(operation)
        found = self.images(scope, [template_id])
        if found:
            return found[0]
        return Image(id=template_id, name=name, description=description, owner=scope.credentials.username,
                     state=ResourceState.PENDING, tags=dict(tags or {}))

    def _capture_until_copying(self, operation: Operation) -> str:
        """Run the operation's first steps in this request (it holds the operation) until the engine has the
        template, then leave the rest to the worker; the template's id, or the error that ended it.

        Only the data each step learns is recorded meanwhile (the step stays the first): steps are safe to
        repeat from the start, so a process dying here leaves the worker to carry on from `stop`."""
        kind = next(k for k in self.operation_kinds() if k.name == CAPTURE)
        deadline = time.monotonic() + ANSWER_SECONDS
        current: Operation | None = operation
        step = operation.step
        while True:
            assert current is not None
            try:
                outcome = kind.run_step(replace(current, step=step))
            except GatewayError as exc:  # the worker tries again later what may pass; the rest ends here
                self.operations.finish(current, Next(step, delay=self.operations.poll_seconds) if exc.retryable
                                       else Fail(exc.message))
                raise
            if isinstance(outcome, Fail | Done) or (isinstance(outcome, Next) and outcome.target):
                self.operations.finish(current, outcome)
                break
            if time.monotonic() > deadline:
                self.operations.finish(current, outcome if isinstance(outcome, Next) else Next(step, data=outcome.data))
                raise BackendUnavailable(f"The instance is taking long to stop; the image '{current.data['name']}' "
                                         "will be made once it has (DescribeImages finds it by its name)")
            if isinstance(outcome, Next):
                step = outcome.step
            elif outcome.delay:
                time.sleep(min(outcome.delay, 0.2))
            current = self.operations.renew(operation.id, data=outcome.data)
            if current is None:  # taken over by another process (this one stalled): it carries on
                return self._await_template(operation.id)
        if isinstance(outcome, Next):
            return outcome.target or ""
        return self._await_template(operation.id)

    def _await_template(self, operation_id: str) -> str:
        """The id of the template the operation made, once it has one; its error if it failed first."""
        deadline = time.monotonic() + ANSWER_SECONDS
        while True:
            operation = self.operations.get(operation_id)
            if operation is None:
                raise InvalidState("The image operation vanished (cancelled by an operator)")
            if operation.target:
                return operation.target
            if operation.finished:
                message = operation.last_error or "The image could not be made"
                if operation.data.get("duplicate"):
                    raise AlreadyExists("image", operation.data.get("name", ""), message)
                raise InvalidState(message, resource_id=operation.data.get("vm_id"))
            if time.monotonic() > deadline:
                raise BackendUnavailable(f"The instance is taking long to stop; the image '{operation.data['name']}' "
                                         "will be made once it has (DescribeImages finds it by its name)")
            time.sleep(0.2)

    def delete_image(self, scope: Scope, image_id: str) -> None:
        """Remove the template: gone from listings at once (the engine keeps it locked while its disks are
        deleted, which no client can use); one still being made is removed once made (a durable operation)."""
        if image_id == mapping.BLANK_TEMPLATE_ID:
            raise InvalidState("The Blank image belongs to the engine and cannot be deleted", resource_id=image_id)
        image = self._template_here(scope, image_id)
        self._remove_or_wait(scope, "image", image_id, engine_states.image_state(image))  # type: ignore[attr-defined]

    def _template_here(self, scope: Scope, image_id: str) -> Image:
        """The image as listings show it: NotFound unless it is one of the scoped data center's templates (Blank
        is the engine's own) and listed (a deregistered one is gone at once, while the engine still has it)."""
        image = self.image(scope, image_id)
        if image.realm_id not in self._place(scope).realms:
            raise NotFound("image", image_id)
        return image

    def update_image(self, scope: Scope, image_id: str, *, description: str | None = None) -> Image:
        self._template_here(scope, image_id)
        if description is not None:
            self._call(scope, "PUT", f"templates/{image_id}", body=E.template(E.description(description)),
                       idempotent=True, what=("image", image_id))
        return self.image(scope, image_id)

    def launch_permissions(self, scope: Scope, image_id: str) -> LaunchPermissions:
        """The template's permissions with the role that lets a user make VMs from it (UserTemplateBasedVm)."""
        return self.launch_permissions_of(scope, [self._template_here(scope, image_id)])[image_id]

    def launch_permissions_of(self, scope: Scope, images: Sequence[Image]) -> dict[str, LaunchPermissions]:
        """From the permissions the template listing inlines (`follow=permissions`), the users' names in one
        request when any is shared with a user: two engine requests at most, whatever the number of images.
        An image listed without them (Blank, read alone) has its permissions read."""
        found: dict[str, tuple[bool, list[str]]] = {}
        for image in images:
            if "launch_user_ids" in image.extra:
                found[image.id] = (bool(image.extra.get("launch_public")), list(image.extra["launch_user_ids"]))
            else:
                found[image.id] = self._template_permissions(scope, image.id)
        names: dict[str, str] = {}
        if any(users for _, users in found.values()):
            names = {u.get("id", ""): u.findtext("user_name") or "" for u in self._get(scope, "users")}
        return {image_id: LaunchPermissions(users=sorted(names.get(u) or u for u in users), public=public)
                for image_id, (public, users) in found.items()}

    def _template_permissions(self, scope: Scope, image_id: str) -> tuple[bool, list[str]]:
        """(shared with everyone, the engine ids of the users it is shared with) from the template's permissions."""
        public, user_ids = False, []
        for permission in self._get(scope, f"templates/{image_id}/permissions", what=("image", image_id)):
            if mapping.link_id(permission, "role") != mapping.TEMPLATE_USE_ROLE_ID:
                continue
            if mapping.link_id(permission, "group") == mapping.EVERYONE_GROUP_ID:
                public = True
            elif mapping.link_id(permission, "user"):
                user_ids.append(mapping.link_id(permission, "user") or "")
        return public, user_ids

    def share_image(self, scope: Scope, image_id: str, *, add_users: Sequence[str] = (),
                    remove_users: Sequence[str] = (), public: bool | None = None) -> None:
        """Add or remove the template's UserTemplateBasedVm permissions for users and for Everyone."""
        self._template_here(scope, image_id)
        path = f"templates/{image_id}/permissions"
        held = {}  # (kind, principal id) -> permission id
        for permission in self._get(scope, path, what=("image", image_id)):
            if mapping.link_id(permission, "role") == mapping.TEMPLATE_USE_ROLE_ID:
                for kind in ("user", "group"):
                    if mapping.link_id(permission, kind):
                        held[(kind, mapping.link_id(permission, kind))] = permission.get("id", "")
        user_ids = self._user_ids(scope, [*add_users, *remove_users]) if add_users or remove_users else {}
        wanted = [("user", user_ids[u]) for u in add_users] + ([("group", mapping.EVERYONE_GROUP_ID)] if public else [])
        unwanted = [("user", user_ids[u]) for u in remove_users] + \
            ([("group", mapping.EVERYONE_GROUP_ID)] if public is False else [])
        for kind, principal in wanted:
            if (kind, principal) not in held:
                body = E.permission(E.role(id=mapping.TEMPLATE_USE_ROLE_ID), E(kind, id=principal))
                self._call(scope, "POST", path, body=body, idempotent=False, what=("image", image_id))
        for key in unwanted:
            if key in held:
                try:
                    self._call(scope, "DELETE", f"{path}/{held[key]}", idempotent=True, what=("image", image_id))
                except NotFound:
                    pass

    def _user_ids(self, scope: Scope, names: Sequence[str]) -> dict[str, str]:
        """Engine user ids by user name; NotFound for a name the engine has no user of."""
        known = {u.findtext("user_name") or "": u.get("id", "") for u in self._get(scope, "users")}
        for name in names:
            if name not in known:
                raise NotFound("user", name)
        return {name: known[name] for name in names}

    def _image_records(self, scope: Scope, found: Iterable[Image]) -> None:
        """The names clients gave and the owners of the images the gateway made (one store query)."""
        records = {e.get("id"): e for e in self.store.entities(IMAGE_RECORDS, scope.provider.name)}
        for image in found:
            record = records.get(image.id) or {}
            image.name = record.get("name") or image.name
            image.owner = record.get("owner") or image.owner
