"""Keys: SSH key pairs kept by the gateway per identity (gateway.keypairs), named by their id.

Create generates a pair and returns its private key once (`<pem>`, JSON `pem_rsa_key`), or imports
`public_key`; the private key is never stored, so later answers carry no pem. The PyPI client reads
`pem_rsa_key` from every key, so JSON always has the key (null when absent).
"""
from __future__ import annotations

from typing import Any

from flask import Response
from lxml import etree

from gateway.app import current_gateway
from gateway.errors import NotFound
from gateway.model import KeyPair

from . import context, respond
from .blueprint import bp
from .description import ActionLink, Actions, Entity, JsonOnly, Value


class Pem:
    """`<pem><![CDATA[...]]></pem>` only when the private key is known; JSON `pem_rsa_key` always."""

    def __init__(self, private_key: str | None) -> None:
        self.private_key = private_key

    def to_xml(self, parent: etree._Element) -> None:
        if self.private_key:
            etree.SubElement(parent, "pem").text = etree.CDATA(self.private_key.strip())

    def to_json(self, out: dict[str, Any]) -> None:
        out["pem_rsa_key"] = self.private_key


def describe(key: KeyPair) -> Entity:
    href = context.api_url("keys", key.name)
    return Entity("key", key.name, href, [
        Value("name", key.name),
        Actions([ActionLink("destroy", href, "delete")]),
        Value("fingerprint", key.fingerprint),
        Pem(key.private_key),
        Value("public_key", key.public_key),
        Value("state", "AVAILABLE"),
        JsonOnly("credential_type", "key"),
        JsonOnly("username", None),
        JsonOnly("password", None),
    ], attrs={"type": "key"})


def _owner() -> str:
    """The identity's store key, once the engine has accepted its credentials (the store cannot check them)."""
    scope = context.scope()
    context.driver().validate_credentials(scope)
    return scope.owner_key


@bp.route("/keys", methods=["GET"])
def keys_index() -> Response:
    wanted = context.param(context.params(), "id")
    keys = current_gateway().key_pairs.list(_owner())
    return respond.collection("keys", [describe(k) for k in keys if wanted in (None, k.name)])


@bp.route("/keys/<name>", methods=["GET"])
def key_show(name: str) -> Response:
    return respond.entity(describe(current_gateway().key_pairs.get(_owner(), name)))


@bp.route("/keys", methods=["POST"])
def key_create() -> Response:
    """`name` (required), optional `public_key` to import: 201 + Location; 409 when the name is taken."""
    values = context.params()
    name = context.required(values, "name")
    public_key = context.param(values, "public_key")
    key_pairs = current_gateway().key_pairs
    key = key_pairs.import_key(_owner(), name, public_key) if public_key else key_pairs.create(_owner(), name)
    return respond.created(describe(key))


@bp.route("/keys/<name>", methods=["DELETE"])
def key_destroy(name: str) -> Response:
    if not current_gateway().key_pairs.delete(_owner(), name):
        raise NotFound("key", name)
    return respond.no_content()
