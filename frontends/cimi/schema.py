"""One description of each CIMI resource type, read by both serialisers and by the input reader.

A resource is handled as a plain dict in its JSON shape (`{"name": ..., "machineConfig": {"href": ...},
"operations": [...]}`); the description says, per attribute, what the XML form needs that JSON does not:
element order (DSP0263 1.0.1 / Sirocco's propOrder), which arrays repeat a singular element, which nested
objects have which type, which keys become XML attributes, and which attributes are collection links
that `$expand` may inline.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

NAMESPACE = "http://schemas.dmtf.org/cimi/1"
ACTION_PREFIX = NAMESPACE + "/action/"

TEXT, INT, BOOL = "text", "int", "bool"
OBJECT, OBJECTS, LINK, PROPERTIES, OPERATIONS = "object", "objects", "link", "properties", "operations"


@dataclass(frozen=True)
class Field:
    """One attribute: its JSON name, kind, XML element name (singular for arrays) and nested type."""

    name: str
    kind: str = TEXT
    xml_name: str = ""
    type: str = ""  # nested type for OBJECT/OBJECTS, entry type for LINK

    @property
    def element(self) -> str:
        return self.xml_name or self.name


@dataclass(frozen=True)
class ResourceType:
    name: str
    fields: tuple[Field, ...]
    xml_attributes: tuple[str, ...] = ("href",)
    by_name: dict[str, Field] = field(default_factory=dict, compare=False, hash=False)
    by_element: dict[str, Field] = field(default_factory=dict, compare=False, hash=False)

    def __post_init__(self) -> None:
        for f in self.fields:
            self.by_name[f.name] = f
            self.by_element[f.element.lower()] = f

    @property
    def uri(self) -> str:
        return resource_uri(self.name)


def resource_uri(type_name: str) -> str:
    return f"{NAMESPACE}/{type_name}"


def _common(*fields: Field) -> tuple[Field, ...]:
    """The common attributes first, the type's own next, operations last (the spec's element order)."""
    return (Field("id"), Field("name"), Field("description"), Field("created"), Field("updated"),
            Field("properties", PROPERTIES, "property"), *fields, Field("operations", OPERATIONS, "operation"))


def iso_time(moment: float | datetime) -> str:
    """A CIMI dateTime from a timestamp or datetime: UTC with milliseconds and 'Z'."""
    if not isinstance(moment, datetime):
        moment = datetime.fromtimestamp(moment, timezone.utc)
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def common_attributes(href: str, name: str, *, description: str | None = None, created: float | datetime | None = None,
                      updated: float | datetime | None = None, properties: dict[str, str] | None = None
                      ) -> dict[str, Any]:
    """The start of a resource dict: id and name, then the other common attributes that have a value, in
    `_common`'s order (JSON keeps its keys in the order XML must have them)."""
    entry: dict[str, Any] = {"id": href, "name": name}
    if description:
        entry["description"] = description
    if created:
        entry["created"] = iso_time(created)
    if updated:
        entry["updated"] = iso_time(updated)
    if properties:
        entry["properties"] = properties
    return entry


def _link(name: str, entry_type: str) -> Field:
    return Field(name, LINK, type=entry_type)


