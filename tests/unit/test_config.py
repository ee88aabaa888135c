"""Configuration: defaults, the documented file, environment overrides, and one clear line per mistake."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from gateway.config import load
from gateway.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]

PROVIDERS = """
default_provider = "lab"
[[providers]]
name = "lab"
url = "https://engine.lab.example/ovirt-engine/api/"
default_datacenter = "Default"
region_aliases = { "us-east-1" = "Default", "eu-west-1" = "barcelona" }
[[providers]]
name = "other"
url = "http://other.example/ovirt-engine/api"
insecure = true
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "cloudgw.toml"
    path.write_text(text)
    return path


def test_defaults_without_a_file() -> None:
    config = load(None, environ={})
    assert (config.host, config.port, config.frontends) == ("127.0.0.1", 3001,
                                                            ("ec2", "cimi", "deltacloud", "cloudwatch", "console"))
    assert config.providers == () and config.default_provider is None
    assert config.effective_store_url.startswith("sqlite:///") and config.effective_store_url.endswith("cloudgw.db")


def test_the_documented_file_is_valid_and_matches_the_defaults() -> None:
    assert load(ROOT / "gateway" / "cloudgw.toml", environ={}) == load(None, environ={})


def test_providers_are_parsed_with_aliases(tmp_path: Path) -> None:
    config = load(write(tmp_path, PROVIDERS), environ={})
    lab = config.provider("lab")
    assert lab.region_aliases == {"us-east-1": "Default", "eu-west-1": "barcelona"}
    assert lab.normalized_url() == "https://engine.lab.example/ovirt-engine/api"
    assert config.provider("other").insecure is True
    assert config.default_provider == "lab"


def test_an_ovn_network_provider_is_optional_with_its_own_tls(tmp_path: Path) -> None:
    text = PROVIDERS + 'ovn_url = "https://other.example:9696/v2.0/"\novn_insecure = false\n'
    config = load(write(tmp_path, text), environ={})
    assert config.provider("lab").ovn_url is None and config.provider("lab").ovn_identity_url is None
    other = config.provider("other")
    assert other.ovn_url == "https://other.example:9696/v2.0"
    assert other.ovn_identity_url == "https://other.example:35357/v2.0"  # ovirt-provider-ovn's own port
    assert other.tls_verify is False and other.ovn_tls_verify is True  # the engine's insecure is not the OVN's


def test_the_default_ovn_identity_url_keeps_an_ipv6_host_in_brackets() -> None:
    from gateway.config import ProviderConfig
    provider = ProviderConfig(name="v6", url="https://[fd00::1]/ovirt-engine/api", ovn_url="https://[fd00::1]:9696/v2.0")
    assert provider.ovn_identity_url == "https://[fd00::1]:35357/v2.0"

def test_first_provider_is_the_default_when_none_is_named(tmp_path: Path) -> None:
    config = load(write(tmp_path, PROVIDERS.replace('default_provider = "lab"', "")), environ={})
    assert config.default_provider == "lab"


def test_environment_overrides_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, "[server]\nport = 4000\n")
    environ = {"CLOUDGW_SERVER_PORT": "5000", "CLOUDGW_STORE_URL": "postgresql://u@db/cloudgw",
               "CLOUDGW_LOG_FORMAT": "json", "CLOUDGW_SERVER_FRONTENDS": "ec2,cimi"}
    config = load(path, environ=environ)
    assert config.port == 5000 and config.store_url == "postgresql://u@db/cloudgw"
    assert config.log_format == "json" and config.frontends == ("ec2", "cimi")


def test_explicit_overrides_win_and_none_is_ignored() -> None:
    config = load(None, environ={"CLOUDGW_SERVER_PORT": "5000"}, port=6000, host=None)
    assert config.port == 6000 and config.host == "127.0.0.1"


