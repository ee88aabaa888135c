"""Authentication as the engine does it: SSO bearer tokens, HTTP Basic, and persistent sessions.

Tokens and sessions expire after an idle period measured in *real* time (a fast simulated clock
should not log clients out); the control API can expire all of them at once to exercise a client's
re-login path.
"""

from __future__ import annotations

import base64
import secrets
import threading
import time

from .entities import User
from .store import Store

IDLE_TIMEOUT = 30 * 60.0     # the engine's default UserSessionTimeOutInterval: 30 minutes
TOKEN_VALIDITY = 10 * 3600   # what the token endpoint reports in `exp`


class Sessions:
    """Issued tokens and session cookies, each mapped to a user."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._lock = threading.Lock()
        self._tokens: dict[str, tuple[str, float]] = {}     # token -> (user id, last use, monotonic)

    def check_password(self, user_name: str, password: str) -> User | None:
        for user in self._store.users.values():
            if user.user_name.lower() == user_name.lower() and secrets.compare_digest(user.password, password):
                return user
        return None

    def find_user(self, user_name: str) -> User | None:
        for user in self._store.users.values():
            if user.user_name.lower() == user_name.lower():
                return user
        return None

    def issue(self, user: User) -> str:
        token = secrets.token_urlsafe(48)
        with self._lock:
            self._tokens[token] = (user.id, time.monotonic())
        return token

    def resolve(self, token: str) -> User | None:
        """The user a token (or session id) belongs to, refreshing its idle timer; None if unknown
        or expired."""
        now = time.monotonic()
        with self._lock:
            entry = self._tokens.get(token)
            if entry is None:
                return None
            user_id, last = entry
            if now - last > IDLE_TIMEOUT:
                del self._tokens[token]
                return None
            self._tokens[token] = (user_id, now)
        return self._store.users.get(user_id)

    def revoke(self, token: str) -> bool:
        with self._lock:
            return self._tokens.pop(token, None) is not None

    def expire_all(self) -> int:
        with self._lock:
            count = len(self._tokens)
            self._tokens.clear()
            return count

    def basic(self, header: str) -> User | None:
        """The user of an `Authorization: Basic` header, or None."""
        try:
            decoded = base64.b64decode(header.split(None, 1)[1]).decode("utf-8")
        except (IndexError, ValueError, UnicodeDecodeError):
            return None
        user_name, _, password = decoded.partition(":")
        return self.check_password(user_name, password)
