"""Settings: defaults, then a TOML file, then CLOUDGW_* environment variables.

Every setting is documented in cloudgw.toml beside this module (shipped in the package). A wrong setting raises ConfigError with one line that
names it (`server.port: must be an integer from 1 to 65535, got 'abc'`), so start-up stops clearly.
Environment variables name a scalar setting as CLOUDGW_<SECTION>_<KEY> (CLOUDGW_SERVER_PORT=3001,
CLOUDGW_STORE_URL=postgresql+psycopg://...), plus CLOUDGW_DEFAULT_PROVIDER.
"""
from __future__ import annotations

import math
import os
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Mapping
from urllib.parse import urlsplit

from .errors import ConfigError

FRONTENDS = ("ec2", "cimi", "deltacloud", "cloudwatch", "console")
LOG_FORMATS = ("text", "json")
LOG_LEVELS = ("debug", "info", "warning", "error")


@dataclass(frozen=True)
class ProviderConfig:
    """One engine the gateway may talk to: the allow-list entry."""

    name: str
    url: str
    driver: str = "ovirt"
    ca_file: str | None = None
    insecure: bool = False
    default_datacenter: str | None = None
    region_aliases: Mapping[str, str] = field(default_factory=dict)
    ovn_url: str | None = None  # the engine's OVN network provider (ovirt-provider-ovn): its Neutron v2.0 URL
    ovn_auth_url: str | None = None  # its Identity v2.0 URL (tokens); default: ovn_url's host, port 35357
    ovn_ca_file: str | None = None  # default: ca_file
    ovn_insecure: bool | None = None  # default: insecure
    ovn_engine_name: str = "ovirt-provider-ovn"  # the provider's name in the engine (engine-setup's)
    monitor_username: str | None = None  # the engine identity the metric sampler reads statistics as
    monitor_password_file: str | None = None  # a file holding its password (first line)
    # Without a monitoring identity: may the sampler read as the provider's EC2 credentials' users (opt-in)?
    monitor_with_ec2_credentials: bool = False

    def monitor_password(self) -> str | None:
        """The monitoring identity's password, read from its file each time (so a rotated one applies)."""
        if not self.monitor_password_file:
            return None
        lines = Path(self.monitor_password_file).expanduser().read_text().splitlines()
        return lines[0] if lines else ""

    @property
    def tls_verify(self) -> bool | str:
        """requests' `verify` for this engine: off when insecure, else its CA bundle or the system's."""
        return False if self.insecure else (self.ca_file or True)

    @property
    def ovn_tls_verify(self) -> bool | str:
        """requests' `verify` for the OVN provider: its own settings, else the engine's."""
        insecure = self.insecure if self.ovn_insecure is None else self.ovn_insecure
        return False if insecure else (self.ovn_ca_file or self.ca_file or True)

    @property
    def ovn_identity_url(self) -> str | None:
        """Where the OVN provider hands out tokens: ovn_auth_url, else ovirt-provider-ovn's default port."""
        if self.ovn_auth_url or not self.ovn_url:
            return self.ovn_auth_url
        parts = urlsplit(self.ovn_url)
        host = parts.hostname or ""
        return f"{parts.scheme}://{f'[{host}]' if ':' in host else host}:35357/v2.0"  # an IPv6 host keeps its brackets

    def normalized_url(self) -> str:
        return normalize_engine_url(self.url)


