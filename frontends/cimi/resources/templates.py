"""MachineTemplates and VolumeTemplates: kept by the gateway (oVirt has no home for them), per identity.

A template stores references as ids (image, configuration, credential name), checked when it is saved
and again when a machine is created from it, so a reference to something deleted since is a clear 400.
Resolving a MachineCreate's template also lives here: stored template first, inline attributes over it.
"""
from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, Response

from gateway.app import current_gateway
from gateway.errors import InvalidParameter, MissingParameter, NotFound, NotSupported, echo

from ..context import Context, current
from ..network_views import template_interface
from ..listing import created_response, register_collection, resource_response
from ..reading import integer, nested, properties, text, user_data
from ..schema import NAMESPACE, common_attributes
from .configs import stored_volume_config
from ..records import all_records, deleting_view, find_record, record_or_none, save_record

MACHINE_TEMPLATE, VOLUME_TEMPLATE = "cimi.machineTemplate", "cimi.volumeTemplate"
INITIAL_STATES = ("STARTED", "STOPPED")


@dataclass
class ResolvedMachineTemplate:
    image_id: str
    hardware_profile_id: str | None = None
    memory_bytes: int | None = None
    cpus: int | None = None
    realm_id: str | None = None
    initial_state: str = "STARTED"
    user_data: bytes | None = None
    ssh_public_keys: list[str] = field(default_factory=list)
    key_name: str | None = None
    subnet_id: str | None = None  # the network provider's subnet its one NIC is on (networkInterfaces)
    private_ip: str | None = None


def _unknown(what: str, exc: NotFound) -> InvalidParameter:
    return InvalidParameter(f"Unknown {what}: {exc.message}")


def check_image(ctx: Context, image_id: str) -> str:
    try:
        return ctx.driver.image(ctx.scope, image_id).id
    except NotFound as exc:
        raise _unknown("machineImage", exc) from None


def check_config(ctx: Context, config_id: str) -> str:
    if not any(p.id == config_id for p in ctx.driver.hardware_profiles(ctx.scope)):
        raise InvalidParameter(f"Unknown machineConfig: the MachineConfiguration '{echo(config_id)}' does not exist")
    return config_id


def check_credential(ctx: Context, name: str) -> str:
    ctx.verify_credentials()
    try:
        return current_gateway().key_pairs.get(ctx.owner, name).public_key
    except NotFound:
        raise InvalidParameter(f"Unknown credential: the Credential '{echo(name)}' does not exist") from None


def check_realm(ctx: Context, realm: str) -> str:
    for candidate in ctx.driver.realms(ctx.scope):
        if realm in (candidate.id, candidate.name):
            return candidate.id
    raise InvalidParameter(f"Unknown realm '{echo(realm)}'")


def read_machine_template(ctx: Context, content: dict[str, Any]) -> dict[str, Any]:
    """The storable form of a template's attributes (ids, not hrefs), every reference checked."""
    stored: dict[str, Any] = {}
    image = nested(content, "machineImage")
    if image is not None:
        if "href" not in image:
            raise InvalidParameter("machineImage must be a reference to a MachineImage", parameter="machineImage")
        stored["image_id"] = check_image(ctx, ctx.id_from_href(image["href"], "machineImages", "MachineImage"))
    config = nested(content, "machineConfig")
    if config is not None:
        if "href" in config:
            stored["config_id"] = check_config(
                ctx, ctx.id_from_href(config["href"], "machineConfigs", "MachineConfiguration"))
        cpu, memory = integer(config, "cpu"), integer(config, "memory")
        if cpu is not None:
            stored["cpus"] = cpu
        if memory is not None:
            stored["memory_kb"] = memory
        if "href" not in config and cpu is None and memory is None:
            raise InvalidParameter("machineConfig needs an href or cpu and memory", parameter="machineConfig")
    credential = nested(content, "credential")
    if credential is not None:
        if "href" in credential:
            name = ctx.id_from_href(credential["href"], "credentials", "Credential")
            check_credential(ctx, name)
            stored["credential"] = name
        elif text(credential, "key"):
            stored["public_key"] = text(credential, "key")
        else:
            raise InvalidParameter("credential needs an href or a key", parameter="credential")
    state = text(content, "initialState")
    if state:
        if state.upper() not in INITIAL_STATES:
            raise InvalidParameter(f"initialState must be one of {', '.join(INITIAL_STATES)}, got '{echo(state)}'",
                                   parameter="initialState")
        stored["initial_state"] = state.upper()
    if content.get("userData"):
        user_data(content)  # refuse what is not base64 now rather than at creation
        stored["user_data"] = "".join(str(content["userData"]).split())
    realm = text(content, "realm")
    if realm:
        stored["realm_id"] = check_realm(ctx, realm)
    if content.get("networkInterfaces"):
        stored["interface"] = template_interface(ctx, content["networkInterfaces"])
    for unsupported in ("volumes", "volumeTemplates"):
        if content.get(unsupported):
            raise NotSupported(f"Machines cannot be created with {unsupported} yet: create the machine, then "
                               f"attach volumes through its volumes collection")
    return stored


