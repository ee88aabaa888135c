"""Meters (DSP0263's monitoring): one Meter per running Machine and measured aspect, its samples read live
from the engine through the driver's `instance_statistics`; and the MeterConfigurations describing the aspects.

They are read-only, as the engine's statistics are: the engine measures every running VM all the time, on its
own schedule, and lets nobody start, stop, add or reconfigure a measurement. So no Meter advertises `edit`,
`delete`, `start` or `stop`, the collection has no `add`, there are no MeterTemplates (a template only serves a
MeterCreate), and a POST to `meters` is refused with 405 saying why. A Meter lives while its machine runs (the
spec removes a Meter with its target; a stopped VM is not measured), and its `samples` hold one Sample: the
engine's current reading. The scope's view of machines is the Meters' view: a user sees its own machines' only.
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, g

from gateway.errors import NotFound, echo
from gateway.instance_statistics import InstanceStatistics
from gateway.model import Instance, InstanceState

from ..context import Context, current
from ..errors import error_response
from ..listing import expand, expander, register_collection, resource_response, sub_collection_response
from ..meter_aspects import ASPECTS, Aspect, sample_value
from ..protocol import query_values
from ..query import names
from ..schema import common_attributes, iso_time
from .machine_parts import expansion


def metered(ctx: Context) -> bool:
    return ctx.driver.can("instance_statistics")


def meter_href(ctx: Context, machine_id: str, aspect: Aspect) -> str:
    return ctx.href("meters", machine_id, aspect.key)


def meter_entry(ctx: Context, instance: Instance, aspect: Aspect) -> dict[str, Any]:
    href = meter_href(ctx, instance.id, aspect)
    entry = common_attributes(href, f"{instance.name} {aspect.title}",
                              description=f"{aspect.description}, of machine {instance.name}")
    entry.update({"targetResource": {"href": ctx.href("machines", instance.id)}, "aspect": aspect.uri,
                  "units": aspect.units, "timeScope": aspect.time_scope, "isContinuous": True,
                  "samples": {"href": href + "/samples"}})
    if aspect.min_value is not None:
        entry["minValue"] = aspect.min_value
    maximum = aspect.max_value
    if maximum is None and aspect.key == "memoryUsed" and instance.memory_bytes:
        maximum = str(instance.memory_bytes)
    if maximum is not None:
        entry["maxValue"] = maximum
    return entry


def machine_meters(ctx: Context, instance: Instance) -> list[dict[str, Any]]:
    """A machine's Meters: one per aspect while it runs, none otherwise."""
    if instance.state is not InstanceState.RUNNING:
        return []
    return [meter_entry(ctx, instance, aspect) for aspect in ASPECTS.values()]


def list_meters(ctx: Context) -> list[dict[str, Any]]:
    return [m for i in ctx.driver.instances(ctx.scope) for m in machine_meters(ctx, i)]


# --- samples: the engine read once per request ------------------------------------------------------
def statistics(ctx: Context, machine_id: str, *, every_machine: bool) -> InstanceStatistics | None:
    """The machine's current statistics (None when the engine measures it not). A listing's expansion reads
    every running machine in one driver call; a single Meter reads only its machine."""
    cache: dict[str, InstanceStatistics] | None = g.get("cimi_statistics")
    if cache is None or (machine_id not in cache and not g.get("cimi_statistics_complete")):
        found = ctx.driver.instance_statistics(ctx.scope, None if every_machine else [machine_id])
        cache = {**(cache or {}), **{s.instance_id: s for s in found}}
        g.cimi_statistics, g.cimi_statistics_complete = cache, every_machine
    return cache.get(machine_id)


def sample_entries(stats: InstanceStatistics | None, aspect: Aspect) -> list[dict[str, Any]]:
    value = aspect.read(stats) if stats is not None else None
    if stats is None or value is None:
        return []
    return [{"timestamp": iso_time(stats.measured_at), "value": sample_value(value)}]


def _meter_parts(entry: dict[str, Any]) -> tuple[str, Aspect]:
    machine_id, key = entry["id"].rstrip("/").rsplit("/", 2)[-2:]
    return machine_id, ASPECTS[key]


@expander("Meter", "samples")
def _expand_samples(ctx: Context, entry: dict[str, Any]) -> list[dict[str, Any]]:
    machine_id, aspect = _meter_parts(entry)
    return sample_entries(statistics(ctx, machine_id, every_machine=g.get("cimi_meter_listing", False)), aspect)


@expander("Machine", "meters")
def _expand_machine_meters(ctx: Context, entry: dict[str, Any]) -> list[dict[str, Any]]:
    return machine_meters(ctx, expansion().machine(ctx, entry))