@dataclass(frozen=True)
class Config:
    host: str = "127.0.0.1"
    port: int = 3001
    data_dir: str = "./data"
    frontends: tuple[str, ...] = FRONTENDS
    log_format: str = "text"
    log_level: str = "info"
    max_body_bytes: int = 1024 * 1024
    release_memory_seconds: float = 1.0
    store_url: str = ""
    secret_key_file: str = ""
    engine_connect_timeout: float = 5.0
    engine_read_timeout: float = 60.0
    engine_retries: int = 2
    operation_lease_seconds: float = 30.0
    operation_poll_seconds: float = 1.0
    operation_max_attempts: int = 20
    operation_retention_seconds: int = 86400
    housekeeping_seconds: float = 300.0
    orphan_seconds: int = 3600
    tombstone_seconds: int = 3600
    client_token_seconds: int = 86400
    signature_skew_seconds: int = 300
    cimi_job_retention_seconds: int = 86400
    metrics_enabled: bool = False
    providers: tuple[ProviderConfig, ...] = ()
    default_provider: str | None = None
    inventory_enabled: bool = False
    inventory_poll_seconds: float = 2.0
    inventory_resync_seconds: float = 300.0
    simulator: bool = False
    simulator_port: int = 3002
    simulator_speed: float = 1.0
    cloudwatch_sampling: bool = True
    cloudwatch_sample_seconds: float = 60.0
    cloudwatch_minute_days: float = 15.0
    cloudwatch_five_minute_days: float = 63.0
    cloudwatch_hour_days: float = 455.0
    cloudwatch_evaluation_seconds: float = 60.0
    cloudwatch_history_days: float = 14.0
    console_operators: tuple[str, ...] = ("admin@internal",)

    @property
    def data_path(self) -> Path:
        return Path(self.data_dir).expanduser()

    @property
    def effective_store_url(self) -> str:
        return self.store_url or f"sqlite:///{(self.data_path / 'cloudgw.db').resolve()}"

    @property
    def effective_secret_key_file(self) -> Path:
        return Path(self.secret_key_file).expanduser() if self.secret_key_file else self.data_path / "secret.key"

    def provider(self, name: str) -> ProviderConfig:
        for p in self.providers:
            if p.name == name:
                return p
        raise ConfigError(f"default_provider: no provider named '{name}'")

    def with_changes(self, **changes: Any) -> "Config":
        return replace(self, **changes)


def hide_password(url: str) -> str:
    """A database URL fit to print: its password, if any, replaced by `***`."""
    import sqlalchemy as sa  # only where a URL is shown: reading a configuration needs no database library

    try:
        return sa.engine.make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return url.split("@")[-1]


def normalize_engine_url(url: str) -> str:
    """Canonical form of an engine API URL, for allow-list comparison (scheme/host lower-case, no slash)."""
    parts = urlsplit(url.strip())
    path = parts.path.rstrip("/")
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}{path}"


# (section, key) -> (Config field, parser)
def _parse_int(low: int, high: int):
    def parse(name: str, value: Any) -> int:
        if isinstance(value, bool):
            raise ConfigError(f"{name}: must be an integer from {low} to {high}, got {value!r}")
        try:
            number = int(value)
        except (TypeError, ValueError):
            raise ConfigError(f"{name}: must be an integer from {low} to {high}, got {value!r}") from None
        if not low <= number <= high:
            raise ConfigError(f"{name}: must be an integer from {low} to {high}, got {number}")
        return number

    return parse


def _parse_float(low: float, *, or_equal: bool = False):
    def parse(name: str, value: Any) -> float:
        try:
            number = float(value) if not isinstance(value, bool) else float("nan")
        except (TypeError, ValueError):
            raise ConfigError(f"{name}: must be a number, got {value!r}") from None
        if not math.isfinite(number):
            raise ConfigError(f"{name}: must be a finite number, got {value!r}")
        if number < low or (number == low and not or_equal):
            raise ConfigError(f"{name}: must be {'at least' if or_equal else 'greater than'} {low}, got {number}")
        return number

    return parse


def _parse_release_seconds(name: str, value: Any) -> float:
    """0 (off), or at least a tenth of a second: malloc_trim holds the allocator's locks while it runs."""
    number = _parse_float(0, or_equal=True)(name, value)
    if 0 < number < 0.1:
        raise ConfigError(f"{name}: must be 0 (off) or at least 0.1, got {number}")
    return number


def _parse_str(name: str, value: Any) -> str:
    if not isinstance(value, str):
        raise ConfigError(f"{name}: must be a string, got {value!r}")
    return value


