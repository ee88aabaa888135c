"""The CIMI resources, one module each; `install` adds their routes and registers their collections."""
from __future__ import annotations

from flask import Blueprint

from . import (configs, credentials, entry_point, forwarding_groups, images, jobs, machine_interfaces, machine_parts,
               machines, meters, network_ports, network_templates, networks, templates, volume_images, volumes)

MODULES = (entry_point, machines, machine_parts, machine_interfaces, images, configs, templates, volumes, volume_images,
           networks, network_templates, network_ports, forwarding_groups, credentials, jobs, meters)


def install(bp: Blueprint) -> None:
    for module in MODULES:
        module.install(bp)
