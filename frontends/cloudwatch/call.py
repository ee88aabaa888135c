"""One CloudWatch call as actions see it: who asks (scope, access key), the parsed parameters, the gateway."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gateway.driver import Driver
from gateway.scope import Scope

from .errors import missing


@dataclass
class Call:
    action: str
    params: dict[str, Any]
    scope: Scope
    driver: Driver
    gateway: Any  # gateway.app.Gateway: actions read .store, .metric_store, .config
    region: str
    access_key: str
    request_id: str = ""
    visible_instances: set[str] | None = field(default=None, repr=False)  # series.caller_instance_ids' cache

    @property
    def owner(self) -> str:
        """The store key of this identity on this provider: PutMetricData's series and alarms live under it."""
        return self.scope.owner_key

    @property
    def metric_scopes(self) -> list[str]:
        """Whose series the caller reads: the provider's sampled ones and its own."""
        return [self.scope.provider.name, self.owner]

    def get(self, name: str, default: Any = None) -> Any:
        value = self.params.get(name)
        return default if value is None else value

    def need(self, name: str) -> Any:
        value = self.params.get(name)
        if value is None or value == "" or value == []:
            raise missing(name)
        return value