def resolve_machine_template(ctx: Context, template: dict[str, Any]) -> ResolvedMachineTemplate:
    merged: dict[str, Any] = {}
    if "href" in template:
        template_id = ctx.id_from_href(template["href"], "machineTemplates", "MachineTemplate")
        record = record_or_none(ctx, MACHINE_TEMPLATE, template_id)
        if record is None:
            raise InvalidParameter(f"Unknown machineTemplate: the MachineTemplate '{echo(template_id)}' does not exist")
        merged.update(record["attributes"])
        try:  # references may have gone since the template was saved
            if "image_id" in merged:
                check_image(ctx, merged["image_id"])
            if "config_id" in merged:
                check_config(ctx, merged["config_id"])
        except InvalidParameter as exc:
            raise InvalidParameter(f"The MachineTemplate '{template_id}' is stale: {exc.message}") from None
    merged.update(read_machine_template(ctx, {k: v for k, v in template.items() if k != "href"}))
    if "image_id" not in merged:
        raise MissingParameter("The machineTemplate needs a machineImage", parameter="machineImage")
    keys, key_name = [], None
    if "credential" in merged:
        keys, key_name = [check_credential(ctx, merged["credential"])], merged["credential"]
    elif "public_key" in merged:
        keys = [merged["public_key"]]
    raw = merged.get("user_data")
    return ResolvedMachineTemplate(
        image_id=merged["image_id"], hardware_profile_id=merged.get("config_id"),
        memory_bytes=merged["memory_kb"] * 1024 if "memory_kb" in merged else None, cpus=merged.get("cpus"),
        realm_id=merged.get("realm_id"), initial_state=merged.get("initial_state", "STARTED"),
        user_data=user_data({"userData": raw}) if raw else None, ssh_public_keys=keys, key_name=key_name,
        subnet_id=merged.get("interface", {}).get("subnet_id"), private_ip=merged.get("interface", {}).get("ip"))


# --- MachineTemplates --------------------------------------------------------------------------------------
def template_entry(ctx: Context, stored: dict[str, Any]) -> dict[str, Any]:
    href = ctx.href("machineTemplates", stored["id"])
    attrs = stored["attributes"]
    entry = common_attributes(href, stored["name"], description=stored.get("description"), created=stored["created"],
                              updated=stored.get("updated"), properties=stored.get("properties"))
    if "initial_state" in attrs:
        entry["initialState"] = attrs["initial_state"]
    config: dict[str, Any] = {}
    if "config_id" in attrs:
        config["href"] = ctx.href("machineConfigs", attrs["config_id"])
    if "cpus" in attrs:
        config["cpu"] = attrs["cpus"]
    if "memory_kb" in attrs:
        config["memory"] = attrs["memory_kb"]
    if config:
        entry["machineConfig"] = config
    if "image_id" in attrs:
        entry["machineImage"] = {"href": ctx.href("machineImages", attrs["image_id"])}
    if "credential" in attrs:
        entry["credential"] = {"href": ctx.href("credentials", attrs["credential"])}
    elif "public_key" in attrs:
        entry["credential"] = {"key": attrs["public_key"]}
    if "user_data" in attrs:
        entry["userData"] = attrs["user_data"]
    if "interface" in attrs:
        interface: dict[str, Any] = {"network": {"href": ctx.href("networks", attrs["interface"]["network_id"])}}
        if attrs["interface"].get("ip"):
            interface["addresses"] = [{"ip": attrs["interface"]["ip"]}]
        entry["networkInterfaces"] = [interface]
    if "realm_id" in attrs:
        entry["realm"] = attrs["realm_id"]
    entry["operations"] = [{"rel": "edit", "href": href}, {"rel": "delete", "href": href}]
    return entry


