"""How long a console session lasts, over real HTTP: 30 idle minutes, 12 hours at most, and not a moment
after sign-out, even for a copy of its cookie. The console's clock is moved, never waited for."""
from __future__ import annotations

import time
from pathlib import Path

import pytest
import requests
from cryptography.fernet import Fernet

from frontends.console import session as console_session
from gateway.store import SecretExpired, Store

from .in_process import TwoProviders, recorder, two_providers  # noqa: F401  (fixtures)
from .signing_in import form_post, signed_in

MINUTE = 60.0


@pytest.fixture()
def console_clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The console's idea of now, moved by the test (now[0] += seconds)."""
    now = [time.time()]
    monkeypatch.setattr(console_session, "clock", lambda: now[0])
    return now


def still_signed_in(session: requests.Session, url: str, path: str = "/console/instances") -> bool:
    answer = session.get(f"{url}{path}", allow_redirects=False, timeout=30)
    assert answer.status_code in (200, 302), answer.text[:300]
    return answer.status_code == 200


def test_a_copy_of_the_cookie_is_worth_nothing_after_sign_out(two_providers: TwoProviders) -> None:
    session = signed_in(two_providers.url)
    copied = requests.Session()
    copied.cookies.update(session.cookies)
    assert still_signed_in(copied, two_providers.url)
    base = f"{two_providers.url}/console"
    assert form_post(session, f"{base}/sign-out", f"{base}/instances").status_code == 302
    assert not still_signed_in(copied, two_providers.url)


def test_thirty_idle_minutes_end_a_session_and_each_request_restarts_them(
        two_providers: TwoProviders, console_clock: list[float]) -> None:
    session = signed_in(two_providers.url)
    console_clock[0] += 29 * MINUTE
    assert still_signed_in(session, two_providers.url)
    console_clock[0] += 29 * MINUTE
    assert still_signed_in(session, two_providers.url)
    console_clock[0] += 31 * MINUTE
    assert not still_signed_in(session, two_providers.url)


def test_the_instances_pages_polling_does_not_keep_an_unattended_session_alive(
        two_providers: TwoProviders, console_clock: list[float]) -> None:
    session = signed_in(two_providers.url)
    console_clock[0] += 20 * MINUTE
    assert session.get(f"{two_providers.url}/console/instances/states", timeout=30).status_code == 200
    console_clock[0] += 15 * MINUTE
    assert not still_signed_in(session, two_providers.url)


def test_a_busy_session_ends_twelve_hours_after_sign_in(two_providers: TwoProviders,
                                                       console_clock: list[float]) -> None:
    session = signed_in(two_providers.url)
    for _ in range(int(12 * 60 / 25)):  # a request every 25 minutes for just under 12 hours
        console_clock[0] += 25 * MINUTE
        assert still_signed_in(session, two_providers.url)
    console_clock[0] += 25 * MINUTE
    assert not still_signed_in(session, two_providers.url)


def test_the_encrypted_password_has_a_lifetime_of_its_own(tmp_path: Path) -> None:
    now = [time.time()]
    store = Store(f"sqlite:///{tmp_path / 'store.db'}", Fernet.generate_key(), clock=lambda: now[0])
    token = store.encrypt("admin")
    assert store.decrypt(token, ttl=3600) == "admin"
    now[0] += 3601
    with pytest.raises(SecretExpired):
        store.decrypt(token, ttl=3600)
    assert store.decrypt(token) == "admin"  # without a limit (EC2 secrets, operations' credentials) as before
