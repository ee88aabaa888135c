"""Who may use the console's administrator pages, checked on every request to them.

An engine accepts unfiltered queries from anyone holding any admin-type role on any object (a ClusterAdmin
of one cluster), so the engine's answer alone is too broad for provider-wide powers (every user's EC2 keys,
anyone's durable operations). An operator is therefore a user named in `[console] operators`, signed in at
the administrator level, whom the engine still accepts at that level: re-asked at most every minute, so a
revoked role or a changed password ends the powers within a minute, whatever the cookie says.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import current_app, g

from gateway.app import current_gateway
from gateway.errors import Forbidden

from .blueprint import page_error
from .session import SignedIn

CONFIRMED_SECONDS = 60.0
clock: Callable[[], float] = time.monotonic  # replaceable, so a test can let a minute pass
_lock = threading.Lock()


def listed_operator(user: SignedIn | None) -> bool:
    """Whether the configuration names the user an operator (and the session is at the administrator level)."""
    if user is None or user.user_level:
        return False
    return user.username.lower() in {name.lower() for name in current_gateway().config.console_operators}


def _engine_still_admits(user: SignedIn) -> bool:
    """An unfiltered query as the user (cached per identity for CONFIRMED_SECONDS when accepted). AuthFailure
    (a changed password) and BackendUnavailable go on to the blueprint's handlers and are shown as such."""
    scope = user.scope()
    confirmed: dict[str, float] = current_app.extensions.setdefault("console_operators_confirmed", {})
    now = clock()
    with _lock:
        if confirmed.get(scope.cache_key, 0.0) > now:
            return True
    try:
        current_gateway().driver_for(scope.provider).confirm_administrator(scope)
    except Forbidden:
        return False
    with _lock:
        confirmed[scope.cache_key] = now + CONFIRMED_SECONDS
    return True


def operator_only(view: Callable[..., Any]) -> Callable[..., Any]:
    """A view for operators only: 403 in words for anyone else (GET and POST alike)."""

    @wraps(view)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        user: SignedIn = g.user
        if not listed_operator(user):
            return page_error(403, "Only a gateway operator (the configuration's [console] operators) signed in "
                                   "at the administrator level sees this page.")
        if not _engine_still_admits(user):
            return page_error(403, "The engine no longer accepts your credentials at its administrator level.")
        return view(*args, **kwargs)

    return guarded
