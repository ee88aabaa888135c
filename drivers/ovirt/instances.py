"""Instances: listing, creating, power actions, terminating, tags, and what survives a terminate.

A listing is one engine request (VMs of the data center with NICs, guest-reported addresses and disk
attachments inlined) plus four store queries (tags, key names, device names, active operations), whatever the
number of VMs. Creating answers as soon as the engine has accepted the VM; the rest (wait for the
disks, start with cloud-init) and terminating run as durable operations (operations.py).

Creating is itself the first step (`create`) of the durable run operation, held by the request's
process: the operation is recorded before the engine is asked, and the VM carries the operation's id in
its comment, so a process killed between the engine's answer and its own finds its VM adopted (or the
launch cleanly failed) by the process that takes the lease over.
"""
from __future__ import annotations

import dataclasses
import re
import time
import unicodedata
import uuid
from collections.abc import Iterable, Sequence

from lxml.builder import E

from gateway import engine_states
from gateway.instance_statistics import InstanceStatistics
from gateway.errors import BackendUnavailable, GatewayError, InvalidParameter, InvalidState, NotFound
from gateway.model import Instance, InstanceSpec, InstanceState, from_json, to_json
from gateway.operations import Fail, Next, Operation
from gateway.scope import Scope

from . import after_lock, device_names, disk_records, mapping, statistics
from .base import INSTANCE_META, VM_FOLLOW, Element, Place, is_helper, launch_mark, search_value
from .image_capture import CAPTURE
from .inventory import InventoryMixin

# oVirt's VM name rule (letters, digits, '.', '_', '-'; at most 64 characters in 4.x engines).
VM_NAME = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
RUN, TERMINATE = "ovirt.run", "ovirt.terminate"
MAX_NAME = 255  # a requested name the engine cannot take is kept as a tag value, at most EC2's 256
FEW_BY_KEY = 100  # instances whose store records are read by key rather than all of the data center's


class _Refused(Exception):
    """The engine refused the create (it made no VM): `error` is what the client is told."""

    def __init__(self, error: GatewayError) -> None:
        super().__init__(error.message)
        self.error = error


def generated_name() -> str:
    return f"vm-{uuid.uuid4().hex[:12]}"


def engine_name(requested: str | None) -> str:
    """The VM name for a requested one: itself when oVirt takes it, else the nearest name it takes (accents
    dropped, each run of other characters one '-', at most 64), else a generated one. The requested name is
    kept in the store as the instance's `Name` and shown as its name in every frontend."""
    if requested and VM_NAME.match(requested):
        return requested
    folded = unicodedata.normalize("NFKD", requested or "").encode("ascii", "ignore").decode()
    derived = re.sub(r"[^A-Za-z0-9._-]+", "-", folded).strip("-")[:64].strip("-")
    return derived or generated_name()


def sizing_elements(memory_bytes: int | None, cpus: int | None) -> list:
    """<memory>, <memory_policy> and <cpu> for a sizing; guaranteed memory may not exceed memory."""
    elements = []
    if memory_bytes is not None:
        elements += [E.memory(str(memory_bytes)),
                     E.memory_policy(E.guaranteed(str(memory_bytes)), E.max(str(memory_bytes * 4)))]
    if cpus is not None:
        elements.append(E.cpu(E.topology(E.sockets(str(cpus)), E.cores("1"), E.threads("1"))))
    return elements


def user_data_text(user_data: bytes | None) -> str | None:
    """User data as cloud-init's custom script: it must be text (the engine stores a string)."""
    if not user_data:
        return None
    try:
        return user_data.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidParameter("User data must be UTF-8 text for oVirt's cloud-init custom script",
                               parameter="UserData") from None


def show_requested_name(instance: Instance, tags: dict[str, str]) -> None:
    """The name the client asked for (a stored `Name`: the VM could not take it) is the instance's name in
    every frontend; the VM's own name stays in extra['engine_name']."""
    requested = tags.get("Name")
    if requested and requested != instance.name:
        instance.extra["engine_name"] = instance.name
        instance.name = requested


