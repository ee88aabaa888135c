"""For an administrator: durable operations (retry, cancel), EC2 access keys, and the engines' checks.

The same gateway calls as `cloudgw operations`, `cloudgw credentials` and `cloudgw doctor`, limited to the
signed-in administrator's provider where the store says whose a thing is.
"""
from __future__ import annotations

import time
from typing import Any

from flask import flash, g, redirect, render_template, request, url_for

from gateway import doctor
from gateway.app import current_gateway
from gateway.errors import AlreadyExists, AuthFailure, InvalidParameter, NotFound
from gateway.operations import STATES, Operation
from gateway.scope import Credentials, ProviderChoice

from .blueprint import bp
from .forms import field, spend_once
from .operators import operator_only


def _own_operation(operation_id: str) -> Operation:
    """An operation of the signed-in administrator's provider; NotFound for any other."""
    operation = current_gateway().operations.get(operation_id)
    if operation is None or not operation.owner.startswith(g.user.provider + "|"):
        raise NotFound("operation", operation_id)
    return operation


@bp.get("/admin/operations")
@operator_only
def admin_operations() -> Any:
    state = request.args.get("state") or None
    if state is not None and state not in STATES:
        raise InvalidParameter(f"Unknown operation state '{state[:50]}' (known: {', '.join(STATES)})")
    runner = current_gateway().operations
    found = runner.find(state=state, limit=500, owner_prefix=g.user.provider + "|")
    return render_template("operations.html", operations=found[::-1], states=STATES, state=state,
                           kinds=runner.kinds, now=time.time())


@bp.post("/admin/operations/<operation_id>/<act>")
@operator_only
def admin_operation_act(operation_id: str, act: str) -> Any:
    if act not in ("retry", "cancel"):
        raise NotFound("action", act[:50])
    _own_operation(operation_id)
    runner = current_gateway().operations
    operation = runner.retry(operation_id) if act == "retry" else runner.cancel(operation_id)
    flash(f"Operation {operation.id} is {operation.state} at step {operation.step}.")
    return redirect(url_for("console.admin_operations"))


def _provider_keys() -> list[Any]:
    gateway = current_gateway()
    default = gateway.config.default_provider
    return [c for c in gateway.store.credentials()
            if (c.provider or default) == g.user.provider]


@bp.get("/admin/access-keys")
@operator_only
def admin_access_keys() -> Any:
    return render_template("access_keys.html", keys=_provider_keys(), created=None)


@bp.post("/admin/access-keys")
@operator_only
def admin_access_key_create() -> Any:
    gateway = current_gateway()
    username = field("username", required=True, label="engine user") or ""
    password = field("password", required=True, limit=1024) or ""
    scope = g.user.scope()
    checked = gateway.scope(ProviderChoice(scope.provider, scope.datacenter, False), Credentials(username, password))
    try:  # a key acting as nobody is no use
        gateway.driver_for(scope.provider).validate_credentials(checked)
    except AuthFailure:  # that user's, not the session's: the operator stays signed in
        raise InvalidParameter("The engine refused that user's password.", parameter="password") from None
    if not spend_once():
        flash("That form was sent before (a reload?): no second access key was created.")
        return redirect(url_for("console.admin_access_keys"), 303)
    try:
        created = gateway.store.create_credential(username, password, provider=g.user.provider,
                                                  description=field("description", limit=200) or "")
    except AlreadyExists as exc:
        raise InvalidParameter(exc.message) from None
    # Answered here, not after a redirect: the secret is shown this once.
    return render_template("access_keys.html", keys=_provider_keys(), created=created), 201


@bp.post("/admin/access-keys/<access_key>/delete")
@operator_only
def admin_access_key_delete(access_key: str) -> Any:
    if access_key not in {c.access_key for c in _provider_keys()}:
        raise NotFound("access key", access_key)
    current_gateway().store.delete_credential(access_key)
    flash(f"Deleted access key {access_key}.")
    return redirect(url_for("console.admin_access_keys"))


@bp.get("/admin/engines")
@operator_only
def admin_engines() -> Any:
    """`cloudgw doctor`'s checks of the signed-in provider's engine only, as the operator and as the identities
    behind that provider's EC2 keys: no password goes to another provider's engine, and no other provider's
    URL or users are shown."""
    config = current_gateway().config
    store_findings, identities = doctor.check_store(config, provider=g.user.provider)
    own = config.with_changes(providers=(g.user.provider_config(),), default_provider=g.user.provider)
    user = Credentials(g.user.username, g.user.password)
    engines = list(doctor.check_engines(own, user, {g.user.provider: identities.get(g.user.provider, [])}))
    return render_template("engines.html", engines=engines, store_findings=store_findings)
