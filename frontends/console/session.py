"""The console's sign-in: a signed session cookie whose password only the gateway can read.

Flask's session is signed, not encrypted, so the engine password in it is encrypted with the store's
Fernet key first. The signing key is derived (HKDF) from that same key file, never hard-coded: every
process sharing the key file accepts the others' cookies, and replacing the key signs everyone out.
The cookie is HttpOnly, SameSite=Strict, limited to /console, and Secure whenever the request came
over HTTPS.
"""
from __future__ import annotations

from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import Flask, session
from flask.sessions import SecureCookieSessionInterface
from flask_wtf.csrf import CSRFProtect

from gateway.app import current_gateway
from gateway.config import ProviderConfig
from gateway.errors import InvalidParameter
from gateway.scope import Credentials, ProviderChoice, Scope
from gateway.store import load_or_create_key

csrf = CSRFProtect()
SESSION_INFO = b"cloudgw console session signing key"


class ConsoleSessions(SecureCookieSessionInterface):
    """Flask's signed cookie sessions, Secure exactly when the request itself was (no setting to forget)."""

    def get_cookie_secure(self, app: Flask) -> bool:
        from flask import request

        return bool(request and request.is_secure)


def session_key(key_file_bytes: bytes) -> bytes:
    """A signing key of its own, derived from the store's secret key (so neither reveals the other)."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=SESSION_INFO).derive(key_file_bytes)


def install_sessions(app: Flask) -> None:
    gateway = app.extensions["cloudgw"]
    app.secret_key = session_key(load_or_create_key(gateway.config.effective_secret_key_file))
    app.session_interface = ConsoleSessions()
    app.config.update(SESSION_COOKIE_NAME="cloudgw_console", SESSION_COOKIE_PATH="/console",
                      SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Strict",
                      # Every other frontend is an API without cookies: the console checks its own forms.
                      WTF_CSRF_CHECK_DEFAULT=False, WTF_CSRF_TIME_LIMIT=None)
    csrf.init_app(app)


@dataclass(frozen=True)
class SignedIn:
    """Who is signed in and against what: the session's view of a Scope."""

    provider: str
    username: str
    password: str
    user_level: bool
    datacenter: str | None
    admin: bool

    def provider_config(self) -> ProviderConfig:
        return current_gateway().config.provider(self.provider)

    def scope(self, datacenter: str | None = None) -> Scope:
        choice = ProviderChoice(self.provider_config(), datacenter or self.datacenter, self.user_level)
        return current_gateway().scope(choice, Credentials(self.username, self.password))


def start_session(user: SignedIn) -> None:
    session.clear()
    session.update(provider=user.provider, username=user.username,
                   password=current_gateway().store.encrypt(user.password), user_level=user.user_level,
                   datacenter=user.datacenter, admin=user.admin)


def signed_in() -> SignedIn | None:
    """The session's user, or None (no session, or one this gateway's key cannot read any more)."""
    if "username" not in session:
        return None
    gateway = current_gateway()
    if session.get("provider") not in {p.name for p in gateway.config.providers}:
        return None
    try:
        password = gateway.store.decrypt(session["password"])
    except Exception:  # a cookie signed by this key but encrypted under another: sign in again
        return None
    return SignedIn(session["provider"], session["username"], password, bool(session.get("user_level")),
                    session.get("datacenter"), bool(session.get("admin")))


def choose_datacenter(name: str, known: list[str]) -> None:
    if name not in known:
        raise InvalidParameter(f"No data center named '{name[:100]}' here (known: {', '.join(known)})")
    session["datacenter"] = name


def sign_out() -> None:
    session.clear()
