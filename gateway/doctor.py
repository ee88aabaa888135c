"""`cloudgw doctor`: check each configured engine and the store, and say in plain words what is wrong.

For each engine: can it be reached, is its TLS certificate valid (for https), are credentials accepted
(the `--user` given, and the oVirt identity behind every EC2 key bound to that engine), and which API
version its root reports. For the store: can it be opened, which schema version it holds, and whether the
secret key can read the secrets in it. Nothing is written: the checks only read.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import requests
import sqlalchemy as sa
from cryptography.fernet import Fernet, InvalidToken

from .config import Config, ProviderConfig, hide_password
from .driver import Driver, driver_class
from .errors import AuthFailure, GatewayError, innermost_reason
from .schema import SCHEMA_VERSION, credentials_table, meta_table
from .operations import OperationRunner
from .scope import Credentials, Scope
from .store import Store

CA_HINT = ("set the provider's ca_file to the engine's CA certificate (served by the engine at "
           "/ovirt-engine/services/pki-resource?resource=ca-certificate&format=X509-PEM-CA)")


@dataclass(frozen=True)
class Finding:
    """One check's result: what was checked, whether it is fine, and what to tell the operator."""

    subject: str
    ok: bool
    message: str

    def line(self) -> str:
        return f"  {'ok     ' if self.ok else 'PROBLEM'} {self.subject}: {self.message}"


def reachability(provider: ProviderConfig, config: Config) -> Iterator[Finding]:
    """Connect to the engine's API URL without credentials: any HTTP answer below 500 means it is there."""
    verify = provider.tls_verify
    host = requests.utils.urlparse(provider.url).netloc
    started = time.perf_counter()
    try:
        response = requests.get(provider.url, verify=verify, allow_redirects=False,
                                timeout=(config.engine_connect_timeout, config.engine_read_timeout))
    except requests.exceptions.SSLError as exc:
        yield Finding("TLS", False,
                      f"the certificate of {host} is not valid here ({innermost_reason(exc)}); {CA_HINT}")
        return
    except requests.exceptions.Timeout:
        yield Finding("reachable", False, f"{host} did not answer within {config.engine_connect_timeout:g} s "
                                          "(a firewall, or the wrong host?)")
        return
    except requests.exceptions.ConnectionError as exc:
        yield Finding("reachable", False, f"cannot connect to {host} ({innermost_reason(exc)}): is the engine "
                                          "running and the provider's url right?")
        return
    elapsed = (time.perf_counter() - started) * 1000
    if response.status_code >= 500:
        yield Finding("reachable", False, f"{host} answered HTTP {response.status_code}: the engine is not "
                                          "working (see its engine.log)")
        return
    yield Finding("reachable", True, f"{host} answered HTTP {response.status_code} in {elapsed:.0f} ms")
    if provider.url.startswith("https://"):
        yield Finding("TLS", not provider.insecure,
                      "certificate not checked: insecure = true (never in production)" if provider.insecure
                      else "certificate valid")


def credentials_and_version(driver: Driver, provider: ProviderConfig,
                            identities: list[tuple[str, Credentials]]) -> Iterator[Finding]:
    """Log in as each identity; the first accepted one reads the API version from the engine's root."""
    if not identities:
        yield Finding("credentials", True, "not checked: give --user (and --password), or create an EC2 key "
                                           "for this provider")
        return
    version: str | None = None
    for origin, credentials in identities:
        scope = Scope(provider=provider, datacenter=provider.default_datacenter, credentials=credentials)
        subject = f"credentials of {credentials.username} ({origin})"
        try:
            found = driver.engine_version(scope)
        except AuthFailure as exc:
            yield Finding(subject, False, f"refused by the engine: {exc.message}")
            continue
        except GatewayError as exc:
            yield Finding(subject, False, f"could not be checked: {exc.message}")
            continue
        yield Finding(subject, True, "accepted")
        version = version or found
    if version is not None:
        yield Finding("API version", True, version)


