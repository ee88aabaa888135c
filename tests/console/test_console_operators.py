"""The console's administrator pages against a gateway with two providers, over real HTTP.

An administrator of one provider must never reach, see or send a password to the other provider's engine,
and only a configured operator whom the engine still accepts at its administrator level has the pages.
"""
from __future__ import annotations

import pytest
import requests

from frontends.console import operators

from .in_process import TwoProviders, recorder, two_providers  # noqa: F401  (fixtures)
from .signing_in import form_post, signed_in


def test_the_engines_page_checks_only_the_signed_in_provider(two_providers: TwoProviders) -> None:
    gateway = two_providers.app.extensions["cloudgw"]
    gateway.store.create_credential("someone@other", "their-password", provider="other")
    two_providers.other.requests.clear()
    page = signed_in(two_providers.url).get(f"{two_providers.url}/console/admin/engines", timeout=60)
    assert page.status_code == 200 and "credentials of admin@internal (you): accepted" in page.text
    assert two_providers.other.requests == []  # never contacted: the admin's password stays with its engine
    assert two_providers.other.url not in page.text and "someone@other" not in page.text
    own = [c for c in gateway.store.credentials() if (c.provider or "simulator") == "simulator"]
    assert f"reads the {len(own)} stored EC2 keys" in page.text  # the other provider's are not even decrypted


def test_an_engine_administrator_not_named_an_operator_gets_no_administrator_page(
        two_providers: TwoProviders) -> None:
    two_providers.set_engine_admin("user@internal", True)  # say a ClusterAdmin of one cluster
    try:
        session = signed_in(two_providers.url, "user@internal", "user")
        base = f"{two_providers.url}/console"
        for page in ("operations", "access-keys", "engines"):
            answer = session.get(f"{base}/admin/{page}", timeout=30)
            assert answer.status_code == 403 and "[console] operators" in answer.text, page
        for action in ("admin/operations/0123/retry", "admin/operations/0123/cancel",
                       "admin/access-keys/cloudgw-demo/delete", "admin/access-keys"):
            answer = form_post(session, f"{base}/{action}", f"{base}/instances", username="x@internal", password="x")
            assert answer.status_code == 403, action
        assert "/console/admin/" not in session.get(f"{base}/instances", timeout=30).text  # not offered either
    finally:
        two_providers.set_engine_admin("user@internal", False)


def test_a_revoked_admin_role_ends_the_operators_powers_within_a_minute(
        two_providers: TwoProviders, monkeypatch: pytest.MonkeyPatch) -> None:
    session = signed_in(two_providers.url)
    keys = f"{two_providers.url}/console/admin/access-keys"
    assert session.get(keys, timeout=30).status_code == 200
    now = [operators.clock()]
    monkeypatch.setattr(operators, "clock", lambda: now[0])
    two_providers.set_engine_admin("admin@internal", False)
    try:
        assert session.get(keys, timeout=30).status_code == 200  # the engine's answer holds for a minute
        now[0] += operators.CONFIRMED_SECONDS + 1
        refused = session.get(keys, timeout=30)
        assert refused.status_code == 403 and "no longer accepts" in refused.text
        assert form_post(session, f"{keys}/cloudgw-demo/delete", keys.replace("admin/access-keys", "instances")
                         ).status_code == 403
    finally:
        two_providers.set_engine_admin("admin@internal", True)


def test_a_mistyped_password_for_a_new_access_key_keeps_the_operator_signed_in(two_providers: TwoProviders) -> None:
    session = signed_in(two_providers.url)
    keys = f"{two_providers.url}/console/admin/access-keys"
    answer = form_post(session, keys, keys, username="user@internal", password="not-the-password")
    assert answer.status_code == 400 and "refused that user&#39;s password" in answer.text
    assert session.get(f"{two_providers.url}/console/instances", allow_redirects=False, timeout=30).status_code == 200


def test_another_providers_operations_are_neither_listed_nor_acted_on(two_providers: TwoProviders) -> None:
    gateway = two_providers.app.extensions["cloudgw"]
    runner = gateway.operations
    gateway.driver_for(gateway.config.provider("simulator"))  # registers the driver's operation kinds
    kind = next(iter(runner.kinds))
    own = runner.submit(kind, owner="simulator|admin@internal", target="own-target", delay=3600)
    # Newer than ours and more than a page of them: the provider filter must come before the page's limit.
    others = runner.submit_many(kind, 501, owner="other|admin@internal", target="other-target", delay=3600)
    session = signed_in(two_providers.url)
    base = f"{two_providers.url}/console/admin/operations"
    listing = session.get(base, timeout=60).text
    assert own.id in listing and others[-1].id not in listing
    for act in ("cancel", "retry"):
        answer = form_post(session, f"{base}/{others[-1].id}/{act}", base)
        assert answer.status_code == 404, act
    assert runner.get(others[-1].id).state == "pending"


def test_a_user_level_session_cannot_post_to_administrator_routes(two_providers: TwoProviders) -> None:
    session = signed_in(two_providers.url, user_level=True)  # the operator, signed in at the user level
    base = f"{two_providers.url}/console"
    for action in ("admin/operations/0123/cancel", "admin/access-keys/cloudgw-demo/delete", "admin/access-keys"):
        answer = form_post(session, f"{base}/{action}", f"{base}/instances", username="x@internal", password="x")
        assert answer.status_code == 403, action


def test_sign_in_tells_a_non_administrator_from_an_engine_that_is_down(two_providers: TwoProviders) -> None:
    session = requests.Session()
    sign_in = f"{two_providers.url}/console/sign-in"
    plain_user = form_post(session, sign_in, sign_in, provider="simulator", username="user@internal", password="user")
    assert plain_user.status_code == 403 and "not at its administrator level" in plain_user.text
    control = f"{two_providers.sim_url}/__simulator__/faults"
    requests.post(control, json={"engine_down": True}, timeout=10).raise_for_status()
    try:
        down = form_post(session, sign_in, sign_in, provider="simulator", username="admin@internal", password="admin")
    finally:
        requests.delete(control, timeout=10).raise_for_status()
    assert down.status_code in (502, 503, 504) and "not at its administrator level" not in down.text
    assert "could not be asked" in down.text