def _parse_choice(choices: tuple[str, ...]):
    def parse(name: str, value: Any) -> str:
        if value not in choices:
            raise ConfigError(f"{name}: must be one of {', '.join(choices)}, got {value!r}")
        return value

    return parse


def _parse_bool(name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("1", "true", "yes", "on", "0", "false", "no", "off"):
        return value.lower() in ("1", "true", "yes", "on")
    raise ConfigError(f"{name}: must be true or false, got {value!r}")


def _parse_frontends(name: str, value: Any) -> tuple[str, ...]:
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list | tuple):
        raise ConfigError(f"{name}: must be a list of frontends, got {value!r}")
    result = tuple(str(i).strip() for i in items if str(i).strip())
    unknown = [f for f in result if f not in FRONTENDS]
    if unknown:
        raise ConfigError(f"{name}: unknown frontend {unknown[0]!r} (known: {', '.join(FRONTENDS)})")
    return result


def _parse_names(name: str, value: Any) -> tuple[str, ...]:
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list | tuple) or not all(isinstance(i, str) for i in items):
        raise ConfigError(f"{name}: must be a list of engine user names (user@domain), got {value!r}")
    return tuple(i.strip() for i in items if i.strip())


SETTINGS: dict[tuple[str, str], tuple[str, Any]] = {
    ("server", "host"): ("host", _parse_str),
    ("server", "port"): ("port", _parse_int(1, 65535)),
    ("server", "data_dir"): ("data_dir", _parse_str),
    ("server", "frontends"): ("frontends", _parse_frontends),
    ("server", "max_body_bytes"): ("max_body_bytes", _parse_int(1024, 1 << 30)),
    ("server", "release_memory_seconds"): ("release_memory_seconds", _parse_release_seconds),
    ("log", "format"): ("log_format", _parse_choice(LOG_FORMATS)),
    ("log", "level"): ("log_level", _parse_choice(LOG_LEVELS)),
    ("store", "url"): ("store_url", _parse_str),
    ("store", "secret_key_file"): ("secret_key_file", _parse_str),
    ("engine", "connect_timeout"): ("engine_connect_timeout", _parse_float(0)),
    ("engine", "read_timeout"): ("engine_read_timeout", _parse_float(0)),
    ("engine", "retries"): ("engine_retries", _parse_int(0, 10)),
    ("operations", "lease_seconds"): ("operation_lease_seconds", _parse_float(0)),
    ("operations", "poll_seconds"): ("operation_poll_seconds", _parse_float(0)),
    ("operations", "max_attempts"): ("operation_max_attempts", _parse_int(1, 1000)),
    ("operations", "retention_seconds"): ("operation_retention_seconds", _parse_int(0, 365 * 86400)),
    ("operations", "housekeeping_seconds"): ("housekeeping_seconds", _parse_float(0)),
    ("operations", "orphan_seconds"): ("orphan_seconds", _parse_int(0, 365 * 86400)),
    ("ec2", "tombstone_seconds"): ("tombstone_seconds", _parse_int(0, 7 * 86400)),
    ("ec2", "client_token_seconds"): ("client_token_seconds", _parse_int(0, 365 * 86400)),
    ("ec2", "signature_skew_seconds"): ("signature_skew_seconds", _parse_int(1, 86400)),
    ("cimi", "job_retention_seconds"): ("cimi_job_retention_seconds", _parse_int(0, 365 * 86400)),
    ("metrics", "enabled"): ("metrics_enabled", _parse_bool),
    ("inventory", "enabled"): ("inventory_enabled", _parse_bool),
    ("inventory", "poll_seconds"): ("inventory_poll_seconds", _parse_float(0)),
    ("inventory", "resync_seconds"): ("inventory_resync_seconds", _parse_float(0)),
    ("cloudwatch", "sampling"): ("cloudwatch_sampling", _parse_bool),
    ("cloudwatch", "sample_seconds"): ("cloudwatch_sample_seconds", _parse_float(0)),
    ("cloudwatch", "minute_retention_days"): ("cloudwatch_minute_days", _parse_float(0)),
    ("cloudwatch", "five_minute_retention_days"): ("cloudwatch_five_minute_days", _parse_float(0)),
    ("cloudwatch", "hour_retention_days"): ("cloudwatch_hour_days", _parse_float(0)),
    ("cloudwatch", "evaluation_seconds"): ("cloudwatch_evaluation_seconds", _parse_float(0)),
    ("cloudwatch", "history_retention_days"): ("cloudwatch_history_days", _parse_float(0)),
    ("console", "operators"): ("console_operators", _parse_names),
    ("simulator", "enabled"): ("simulator", _parse_bool),
    ("simulator", "port"): ("simulator_port", _parse_int(0, 65535)),
    ("simulator", "speed"): ("simulator_speed", _parse_float(0)),
}
SECTIONS = {section for section, _ in SETTINGS} | {"providers"}