_TYPES = (
    ResourceType("Operation", (Field("rel"), Field("href")), xml_attributes=("rel", "href")),
    ResourceType("CloudEntryPoint", _common(
        Field("baseURI"), _link("resourceMetadata", "ResourceMetadata"), _link("machines", "Machine"),
        _link("machineTemplates", "MachineTemplate"), _link("machineConfigs", "MachineConfiguration"),
        _link("machineImages", "MachineImage"), _link("credentials", "Credential"), _link("volumes", "Volume"),
        _link("volumeTemplates", "VolumeTemplate"), _link("volumeConfigs", "VolumeConfiguration"),
        _link("volumeImages", "VolumeImage"), _link("networks", "Network"), _link("networkTemplates", "NetworkTemplate"),
        _link("networkConfigs", "NetworkConfiguration"), _link("networkPorts", "NetworkPort"),
        _link("forwardingGroups", "ForwardingGroup"), _link("jobs", "Job"),
        _link("meters", "Meter"), _link("meterConfigs", "MeterConfiguration"))),
    ResourceType("Machine", _common(
        Field("state"), Field("cpu", INT), Field("memory", INT), _link("disks", "Disk"), Field("cpuArch"),
        _link("volumes", "MachineVolume"), _link("networkInterfaces", "MachineNetworkInterface"),
        _link("meters", "Meter"), Field("realm"), Field("machineImage", OBJECT, type="MachineImage"),
        Field("machineConfig", OBJECT, type="MachineConfiguration"))),
    ResourceType("Disk", _common(Field("capacity", INT), Field("initialLocation"))),
    ResourceType("MachineVolume", _common(Field("initialLocation"), Field("volume", OBJECT, type="Volume"))),
    ResourceType("MachineNetworkInterface", _common(
        Field("addresses", OBJECTS, "address", type="Address"), Field("network", OBJECT, type="Network"),
        Field("networkPort", OBJECT, type="NetworkPort"), Field("state"), Field("macAddress"), Field("mtu", INT))),
    ResourceType("Address", (Field("ip"), Field("hostname"), Field("allocation"), Field("protocol"))),
    ResourceType("MachineConfiguration", _common(
        Field("cpu", INT), Field("memory", INT), Field("disks", OBJECTS, "disk", type="DiskTemplate"),
        Field("cpuArch"))),
    ResourceType("DiskTemplate", (Field("capacity", INT), Field("format"), Field("initialLocation"))),
    ResourceType("MachineImage", _common(
        Field("state"), Field("type"), Field("imageLocation"), Field("relatedImage", OBJECT, type="MachineImage"))),
    ResourceType("MachineTemplate", _common(
        Field("initialState"), Field("machineConfig", OBJECT, type="MachineConfiguration"),
        Field("machineImage", OBJECT, type="MachineImage"), Field("credential", OBJECT, type="Credential"),
        Field("volumes", OBJECTS, "volume", type="MachineTemplateVolume"),
        Field("volumeTemplates", OBJECTS, "volumeTemplate", type="MachineTemplateVolumeTemplate"),
        Field("networkInterfaces", OBJECTS, "networkInterface", type="MachineTemplateNetworkInterface"),
        Field("userData"), Field("realm"))),
    ResourceType("MachineTemplateVolume", (Field("initialLocation"),)),
    ResourceType("MachineTemplateVolumeTemplate", (Field("initialLocation"),)),
    ResourceType("MachineTemplateNetworkInterface", (
        Field("addresses", OBJECTS, "address", type="Address"), Field("network", OBJECT, type="Network"))),
    ResourceType("MachineCreate", (
        Field("name"), Field("description"), Field("properties", PROPERTIES, "property"),
        Field("machineTemplate", OBJECT, type="MachineTemplate"))),
    ResourceType("Credential", _common(Field("key"), Field("fingerprint"), Field("privateKey"))),
    ResourceType("CredentialCreate", (
        Field("name"), Field("description"), Field("properties", PROPERTIES, "property"),
        Field("credentialTemplate", OBJECT, type="Credential"))),
    ResourceType("Volume", _common(
        Field("state"), Field("type"), Field("capacity", INT), Field("bootable", BOOL))),
    ResourceType("VolumeImage", _common(
        Field("state"), Field("imageLocation", OBJECT, type="Volume"), Field("bootable", BOOL))),
    ResourceType("VolumeConfiguration", _common(Field("type"), Field("format"), Field("capacity", INT))),
    ResourceType("VolumeTemplate", _common(
        Field("volumeConfig", OBJECT, type="VolumeConfiguration"), Field("volumeImage", OBJECT, type="Volume"))),
    ResourceType("VolumeCreate", (
        Field("name"), Field("description"), Field("properties", PROPERTIES, "property"),
        Field("volumeTemplate", OBJECT, type="VolumeTemplate"))),
    ResourceType("Network", _common(
        Field("state"), Field("networkType"), Field("mtu", INT), Field("classOfService"),
        Field("forwardingGroup", OBJECT, type="ForwardingGroup"), Field("cidr"), Field("realm"))),
    # `cidr` (NetworkConfiguration, Network, ForwardingGroup) and `realm` are extension attributes
    # (ResourceMetadata says so): DSP0263 has no place for an address block or a zone.
    ResourceType("NetworkConfiguration", _common(
        Field("networkType"), Field("mtu", INT), Field("classOfService"), Field("cidr"))),
    ResourceType("NetworkTemplate", _common(
        Field("networkConfig", OBJECT, type="NetworkConfiguration"),
        Field("forwardingGroup", OBJECT, type="ForwardingGroup"), Field("realm"))),
    ResourceType("NetworkCreate", (
        Field("name"), Field("description"), Field("properties", PROPERTIES, "property"),
        Field("networkTemplate", OBJECT, type="NetworkTemplate"))),
    ResourceType("NetworkPort", _common(
        Field("state"), Field("network", OBJECT, type="Network"), Field("portType"), Field("classOfService"))),
    ResourceType("ForwardingGroup", _common(Field("networks", OBJECTS, "network", type="Network"), Field("cidr"))),
    ResourceType("ForwardingGroupTemplate", _common(
        Field("networks", OBJECTS, "network", type="Network"), Field("cidr"))),
    ResourceType("ForwardingGroupCreate", (
        Field("name"), Field("description"), Field("properties", PROPERTIES, "property"),
        Field("forwardingGroupTemplate", OBJECT, type="ForwardingGroupTemplate"))),
    ResourceType("Job", _common(
        Field("state"), Field("targetResource", OBJECT), Field("affectedResources", OBJECTS, "affectedResource"),
        Field("action"), Field("returnCode", INT), Field("progress", INT), Field("statusMessage"),
        Field("timeOfStatusChange"), Field("parentJob", OBJECT), Field("nestedJobs", OBJECTS, "nestedJob"))),
    # Monitoring (ISO/IEC 19831:2015 5.17.3, table 49): Meter's attributes in the spec's serialisation order.
    ResourceType("Meter", _common(
        Field("targetResource", OBJECT), Field("aspect"), Field("units"), Field("sampleInterval", INT),
        Field("timeScope"), Field("intervalDuration"), Field("isContinuous", BOOL), _link("samples", "Sample"),
        Field("minValue"), Field("maxValue"))),
    ResourceType("Sample", (Field("timestamp"), Field("value"))),
    ResourceType("MeterConfiguration", _common(
        Field("aspect"), Field("units"), Field("sampleInterval", INT), Field("timeScope"), Field("intervalDuration"),
        Field("isContinuous", BOOL), Field("minValue"), Field("maxValue"))),
    ResourceType("Action", (Field("action"), Field("force", BOOL), Field("properties", PROPERTIES, "property"))),
    ResourceType("ResourceMetadata", _common(
        Field("typeUri"), Field("attributes", OBJECTS, "attribute", type="MetadataAttribute"),
        Field("capabilities", OBJECTS, "capability", type="MetadataCapability"),
        Field("actions", OBJECTS, "action", type="MetadataAction"))),
    ResourceType("MetadataAttribute", (
        Field("name"), Field("namespace"), Field("type"), Field("required", BOOL)),
        xml_attributes=("name", "namespace", "type", "required")),
    ResourceType("MetadataCapability", (Field("name"), Field("uri"), Field("description"), Field("value")),
                 xml_attributes=("name", "uri", "description")),
    ResourceType("MetadataAction", (
        Field("name"), Field("uri"), Field("description"), Field("method"), Field("inputMessage"),
        Field("outputMessage")), xml_attributes=("name", "uri", "description", "method", "inputMessage",
                                                 "outputMessage")),
)

TYPES: dict[str, ResourceType] = {t.name: t for t in _TYPES}
GENERIC = ResourceType("Generic", ())

# JSON key of a collection's entries: the lower-camel plural of the entry type (not the CEP's abbreviation).
_PLURALS = {"ResourceMetadata": "resourceMetadata", "Address": "addresses"}


def entries_key(entry_type: str) -> str:
    return _PLURALS.get(entry_type) or entry_type[0].lower() + entry_type[1:] + "s"


def resource_type(name: str) -> ResourceType:
    return TYPES.get(name, GENERIC)