def check_engines(config: Config, user: Credentials | None,
                  store_identities: dict[str, list[tuple[str, Credentials]]]) -> Iterator[tuple[ProviderConfig,
                                                                                             list[Finding]]]:
    """Each configured provider with its findings."""
    drivers: dict[str, Driver] = {}
    try:
        for provider in config.providers:
            findings = list(reachability(provider, config))
            if all(f.ok for f in findings):
                driver = drivers.get(provider.driver)
                if driver is None:
                    # engine_version writes nothing: a throwaway in-memory store keeps the real one untouched
                    scratch = Store("sqlite://", Fernet.generate_key())
                    driver = drivers[provider.driver] = driver_class(provider.driver)(
                        config, scratch, OperationRunner(scratch))
                identities = ([("--user", user)] if user else []) + store_identities.get(provider.name, [])
                findings += credentials_and_version(driver, provider, identities)
            yield provider, findings
    finally:
        for driver in drivers.values():
            driver.close()


def check_store(config: Config, provider: str | None = None) -> tuple[list[Finding],
                                                                     dict[str, list[tuple[str, Credentials]]]]:
    """Findings about the store, and the oVirt identities of its EC2 keys by provider name (to check); with
    `provider`, only that provider's keys are decrypted and counted (the web console's engines page)."""
    url = config.effective_store_url
    shown = hide_password(url)
    try:
        engine = sa.create_engine(url)
    except (sa.exc.ArgumentError, ImportError) as exc:
        return [Finding("store", False, f"{shown} is not a usable database URL ({innermost_reason(exc)})")], {}
    if url.startswith("sqlite"):
        path = sa.engine.make_url(url).database
        if path and path != ":memory:" and not Path(path).exists():
            return [Finding("store", True, f"{shown} does not exist yet: it is created at the first start")], {}
    try:
        with engine.connect() as conn:
            tables = set(sa.inspect(conn).get_table_names())
            if "meta" not in tables:
                return [Finding("store", True, f"{shown} is empty: the tables are created at the first start")], {}
            version = conn.execute(sa.select(meta_table.c.value).where(meta_table.c.key == "schema_version")).scalar()
            rows = conn.execute(sa.select(credentials_table)).all() if "credentials" in tables else []
    except sa.exc.SQLAlchemyError as exc:
        return [Finding("store", False, f"cannot open {shown} ({innermost_reason(exc)})")], {}
    finally:
        engine.dispose()
    findings = [Finding("store", True, f"{shown} answers, schema version {version}")]
    if version is not None and int(version) > SCHEMA_VERSION:
        findings.append(Finding("schema", False, f"the database's schema version {version} is newer than this "
                                                 f"cloudgw knows ({SCHEMA_VERSION}): upgrade cloudgw"))
    if provider is not None:
        rows = [r for r in rows if (r.provider or config.default_provider or "") == provider]
    key_findings, identities = _secrets(config, rows)
    return findings + key_findings, identities


def _secrets(config: Config, rows: list[sa.Row]) -> tuple[list[Finding], dict[str, list[tuple[str, Credentials]]]]:
    key_file = config.effective_secret_key_file
    try:
        fernet = Fernet(key_file.read_bytes().strip())
    except FileNotFoundError:
        if rows:
            return [Finding("secret key", False, f"{key_file} is missing, but the store holds encrypted secrets: "
                                                 "restore the key every process of this gateway uses")], {}
        return [Finding("secret key", True, f"{key_file} does not exist yet: it is created at the first start")], {}
    except ValueError:
        return [Finding("secret key", False, f"{key_file} does not hold a valid key")], {}
    identities: dict[str, list[tuple[str, Credentials]]] = {}
    try:
        for row in rows:
            password = fernet.decrypt(row.password_enc.encode()).decode()
            provider = row.provider or config.default_provider or ""
            identities.setdefault(provider, []).append((f"EC2 key {row.access_key}",
                                                        Credentials(row.username, password)))
    except InvalidToken:
        return [Finding("secret key", False, f"{key_file} cannot decrypt the stored secrets: was it replaced? "
                                             "Every process sharing this store needs the same key")], {}
    return [Finding("secret key", True, f"{key_file} reads the {len(rows)} stored EC2 keys")], identities
