"""Key pairs, kept by the gateway per identity and provider (gateway/keypairs.py)."""
from __future__ import annotations

from typing import Any

from gateway.errors import InvalidParameter, NotFound
from gateway.model import KeyPair

from ..call import Call
from ..errors import Ec2Error
from ..filters import apply_filters
from ..present import tag_list
from ..tag_specifications import tags_for
from . import action

KEY_FILTERS = {
    "key-name": lambda k: [k["KeyName"]],
    "key-pair-id": lambda k: [k["KeyPairId"]],
    "fingerprint": lambda k: [k["KeyFingerprint"]],
    "key-type": lambda k: [k["KeyType"]],
}
RESOURCE_TYPE = "key-pair"


def _keep_tags(call: Call, pair: KeyPair, tags: dict[str, str]) -> None:
    if tags:
        call.gateway.store.set_tags(call.owner, RESOURCE_TYPE, [pair.id], tags)


def invalid_key(message: str) -> Ec2Error:
    """AWS's code for public key material it cannot use (malformed, or a type it does not support)."""
    return Ec2Error("InvalidKey.Format", message)


def _duplicate(call: Call, name: str) -> None:
    if any(p.name == name for p in call.gateway.key_pairs.list(call.owner)):
        raise Ec2Error("InvalidKeyPair.Duplicate", f"The keypair '{name[:255]}' already exists.")


@action("CreateKeyPair", mutating=True)
def create_key_pair(call: Call) -> dict[str, Any]:
    name = call.need("KeyName")
    key_type = call.get("KeyType", "rsa")
    if call.get("KeyFormat", "pem") != "pem":
        raise Ec2Error("UnsupportedOperation", "Only the pem key format is supported")
    tags = tags_for(call, RESOURCE_TYPE)
    _duplicate(call, name)
    call.check_dry_run()
    pair = call.gateway.key_pairs.create(call.owner, name, key_type)
    _keep_tags(call, pair, tags)
    return {"KeyFingerprint": pair.fingerprint, "KeyMaterial": pair.private_key, "KeyName": pair.name,
            "KeyPairId": pair.id, "Tags": tag_list(tags)}


@action("ImportKeyPair", mutating=True)
def import_key_pair(call: Call) -> dict[str, Any]:
    name = call.need("KeyName")
    material: bytes = call.need("PublicKeyMaterial")
    tags = tags_for(call, RESOURCE_TYPE)
    _duplicate(call, name)
    try:
        text = material.decode("utf-8")
    except UnicodeDecodeError:
        raise invalid_key("Key is not in valid OpenSSH public key format") from None
    call.check_dry_run()
    try:
        pair = call.gateway.key_pairs.import_key(call.owner, name, text)
    except InvalidParameter as exc:
        if exc.parameter != "PublicKeyMaterial":
            raise
        raise invalid_key(exc.message) from None
    _keep_tags(call, pair, tags)
    return {"KeyFingerprint": pair.fingerprint, "KeyName": pair.name, "KeyPairId": pair.id, "Tags": tag_list(tags)}


@action("DescribeKeyPairs")
def describe_key_pairs(call: Call) -> dict[str, Any]:
    names, pair_ids = call.get("KeyNames", []), call.get("KeyPairIds", [])
    include_public = bool(call.get("IncludePublicKey"))
    call.check_dry_run()
    pairs = call.gateway.key_pairs.list(call.owner)
    for wanted, field in ((names, "name"), (pair_ids, "id")):
        known = {getattr(p, field) for p in pairs}
        missing = [w for w in wanted if w not in known]
        if missing:
            what = "key pair" if field == "name" else "key pair ID"
            raise Ec2Error("InvalidKeyPair.NotFound", f"The {what} '{missing[0][:255]}' does not exist")
    if names or pair_ids:
        pairs = [p for p in pairs if p.name in names or p.id in pair_ids]
    tags = call.gateway.store.tags(call.owner, [p.id for p in pairs]) if pairs else {}
    items = [{"KeyPairId": p.id, "KeyName": p.name, "KeyFingerprint": p.fingerprint, "KeyType": p.key_type,
              "Tags": tag_list(tags.get(p.id)), "CreateTime": p.created,
              "PublicKey": p.public_key if include_public else None} for p in pairs]
    return {"KeyPairs": apply_filters(items, call.get("Filters"), KEY_FILTERS)}


@action("DeleteKeyPair", mutating=True)
def delete_key_pair(call: Call) -> dict[str, Any]:
    name, pair_id = call.get("KeyName"), call.get("KeyPairId")
    if not name and not pair_id:
        raise Ec2Error("MissingParameter", "The request must contain the parameter KeyName or KeyPairId")
    call.check_dry_run()
    pair = next((p for p in call.gateway.key_pairs.list(call.owner)
                 if (name and p.name == name) or (pair_id and p.id == pair_id)), None)
    if pair is None:  # as on EC2: deleting what is not there succeeds
        return {"Return": True}
    try:
        call.gateway.key_pairs.delete(call.owner, pair.name)
    except NotFound:
        pass
    call.gateway.store.delete_tags(call.owner, [pair.id])
    return {"Return": True, "KeyPairId": pair.id}
