"""The console's sign-in: a signed session cookie whose password only the gateway can read.

Flask's session is signed, not encrypted, so the engine password in it is encrypted with the store's
Fernet key first. The signing key is derived (HKDF) from that same key file, never hard-coded: every
process sharing the key file accepts the others' cookies, and replacing the key signs everyone out.
The cookie is HttpOnly, SameSite=Lax, limited to /console, and Secure whenever the request came
over HTTPS.

A session ends after 30 minutes without a request or 12 hours after sign-in, whichever comes first
(both times are in the signed cookie and checked on every request; the password's encryption carries
the 12 hours too), and at sign-out for good: each session's id is kept in the store and deleted then,
so a copy of the cookie taken before is worth nothing after.
"""
from __future__ import annotations

import secrets
import time
from collections.abc import Callable
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
IDLE_SECONDS = 30 * 60
LIFETIME_SECONDS = 12 * 3600
SESSION_KIND = "console-session"  # the store's record of each live session (gateway-only entities)
clock: Callable[[], float] = time.time  # replaceable, so a test can let half an hour pass


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
                      # Lax, not Strict: with Strict a link from mail arrives without the cookie, and the sign-in
                      # page's fresh session then replaces the signed-in one. Lax is safe here because CSRF
                      # tokens guard every POST and no GET changes anything.
                      SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax",
                      PERMANENT_SESSION_LIFETIME=LIFETIME_SECONDS,
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

    def provider_config(self) -> ProviderConfig:
        return current_gateway().config.provider(self.provider)

    def scope(self, datacenter: str | None = None) -> Scope:
        choice = ProviderChoice(self.provider_config(), datacenter or self.datacenter, self.user_level)
        return current_gateway().scope(choice, Credentials(self.username, self.password))


def _owner(provider: str, username: str) -> str:
    return f"{provider}|{username}"


def start_session(user: SignedIn) -> None:
    store = current_gateway().store
    store.purge_entities(SESSION_KIND, LIFETIME_SECONDS, lambda _: True)  # sessions past their lifetime
    session_id = secrets.token_urlsafe(24)
    store.put_entity(SESSION_KIND, _owner(user.provider, user.username), session_id, {})
    now = clock()
    session.clear()
    session.update(provider=user.provider, username=user.username, password=store.encrypt(user.password),
                   user_level=user.user_level, datacenter=user.datacenter,
                   session_id=session_id, started=now, seen=now)


def _live(now: float) -> bool:
    """Whether the session is within its idle time and lifetime, and not signed out (its id in the store)."""
    try:
        started, seen = float(session["started"]), float(session["seen"])
    except (KeyError, TypeError, ValueError):
        return False
    if not (now - started <= LIFETIME_SECONDS and now - seen <= IDLE_SECONDS):
        return False
    owner = _owner(str(session.get("provider")), str(session.get("username")))
    return current_gateway().store.entity(SESSION_KIND, owner, str(session.get("session_id"))) is not None


def signed_in(activity: bool = True) -> SignedIn | None:
    """The session's user, or None (no session, one that has expired or was signed out, or one this gateway's
    key cannot read any more); a live session's idle clock restarts on the user's `activity` (not on the
    instances page's background polling, which would keep an unattended tab signed in for ever)."""
    if "username" not in session:
        return None
    gateway = current_gateway()
    now = clock()
    if session.get("provider") not in {p.name for p in gateway.config.providers} or not _live(now):
        session.clear()
        return None
    try:
        password = gateway.store.decrypt(session["password"], ttl=LIFETIME_SECONDS)
    except Exception:  # expired, or a cookie signed by this key but encrypted under another: sign in again
        session.clear()
        return None
    if activity and now - float(session["seen"]) >= 10:  # not a new cookie for every poll of the instances page
        session["seen"] = now
    return SignedIn(session["provider"], session["username"], password, bool(session.get("user_level")),
                    session.get("datacenter"))


def choose_datacenter(name: str, known: list[str]) -> None:
    if name not in known:
        raise InvalidParameter(f"No data center named '{name[:100]}' here (known: {', '.join(known)})")
    session["datacenter"] = name


def sign_out() -> None:
    """Ends the session here and for any copy of its cookie (its id leaves the store)."""
    if "session_id" in session:
        current_gateway().store.delete_entity(SESSION_KIND, _owner(str(session.get("provider")),
                                                                   str(session.get("username"))),
                                              str(session["session_id"]))
    session.clear()