def list_templates(ctx: Context) -> list[dict[str, Any]]:
    return [template_entry(ctx, s) for s in all_records(ctx, MACHINE_TEMPLATE)]


def _new_record(body: dict[str, Any], default_name: str) -> dict[str, Any]:
    """A new template record: its id, the body's name (else `default_name`-<id prefix>), its time."""
    record_id = uuid.uuid4().hex
    return {"id": record_id, "name": text(body, "name") or f"{default_name}-{record_id[:8]}", "created": time.time()}


def _save(ctx: Context, kind: str, record: dict[str, Any], body: dict[str, Any], attributes: dict[str, Any]) -> None:
    """Store the template with the body's name, description and properties over the record's."""
    record["name"] = text(body, "name") or record["name"]
    if "description" in body:
        record["description"] = text(body, "description") or ""
    props = properties(body)
    if props is not None:
        record["properties"] = props
    record["attributes"] = attributes
    save_record(ctx, kind, record)


def create_template() -> Response:
    ctx = current()
    ctx.verify_credentials()
    _, body = ctx.body("MachineTemplate")
    attributes = read_machine_template(ctx, body)
    if "image_id" not in attributes:
        raise MissingParameter("A MachineTemplate needs a machineImage", parameter="machineImage")
    record = _new_record(body, "template")
    _save(ctx, MACHINE_TEMPLATE, record, body, attributes)
    return created_response(ctx, "MachineTemplate", template_entry(ctx, record))


def get_template(template_id: str) -> Response:
    ctx = current()
    record = find_record(ctx, MACHINE_TEMPLATE, template_id, "machine template")
    return resource_response(ctx, "MachineTemplate", template_entry(ctx, record))


def edit_template(template_id: str) -> Response:
    ctx = current()
    record = find_record(ctx, MACHINE_TEMPLATE, template_id, "machine template")
    _, body = ctx.body("MachineTemplate")
    attributes = {**record["attributes"], **read_machine_template(ctx, body)}
    record["updated"] = time.time()
    _save(ctx, MACHINE_TEMPLATE, record, body, attributes)
    return resource_response(ctx, "MachineTemplate", template_entry(ctx, record), apply_select=False)


# --- VolumeTemplates -----------------------------------------------------------------------------------------
def read_volume_template(ctx: Context, content: dict[str, Any]) -> dict[str, Any]:
    """{'config_id': …} or {'capacity_kb': …, 'format': …} from a VolumeTemplate's attributes."""
    config = nested(content, "volumeConfig")
    image = nested(content, "volumeImage")
    if image is not None:  # a copy of the VolumeImage (a snapshot), at least its size
        if "href" not in image:
            raise MissingParameter("A volumeImage is given by reference (href)", parameter="volumeImage")
        image_id = ctx.id_from_href(image["href"], "volumeImages", "VolumeImage")
        capacity = integer(config, "capacity") if config is not None and "href" not in config else None
        return {"image_id": image_id, "capacity_kb": capacity or 0}
    if config is None:
        raise MissingParameter("A volumeTemplate needs a volumeConfig", parameter="volumeConfig")
    if "href" in config:
        config_id = ctx.id_from_href(config["href"], "volumeConfigs", "VolumeConfiguration")
        try:
            stored_volume_config(ctx, config_id)
        except NotFound as exc:
            raise _unknown("volumeConfig", exc) from None
        return {"config_id": config_id}
    capacity = integer(config, "capacity")
    if not capacity:
        raise MissingParameter("An inline volumeConfig needs a capacity (in kilobytes)", parameter="capacity")
    return {"capacity_kb": capacity, "format": text(config, "format") or ""}


