"""The CloudEntryPoint (at `/cimi/cloudEntryPoint` and `/cimi/`) and ResourceMetadata.

The entry point links exactly the collections that work for the scoped provider, using the spec's
attribute names (`machineConfigs`, `volumeConfigs`); `$expand` inlines them. ResourceMetadata tells
clients what Machines can do here: the initial states creation accepts and the actions the driver has.
"""
from __future__ import annotations

import time
from typing import Any

from flask import Blueprint, Response, current_app

from gateway.errors import NotFound

from .. import network_views
from ..context import Context, current
from ..listing import COLLECTIONS, expander, register_collection, resource_response
from ..schema import LINK, NAMESPACE, iso_time, resource_type
from ..states import CIMI_ACTIONS, action_uri

CREATED_KEY = "CIMI_CREATED"


def entry_point_entry(ctx: Context) -> dict[str, Any]:
    provider = ctx.scope.provider
    where = f"{provider.name}, data center {ctx.scope.datacenter}" if ctx.scope.datacenter else provider.name
    entry: dict[str, Any] = {
        "id": ctx.base + "cloudEntryPoint", "name": f"cloudgw {provider.name}",
        "description": f"CIMI entry point of cloudgw for {where}",
        "created": iso_time(current_app.config.setdefault(CREATED_KEY, time.time())), "baseURI": ctx.base,
    }
    for spec in resource_type("CloudEntryPoint").fields:
        collection = COLLECTIONS.get(spec.name)
        if spec.kind == LINK and collection is not None and collection.available(ctx):
            entry[spec.name] = {"href": ctx.href(spec.name)}
    return entry


def get_entry_point() -> Response:
    ctx = current()
    return resource_response(ctx, "CloudEntryPoint", entry_point_entry(ctx))


def _collection_expander(name: str) -> Any:
    def expand_collection(ctx: Context, entry: dict[str, Any]) -> list[dict[str, Any]]:
        return COLLECTIONS[name].entries(ctx)
    return expand_collection


# --- ResourceMetadata -------------------------------------------------------------------------------------------
def _extension(type_name: str, name: str, kind: str) -> dict[str, Any]:
    return {"name": name, "namespace": f"http://cloudgw.org/cimi/{type_name}/{name}", "type": kind,
            "required": False}


def metadata_entries(ctx: Context) -> list[dict[str, Any]]:
    base = ctx.href("resourceMetadata")
    machine: dict[str, Any] = {
        "id": f"{base}/machine", "name": "Machine", "typeUri": f"{NAMESPACE}/Machine",
        "attributes": [_extension("Machine", "realm", "string")],
        "capabilities": [
            {"name": "DefaultInitialState", "uri": f"{NAMESPACE}/capability/Machine/DefaultInitialState",
             "description": "The state a machine reaches when created without initialState", "value": "STARTED"},
            {"name": "InitialStates", "uri": f"{NAMESPACE}/capability/Machine/InitialStates",
             "description": "The initial states a machine may be created in", "value": "STARTED,STOPPED"},
        ],
        "actions": [
            {"name": name, "uri": action_uri(name), "description": f"{name.capitalize()} the machine",
             "method": "POST", "inputMessage": "application/xml", "outputMessage": "application/xml"}
            for name, (_, capability) in CIMI_ACTIONS.items() if ctx.driver.can(capability)],
    }
    template = {"id": f"{base}/machine_template", "name": "MachineTemplate", "typeUri": f"{NAMESPACE}/MachineTemplate",
                "attributes": [_extension("MachineTemplate", "realm", "string")]}
    credential = {"id": f"{base}/credential", "name": "Credential", "typeUri": f"{NAMESPACE}/Credential",
                  "attributes": [_extension("Credential", "key", "string"),
                                 _extension("Credential", "fingerprint", "string")]}
    entries = [machine, template, credential]
    if network_views.has_network_provider(ctx):
        for type_name, names in (("Network", ("cidr", "realm")), ("NetworkConfiguration", ("cidr",)),
                                 ("NetworkTemplate", ("realm",)), ("ForwardingGroup", ("cidr",)),
                                 ("ForwardingGroupTemplate", ("cidr",))):
            entries.append({"id": f"{base}/{_snake(type_name)}", "name": type_name,
                            "typeUri": f"{NAMESPACE}/{type_name}",
                            "attributes": [_extension(type_name, name, "string") for name in names]})
    return entries


def _snake(type_name: str) -> str:
    return "".join("_" + c.lower() if c.isupper() else c for c in type_name).lstrip("_")


def get_metadata(name: str) -> Response:
    ctx = current()
    for entry in metadata_entries(ctx):
        if entry["id"].endswith("/" + name):
            return resource_response(ctx, "ResourceMetadata", entry)
    raise NotFound("resource metadata", name)


def install(bp: Blueprint) -> None:
    register_collection("resourceMetadata", "ResourceMetadata", metadata_entries)
    for spec in resource_type("CloudEntryPoint").fields:
        if spec.kind == LINK:
            expander("CloudEntryPoint", spec.name)(_collection_expander(spec.name))
    bp.add_url_rule("/", "entry_point", get_entry_point, methods=["GET"])
    bp.add_url_rule("/cloudEntryPoint", "cloud_entry_point", get_entry_point, methods=["GET"])
    bp.add_url_rule("/resource_metadata/<name>", "get_metadata", get_metadata, methods=["GET"])
