"""Credentials: SSH public keys kept by the gateway, the same ones EC2 key pairs and Deltacloud keys see.

A Credential created with a `key` imports it; one created without generates a pair and returns the
private key once (`privateKey`, in the creation answer only), as EC2 CreateKeyPair does.
"""
from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint, Response

from gateway.app import current_gateway
from gateway.errors import NotFound
from gateway.model import KeyPair

from ..context import Context, current
from ..listing import created_response, register_collection, resource_response
from ..protocol import respond
from ..reading import nested, text
from ..schema import common_attributes


def credential_entry(ctx: Context, pair: KeyPair) -> dict[str, Any]:
    href = ctx.href("credentials", pair.name)
    entry = common_attributes(href, pair.name, created=pair.created)
    entry.update({"key": pair.public_key, "fingerprint": pair.fingerprint})
    if pair.private_key:
        entry["privateKey"] = pair.private_key
    entry["operations"] = [{"rel": "delete", "href": href}]
    return entry


def list_credentials(ctx: Context) -> list[dict[str, Any]]:
    ctx.verify_credentials()
    return [credential_entry(ctx, p) for p in current_gateway().key_pairs.list(ctx.owner)]


def create_credential() -> Response:
    ctx = current()
    ctx.verify_credentials()
    _, body = ctx.body("Credential", "CredentialCreate")
    source = nested(body, "credentialTemplate") or body
    name = text(body, "name") or f"credential-{uuid.uuid4().hex[:8]}"
    key = text(source, "key") or text(source, "publicKey")
    key_pairs = current_gateway().key_pairs
    pair = key_pairs.import_key(ctx.owner, name, key) if key else key_pairs.create(ctx.owner, name)
    return created_response(ctx, "Credential", credential_entry(ctx, pair))


def get_credential(name: str) -> Response:
    ctx = current()
    ctx.verify_credentials()
    return resource_response(ctx, "Credential", credential_entry(ctx, current_gateway().key_pairs.get(ctx.owner, name)))


def delete_credential(name: str) -> Response:
    ctx = current()
    ctx.verify_credentials()
    if not current_gateway().key_pairs.delete(ctx.owner, name):
        raise NotFound("credential", name)
    return respond(None, ctx.fmt, 200)


def install(bp: Blueprint) -> None:
    register_collection("credentials", "Credential", list_credentials, can_add=lambda ctx: True)
    bp.add_url_rule("/credentials", "create_credential", create_credential, methods=["POST"])
    bp.add_url_rule("/credentials/<name>", "get_credential", get_credential, methods=["GET"])
    bp.add_url_rule("/credentials/<name>", "delete_credential", delete_credential, methods=["DELETE"])
