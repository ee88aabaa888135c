"""How an instance looks in Deltacloud XML and JSON (server/views/instances/show.xml.haml, Instance#to_hash).

Action links are those the instance's canonical state allows (gateway.lifecycle, through .states) and
the driver implements. Addresses carry their type (ipv4, ipv6, mac, hostname); as the rhevm driver did,
`public_addresses` lists every address the engine reports, and `private_addresses` those among them that
are private. JSON adds what the PyPI client 0.9.1 reads: `owner` besides `owner_id`, a top-level
`keyname` besides `authentication`, `username`/`password`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import g
from lxml import etree

from gateway.engine_states import instance_offers
from gateway.model import Instance

from . import context
from .description import ActionLink, Actions, Addresses, Entity, JsonOnly, Ref, RefList, Value
from .hardware_profiles import FLEXIBLE, MIB, UNITS
from .states import ACTION_METHODS, actions_for, state_name

ADDRESS_KINDS = ("ipv4", "ipv6", "hostname", "mac")


@dataclass
class InstanceProfile:
    """`<hardware_profile id href><property kind="fixed" name="memory" value unit/>...`; JSON `{id, href,
    rel, properties: {memory, cpu}}`: the profile the instance was sized by, with its actual sizes."""

    id: str
    href: str
    sizes: dict[str, Any]

    def to_xml(self, parent: etree._Element) -> None:
        element = etree.SubElement(parent, "hardware_profile", {"id": self.id, "href": self.href})
        for name, value in self.sizes.items():
            etree.SubElement(element, "property", {"kind": "fixed", "name": name, "value": str(value),
                                                   "unit": UNITS[name]})

    def to_json(self, out: dict[str, Any]) -> None:
        out["hardware_profile"] = {"id": self.id, "href": self.href, "rel": "hardware_profile",
                                   "properties": {k: str(v) for k, v in self.sizes.items()}}


@dataclass
class Authentication:
    """`<authentication type="key"><login><keyname>k</keyname></login></authentication>`."""

    keyname: str | None

    def to_xml(self, parent: etree._Element) -> None:
        element = etree.SubElement(parent, "authentication", {"type": "key"})
        if self.keyname:
            login = etree.SubElement(element, "login")
            etree.SubElement(login, "keyname").text = self.keyname

    def to_json(self, out: dict[str, Any]) -> None:
        out["authentication_type"] = "key"
        if self.keyname:
            out["authentication"] = {"keyname": self.keyname}
        out["keyname"] = self.keyname
        out["username"] = None
        out["password"] = None


def addresses_of(instance: Instance) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(every address, the private ones), ordered by type; NIC MACs added when the driver listed none."""
    every = [(a.kind, a.value) for kind in ADDRESS_KINDS for a in instance.addresses if a.kind == kind]
    private = [(a.kind, a.value) for kind in ADDRESS_KINDS for a in instance.addresses
               if a.kind == kind and a.private and kind != "mac"]
    if not instance.addresses_of("mac"):
        every += [("mac", nic.mac) for nic in instance.interfaces if nic.mac]
    return every, private


def action_links(instance: Instance) -> list[ActionLink]:
    driver = context.driver()
    links = []
    for action in actions_for(instance):
        if not driver.can(f"{action}_instance"):
            continue
        href = context.api_url("instances", instance.id) + ("" if action == "destroy" else f"/{action}")
        links.append(ActionLink(action, href, ACTION_METHODS[action]))
    if "capture" in instance_offers(instance) and driver.can("create_image"):
        links.append(ActionLink("create_image", f"{context.api_url('images')};instance_id={instance.id}", "post"))
    return links


def known_profile_ids() -> set[str]:
    """Ids the hardware_profiles collection serves (one engine request, cached for the request)."""
    if "dc_profile_ids" not in g:
        driver = context.driver()
        g.dc_profile_ids = ({p.id for p in driver.hardware_profiles(context.scope())}
                            if driver.can("hardware_profiles") else set())
    return g.dc_profile_ids


def describe(instance: Instance) -> Entity:
    """The instance; a sizing no listed profile names is shown as the flexible profile with its sizes."""
    every, private = addresses_of(instance)
    profile_id = instance.hardware_profile_id
    if profile_id is None or profile_id not in known_profile_ids():
        profile_id = FLEXIBLE
    volumes = [Ref("storage_volume", a.volume_id, context.api_url("storage_volumes", a.volume_id),
                   {"device": a.device} if a.device else {})
               for a in instance.attachments]
    return Entity("instance", instance.id, context.api_url("instances", instance.id), [
        Value("name", instance.name),
        Value("owner_id", instance.owner or "", aliases=("owner",)),
        context.ref("image", "images", instance.image_id),
        context.ref("realm", "realms", instance.realm_id),
        Value("state", state_name(instance.state)),
        InstanceProfile(profile_id, context.api_url("hardware_profiles", profile_id),
                        {"memory": instance.memory_bytes // MIB, "cpu": instance.cpus,
                         "architecture": instance.architecture}),
        Actions(action_links(instance)),
        Value("launch_time", instance.launch_time or instance.created, aliases=("create_time",)),
        Addresses("public_addresses", every),
        Addresses("private_addresses", private),
        RefList("storage_volumes", volumes),
        Authentication(instance.key_name),
        JsonOnly("description", instance.description or None),
    ])
