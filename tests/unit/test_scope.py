"""Provider scope: the X-Deltacloud-Provider header, EC2 regions, and the allow-list that refuses the rest."""
from __future__ import annotations

import pytest

from gateway.config import Config, ProviderConfig
from gateway.errors import ProviderRefused
from gateway.scope import Credentials, Scope, choose_provider

LAB = ProviderConfig(name="lab", url="https://engine.lab.example/ovirt-engine/api", default_datacenter="Default",
                     region_aliases={"us-east-1": "Default"})
OTHER = ProviderConfig(name="other", url="http://other.example/ovirt-engine/api")
CONFIG = Config(providers=(LAB, OTHER), default_provider="lab")


def test_no_header_uses_the_default_provider_and_data_center() -> None:
    choice = choose_provider(CONFIG, None)
    assert (choice.provider, choice.datacenter, choice.user_level) == (LAB, "Default", False)


def test_header_selects_engine_data_center_and_user_level() -> None:
    choice = choose_provider(CONFIG, "HTTP://OTHER.example/ovirt-engine/api/;barcelona;user")
    assert (choice.provider, choice.datacenter, choice.user_level) == (OTHER, "barcelona", True)


def test_header_may_name_a_configured_provider() -> None:
    assert choose_provider(CONFIG, "lab;dc2").datacenter == "dc2"


def test_region_selects_data_center_through_aliases() -> None:
    assert choose_provider(CONFIG, None, "us-east-1").datacenter == "Default"
    assert choose_provider(CONFIG, None, "barcelona").datacenter == "barcelona"


def test_header_overrides_the_region() -> None:
    assert choose_provider(CONFIG, "lab;barcelona", "us-east-1").datacenter == "barcelona"


@pytest.mark.parametrize("header", [
    "http://169.254.169.254/latest/meta-data;Default",
    "https://engine.lab.example.evil.com/ovirt-engine/api;Default",
    "https://engine.lab.example/ovirt-engine/api/../../x;Default",
    "https://engine.lab.example/ovirt-engine/api;Default;root",
])
def test_engines_outside_the_allow_list_are_refused(header: str) -> None:
    with pytest.raises(ProviderRefused):
        choose_provider(CONFIG, header)


def test_without_any_provider_requests_are_refused() -> None:
    with pytest.raises(ProviderRefused):
        choose_provider(Config(), None)


def test_scope_keys_and_repr_never_show_the_password() -> None:
    scope = Scope(LAB, "Default", Credentials("admin@internal", "s3cret"))
    assert scope.owner_key == "lab|admin@internal"
    assert "s3cret" not in repr(scope) and "s3cret" not in scope.cache_key
    other = Scope(LAB, "Default", Credentials("admin@internal", "changed"))
    assert scope.cache_key != other.cache_key
