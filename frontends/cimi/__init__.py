"""DMTF CIMI (DSP0263 1.0.1) frontend: XML and JSON over the common Driver, mounted at /cimi."""
from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    """Mount the CIMI blueprint (the app factory calls this when the frontend is enabled)."""
    from .blueprint import make_blueprint
    from .jobs import purge_expired

    app.register_blueprint(make_blueprint())
    gateway = app.extensions["cloudgw"]
    retention = gateway.config.cimi_job_retention_seconds
    gateway.housekeeping.add("cimi.jobs", lambda: purge_expired(gateway.store, retention))
