"""Who is asking and against what: credentials plus provider (engine, data center, API level).

Deltacloud's convention is kept: `X-Deltacloud-Provider: <engine API URL>;<data center id or name>[;user]`.
The engine must be in the configuration's allow-list: any other URL is refused here, before anything
could contact it (no server-side request forgery). A configured provider may also be named by its name.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

from .config import Config, ProviderConfig, normalize_engine_url
from .errors import ProviderRefused

PROVIDER_HEADER = "X-Deltacloud-Provider"


@dataclass(frozen=True)
class Credentials:
    """The backend identity a request acts as (oVirt user name and password)."""

    username: str
    password: str

    def __repr__(self) -> str:  # never print a password into a log
        return f"Credentials(username={self.username!r})"


@dataclass(frozen=True)
class ProviderChoice:
    """Which engine and data center a request is about, and whether it uses oVirt's user-level API."""

    provider: ProviderConfig
    datacenter: str | None
    user_level: bool = False


@dataclass(frozen=True)
class Scope:
    """Everything a driver call needs to know about the caller. Passed first to every driver call."""

    provider: ProviderConfig
    datacenter: str | None
    credentials: Credentials
    user_level: bool = False
    request_id: str = ""

    @property
    def owner_key(self) -> str:
        """Stable key of (engine, identity) under which the store keeps key pairs, tags and tokens."""
        return f"{self.provider.name}|{self.credentials.username}"

    @property
    def cache_key(self) -> str:
        """Key for per-identity caches: includes a digest of the password so a changed password is a new entry."""
        digest = hashlib.sha256(self.credentials.password.encode()).hexdigest()[:16]
        return f"{self.provider.normalized_url()}|{self.credentials.username}|{digest}|{self.user_level}"


def find_provider(config: Config, engine: str) -> ProviderConfig:
    """The configured provider with this engine URL (or name); refuse anything else without contacting it."""
    wanted = normalize_engine_url(engine) if "://" in engine else None
    for provider in config.providers:
        if provider.name == engine or (wanted is not None and provider.normalized_url() == wanted):
            return provider
    shown = engine if len(engine) <= 200 else engine[:200] + "..."
    raise ProviderRefused(f"The provider '{shown}' is not one this gateway is configured to use")


def default_provider(config: Config) -> ProviderConfig:
    if not config.providers or config.default_provider is None:
        raise ProviderRefused("No provider is configured and the request names none")
    return config.provider(config.default_provider)


def choose_provider(config: Config, header: str | None, region: str | None = None) -> ProviderChoice:
    """Resolve the provider from the X-Deltacloud-Provider header, else an EC2 region, else the default.

    The region (from an EC2 signature's credential scope) is a data-center name or one of the provider's
    configured aliases (`us-east-1 -> Default`).
    """
    if header is not None and header.strip():
        parts = [p.strip() for p in header.split(";")]
        if len(parts) > 3 or (len(parts) == 3 and parts[2] not in ("user", "admin", "")):
            raise ProviderRefused(
                f"{PROVIDER_HEADER} must be '<engine URL>;<data center>[;user]', got '{header[:200]}'")
        provider = find_provider(config, parts[0])
        datacenter = parts[1] if len(parts) > 1 and parts[1] else provider.default_datacenter
        return ProviderChoice(provider, datacenter, user_level=len(parts) == 3 and parts[2] == "user")
    provider = default_provider(config)
    if region:
        return ProviderChoice(provider, provider.region_aliases.get(region, region))
    return ProviderChoice(provider, provider.default_datacenter)
