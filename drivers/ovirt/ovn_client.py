"""HTTP to an engine's OVN network provider (ovirt-provider-ovn): its Neutron v2.0 API with tokens from its
Identity v2.0 `tokens` endpoint, which accepts the engine user's credentials.

Only the two URLs of the provider entry are ever contacted: the token answer's service catalogue (which
names the provider's own idea of its URL) is not followed, nor are redirects. A token is cached per
identity (engine, user, password digest) and asked for again once on a 401. Neutron's answers map to
gateway errors: 404 NotFound, 409 InUse (or AlreadyExists for a duplicate), 400 InvalidParameter, 401
AuthFailure, 403 Forbidden, anything else BackendError; an unreachable provider is BackendUnavailable.
"""
from __future__ import annotations

import threading
import time
from typing import Any

import requests

from gateway import request_stats
from gateway.config import Config, ProviderConfig
from gateway.errors import (AlreadyExists, AuthFailure, BackendError, BackendUnavailable, Forbidden, InUse,
                            InvalidParameter, NotFound)
from gateway.scope import Scope

KINDS = {"networks": "network", "subnets": "subnet", "ports": "port", "routers": "vpc",
         "security-groups": "security group", "security-group-rules": "security group rule"}


class OvnClient:
    """Requests to one OVN provider, shared by every request of the process."""

    def __init__(self, provider: ProviderConfig, config: Config) -> None:
        assert provider.ovn_url and provider.ovn_identity_url
        self.provider = provider
        self.neutron_url = provider.ovn_url.rstrip("/")
        self.identity_url = provider.ovn_identity_url.rstrip("/")
        self.timeout = (config.engine_connect_timeout, config.engine_read_timeout)
        self.session = requests.Session()
        self.session.verify = provider.ovn_tls_verify
        self.session.trust_env = False  # no proxy from the environment: only the configured hosts
        self._tokens: dict[str, str] = {}
        self._lock = threading.Lock()

    def close(self) -> None:
        self.session.close()

    # --- tokens ---------------------------------------------------------------------------------------
    def _token(self, scope: Scope, fresh: bool = False) -> str:
        with self._lock:
            cached = None if fresh else self._tokens.get(scope.cache_key)
        if cached:
            return cached
        body = {"auth": {"passwordCredentials": {"username": scope.credentials.username,
                                                 "password": scope.credentials.password}}}
        answer = self._send("POST", f"{self.identity_url}/tokens", body, headers={})
        if answer.status_code in (401, 403):
            raise AuthFailure("The network provider refused the credentials")
        data = self._json(answer, "token")
        token = (data.get("access") or {}).get("token", {}).get("id") if isinstance(data, dict) else None
        if not isinstance(token, str) or not token:
            raise BackendError("The network provider's token answer has no token")
        with self._lock:
            self._tokens[scope.cache_key] = token
        return token

    # --- requests -------------------------------------------------------------------------------------
    def request(self, scope: Scope, method: str, path: str, body: Any = None,
                params: dict[str, str] | None = None) -> Any:
        """The JSON answer of `method` on `path` (relative to the Neutron URL); None for an empty answer."""
        url = f"{self.neutron_url}/{path}"
        answer = self._send(method, url, body, headers={"X-Auth-Token": self._token(scope)}, params=params)
        if answer.status_code == 401:
            answer = self._send(method, url, body, headers={"X-Auth-Token": self._token(scope, fresh=True)},
                                params=params)
        if answer.status_code >= 400:
            raise self._error(answer, path)
        return self._json(answer, path) if answer.content else None

    def list(self, scope: Scope, collection: str, **filters: str) -> list[dict[str, Any]]:
        key = collection.replace("-", "_")
        found = (self.request(scope, "GET", collection, params=filters or None) or {}).get(key)
        if not isinstance(found, list):
            raise BackendError(f"The network provider's {collection} answer has no list")
        return [item for item in found if isinstance(item, dict)]

    def create(self, scope: Scope, collection: str, key: str, fields: dict[str, Any]) -> dict[str, Any]:
        created = (self.request(scope, "POST", collection, {key: fields}) or {}).get(key)
        if not isinstance(created, dict) or not created.get("id"):
            raise BackendError(f"The network provider's answer to creating a {KINDS[collection]} has no id")
        return created

    def delete(self, scope: Scope, collection: str, object_id: str) -> None:
        self.request(scope, "DELETE", f"{collection}/{object_id}")

    def _send(self, method: str, url: str, body: Any, headers: dict[str, str],
              params: dict[str, str] | None = None) -> requests.Response:
        started = time.monotonic()
        status = "error"
        try:
            answer = self.session.request(method, url, json=body, headers={"Accept": "application/json", **headers},
                                          params=params, timeout=self.timeout, allow_redirects=False)
            status = str(answer.status_code)
            return answer
        except requests.Timeout as exc:
            raise BackendUnavailable("The network provider did not answer in time", detail=str(exc)) from None
        except requests.RequestException as exc:
            raise BackendUnavailable("The network provider cannot be reached", detail=str(exc)) from None
        finally:
            request_stats.engine_request(method, status, time.monotonic() - started)

    @staticmethod
    def _json(answer: requests.Response, what: str) -> Any:
        try:
            return answer.json()
        except ValueError:
            raise BackendError(f"The network provider answered {what} with something that is not JSON") from None

    @staticmethod
    def _error(answer: requests.Response, path: str) -> Exception:
        try:
            message = str(answer.json()["error"]["message"])
        except (ValueError, KeyError, TypeError):
            message = answer.text[:200]
        collection, _, object_id = path.partition("/")
        kind = KINDS.get(collection, "network object")
        if answer.status_code == 404:
            return NotFound(kind, object_id.partition("/")[0] or collection, message)
        if answer.status_code == 409:
            if "already exists" in message.lower():
                return AlreadyExists(kind, "", message)
            return InUse(message)
        if answer.status_code == 400:
            return InvalidParameter(message)
        if answer.status_code == 401:
            return AuthFailure("The network provider refused the credentials")
        if answer.status_code == 403:
            return Forbidden(message or "The network provider refused the request")
        if answer.status_code in (502, 503, 504):
            return BackendUnavailable(f"The network provider is unavailable (HTTP {answer.status_code})")
        return BackendError(f"The network provider answered HTTP {answer.status_code}", detail=message)