OVN_KEYS = ("ovn_url", "ovn_auth_url", "ovn_ca_file", "ovn_insecure", "ovn_engine_name")


def _parse_ovn(where: str, raw: Mapping[str, Any]) -> dict[str, Any]:
    """The provider entry's OVN network provider settings (all optional; none = no network provider)."""
    found: dict[str, Any] = {}
    for key in ("ovn_url", "ovn_auth_url"):
        if raw.get(key):
            url = urlsplit(str(raw[key]))
            if url.scheme not in ("http", "https") or not url.hostname:
                raise ConfigError(f"{where}.{key}: must be an http(s) URL, got {raw[key]!r}")
            found[key] = str(raw[key]).strip().rstrip("/")
    if "ovn_auth_url" in found and "ovn_url" not in found:
        raise ConfigError(f"{where}.ovn_auth_url: set only with ovn_url")
    if raw.get("ovn_ca_file"):
        if not Path(raw["ovn_ca_file"]).expanduser().is_file():
            raise ConfigError(f"{where}.ovn_ca_file: no such file {raw['ovn_ca_file']!r}")
        found["ovn_ca_file"] = raw["ovn_ca_file"]
    if "ovn_insecure" in raw:
        found["ovn_insecure"] = _parse_bool(f"{where}.ovn_insecure", raw["ovn_insecure"])
    if raw.get("ovn_engine_name"):
        found["ovn_engine_name"] = _parse_str(f"{where}.ovn_engine_name", raw["ovn_engine_name"])
    return found


MONITOR_KEYS = ("monitor_username", "monitor_password_file", "monitor_with_ec2_credentials")


def _parse_monitor(where: str, raw: Mapping[str, Any]) -> dict[str, Any]:
    """The identity the metric sampler reads the engine's statistics as (both or neither)."""
    found: dict[str, Any] = {}
    if "monitor_with_ec2_credentials" in raw:
        found["monitor_with_ec2_credentials"] = _parse_bool(f"{where}.monitor_with_ec2_credentials",
                                                            raw["monitor_with_ec2_credentials"])
    user, password_file = raw.get("monitor_username"), raw.get("monitor_password_file")
    if not user and not password_file:
        return found
    if not user or not password_file:
        raise ConfigError(f"{where}: monitor_username and monitor_password_file go together")
    if not Path(str(password_file)).expanduser().is_file():
        raise ConfigError(f"{where}.monitor_password_file: no such file {password_file!r}")
    return {**found, "monitor_username": _parse_str(f"{where}.monitor_username", user),
            "monitor_password_file": str(password_file)}


