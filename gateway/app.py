"""The app factory: one Gateway (config, store, operations, drivers) and the enabled frontends on it.

Nothing happens at import time. `create_app(config)` builds everything; frontends reach the Gateway
through `current_gateway()` and per-request state (request id, scope) lives in `flask.g`.
"""
from __future__ import annotations

import importlib
import logging
import re
import uuid
from typing import Any, Sequence

from flask import Flask, current_app, g, jsonify, request
from werkzeug.exceptions import HTTPException

from . import memory_release, request_log, request_stats
from .config import Config, ProviderConfig
from .driver import Driver, driver_class
from .errors import AuthFailure, ConfigError, GatewayError
from .housekeeping import Housekeeping
from .keypairs import KeyPairs
from .logs import configure_logging
from .metric_store import MetricStore, Retention
from .operations import OperationRunner
from .metric_points import MetricSink
from .metric_sampler import MetricSampler
from .orphans import Orphans
from .scope import PROVIDER_HEADER, Credentials, ProviderChoice, Scope, choose_provider
from .store import Store

log = logging.getLogger("cloudgw")

FRONTEND_MODULES = {"ec2": "frontends.ec2", "cimi": "frontends.cimi", "deltacloud": "frontends.deltacloud",
                    "cloudwatch": "frontends.cloudwatch", "console": "frontends.console"}
REQUEST_ID_PATTERN = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class Gateway:
    """What every request shares: configuration, store, durable operations and one driver per backend kind."""

    def __init__(self, config: Config, store: Store | None = None) -> None:
        self.config = config
        self.store = store or Store.from_config(config)
        try:
            self.store.check_secrets(config.effective_secret_key_file)
        except ConfigError:
            if store is None:
                self.store.close()
            raise
        self.operations = OperationRunner(
            self.store, lease_seconds=config.operation_lease_seconds, poll_seconds=config.operation_poll_seconds,
            max_attempts=config.operation_max_attempts)
        # Purges run in the operation worker (its first pass at start), after the frontends registered theirs.
        self.housekeeping = Housekeeping(interval=config.housekeeping_seconds)
        self.housekeeping.add("tombstones", lambda: self.store.purge_tombstones(config.tombstone_seconds))
        self.housekeeping.add("operations",
                              lambda: self.operations.purge_finished(config.operation_retention_seconds))
        self.orphans = Orphans(config, self.store, self.driver_for)
        self.housekeeping.add("orphans", self.orphans.run)
        # CloudWatch's data points (the engine sampler writes them, the CloudWatch frontend reads them).
        self.metric_store = MetricStore(self.store, Retention(
            config.cloudwatch_minute_days, config.cloudwatch_five_minute_days, config.cloudwatch_hour_days))
        self.housekeeping.add("metric_points", self.metric_store.roll_up_and_purge)
        # Work paced otherwise than housekeeping (alarm evaluation every minute), each its own Housekeeping.
        self.pacers: list[Housekeeping] = [self.housekeeping]
        self.operations.periodic = self.run_periodic
        self.key_pairs = KeyPairs(self.store)
        self._drivers: dict[str, Driver] = {}
        for provider in config.providers:
            self.driver_for(provider)
        self.frontends: list[str] = []
        self.metric_sampler: MetricSampler | None = None
        self.alarm_evaluator: Any = None  # the cloudwatch frontend's, set when it is served (it changes alarm states)
        self._workers_started = False
        if "cloudwatch" in config.frontends and config.cloudwatch_sampling:
            self.attach_metric_sink(self.metric_store)

    def attach_metric_sink(self, sink: MetricSink) -> MetricSampler:
        """Sample the providers' VM statistics into `sink` (the metric store) every `[cloudwatch] sample_seconds`,
        in a thread of its own (see metric_sampler), running while the workers run."""
        if self.metric_sampler is not None:
            self.metric_sampler.close()
        self.metric_sampler = MetricSampler(self.config, self.store, self.driver_for, sink)
        if self._workers_started:
            self.metric_sampler.start()
        return self.metric_sampler

    def start_workers(self) -> None:
        """The durable-operation worker and, once a metric sink is attached, the metric sampler."""
        self._workers_started = True
        self.operations.start()
        if self.metric_sampler is not None:
            self.metric_sampler.start()

    def run_periodic(self) -> None:
        """One turn of the worker loop's periodic work: each pacer runs its tasks if they are due."""
        for pacer in self.pacers:
            pacer.maybe_run()

    def driver_for(self, provider: ProviderConfig) -> Driver:
        """The shared driver of the provider's backend kind (created once; registers its operation kinds)."""
        driver = self._drivers.get(provider.driver)
        if driver is None:
            driver = driver_class(provider.driver)(self.config, self.store, self.operations)
            for kind in driver.operation_kinds():
                self.operations.register(kind)
            self._drivers[provider.driver] = driver
        return driver

    def scope(self, choice: ProviderChoice, credentials: Credentials) -> Scope:
        request_stats.note_scope(choice.provider.name, choice.datacenter, credentials.username)
        return Scope(provider=choice.provider, datacenter=choice.datacenter, credentials=credentials,
                     user_level=choice.user_level, request_id=getattr(g, "request_id", ""))

    def close(self) -> None:
        if self.metric_sampler is not None:
            self.metric_sampler.close()  # gives its leases back: another process samples the next slot
        self.operations.stop()
        for driver in self._drivers.values():
            driver.close()
        self.store.close()


