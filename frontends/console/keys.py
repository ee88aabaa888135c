"""Key pairs: the gateway's per-identity SSH keys (gateway.keypairs); a created private key is shown once."""
from __future__ import annotations

from typing import Any

from flask import flash, g, redirect, render_template, url_for

from gateway.app import current_gateway
from gateway.errors import NotFound

from .blueprint import bp
from .forms import field, spend_once


def _owner() -> str:
    """The identity's store key, once the engine has accepted its credentials (the store cannot check them)."""
    scope = g.user.scope()
    current_gateway().driver_for(scope.provider).validate_credentials(scope)
    return scope.owner_key


@bp.get("/keys")
def keys_page() -> Any:
    return render_template("keys.html", keys=current_gateway().key_pairs.list(_owner()), created=None)


@bp.post("/keys")
def key_create() -> Any:
    owner = _owner()
    name = field("name", required=True, limit=255) or ""
    public_key = field("public_key", label="public key", limit=16384)
    key_pairs = current_gateway().key_pairs
    if public_key:
        key_pairs.import_key(owner, name, public_key)
        flash(f"Imported key pair {name}.")
        return redirect(url_for("console.keys_page"))
    if not spend_once():
        flash("That form was sent before (a reload?): no second key pair was created.")
        return redirect(url_for("console.keys_page"), 303)
    created = key_pairs.create(owner, name)
    # Answered here, not after a redirect: the private key exists only in this answer (never stored).
    return render_template("keys.html", keys=key_pairs.list(owner), created=created), 201


@bp.post("/keys/<name>/delete")
def key_delete(name: str) -> Any:
    if not current_gateway().key_pairs.delete(_owner(), name):
        raise NotFound("key pair", name)
    flash(f"Deleted key pair {name}.")
    return redirect(url_for("console.keys_page"))