class InstancesMixin(InventoryMixin):
    # --- reading ------------------------------------------------------------------------------------
    def instances(self, scope: Scope, ids: Iterable[str] | None = None, *, realm_id: str | None = None,
                  image_id: str | None = None, states: Iterable[str] | None = None) -> list[Instance]:
        place = self._place(scope)
        wanted = None if ids is None else set(ids)
        if wanted is not None and not wanted:
            return []

        helpers: set[str] = set()

        def as_instance(vm: Element) -> Instance:
            if is_helper(vm):
                helpers.add(vm.get("id", ""))
            return mapping.instance(vm, owner=scope.credentials.username, region_id=place.region.id,
                                    networks_of_profiles=place.networks_of_profiles)

        viewed = self._view_instances(scope, place, wanted)  # None unless the inventory view serves this scope
        if viewed is not None:
            found = viewed
        elif wanted is not None and len(wanted) == 1:
            try:
                found = [as_instance(self._vm(scope, place, next(iter(wanted)), follow=VM_FOLLOW))]
            except NotFound:
                found = []
        else:
            extra = ""
            if realm_id is not None:
                realm = place.realms.get(realm_id)
                if realm is None:
                    return []
                extra = f"cluster={search_value(realm.name)}"
            found = self._vms_mapped(scope, place, as_instance, follow=VM_FOLLOW, extra_search=extra)
        self._resolve_new_profiles(scope, found)
        found = [i for i in found if i.realm_id in place.realms and i.id not in helpers
                 and (wanted is None or i.id in wanted) and (realm_id is None or i.realm_id == realm_id)
                 and (image_id is None or i.image_id == image_id)]
        self._decorate(scope, place, found)
        if states is not None:
            allowed = {str(s) for s in states}
            found = [i for i in found if i.state.value in allowed]
        return found

    def _resolve_new_profiles(self, scope: Scope, found: list[Instance]) -> None:
        """NICs on a vNIC profile made since the scope's data center was cached (a subnet another gateway process
        made): the data center afresh, once, names their network; without it they would show no VPC at all."""
        unknown = [n for i in found for n in i.interfaces if n.profile_id and not n.network_id]
        if unknown:
            profiles = self._place(scope, fresh=True).networks_of_profiles
            for nic in unknown:
                nic.network_id = profiles.get(nic.profile_id or "") or None

    def instance(self, scope: Scope, instance_id: str) -> Instance:
        found = self.instances(scope, [instance_id])
        if not found:
            raise NotFound("instance", instance_id)
        return found[0]

    def instance_with_statistics(self, scope: Scope, instance_id: str) -> tuple[Instance, InstanceStatistics | None]:
        """Both from one engine request: the VM with its devices and its, its NICs' and its disks' statistics."""
        place = self._place(scope)
        vm = self._vm(scope, place, instance_id, follow=f"{VM_FOLLOW},{statistics.STATISTICS_FOLLOW}")
        found = [mapping.instance(vm, owner=scope.credentials.username, region_id=place.region.id,
                                  networks_of_profiles=place.networks_of_profiles)]
        self._resolve_new_profiles(scope, found)
        self._decorate(scope, place, found)
        return found[0], statistics.vm_statistics(vm, time.time()) if statistics.is_running(vm) else None

    def _decorate(self, scope: Scope, place: Place, found: list[Instance]) -> None:
        """Tags, key names, requested device names and in-flight operations from the store: one query each,
        whatever len(found)."""
        if not found:
            return
        owner = scope.provider.name
        tags = self.store.tags(owner, [i.id for i in found])
        few = len(found) <= FEW_BY_KEY  # a few instances (by id: a state check, a waiter) read their records only
        keys = disk_records.attachment_keys(a for i in found for a in i.attachments) if few else None
        meta_ids = [i.id for i in found] if few else None
        meta = {m.get("id"): m for m in self.store.entities(INSTANCE_META, owner, meta_ids)}
        requested = disk_records.requested_devices(self.store, place.key, keys)
        choices = disk_records.termination_choices(self.store, place.key, keys)
        active = {}
        capturing = set()
        locked_disks: set[str] | None = None  # asked of the engine once, when a locked VM needs it
        for op in self.operations.find(active_only=True):
            if op.kind in (RUN, TERMINATE):
                active[op.target] = op
            elif op.kind == CAPTURE:
                capturing.add(op.data.get("vm_id"))
        for inst in found:
            inst.tags = {"Name": inst.name, **tags.get(inst.id, {})}
            show_requested_name(inst, inst.tags)
            inst.key_name = meta.get(inst.id, {}).get("key_name")
            disk_records.name_attachments(inst.attachments, requested)
            device_names.name_all(inst.attachments)
            inst.root_device = device_names.root_of(inst.attachments) or inst.root_device
            disk_records.mark_termination(inst.attachments, choices)
            op = active.get(inst.id)
            if inst.backend_state == "image_locked":  # why: the gateway's own launch or capture, else ask
                launching = op is not None and op.kind == RUN
                if launching or inst.id in capturing:
                    inst.extra["image_lock"] = "create" if launching else "capture"
                else:
                    locked_disks = self._locked_disks(scope) if locked_disks is None else locked_disks
                    inst.extra["image_lock"] = "create" if any(
                        a.volume_id in locked_disks for a in inst.attachments) else "capture"
            if op is None:
                continue
            if op.kind == RUN and op.data.get("subnet"):
                inst.launch_subnet_id = op.data["subnet"]["id"]
                inst.launch_group_ids = list(op.data["subnet"].get("groups") or [])
            if op.kind == TERMINATE:
                inst.state, inst.state_reason = InstanceState.SHUTTING_DOWN, "Terminating"
            elif op.data.get("start") and inst.state in (InstanceState.STOPPED, InstanceState.PENDING):
                if inst.state is InstanceState.STOPPED:
                    inst.state, inst.state_reason = InstanceState.PENDING, "Starting"
                inst.extra[engine_states.LAUNCHING] = True  # its launch starts it: a start is under way

    def _locked_disks(self, scope: Scope) -> set[str]:
        """The ids of the disks the engine holds locked: an image_locked VM that no launch or capture of this
        gateway is making is being created while its own disks are locked (copied from its template), else
        captured (the copy is the template's). One search per listing, whatever the number of such VMs."""
        found = self._get(scope, "disks", {"search": "status=locked"})
        return {d.get("id", "") for d in found}

    def terminated_instances(self, scope: Scope, ids: Iterable[str] | None = None) -> list[Instance]:
        place = self._place(scope)
        wanted = None if ids is None else set(ids)
        stones = self.store.tombstones(place.key, "instance", self.config.tombstone_seconds)
        return [from_json(Instance, s["data"]) for s in stones if wanted is None or s["resource_id"] in wanted]

    # --- creating -------------------------------------------------------------------------------------
    def reserve_launches(self, scope: Scope, count: int) -> list[str]:
        """Record `count` run operations held by this process, before anything is created; their ids go to
        create_instance. One not used is withdrawn; one whose process dies is taken over by another."""
        place = self._place(scope)
        return [op.id for op in self.operations.submit_many(
            RUN, count, owner=scope.owner_key, secret=self._secret(scope), held=True,
            data=self._scope_data(scope, place))]

    def abandon_launches(self, scope: Scope, launch_ids: Sequence[str]) -> None:
        self.operations.withdraw(list(launch_ids))

    def launch_results(self, scope: Scope, launch_ids: Sequence[str]) -> list[str] | None:
        """The instances the launches made (a launch withdrawn or failed without one made none); None while
        one of them is still being created (its process is at work, or died and its lease has yet to run
        out)."""
        made = []
        for launch_id in launch_ids:
            operation = self.operations.get(launch_id)
            if operation is None or operation.kind != RUN or operation.owner != scope.owner_key:
                continue
            if operation.target:
                made.append(operation.target)
            elif not operation.finished:
                return None
        return made

    def create_instance(self, scope: Scope, spec: InstanceSpec, launch_id: str | None = None) -> Instance:
        """Check everything the engine would refuse first (image, realm, hardware profile, user data), so a
        refused request leaves no launch behind; then create the VM under its launch."""
        place = self._place(scope)
        reused: list[str] = []
        vm, root_device = self._vm_request(scope, place, spec, reused)
        launch: Operation | None = None
        if launch_id is None:  # reserved here with what the launch needs: no renewal before the create
            launch = self.operations.submit(RUN, owner=scope.owner_key, secret=self._secret(scope), held=True,
                                            held_seconds=self._create_budget,
                                            data={**self._scope_data(scope, place), **self._launch_data(spec, vm)})
            launch_id = launch.id
        try:
            created = self._create_instance(scope, place, spec, vm, launch_id, launch)
            created.root_device = root_device
            return created
        except _Refused as refused:  # the engine made nothing: the launch leaves no trace
            self.operations.withdraw([launch_id])
            if reused:  # the image or type may have changed since: a fresh look says what it would have said
                self._recent.drop(scope.cache_key, reused)
                self._vm_request(scope, place, spec)
            raise refused.error from None
        except BaseException as exc:
            launch = self.operations.get(launch_id)
            if launch is not None and not launch.target:
                if isinstance(exc, GatewayError) and exc.retryable:
                    # The engine may have made the VM without answering: a worker looks for it once the answer
                    # is overdue and removes it (the client was told the launch failed).
                    self.operations.finish(launch, Next("create", data={"remove": True},
                                                        delay=self.config.engine_read_timeout))
                else:
                    self.operations.finish(launch, Fail(getattr(exc, "message", "") or str(exc) or type(exc).__name__))
            raise

    def _vm_request(self, scope: Scope, place: Place, spec: InstanceSpec,
                    reused: list[str] | None = None) -> tuple[Element, str | None]:
        """The engine's create request for `spec` (its comment is set per launch) and the root device name its
        instance will show; raises what the client got wrong before anything is recorded. The template and
        instance type may be answers of a moment ago (recent_lookups), named in `reused`."""
        template = self._get_recent(scope, f"templates/{spec.image_id}", {"follow": "disk_attachments"},
                                    ("image", spec.image_id), keep=lambda t: t.findtext("status") in (None, "ok"),
                                    reused=reused)
        template_cluster = mapping.link_id(template, "cluster")
        if template_cluster is not None and template_cluster not in place.realms:
            raise NotFound("image", spec.image_id)
        if template.findtext("status") not in (None, "ok"):
            raise InvalidState(f"The image '{spec.image_id}' is {template.findtext('status')}",
                               resource_id=spec.image_id, state=template.findtext("status"))
        cluster_id = self._choose_realm(place, spec.realm_id, template_cluster)
        vm = E.vm(E.name(""), E.description(spec.description), E.comment(""),
                  E.cluster(id=cluster_id), E.template(id=spec.image_id))
        vm.extend(self._sizing(scope, spec, reused))
        script = user_data_text(spec.user_data)
        init = [E.custom_script(script)] if script else []
        if spec.ssh_public_keys:
            init.append(E.authorized_ssh_keys("\n".join(spec.ssh_public_keys)))
        if spec.host_name:
            init.append(E.host_name(spec.host_name))
        if init:
            vm.append(E.initialization(*init))
        disks = [mapping.attachment(a, "") for a in template.iterfind("disk_attachments/disk_attachment")]
        device_names.name_all(disks)
        return vm, device_names.root_of(disks)

    @staticmethod
    def _launch_data(spec: InstanceSpec, vm: Element) -> dict[str, object]:
        """What the run operation's later steps need of the launch."""
        return {"start": spec.start, "cloud_init": vm.find("initialization") is not None,
                "volume_tags": spec.volume_tags, "root_volume_bytes": spec.root_volume_bytes, "tags": spec.tags,
                "desired": spec.name or spec.tags.get("Name"), "key_name": spec.key_name,
                "root_delete": spec.root_delete_on_termination, "new_volumes": to_json(spec.new_volumes),
                "suppressed_devices": list(spec.suppressed_devices),
                "subnet": spec.subnet_id and {"id": spec.subnet_id, "groups": list(spec.security_group_ids),
                                              "ip": spec.private_ip}}

    def _create_instance(self, scope: Scope, place: Place, spec: InstanceSpec, vm: Element, launch_id: str,
                         launch: Operation | None = None) -> Instance:
        """Create the VM under its launch: `launch` when this request just reserved it with its data, else the
        launch reserved before (a client token's) is renewed with them."""
        vm.find("comment").text = launch_mark(launch_id)
        desired = spec.name or spec.tags.get("Name")
        name = engine_name(desired)
        if launch is None:
            launch = self.operations.renew(launch_id, self._create_budget, data=self._launch_data(spec, vm))
        if launch is None:
            raise BackendUnavailable("The launch was taken over by another process; retry with the same token")
        created = None
        for attempt in (name, generated_name()):
            vm.find("name").text = attempt
            try:
                created = self._call(scope, "POST", "vms", body=vm, idempotent=False)
                break
            except InvalidState as exc:  # most likely the name is taken: once more with a generated one
                if attempt != name:
                    raise _Refused(exc) from None
                if self.operations.renew(launch_id, self._create_budget) is None:
                    raise BackendUnavailable("The launch was taken over by another process; retry") from None
            except GatewayError as exc:
                if exc.retryable:
                    raise
                raise _Refused(exc) from None  # the engine answered no: it made nothing
        if created is None:
            raise InvalidState("The engine accepted the instance but returned no description of it")
        vm_id = created.get("id", "")
        tags = self.remember_created(scope, vm_id, created.findtext("name") or "", spec.tags, desired, spec.key_name)
        if not self.operations.finish(launch, Next("wait_for_disks", data={"vm_id": vm_id}, target=vm_id)):
            taken = self.operations.get(launch_id)
            if taken is None or taken.target != vm_id:  # the takeover missed the VM and failed the launch
                self.remove_vm(scope, vm_id)
                raise BackendUnavailable("The engine took too long to create the instance; it was removed")
        inst = mapping.instance(created, owner=scope.credentials.username, region_id=place.region.id)
        inst.tags = {"Name": inst.name, **tags}
        show_requested_name(inst, tags)
        inst.key_name = spec.key_name
        inst.launch_subnet_id, inst.launch_group_ids = spec.subnet_id, list(spec.security_group_ids)
        if spec.start or inst.state is InstanceState.PENDING:
            inst.state, inst.state_reason = InstanceState.PENDING, "Creating"
        if spec.start:
            inst.extra[engine_states.LAUNCHING] = True
        return inst

    def launched_vm(self, scope: Scope, launch_id: str) -> Element | None:
        """The VM the engine made for a launch (its comment names the launch), None if it made none."""
        mark = launch_mark(launch_id)
        found = self._vms(scope, self._place(scope), extra_search=f"comment={search_value(mark)}")
        return next((vm for vm in found if vm.findtext("comment") == mark), None)

    def remove_vm(self, scope: Scope, vm_id: str) -> None:
        """Remove a VM the gateway made but no client was given; InvalidState while its disks are locked."""
        try:
            self._call(scope, "DELETE", f"vms/{vm_id}", idempotent=True, what=("instance", vm_id))
        except NotFound:
            pass

    @property
    def _create_budget(self) -> float:
        """How long the lease on a launch must outlast the engine's answer to the create request."""
        return self.operations.lease_seconds + self.config.engine_connect_timeout + self.config.engine_read_timeout

    def remember_created(self, scope: Scope, vm_id: str, vm_name: str, tags: dict[str, str], desired: str | None,
                         key_name: str | None) -> dict[str, str]:
        """Store what oVirt cannot hold for a new VM: tags (`Name` when the VM could not take the name) and
        its key name. Safe to repeat. Returns the instance's stored tags."""
        tags = dict(tags)
        if desired and vm_name == desired:
            tags.pop("Name", None)
        elif desired:
            tags["Name"] = desired
        owner = scope.provider.name
        if tags:
            self.store.set_tags(owner, "instance", [vm_id], tags)
        if key_name:
            self.store.put_entity(INSTANCE_META, owner, vm_id, {"id": vm_id, "key_name": key_name})
        return tags

    def _choose_realm(self, place: Place, realm_id: str | None, template_cluster: str | None) -> str:
        if realm_id is not None:
            if realm_id not in place.realms:
                raise NotFound("realm", realm_id)
            return realm_id
        if template_cluster is not None:
            return template_cluster
        if not place.realms:
            raise InvalidState(f"The data center '{place.region.name}' has no cluster to run instances in")
        return sorted(place.realms.values(), key=lambda r: r.name)[0].id

    def _sizing(self, scope: Scope, spec: InstanceSpec, reused: list[str] | None = None) -> list:
        """The VM's sizing: a hardware profile (instance type or custom sizing) with overrides; the instance type
        may be the answer of a moment ago when `reused` is given (a launch), named in it then."""
        memory, cpus = spec.memory_bytes, spec.cpus
        profile = spec.hardware_profile_id
        if profile is None:
            return sizing_elements(memory, cpus)
        custom = mapping.parse_custom_profile_id(profile)
        if custom is not None:
            return sizing_elements(memory or custom[0], cpus or custom[1])
        if reused is None:
            itype = self._get(scope, f"instancetypes/{profile}", what=("hardware profile", profile))
        else:
            itype = self._get_recent(scope, f"instancetypes/{profile}", what=("hardware profile", profile),
                                     reused=reused)
        if memory is None and cpus is None:
            return [E.instance_type(id=profile)]
        return sizing_elements(memory or mapping.integer(itype, "memory"), cpus or mapping.cpu_count(itype))

    # --- power ----------------------------------------------------------------------------------------
    def _action(self, scope: Scope, instance_id: str, action: str, verb: str, *params: object) -> Instance:
        """Ask the engine for `action` (the model's `verb`) as gateway.engine_states says it accepts it in the
        VM's status: at once; once its lock is gone, as a durable operation; or not at all when it is doing
        that already. A refusal for the lock that came meanwhile is accepted the durable way too."""
        place = self._place(scope)
        status = self._vm(scope, place, instance_id).findtext("status") or ""
        row = engine_states.VM.get(status)
        if row is not None and verb in row.already:
            return self.instance(scope, instance_id)
        if row is None or verb not in row.later:
            try:
                self._call(scope, "POST", f"vms/{instance_id}/{action}", body=E.action(*params), idempotent=False,
                           what=("instance", instance_id))
                return self.instance(scope, instance_id)
            except InvalidState:
                again = engine_states.VM.get(self._vm(scope, place, instance_id).findtext("status") or "")
                if again is None or verb not in again.later:
                    raise
        after_lock.submit(self, scope, "instance", instance_id, verb)
        return self.instance(scope, instance_id)

    def start_instance(self, scope: Scope, instance_id: str) -> Instance:
        return self._action(scope, instance_id, "start", "start")

    def stop_instance(self, scope: Scope, instance_id: str, force: bool = False) -> Instance:
        return self._action(scope, instance_id, "stop" if force else "shutdown", "stop")

    def reboot_instance(self, scope: Scope, instance_id: str) -> Instance:
        return self._action(scope, instance_id, "reboot", "reboot")

    def suspend_instance(self, scope: Scope, instance_id: str) -> Instance:
        return self._action(scope, instance_id, "suspend", "suspend")

    def destroy_instance(self, scope: Scope, instance_id: str, *, current: Instance | None = None) -> Instance:
        """Begin terminating; a second call while one is under way joins it. A `current` the request just read
        (live, this id) saves reading the VM and its store records a second time."""
        place = self._place(scope)
        if current is None or current.id != instance_id or current.state is InstanceState.TERMINATED:
            current = self.instance(scope, instance_id)
        else:
            current = dataclasses.replace(current)  # the caller's copy keeps its state
        if current.state is not InstanceState.SHUTTING_DOWN:
            self.operations.submit(TERMINATE, target=instance_id, owner=scope.owner_key, secret=self._secret(scope),
                                   data={**self._scope_data(scope, place), "vm_id": instance_id,
                                         "instance": to_json(current)})
        current.state, current.state_reason = InstanceState.SHUTTING_DOWN, "Terminating"
        return current

    def update_instance(self, scope: Scope, instance_id: str, *, name: str | None = None,
                        description: str | None = None, memory_bytes: int | None = None,
                        cpus: int | None = None, hardware_profile_id: str | None = None,
                        user_data: bytes | None = None) -> Instance:
        place = self._place(scope)
        vm = self._vm(scope, place, instance_id)
        body = E.vm()
        if name is not None:
            if len(name) > MAX_NAME:
                raise InvalidParameter(f"A name may have at most {MAX_NAME} characters", parameter="name")
            if VM_NAME.match(name):
                body.append(E.name(name))
            else:  # kept as asked (see engine_name); the VM keeps its name
                self.store.set_tags(scope.provider.name, "instance", [instance_id], {"Name": name})
        if description is not None:
            body.append(E.description(description))
        if memory_bytes is not None or cpus is not None or hardware_profile_id is not None:
            if vm.findtext("status") != "down":
                raise InvalidState("The instance must be stopped to change its size", resource_id=instance_id,
                                   state=vm.findtext("status"))
            body.extend(self._sizing(scope, InstanceSpec(image_id="", hardware_profile_id=hardware_profile_id,
                                                         memory_bytes=memory_bytes, cpus=cpus)))
        if user_data is not None:
            body.append(E.initialization(E.custom_script(user_data_text(user_data) or "")))
        if len(body):
            self._call(scope, "PUT", f"vms/{instance_id}", body=body, idempotent=True, what=("instance", instance_id))
        if body.find("name") is not None:  # the VM took the name: no other is kept for it
            self.store.delete_tags(scope.provider.name, [instance_id], {"Name": None})
        return self.instance(scope, instance_id)

    # --- tags -----------------------------------------------------------------------------------------
    def tags(self, scope: Scope, resource_ids: Iterable[str] | None = None) -> dict[str, dict[str, str]]:
        """Stored tags, with each instance's `Name` defaulting to its VM name; all of them are those of the VMs,
        their snapshots (inlined in the same request), templates and disks the scope can see."""
        place = self._place(scope)
        wanted = None if resource_ids is None else set(resource_ids)
        vms = self._vms(scope, place, follow="snapshots" if wanted is None else None)
        stored = self.store.tags(scope.provider.name, wanted)
        if wanted is None:
            visible = {vm.get("id") for vm in vms}
            visible |= {s.get("id") for vm in vms for s in vm.iterfind("snapshots/snapshot")}
            visible |= {t.get("id") for t in self._templates(scope, place)}
            visible |= {d.get("id") for d in self._get(scope, "disks", {"search": place.disk_search})}
            stored = {rid: tags for rid, tags in stored.items() if rid in visible}
        result: dict[str, dict[str, str]] = {}
        for vm in vms:
            vm_id = vm.get("id", "")
            if wanted is None or vm_id in wanted:
                result[vm_id] = {"Name": vm.findtext("name") or ""}
        for rid, tags in stored.items():
            result.setdefault(rid, {}).update(tags)
        return result

    def stored_tags(self, scope: Scope, resource_ids: Iterable[str] | None = None) -> dict[str, dict[str, str]]:
        return self.store.tags(scope.provider.name, None if resource_ids is None else set(resource_ids))

    def set_tags(self, scope: Scope, resource_type: str, resource_ids: Sequence[str], tags: dict[str, str]) -> None:
        rest = dict(tags)
        owner = scope.provider.name
        if resource_type == "instance" and "Name" in rest:
            name = rest.pop("Name")
            for vm_id in resource_ids:
                if self._rename(scope, vm_id, name):
                    self.store.delete_tags(owner, [vm_id], {"Name": None})
                else:
                    self.store.set_tags(owner, resource_type, [vm_id], {"Name": name})
        if rest:
            self.store.set_tags(owner, resource_type, list(resource_ids), rest)

    def _rename(self, scope: Scope, vm_id: str, name: str) -> bool:
        """Rename the VM if oVirt allows the name; False when it is invalid or taken (kept as a tag)."""
        if not VM_NAME.match(name):
            return False
        place = self._place(scope)
        vm = self._vm(scope, place, vm_id)
        if vm.findtext("name") == name:
            return True
        try:
            self._call(scope, "PUT", f"vms/{vm_id}", body=E.vm(E.name(name)), idempotent=True,
                       what=("instance", vm_id))
        except (InvalidState, InvalidParameter):
            return False
        return True

    def delete_tags(self, scope: Scope, resource_ids: Sequence[str], tags: dict[str, str | None] | None = None) -> None:
        """Delete stored tags. An instance keeps its VM name as `Name`: oVirt VMs cannot be nameless."""
        self.store.delete_tags(scope.provider.name, resource_ids, tags)
