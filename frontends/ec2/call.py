"""One EC2 call as actions see it: the scope, the driver, the parsed parameters and the store helpers."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gateway.driver import Driver
from gateway.scope import Scope

from .errors import Ec2Error, dry_run_error, missing


@dataclass
class Call:
    action: str
    params: dict[str, Any]
    scope: Scope
    driver: Driver
    gateway: Any  # gateway.app.Gateway (typed loosely: the frontend only reads .store, .config, .key_pairs)
    region: str
    request_id: str = ""
    dry_run_checked: bool = field(default=False)

    @property
    def owner(self) -> str:
        """The store key of this identity on this provider (key pairs, tokens, instance records)."""
        return self.scope.owner_key

    def get(self, name: str, default: Any = None) -> Any:
        value = self.params.get(name)
        return default if value is None else value

    def need(self, name: str) -> Any:
        """A parameter the action needs even where the model leaves it optional."""
        value = self.params.get(name)
        if value is None or value == "" or value == []:
            raise missing(name)
        return value

    def check_dry_run(self) -> None:
        """Called once the request is validated and before anything changes: DryRun answers here."""
        self.dry_run_checked = True
        if self.params.get("DryRun"):
            raise dry_run_error()

    def require(self, capability: str) -> None:
        """Refuse at once what this provider's driver cannot do."""
        if not self.driver.can(capability):
            raise Ec2Error("UnsupportedOperation", f"The provider does not support {self.action}")
