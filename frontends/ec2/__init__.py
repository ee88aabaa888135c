"""The EC2 Query API frontend: boto3, aws-cli, Terraform, Ansible and libcloud manage oVirt VMs as EC2 instances."""
from __future__ import annotations

import flask


def register(app: flask.Flask) -> None:
    """Mount the EC2 endpoint at `/ec2/` and `/` (called by the app factory)."""
    from .endpoint import blueprint

    app.register_blueprint(blueprint())
