"""DMTF CIMI (DSP0263 1.0.1) frontend: XML and JSON over the common Driver, mounted at /cimi."""
from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    """Mount the CIMI blueprint (the app factory calls this when the frontend is enabled)."""
    from .blueprint import make_blueprint

    app.register_blueprint(make_blueprint())
