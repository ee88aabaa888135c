"""DescribeInstanceTypes: oVirt instance types (and templates' own sizings) as `o1.*` types."""
from __future__ import annotations

from typing import Any

from gateway.model import HardwareProfile

from .. import inventory
from ..call import Call
from ..errors import Ec2Error
from ..filters import apply_filters, page_size, paginate
from . import action

MIB = 1024 * 1024
TYPE_FILTERS = {
    "instance-type": lambda t: [t["InstanceType"]],
    "vcpu-info.default-vcpus": lambda t: [t["VCpuInfo"]["DefaultVCpus"]],
    "vcpu-info.default-cores": lambda t: [t["VCpuInfo"]["DefaultCores"]],
    "memory-info.size-in-mib": lambda t: [t["MemoryInfo"]["SizeInMiB"]],
    "current-generation": lambda t: [t["CurrentGeneration"]],
    "processor-info.supported-architecture": lambda t: t["ProcessorInfo"]["SupportedArchitectures"],
    "supported-root-device-type": lambda t: t["SupportedRootDeviceTypes"],
    "supported-virtualization-type": lambda t: t["SupportedVirtualizationTypes"],
    "supported-usage-class": lambda t: t["SupportedUsageClasses"],
    "hypervisor": lambda t: [t["Hypervisor"]],
    "burstable-performance-supported": lambda t: [t["BurstablePerformanceSupported"]],
    "free-tier-eligible": lambda t: [t["FreeTierEligible"]],
    "bare-metal": lambda t: [t["BareMetal"]],
}


def type_info(name: str, profile: HardwareProfile) -> dict[str, Any]:
    return {
        "InstanceType": name,
        "CurrentGeneration": True,
        "FreeTierEligible": False,
        "SupportedUsageClasses": ["on-demand"],
        "SupportedRootDeviceTypes": ["ebs"],
        "SupportedVirtualizationTypes": ["hvm"],
        "BareMetal": False,
        "Hypervisor": "xen",
        "ProcessorInfo": {"SupportedArchitectures": [profile.architecture or "x86_64"]},
        "VCpuInfo": {"DefaultVCpus": profile.cpus, "DefaultCores": profile.cpus, "DefaultThreadsPerCore": 1},
        "MemoryInfo": {"SizeInMiB": profile.memory_bytes // MIB},
        "InstanceStorageSupported": False,
        "EbsInfo": {"EbsOptimizedSupport": "unsupported", "EncryptionSupport": "unsupported",
                    "NvmeSupport": "unsupported"},
        "NetworkInfo": {"NetworkPerformance": "Up to 10 Gigabit", "MaximumNetworkInterfaces": 1,
                        "Ipv4AddressesPerInterface": 1, "Ipv6AddressesPerInterface": 0, "Ipv6Supported": False,
                        "EnaSupport": "unsupported", "EfaSupported": False},
        "PlacementGroupInfo": {"SupportedStrategies": []},
        "HibernationSupported": False,
        "BurstablePerformanceSupported": False,
        "DedicatedHostsSupported": False,
        "AutoRecoverySupported": False,
        "SupportedBootModes": ["legacy-bios"],
    }


@action("DescribeInstanceTypes")
def describe_instance_types(call: Call) -> dict[str, Any]:
    wanted = call.get("InstanceTypes", [])
    size = page_size(call.get("MaxResults"), with_ids=bool(wanted), ids_name="InstanceTypes")
    call.check_dry_run()
    types = inventory.instance_types(call, fresh=True)
    if wanted:
        unknown = [w for w in wanted if w not in types]
        if unknown:
            raise Ec2Error("InvalidInstanceType", f"The following supplied instance types do not exist: "
                           f"[{', '.join(u[:64] for u in unknown)}]")
        types = {name: types[name] for name in wanted}
    items = apply_filters((type_info(n, p) for n, p in types.items()), call.get("Filters"), TYPE_FILTERS)
    page, token = paginate(items, lambda t: t["InstanceType"], size, call.get("NextToken"))
    return {"InstanceTypes": page, "NextToken": token}
