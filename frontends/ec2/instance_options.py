"""The nested structures AWS always sends with an instance and its network interfaces, valued for an oVirt VM.

Strict clients read them unchecked: Terraform's provider (Go SDK v2) dereferences a network interface's
`Attachment.DeviceIndex` and crashes without it, and the SDKs for Java and .NET do the same with the
other always-present members. AWS's own answers carry each of these on every instance, so they are
here on every instance too, with the values that are true of a VM on oVirt: no instance metadata
service (cloud-init reads a config drive), no enclaves, no hibernation, no capacity reservations, the
engine's high-availability setting is not EC2's auto-recovery, DNS names as the guest reports them.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from . import ids

METADATA_OPTIONS = {"State": "applied", "HttpTokens": "optional", "HttpPutResponseHopLimit": 1,
                    "HttpEndpoint": "disabled", "HttpProtocolIpv6": "disabled", "InstanceMetadataTags": "disabled"}
PRIVATE_DNS_NAME_OPTIONS = {"HostnameType": "ip-name", "EnableResourceNameDnsARecord": False,
                            "EnableResourceNameDnsAAAARecord": False}


def instance_members(*, cpus: int, launched: datetime, platform: str = "Linux/UNIX") -> dict[str, Any]:
    """The instance-level structures (fresh dicts: callers may add to them)."""
    return {
        "ProductCodes": [],
        "EnaSupport": False,
        "CpuOptions": {"CoreCount": max(1, cpus), "ThreadsPerCore": 1},
        "CapacityReservationSpecification": {"CapacityReservationPreference": "none"},
        "HibernationOptions": {"Configured": False},
        "MetadataOptions": dict(METADATA_OPTIONS),
        "EnclaveOptions": {"Enabled": False},
        "MaintenanceOptions": {"AutoRecovery": "disabled", "RebootMigration": "disabled"},
        "PrivateDnsNameOptions": dict(PRIVATE_DNS_NAME_OPTIONS),
        "PlatformDetails": platform,
        "UsageOperation": "RunInstances",
        "UsageOperationUpdateTime": launched,
        "BootMode": "legacy-bios",
        "CurrentInstanceBootMode": "legacy-bios",
        "NetworkPerformanceOptions": {"BandwidthWeighting": "default"},
        "Operator": {"Managed": False},
    }


def interface_attachment(nic_id: str, index: int, *, plugged: bool, attached: datetime) -> dict[str, Any]:
    """A network interface's `Attachment`: NICs come and go with their VM (DeleteOnTermination), and the
    device index is the NIC's position among the VM's NICs, 0 being the primary one."""
    return {"AttachmentId": ids.encode("eni-attach", nic_id), "DeviceIndex": index, "NetworkCardIndex": 0,
            "Status": "attached" if plugged else "detached", "AttachTime": attached, "DeleteOnTermination": True}
