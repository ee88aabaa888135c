"""Hardware profiles: the engine's instance types and template sizings (fixed), plus one flexible profile.

Each driver profile has `fixed` properties (memory MB, cpu count, storage GB when known, architecture).
The `flexible` profile describes what a create may ask for without naming a type: memory and cpu as
`range`s spanning the catalogue and architecture as an `enum` of the catalogue's architectures (storage is
left out: a create cannot size the template's disk). Creating resolves `hwp_id` and the `hwp_*`
overrides against these same descriptions, so what is advertised is what is accepted.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from flask import Response, g
from lxml import etree

from gateway.errors import InvalidParameter, NotFound, echo
from gateway.model import HardwareProfile

from . import context, respond
from .blueprint import bp
from .description import Entity, Value

FLEXIBLE = "flexible"
MIB, GIB = 1 << 20, 1 << 30
UNITS = {"memory": "MB", "storage": "GB", "cpu": "count", "architecture": "label"}


@dataclass
class Property:
    """One property: fixed (value), range (first..last, default first) or enum (entries, default first)."""

    name: str
    kind: str
    value: Any
    first: Any = None
    last: Any = None
    entries: list[Any] = field(default_factory=list)

    @property
    def unit(self) -> str:
        return UNITS[self.name]

    @property
    def param(self) -> str:
        return f"hwp_{self.name}"

    def accepts(self, wanted: Any) -> bool:
        if self.kind == "range":
            return self.first <= wanted <= self.last
        if self.kind == "enum":
            return wanted in self.entries
        return wanted == self.value

    def json_value(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "kind": self.kind, "unit": self.unit, "value": self.value}
        if self.kind == "range":
            out["range"] = {"first": self.first, "last": self.last}
        if self.kind == "enum":
            out["enum"] = {"entry": [{"value": v} for v in self.entries]}
        return out


@dataclass
class Properties:
    """XML `<property>` children; JSON both `properties` (by name) and the 0.x `property` list."""

    items: list[Property]
    create_href: str

    def to_xml(self, parent: etree._Element) -> None:
        for prop in self.items:
            element = etree.SubElement(parent, "property", {"name": prop.name, "kind": prop.kind, "unit": prop.unit,
                                                            "value": str(prop.value)})
            if prop.kind == "fixed":
                continue
            etree.SubElement(element, "param", {"operation": "create", "href": self.create_href, "method": "post",
                                                "name": prop.param})
            if prop.kind == "range":
                etree.SubElement(element, "range", {"first": str(prop.first), "last": str(prop.last)})
            else:
                enum = etree.SubElement(element, "enum")
                for entry in prop.entries:
                    etree.SubElement(enum, "entry", {"value": str(entry)})

    def to_json(self, out: dict[str, Any]) -> None:
        out["properties"] = {p.name: p.json_value() for p in self.items}
        out["property"] = [p.json_value() for p in self.items]


@dataclass
class Profile:
    id: str
    name: str
    properties: list[Property]

    def prop(self, name: str) -> Property | None:
        return next((p for p in self.properties if p.name == name), None)


def fixed_profile(profile: HardwareProfile) -> Profile:
    props = [Property("memory", "fixed", profile.memory_bytes // MIB), Property("cpu", "fixed", profile.cpus)]
    if profile.disk_bytes:
        props.append(Property("storage", "fixed", math.ceil(profile.disk_bytes / GIB)))
    props.append(Property("architecture", "fixed", profile.architecture))
    return Profile(profile.id, profile.name or profile.id, props)


def flexible_profile(profiles: list[HardwareProfile]) -> Profile | None:
    """Ranges spanning the catalogue; None when the engine has no profile at all."""
    if not profiles:
        return None
    memory = sorted(p.memory_bytes // MIB for p in profiles)
    cpus = sorted(p.cpus for p in profiles)
    architectures = sorted({p.architecture for p in profiles})
    return Profile(FLEXIBLE, FLEXIBLE, [
        Property("memory", "range", memory[0], first=memory[0], last=memory[-1]),
        Property("cpu", "range", cpus[0], first=cpus[0], last=cpus[-1]),
        Property("architecture", "enum", architectures[0], entries=architectures),
    ])


def all_profiles(profiles: list[HardwareProfile]) -> list[Profile]:
    described = [fixed_profile(p) for p in profiles]
    flexible = flexible_profile(profiles)
    return described + ([flexible] if flexible else [])


def describe(profile: Profile) -> Entity:
    return Entity("hardware_profile", profile.id, context.api_url("hardware_profiles", profile.id), [
        Value("id", profile.id, in_json=False),
        Value("name", profile.name),
        Properties(profile.properties, context.api_url("instances")),
    ])


def _profiles() -> list[Profile]:
    """The scope's profiles, described; one engine request, kept for the rest of the request (an image
    listing names them in every image)."""
    if "dc_profiles" not in g:
        g.dc_profiles = all_profiles(context.driver().hardware_profiles(context.scope()))
    return g.dc_profiles


def runnable_with(architecture: str) -> list[Profile]:
    """The profiles an image of `architecture` can run with: those whose architecture property accepts it."""
    if not context.driver().can("hardware_profiles"):
        return []
    return [p for p in _profiles() if (arch := p.prop("architecture")) is None or arch.accepts(architecture)]


@bp.route("/hardware_profiles", methods=["GET"])
def hardware_profiles_index() -> Response:
    wanted = context.param(context.params(), "id")
    return respond.collection("hardware_profiles", [describe(p) for p in _profiles() if wanted in (None, p.id)])


@bp.route("/hardware_profiles/<profile_id>", methods=["GET"])
def hardware_profile_show(profile_id: str) -> Response:
    for profile in _profiles():
        if profile.id == profile_id:
            return respond.entity(describe(profile))
    raise NotFound("hardware profile", profile_id)


# --- what a create asks for ---------------------------------------------------------------------------
@dataclass
class Sizing:
    """What InstanceSpec receives: a profile id (None for flexible) and explicit sizes."""

    hardware_profile_id: str | None
    memory_bytes: int | None
    cpus: int | None


def _number(name: str, text: str) -> int:
    try:
        number = float(text)
    except ValueError:
        raise InvalidParameter(f"'hwp_{name}' must be a number, got '{text[:50]}'", parameter=f"hwp_{name}") from None
    if not math.isfinite(number) or number <= 0 or number != int(number):
        raise InvalidParameter(f"'hwp_{name}' must be a positive whole number, got '{text[:50]}'",
                               parameter=f"hwp_{name}")
    return int(number)


def resolve(catalogue: list[HardwareProfile], hwp_id: str | None, overrides: dict[str, str | None]) -> Sizing:
    """Check `hwp_id` and the `hwp_memory|cpu|storage|architecture` overrides against the advertised profiles."""
    given = {name: value for name, value in overrides.items() if value is not None}
    if hwp_id is None and not given:
        return Sizing(None, None, None)
    profiles = {p.id: p for p in all_profiles(catalogue)}
    profile = profiles.get(hwp_id or FLEXIBLE)
    if profile is None:
        raise InvalidParameter(f"Unknown hardware profile '{(hwp_id or '')[:100]}'", parameter="hwp_id")
    values: dict[str, Any] = {}
    for name, text in given.items():
        prop = profile.prop(name)
        if prop is None:
            raise InvalidParameter(f"The hardware profile '{profile.id}' has no property '{name}'",
                                   parameter=f"hwp_{name}")
        value = text if name == "architecture" else _number(name, text)
        if not prop.accepts(value):
            allowed = (f"{prop.first}..{prop.last}" if prop.kind == "range" else
                       ", ".join(map(str, prop.entries)) if prop.kind == "enum" else str(prop.value))
            raise InvalidParameter(f"'hwp_{name}' = {echo(value)} is not allowed by the hardware profile "
                                   f"'{profile.id}' ({allowed} {prop.unit})", parameter=f"hwp_{name}")
        values[name] = value
    memory = values.get("memory")
    return Sizing(None if profile.id == FLEXIBLE else profile.id,
                  memory * MIB if memory is not None else None, values.get("cpu"))