def _aspect(key: str, what: str = "meter aspect") -> Aspect:
    aspect = ASPECTS.get(key)
    if aspect is None:
        raise NotFound(what, key)
    return aspect


def _running_machine(ctx: Context, machine_id: str, aspect: Aspect) -> Instance:
    instance = ctx.driver.instance(ctx.scope, machine_id)
    if instance.state is not InstanceState.RUNNING:
        raise _not_measured(machine_id, aspect)
    return instance


def _not_measured(machine_id: str, aspect: Aspect) -> NotFound:
    return NotFound("meter", f"{machine_id}/{aspect.key}", f"The meter '{echo(machine_id)}/{aspect.key}' does not "
                    "exist: its machine does not run, and the engine measures only running machines")


def get_meter(machine_id: str, aspect_key: str) -> Response:
    ctx = current()
    if not metered(ctx):
        raise NotFound("meter", f"{machine_id}/{aspect_key}"[:200])
    aspect = _aspect(aspect_key)
    return resource_response(ctx, "Meter", meter_entry(ctx, _running_machine(ctx, machine_id, aspect), aspect))


def list_samples(machine_id: str, aspect_key: str) -> Response:
    """The Meter's one sample: the machine and its statistics read together (one engine request)."""
    ctx = current()
    if not metered(ctx):
        raise NotFound("meter", f"{machine_id}/{aspect_key}"[:200])
    aspect = _aspect(aspect_key)
    instance, stats = ctx.driver.instance_with_statistics(ctx.scope, machine_id)
    if stats is None or instance.state is not InstanceState.RUNNING:
        raise _not_measured(machine_id, aspect)
    return sub_collection_response(ctx, "Sample", meter_href(ctx, machine_id, aspect) + "/samples",
                                   sample_entries(stats, aspect), add=False)


def list_machine_meters(machine_id: str) -> Response:
    ctx = current()
    machine = ctx.driver.instance(ctx.scope, machine_id)  # NotFound for an unknown machine, metered or not
    entries = machine_meters(ctx, machine) if metered(ctx) else []
    wanted = names(query_values("$expand"))
    entries = [expand(ctx, "Meter", e, wanted) for e in entries]
    return sub_collection_response(ctx, "Meter", ctx.href("machines", machine_id) + "/meters", entries, add=False)


def refuse_meter_creation() -> Response:
    return error_response(405, "Meters cannot be created here: the engine measures every running machine's "
                               "aspects itself, and each already has its Meter (see meterConfigs)",
                          headers={"Allow": "GET"})


# --- MeterConfigurations ---------------------------------------------------------------------------------
def meter_config_entry(ctx: Context, aspect: Aspect) -> dict[str, Any]:
    entry = common_attributes(ctx.href("meterConfigs", aspect.key), aspect.key, description=aspect.description)
    entry.update({"aspect": aspect.uri, "units": aspect.units, "timeScope": aspect.time_scope, "isContinuous": True})
    if aspect.min_value is not None:
        entry["minValue"] = aspect.min_value
    if aspect.max_value is not None:
        entry["maxValue"] = aspect.max_value
    return entry


def list_meter_configs(ctx: Context) -> list[dict[str, Any]]:
    return [meter_config_entry(ctx, a) for a in ASPECTS.values()]


def get_meter_config(key: str) -> Response:
    ctx = current()
    if not metered(ctx):
        raise NotFound("meter configuration", key)
    return resource_response(ctx, "MeterConfiguration", meter_config_entry(ctx, _aspect(key, "meter configuration")))


def _listing_meters(ctx: Context) -> list[dict[str, Any]]:
    g.cimi_meter_listing = True  # expanding samples reads every machine at once
    return list_meters(ctx)


def install(bp: Blueprint) -> None:
    register_collection("meters", "Meter", _listing_meters, available=metered)
    register_collection("meterConfigs", "MeterConfiguration", list_meter_configs, available=metered)
    bp.add_url_rule("/meters", "refuse_meter_creation", refuse_meter_creation, methods=["POST"])
    bp.add_url_rule("/meters/<machine_id>/<aspect_key>", "get_meter", get_meter, methods=["GET"])
    bp.add_url_rule("/meters/<machine_id>/<aspect_key>/samples", "list_samples", list_samples, methods=["GET"])
    bp.add_url_rule("/machines/<machine_id>/meters", "list_machine_meters", list_machine_meters, methods=["GET"])
    bp.add_url_rule("/meter_configurations/<key>", "get_meter_config", get_meter_config, methods=["GET"])