def _parse_provider(index: int, raw: Any) -> ProviderConfig:
    where = f"providers[{index}]"
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: must be a table")
    known = {"name", "url", "driver", "ca_file", "insecure", "default_datacenter", "region_aliases", *OVN_KEYS,
             *MONITOR_KEYS}
    for key in raw:
        if key not in known:
            raise ConfigError(f"{where}.{key}: unknown setting (known: {', '.join(sorted(known))})")
    for key in ("name", "url"):
        if not isinstance(raw.get(key), str) or not raw[key].strip():
            raise ConfigError(f"{where}.{key}: required, a non-empty string")
    url = urlsplit(raw["url"])
    if url.scheme not in ("http", "https") or not url.hostname:
        raise ConfigError(f"{where}.url: must be an http(s) URL of the engine API, got {raw['url']!r}")
    ca_file = raw.get("ca_file") or None
    if ca_file is not None and not Path(ca_file).expanduser().is_file():
        raise ConfigError(f"{where}.ca_file: no such file {ca_file!r}")
    aliases = raw.get("region_aliases", {})
    if not isinstance(aliases, dict) or not all(isinstance(v, str) for v in aliases.values()):
        raise ConfigError(f"{where}.region_aliases: must be a table of region name -> data center")
    return ProviderConfig(
        **_parse_ovn(where, raw),
        **_parse_monitor(where, raw),
        name=raw["name"].strip(),
        url=raw["url"].strip(),
        driver=_parse_str(f"{where}.driver", raw.get("driver", "ovirt")),
        ca_file=ca_file,
        insecure=_parse_bool(f"{where}.insecure", raw.get("insecure", False)),
        default_datacenter=raw.get("default_datacenter") or None,
        region_aliases=dict(aliases),
    )


def _apply(config: Config, data: Mapping[str, Any]) -> Config:
    changes: dict[str, Any] = {}
    for section, body in data.items():
        if section == "default_provider":
            changes["default_provider"] = _parse_str("default_provider", body)
            continue
        if section not in SECTIONS:
            raise ConfigError(f"{section}: unknown section (known: {', '.join(sorted(SECTIONS))}, default_provider)")
        if section == "providers":
            if not isinstance(body, list):
                raise ConfigError("providers: must be an array of tables ([[providers]])")
            changes["providers"] = tuple(_parse_provider(i, p) for i, p in enumerate(body))
            continue
        if not isinstance(body, dict):
            raise ConfigError(f"{section}: must be a table")
        for key, value in body.items():
            if (section, key) not in SETTINGS:
                raise ConfigError(f"{section}.{key}: unknown setting")
            attr, parse = SETTINGS[(section, key)]
            changes[attr] = parse(f"{section}.{key}", value)
    return replace(config, **changes)


def _environment_overrides(environ: Mapping[str, str]) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for (section, key) in SETTINGS:
        name = f"CLOUDGW_{section.upper()}_{key.upper()}"
        if name in environ:
            data.setdefault(section, {})[key] = environ[name]
    if "CLOUDGW_DEFAULT_PROVIDER" in environ:
        data["default_provider"] = environ["CLOUDGW_DEFAULT_PROVIDER"]
    return data


def validate(config: Config) -> Config:
    """Cross-setting checks; returns the config with the default provider settled."""
    names = [p.name for p in config.providers]
    if len(set(names)) != len(names):
        raise ConfigError("providers: two providers share a name")
    if config.providers:
        if config.default_provider is None:
            config = replace(config, default_provider=config.providers[0].name)
        config.provider(config.default_provider)
    elif config.default_provider is not None:
        raise ConfigError(f"default_provider: no provider named '{config.default_provider}'")
    if config.store_url and "://" not in config.store_url:
        raise ConfigError(f"store.url: must be an SQLAlchemy URL such as postgresql+psycopg://..., got {config.store_url!r}")
    return config


def load(path: str | os.PathLike[str] | None = None, environ: Mapping[str, str] | None = None,
         **overrides: Any) -> Config:
    """Defaults, then the file at `path` (if any), then CLOUDGW_* variables, then explicit overrides."""
    environ = os.environ if environ is None else environ
    config = Config()
    if path is not None:
        try:
            with open(path, "rb") as handle:
                data = tomllib.load(handle)
        except FileNotFoundError:
            raise ConfigError(f"config: no such file {str(path)!r}") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"config: {path} is not valid TOML: {exc}") from None
        config = _apply(config, data)
    config = _apply(config, _environment_overrides(environ))
    config = replace(config, **{k: v for k, v in overrides.items() if v is not None})
    return validate(config)
