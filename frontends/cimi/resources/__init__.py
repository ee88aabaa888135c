"""The CIMI resources, one module each; `install` adds their routes and registers their collections."""
from __future__ import annotations

from flask import Blueprint

from . import (configs, credentials, entry_point, images, jobs, machine_parts, machines, meters, networks,
               templates, volume_images, volumes)

MODULES = (entry_point, machines, machine_parts, images, configs, templates, volumes, volume_images, networks,
           credentials, jobs, meters)


def install(bp: Blueprint) -> None:
    for module in MODULES:
        module.install(bp)
