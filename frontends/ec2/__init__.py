"""The EC2 Query API frontend: boto3, aws-cli, Terraform, Ansible and libcloud manage oVirt VMs as EC2 instances."""
from __future__ import annotations

import flask


def register(app: flask.Flask) -> None:
    """Mount the EC2 endpoint at `/ec2/` and `/` (called by the app factory)."""
    from .endpoint import blueprint
    from .present import INSTANCE_RECORD
    from .storage import MODIFICATION_RECORD, VOLUME_RECORD

    app.register_blueprint(blueprint())
    # An instance's EC2 record (launch index, client token, ...) is shown with its tombstone, then goes with it.
    app.extensions["cloudgw"].store.follow_tombstones("instance", INSTANCE_RECORD)
    app.extensions["cloudgw"].store.keep_records("instance", INSTANCE_RECORD)  # and goes when the VM vanishes
    for kind in (VOLUME_RECORD, MODIFICATION_RECORD):  # a volume's records go when the engine no longer has it
        app.extensions["cloudgw"].store.keep_records("volume", kind)