@pytest.mark.parametrize("text, message", [
    ("[server]\nport = 'abc'\n", "server.port: must be an integer from 1 to 65535, got 'abc'"),
    ("[server]\nport = 70000\n", "server.port: must be an integer from 1 to 65535, got 70000"),
    ("[server]\nfrontends = ['ec2', 'soap']\n", "server.frontends: unknown frontend 'soap'"),
    ("[servr]\nport = 1\n", "servr: unknown section"),
    ("[server]\nprot = 1\n", "server.prot: unknown setting"),
    ("[log]\nformat = 'xml'\n", "log.format: must be one of text, json, got 'xml'"),
    ("[engine]\nread_timeout = -1\n", "engine.read_timeout: must be greater than 0"),
    ("[simulator]\nenabled = 'maybe'\n", "simulator.enabled: must be true or false"),
    ("[store]\nurl = 'nonsense'\n", "store.url: must be an SQLAlchemy URL"),
    ("[[providers]]\nname = 'x'\nurl = 'ftp://engine/api'\n", "providers[0].url: must be an http(s) URL"),
    ("[[providers]]\nurl = 'https://engine/api'\n", "providers[0].name: required"),
    ("[[providers]]\nname = 'x'\nurl = 'https://e/api'\nca_file = '/no/such/ca.pem'\n", "providers[0].ca_file: no such file"),
    ("[[providers]]\nname = 'x'\nurl = 'https://e/api'\ncolour = 'red'\n", "providers[0].colour: unknown setting"),
    ("[[providers]]\nname = 'x'\nurl = 'https://e/api'\n[[providers]]\nname = 'x'\nurl = 'https://f/api'\n",
     "providers: two providers share a name"),
    ("default_provider = 'y'\n[[providers]]\nname = 'x'\nurl = 'https://e/api'\n", "default_provider: no provider named 'y'"),
    ("[server\nport = 1\n", "is not valid TOML"),
    ("[[providers]]\nname = 'x'\nurl = 'https://e/api'\novn_url = 'e:9696'\n", "providers[0].ovn_url: must be an http(s) URL"),
    ("[[providers]]\nname = 'x'\nurl = 'https://e/api'\novn_auth_url = 'https://e:35357/v2.0'\n",
     "providers[0].ovn_auth_url: set only with ovn_url"),
])
def test_each_mistake_names_its_setting(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError) as error:
        load(write(tmp_path, text), environ={})
    assert message in str(error.value)
    assert "\n" not in str(error.value)


def test_a_bad_environment_value_names_the_setting() -> None:
    with pytest.raises(ConfigError, match=r"^server.port: must be an integer"):
        load(None, environ={"CLOUDGW_SERVER_PORT": "eighty"})


def test_a_missing_file_is_named() -> None:
    with pytest.raises(ConfigError, match="no such file"):
        load("/no/such/cloudgw.toml", environ={})


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "gateway.cli", *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=60)


def test_config_check_accepts_a_good_file_and_reports_a_bad_one(tmp_path: Path) -> None:
    good = run_cli("config", "check", "--config", str(write(tmp_path, PROVIDERS)), "--data-dir", str(tmp_path))
    assert good.returncode == 0, good.stderr
    assert "configuration OK" in good.stdout and "lab (https://engine.lab.example" in good.stdout
    bad = run_cli("config", "check", "--config", str(write(tmp_path, "[server]\nport = 'abc'\n")))
    assert bad.returncode == 1
    assert bad.stderr.strip() == "Error: configuration: server.port: must be an integer from 1 to 65535, got 'abc'"


def test_console_operators_come_from_the_file_or_the_environment(tmp_path: Path) -> None:
    assert load(None, environ={}).console_operators == ("admin@internal",)
    config = load(write(tmp_path, '[console]\noperators = ["ops@example.com", "admin@internal"]\n'), environ={})
    assert config.console_operators == ("ops@example.com", "admin@internal")
    from_env = load(None, environ={"CLOUDGW_CONSOLE_OPERATORS": "ops@example.com, root@internal"})
    assert from_env.console_operators == ("ops@example.com", "root@internal")
    with pytest.raises(ConfigError, match="console.operators"):
        load(write(tmp_path, "[console]\noperators = 3\n"), environ={})