def current_gateway() -> Gateway:
    return current_app.extensions["cloudgw"]


def request_scope(credentials: Credentials, region: str | None = None) -> Scope:
    """The scope of the current request: X-Deltacloud-Provider, else the EC2 region, else the default."""
    gateway = current_gateway()
    choice = choose_provider(gateway.config, request.headers.get(PROVIDER_HEADER), region)
    return gateway.scope(choice, credentials)


def basic_credentials() -> Credentials | None:
    """HTTP Basic credentials of the current request (CIMI and Deltacloud), or None."""
    auth = request.authorization
    if auth is None or auth.type != "basic" or not auth.username:
        return None
    return Credentials(auth.username, auth.password or "")


def required_basic_credentials(message: str) -> Credentials:
    """HTTP Basic credentials of the current request, or AuthFailure (401) saying `message`."""
    found = basic_credentials()
    if found is None:
        raise AuthFailure(message)
    return found


def methods_routed_elsewhere(methods: Sequence[str], catch_all: str) -> list[str]:
    """Which of `methods` (in that order) an endpoint other than `catch_all` takes at the current path.

    A REST frontend's catch-all route reads it to answer an unknown path (none: 404) apart from a known
    path asked with another method (405, these in `Allow`), both in its own dialect rather than Flask's.
    """
    adapter = current_app.url_map.bind_to_environ(request.environ)
    allowed = []
    for method in methods:
        try:
            endpoint, _ = adapter.match(method=method)
        except HTTPException:  # no rule (404), another method only (405) or a redirect
            continue
        if endpoint != catch_all:
            allowed.append(method)
    return allowed


def create_app(config: Config, *, start_workers: bool = True, store: Store | None = None) -> Flask:
    """Build the WSGI app. `start_workers` starts this process's durable-operation worker thread."""
    configure_logging(config.log_format, config.log_level)
    app = Flask("cloudgw")
    app.config["MAX_CONTENT_LENGTH"] = config.max_body_bytes
    app.json.sort_keys = False
    gateway = Gateway(config, store)
    app.extensions["cloudgw"] = gateway
    _install_request_ids(app)
    observers: list[request_log.RequestObserver] = []
    if config.metrics_enabled:
        from . import metrics  # imported only when enabled: prometheus_client reads its mode at import

        observers.append(metrics.install(app, gateway))
    request_log.install(app, observers)
    _install_health(app)
    for name in config.frontends:
        importlib.import_module(FRONTEND_MODULES[name]).register(app)  # imported lazily: only what is enabled
        gateway.frontends.append(name)
    _install_fallback_errors(app)
    _install_memory_release(app, config.release_memory_seconds)
    if start_workers:
        gateway.start_workers()
    return app


def _install_memory_release(app: Flask, interval: float) -> None:
    """What large listings freed goes back to the system after requests (see memory_release.py)."""
    release = memory_release.system_release() if interval > 0 else None
    if release is not None:
        app.wsgi_app = memory_release.ReleasingApp(  # type: ignore[method-assign]
            app.wsgi_app, memory_release.ReleaseAfterRequests(release, interval))


def _install_request_ids(app: Flask) -> None:
    @app.before_request
    def assign_request_id() -> None:
        incoming = request.headers.get("X-Request-Id", "")
        g.request_id = incoming if REQUEST_ID_PATTERN.match(incoming) else str(uuid.uuid4())

    @app.after_request
    def echo_request_id(response: Any) -> Any:
        request_id = getattr(g, "request_id", None)
        if request_id:
            response.headers["X-Request-Id"] = request_id
            response.headers["x-amzn-RequestId"] = request_id
        return response


def _install_health(app: Flask) -> None:
    @app.get("/healthz")
    def healthz() -> Any:
        return jsonify(status="ok")

    @app.get("/readyz")
    def readyz() -> Any:
        gateway = current_gateway()
        checks: dict[str, str] = {}
        try:
            gateway.store.ping()
            checks["store"] = "ok"
        except Exception as exc:  # any store failure means not ready
            checks["store"] = f"unreachable: {type(exc).__name__}"
        if gateway.config.default_provider:
            provider = gateway.config.provider(gateway.config.default_provider)
            try:
                gateway.driver_for(provider).probe(provider)
                checks["engine"] = "ok"
            except GatewayError as exc:
                checks["engine"] = f"unreachable: {exc.message}"
        ready = all(v == "ok" for v in checks.values())
        return jsonify(status="ready" if ready else "not ready", checks=checks), 200 if ready else 503


def _install_fallback_errors(app: Flask) -> None:
    """Errors outside any frontend's blueprint: JSON, never a stack trace."""

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Any:
        return jsonify(error=exc.name, message=exc.description), exc.code

    @app.errorhandler(GatewayError)
    def gateway_error(exc: GatewayError) -> Any:
        return jsonify(error=type(exc).__name__, message=exc.message), exc.status

    @app.errorhandler(Exception)
    def unexpected(exc: Exception) -> Any:
        log.exception("unhandled error", extra={"request_id": getattr(g, "request_id", None)})
        return jsonify(error="InternalError", message="The gateway failed to handle the request",
                       request_id=getattr(g, "request_id", None)), 500
