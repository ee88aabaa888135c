"""Deltacloud REST API frontend (API 1.1.3), mounted at /api: XML and JSON over the common Driver.

`register(app)` wraps the app with the matrix-parameter middleware (which only touches /api paths) and
registers the blueprint with one module per collection.
"""
from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    from . import (entry, firewalls, hardware_profiles, images, instance_states, instances, keys,  # noqa: F401
                   metrics, networks, realms, storage_snapshots, storage_volumes, subnets)
    from .blueprint import bp
    from .matrix import MatrixParams

    app.wsgi_app = MatrixParams(app.wsgi_app)  # type: ignore[method-assign]
    app.register_blueprint(bp)
