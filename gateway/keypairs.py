"""SSH key pairs kept by the gateway (EC2 key pairs, Deltacloud keys, CIMI credentials).

oVirt has no home for them: the store keeps the public key per identity (Scope.owner_key) and the
private key of a generated pair is returned once, never stored. Fingerprints follow AWS, so tools that
compare them (Terraform, Ansible) agree: a generated RSA key's is the SHA-1 of its PKCS#8 private key,
an imported RSA key's the MD5 of its public key (DER), an ED25519 key's the base64 SHA-256 of its
OpenSSH public key blob.
"""
from __future__ import annotations

import base64
import hashlib
import re
import secrets
from datetime import datetime, timezone

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from .errors import InvalidParameter, NotFound
from .model import KeyPair
from .store import Store

KEY_TYPES = ("rsa", "ed25519")
NAME_PATTERN = re.compile(r"^[\x20-\x7e]{1,255}$")


def _colon_hex(digest: bytes) -> str:
    return ":".join(f"{b:02x}" for b in digest)


def _openssh_blob(public_key: str) -> bytes:
    return base64.b64decode(public_key.split()[1])


def generate(key_type: str) -> tuple[str, str, str]:
    """A new key pair: (private key text, OpenSSH public key line, AWS fingerprint)."""
    if key_type == "ed25519":
        private = ed25519.Ed25519PrivateKey.generate()
        private_text = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH,
                                             serialization.NoEncryption()).decode()
        public = private.public_key().public_bytes(serialization.Encoding.OpenSSH,
                                                   serialization.PublicFormat.OpenSSH).decode()
        return private_text, public, ed25519_fingerprint(public)
    private_rsa = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_text = private_rsa.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                             serialization.NoEncryption()).decode()
    public = private_rsa.public_key().public_bytes(serialization.Encoding.OpenSSH,
                                                   serialization.PublicFormat.OpenSSH).decode()
    pkcs8 = private_rsa.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption())
    return private_text, public, _colon_hex(hashlib.sha1(pkcs8).digest())


def ed25519_fingerprint(public_key: str) -> str:
    return base64.b64encode(hashlib.sha256(_openssh_blob(public_key)).digest()).decode()


def parse_public_key(material: str) -> tuple[str, str, str]:
    """An imported public key (OpenSSH line or PEM): (key type, OpenSSH public key line, AWS fingerprint)."""
    text = material.strip()
    try:
        if text.startswith("-----BEGIN"):
            key = serialization.load_pem_public_key(text.encode())
        else:
            key = serialization.load_ssh_public_key(" ".join(text.split()[:2]).encode())
    except UnsupportedAlgorithm:  # a well-formed key of a type the library does not know (ssh-dss, ...)
        raise InvalidParameter("Only RSA and ED25519 keys are supported", parameter="PublicKeyMaterial") from None
    except (ValueError, IndexError, TypeError):
        raise InvalidParameter("Key is not in valid OpenSSH public key format", parameter="PublicKeyMaterial") from None
    public = key.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode()
    if isinstance(key, ed25519.Ed25519PublicKey):
        return "ed25519", public, ed25519_fingerprint(public)
    if isinstance(key, rsa.RSAPublicKey):
        if key.key_size < 1024:
            raise InvalidParameter("RSA keys must be at least 1024 bits", parameter="PublicKeyMaterial")
        der = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        return "rsa", public, _colon_hex(hashlib.md5(der).digest())
    raise InvalidParameter("Only RSA and ED25519 keys are supported", parameter="PublicKeyMaterial")


def _check_name(name: str) -> None:
    if not name or not NAME_PATTERN.match(name):
        raise InvalidParameter("A key pair name must be 1 to 255 printable ASCII characters", parameter="KeyName")


class KeyPairs:
    """Key pairs of one store, per owner (an identity on a provider)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def create(self, owner: str, name: str, key_type: str = "rsa") -> KeyPair:
        """Generate a pair; the returned KeyPair carries the private key, which is not kept."""
        _check_name(name)
        if key_type not in KEY_TYPES:
            raise InvalidParameter(f"Key type must be one of {', '.join(KEY_TYPES)}", parameter="KeyType")
        private, public, fingerprint = generate(key_type)
        pair = self._add(owner, name, key_type, public, fingerprint)
        pair.private_key = private
        return pair

    def import_key(self, owner: str, name: str, public_key_material: str) -> KeyPair:
        _check_name(name)
        key_type, public, fingerprint = parse_public_key(public_key_material)
        return self._add(owner, name, key_type, public, fingerprint)

    def _add(self, owner: str, name: str, key_type: str, public: str, fingerprint: str) -> KeyPair:
        key_id = "key-" + secrets.token_hex(9)[:17]
        created = self.store.add_key_pair(owner, name, key_id=key_id, key_type=key_type, fingerprint=fingerprint,
                                          public_key=public)
        return KeyPair(name=name, fingerprint=fingerprint, public_key=public, key_type=key_type, id=key_id,
                       created=datetime.fromtimestamp(created, timezone.utc))

    def list(self, owner: str) -> list[KeyPair]:
        return [KeyPair(name=r["name"], fingerprint=r["fingerprint"], public_key=r["public_key"],
                        key_type=r["key_type"], id=r["id"], created=datetime.fromtimestamp(r["created"], timezone.utc))
                for r in self.store.key_pairs(owner)]

    def get(self, owner: str, name: str) -> KeyPair:
        for pair in self.list(owner):
            if pair.name == name:
                return pair
        raise NotFound("key pair", name)

    def delete(self, owner: str, name: str) -> bool:
        return self.store.delete_key_pair(owner, name)