def volume_template_entry(ctx: Context, stored: dict[str, Any]) -> dict[str, Any]:
    href = ctx.href("volumeTemplates", stored["id"])
    attrs = stored["attributes"]
    entry = common_attributes(href, stored["name"], description=stored.get("description"), created=stored["created"],
                              properties=stored.get("properties"))
    if "config_id" in attrs:
        entry["volumeConfig"] = {"href": ctx.href("volumeConfigs", attrs["config_id"])}
    else:
        entry["volumeConfig"] = {"type": f"{NAMESPACE}/mapped", "capacity": attrs["capacity_kb"]}
    if "image_id" in attrs:
        entry["volumeImage"] = {"href": ctx.href("volumeImages", attrs["image_id"])}
    entry["operations"] = [{"rel": "delete", "href": href}]
    return entry


def list_volume_templates(ctx: Context) -> list[dict[str, Any]]:
    return [volume_template_entry(ctx, s) for s in all_records(ctx, VOLUME_TEMPLATE)]


def create_volume_template() -> Response:
    ctx = current()
    ctx.verify_credentials()
    _, body = ctx.body("VolumeTemplate")
    attributes = read_volume_template(ctx, body)
    record = _new_record(body, "volume-template")
    _save(ctx, VOLUME_TEMPLATE, record, body, attributes)
    return created_response(ctx, "VolumeTemplate", volume_template_entry(ctx, record))


def resolve_volume_template(ctx: Context, template: dict[str, Any]) -> dict[str, Any]:
    if "href" in template:
        template_id = ctx.id_from_href(template["href"], "volumeTemplates", "VolumeTemplate")
        try:
            return find_record(ctx, VOLUME_TEMPLATE, template_id, "volume template")["attributes"]
        except NotFound as exc:
            raise _unknown("volumeTemplate", exc) from None
    return read_volume_template(ctx, template)


def get_volume_template(template_id: str) -> Response:
    ctx = current()
    record = find_record(ctx, VOLUME_TEMPLATE, template_id, "volume template")
    return resource_response(ctx, "VolumeTemplate", volume_template_entry(ctx, record))


def install(bp: Blueprint) -> None:
    register_collection("machineTemplates", "MachineTemplate", list_templates,
                        available=lambda ctx: ctx.driver.can("create_instance"), can_add=lambda ctx: True)
    register_collection("volumeTemplates", "VolumeTemplate", list_volume_templates,
                        available=lambda ctx: ctx.driver.can("create_volume"), can_add=lambda ctx: True)
    bp.add_url_rule("/machine_templates", "create_template", create_template, methods=["POST"])
    bp.add_url_rule("/machine_templates/<template_id>", "get_template", get_template, methods=["GET"])
    bp.add_url_rule("/machine_templates/<template_id>", "edit_template", edit_template, methods=["PUT"])
    bp.add_url_rule("/machine_templates/<entity_id>", "delete_template",
                    deleting_view(MACHINE_TEMPLATE, "machine template"), methods=["DELETE"])
    bp.add_url_rule("/volume_templates", "create_volume_template", create_volume_template, methods=["POST"])
    bp.add_url_rule("/volume_templates/<template_id>", "get_volume_template", get_volume_template, methods=["GET"])
    bp.add_url_rule("/volume_templates/<entity_id>", "delete_volume_template",
                    deleting_view(VOLUME_TEMPLATE, "volume template"), methods=["DELETE"])

