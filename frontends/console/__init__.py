"""The web console at /console: server-rendered pages over the same Gateway and Driver calls as the APIs.

What Deltacloud 1.1.3's HTML interface did, for people who would rather look than type: sign in with the
engine's credentials, browse and act on instances, images, volumes, snapshots and key pairs; an
administrator also sees durable operations, EC2 access keys and the configured engines' checks.
"""
from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    from . import admin, auth, images, instances, keys, metrics, storage  # noqa: F401  (each adds its routes to bp)
    from .blueprint import bp
    from .session import install_sessions

    install_sessions(app)
    app.register_blueprint(bp)
