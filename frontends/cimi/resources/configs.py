"""MachineConfigurations (the engine's hardware profiles) and VolumeConfigurations (kept by the gateway).

Sizes are in kilobytes, as CIMI wants them (model bytes / 1024).
"""
from __future__ import annotations

import time
import uuid
from typing import Any

from flask import Blueprint, Response

from gateway.errors import MissingParameter, NotFound
from gateway.model import HardwareProfile

from ..context import Context, current
from ..listing import created_response, register_collection, resource_response
from ..reading import integer, properties, text
from ..records import all_records, deleting_view, find_record, save_record
from ..schema import NAMESPACE, common_attributes

VOLUME_CONFIG = "cimi.volumeConfiguration"


def config_entry(ctx: Context, profile: HardwareProfile) -> dict[str, Any]:
    entry = common_attributes(ctx.href("machineConfigs", profile.id), profile.name, description=(
        profile.description or f"{profile.cpus} CPU, {profile.memory_bytes // 1024} KB of memory"))
    entry.update({"cpu": profile.cpus, "memory": profile.memory_bytes // 1024})
    if profile.disk_bytes:
        entry["disks"] = [{"capacity": profile.disk_bytes // 1024}]
    entry["cpuArch"] = profile.architecture
    return entry


def list_configs(ctx: Context) -> list[dict[str, Any]]:
    return [config_entry(ctx, p) for p in ctx.driver.hardware_profiles(ctx.scope)]


def get_config(config_id: str) -> Response:
    ctx = current()
    for profile in ctx.driver.hardware_profiles(ctx.scope):
        if profile.id == config_id:
            return resource_response(ctx, "MachineConfiguration", config_entry(ctx, profile))
    raise NotFound("machine configuration", config_id)


# --- VolumeConfigurations ---------------------------------------------------------------------------------
def stored_volume_config(ctx: Context, config_id: str) -> dict[str, Any]:
    return find_record(ctx, VOLUME_CONFIG, config_id, "volume configuration")


def volume_config_entry(ctx: Context, stored: dict[str, Any]) -> dict[str, Any]:
    href = ctx.href("volumeConfigs", stored["id"])
    entry = common_attributes(href, stored["name"], description=stored.get("description"), created=stored["created"],
                              properties=stored.get("properties"))
    entry["type"] = stored.get("type") or f"{NAMESPACE}/mapped"
    if stored.get("format"):
        entry["format"] = stored["format"]
    entry["capacity"] = stored["capacity_kb"]
    entry["operations"] = [{"rel": "delete", "href": href}]
    return entry


def list_volume_configs(ctx: Context) -> list[dict[str, Any]]:
    return [volume_config_entry(ctx, s) for s in all_records(ctx, VOLUME_CONFIG)]


def create_volume_config() -> Response:
    ctx = current()
    ctx.verify_credentials()
    _, body = ctx.body("VolumeConfiguration")
    capacity = integer(body, "capacity")
    if not capacity:
        raise MissingParameter("A VolumeConfiguration needs a capacity (in kilobytes)", parameter="capacity")
    record_id = uuid.uuid4().hex
    record = {"id": record_id, "name": text(body, "name") or f"volume-config-{record_id[:8]}", "created": time.time(),
              "capacity_kb": capacity, "format": text(body, "format") or "", "type": text(body, "type") or "",
              "description": text(body, "description") or "", "properties": properties(body) or {}}
    save_record(ctx, VOLUME_CONFIG, record)
    return created_response(ctx, "VolumeConfiguration", volume_config_entry(ctx, record))


def get_volume_config(config_id: str) -> Response:
    ctx = current()
    return resource_response(ctx, "VolumeConfiguration", volume_config_entry(ctx, stored_volume_config(ctx, config_id)))


def install(bp: Blueprint) -> None:
    register_collection("machineConfigs", "MachineConfiguration", list_configs,
                        available=lambda ctx: ctx.driver.can("hardware_profiles"))
    register_collection("volumeConfigs", "VolumeConfiguration", list_volume_configs,
                        available=lambda ctx: ctx.driver.can("create_volume"), can_add=lambda ctx: True)
    bp.add_url_rule("/machine_configurations/<config_id>", "get_config", get_config, methods=["GET"])
    bp.add_url_rule("/volume_configurations", "create_volume_config", create_volume_config, methods=["POST"])
    bp.add_url_rule("/volume_configurations/<config_id>", "get_volume_config", get_volume_config, methods=["GET"])
    bp.add_url_rule("/volume_configurations/<entity_id>", "delete_volume_config",
                    deleting_view(VOLUME_CONFIG, "volume configuration"), methods=["DELETE"])
