"""The `cloudgw` command: serve, simulator, credentials, operations, doctor, config check.

`cloudgw serve` with no configured provider is the embedded default: it starts the oVirt simulator on
its own port, points the gateway at it, makes sure the demo EC2 key exists, and prints how to use it.
"""
from __future__ import annotations

import importlib
import json
import logging
import runpy
import signal
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable

import click
import sqlalchemy as sa

from . import config as config_module
from .config import Config, ProviderConfig, hide_password
from .errors import AlreadyExists, ConfigError, InvalidState, NotFound, SecretsUnreadable, innermost_reason
from .operations import STATES, Operation, OperationKind, OperationRunner
from .scope import Credentials
from .store import UNREADABLE_SECRETS, Store

DEMO_ACCESS_KEY = "cloudgw-demo"
DEMO_SECRET_KEY = "cloudgw-demo-secret"
DEMO_USER, DEMO_PASSWORD = "admin@internal", "admin"
SIMULATOR_MODULE = "drivers.ovirt.simulator.server"
EMBEDDED_PROVIDER = "simulator"
GUNICORN_CONFIG = Path(__file__).resolve().parent / "gunicorn_conf.py"


def _load(config_path: str | None, data_dir: str | None, **overrides: Any) -> Config:
    try:
        return config_module.load(config_path, data_dir=data_dir, **overrides)
    except ConfigError as exc:
        raise click.ClickException(f"configuration: {exc}") from None


@contextmanager
def store_errors_in_one_line(cfg: Config) -> Iterator[None]:
    """What goes wrong with the store (a key that cannot read its secrets, a database that does not answer,
    a newer schema) ends the command with one line and exit status 1, never a stack trace."""
    store_log = logging.getLogger("cloudgw.store")
    quiet = logging.NullHandler()  # the store's own log line would repeat this command's one line
    store_log.addHandler(quiet)
    store_log.propagate = False
    try:
        yield
    except ConfigError as exc:
        raise click.ClickException(f"configuration: {exc}") from None
    except SecretsUnreadable:
        raise click.ClickException("configuration: " + UNREADABLE_SECRETS.format(
            path=cfg.effective_secret_key_file)) from None
    except sa.exc.SQLAlchemyError as exc:
        raise click.ClickException(f"store: cannot use {hide_password(cfg.effective_store_url)} "
                                   f"({innermost_reason(exc)})") from None
    finally:
        store_log.removeHandler(quiet)
        store_log.propagate = True


def existing_store(cfg: Config) -> Store:
    """The store an operator command reads or changes, which must exist already: a mistyped --data-dir would
    otherwise get a new empty store (and a new secret key) and report "nothing there"."""
    key_file = cfg.effective_secret_key_file
    url = sa.engine.make_url(cfg.effective_store_url)
    database = Path(url.database) if url.drivername.startswith("sqlite") and url.database else None
    if database is not None and database.name != ":memory:":  # a database server answers for itself
        if not database.exists():
            raise click.ClickException(f"store: no store at {database} (is --data-dir or store.url right?)")
        if not key_file.exists():
            raise click.ClickException(f"configuration: store.secret_key_file: no key at {key_file} "
                                       "(is --data-dir or store.secret_key_file right?)")
    return Store.from_config(cfg)


def common_options(func: Callable[..., Any]) -> Callable[..., Any]:
    func = click.option("--data-dir", type=click.Path(file_okay=False), default=None,
                        help="Where the store and secret key live (default ./data).")(func)
    return click.option("--config", "config_path", type=click.Path(dir_okay=False), default=None,
                        help="A cloudgw.toml file (every setting: gateway/cloudgw.toml).")(func)


@click.group()
def main() -> None:
    """cloudgw: EC2, DMTF CIMI and Deltacloud APIs over oVirt."""


def embedded_provider(api_url: str) -> ProviderConfig:
    """The simulator's engine, with the OVN network provider it serves beside it (see its ovn_api)."""
    base = api_url.removesuffix("/ovirt-engine/api")
    return ProviderConfig(name=EMBEDDED_PROVIDER, url=api_url, default_datacenter="Default",
                          region_aliases={"us-east-1": "Default"},
                          monitor_with_ec2_credentials=True,  # the demo key acts as the simulator's admin
                          ovn_url=f"{base}/ovirt-provider-ovn/neutron/v2.0",
                          ovn_auth_url=f"{base}/ovirt-provider-ovn/keystone/v2.0")


def ensure_demo_credential(store: Store) -> None:
    try:
        store.create_credential(DEMO_USER, DEMO_PASSWORD, access_key=DEMO_ACCESS_KEY, secret_key=DEMO_SECRET_KEY,
                                description="embedded default demo key")
    except AlreadyExists:
        pass


def _start_simulator(host: str, port: int, speed: float, control: bool) -> Any:
    simulator_module = importlib.import_module(SIMULATOR_MODULE)
    simulator = simulator_module.Simulator(speed=speed, control_api=control)
    return simulator_module.serve_in_thread(simulator, host=host, port=port)


def _banner(cfg: Config, base: str, frontends: list[str], simulator: Any | None) -> str:
    lines = [f"cloudgw listening on {base}"]
    if simulator is not None:
        lines.append(f"  oVirt simulator (embedded default): {simulator.api_url}")
    endpoints = {"ec2": f"EC2 Query API:   {base}/ec2/ and {base}/",
                 "cimi": f"DMTF CIMI:       {base}/cimi/cloudEntryPoint",
                 "deltacloud": f"Deltacloud REST: {base}/api",
                 "cloudwatch": f"CloudWatch:      {base}/ (SigV4 service monitoring)",
                 "console": f"web console:     {base}/console"}
    lines += [f"  {endpoints[name]}" for name in frontends]
    lines.append(f"  health:          {base}/healthz  {base}/readyz")
    if cfg.metrics_enabled:
        lines.append(f"  metrics:         {base}/metrics")
    if simulator is not None:
        lines += [
            "Demo credentials:",
            f"  oVirt user (CIMI, Deltacloud, HTTP Basic, the console): {DEMO_USER} / {DEMO_PASSWORD}",
            f"  EC2 access key: {DEMO_ACCESS_KEY}   secret: {DEMO_SECRET_KEY}   region: us-east-1 (= Default)",
            "Try:",
            f"  curl -u {DEMO_USER}:{DEMO_PASSWORD} {base}/api/instances?format=json",
            f"  curl -u {DEMO_USER}:{DEMO_PASSWORD} -H 'Accept: application/json' {base}/cimi/cloudEntryPoint",
            f"  AWS_ACCESS_KEY_ID={DEMO_ACCESS_KEY} AWS_SECRET_ACCESS_KEY={DEMO_SECRET_KEY} "
            f"aws --region us-east-1 --endpoint-url {base}/ ec2 describe-instances",
        ]
    return "\n".join(lines)


@main.command()
@common_options
@click.option("--host", default=None, help="Address to listen on (default 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Gateway port (default 3001).")
@click.option("--simulator-port", type=int, default=None, help="Embedded simulator port (default 3002; 0 = any).")
@click.option("--simulator-speed", type=float, default=None,
              help="Factor that shortens the simulated engine's transition times (default 1).")
@click.option("--simulator-control", is_flag=True, help="Enable the simulator's fault-injection/clock API.")
@click.option("--gunicorn-config", type=click.Path(dir_okay=False), default=str(GUNICORN_CONFIG),
              show_default=True, help="gunicorn settings used when real engines are configured.")
def serve(config_path: str | None, data_dir: str | None, host: str | None, port: int | None,
          simulator_port: int | None, simulator_speed: float | None, simulator_control: bool,
          gunicorn_config: str) -> None:
    """Run the gateway: under gunicorn for configured engines, else on the embedded oVirt simulator."""
    cfg = _load(config_path, data_dir, host=host, port=port, simulator_port=simulator_port,
                simulator_speed=simulator_speed)
    simulator = None
    if not cfg.providers or cfg.simulator:
        simulator = _start_simulator(cfg.host, cfg.simulator_port, cfg.simulator_speed, simulator_control)
        cfg = cfg.with_changes(providers=cfg.providers + (embedded_provider(simulator.api_url),))
        cfg = cfg.with_changes(default_provider=cfg.default_provider or EMBEDDED_PROVIDER)
    if simulator is None:
        _serve_with_gunicorn(cfg, gunicorn_config)
        return
    _serve_embedded(cfg, simulator)


def _request_handler() -> type:
    """werkzeug's handler, minus its own `Server` header and access log: the frontends set their own
    Server header (Deltacloud's), and the app logs every request with its request id already."""
    from werkzeug.serving import WSGIRequestHandler

    class GatewayRequestHandler(WSGIRequestHandler):
        def send_response(self, code: int, message: str | None = None) -> None:
            self.send_response_only(code, message)
            self.send_header("Date", self.date_time_string())

        def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
            pass

    return GatewayRequestHandler


def _serve_embedded(cfg: Config, simulator: Any) -> None:
    """One process: the simulator's thread and a threaded HTTP server for the gateway."""
    from werkzeug.serving import make_server

    from .app import create_app, current_gateway
    try:
        app = create_app(cfg)
    except ConfigError as exc:
        simulator.shutdown()
        raise click.ClickException(f"configuration: {exc}") from None
    with app.app_context():
        gateway = current_gateway()
        ensure_demo_credential(gateway.store)
    server = make_server(cfg.host, cfg.port, app, threaded=True, request_handler=_request_handler())
    click.echo(_banner(cfg, f"http://{cfg.host}:{server.server_port}", gateway.frontends, simulator))
    sys.stdout.flush()

    def stop(_signum: int, _frame: Any) -> None:
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        server.serve_forever()
    finally:
        gateway.close()
        simulator.shutdown()
        click.echo("cloudgw stopped")


def _serve_with_gunicorn(cfg: Config, gunicorn_config: str) -> None:
    """Production: gunicorn with gateway/gunicorn_conf.py, each worker building its own app from `cfg`."""
    from gunicorn.app.base import BaseApplication

    from .app import create_app
    if not Path(gunicorn_config).is_file():
        raise click.ClickException(f"--gunicorn-config: no such file {gunicorn_config!r}")
    with store_errors_in_one_line(cfg):  # in the master, once: not in every worker's stack trace
        store = Store.from_config(cfg)
        try:
            store.check_secrets(cfg.effective_secret_key_file)
        finally:
            store.close()

    class CloudgwApplication(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            settings = runpy.run_path(gunicorn_config)
            for key, value in settings.items():
                if key in self.cfg.settings and key != "wsgi_app" and value is not None:
                    self.cfg.set(key, value)
            self.cfg.set("bind", [f"{cfg.host}:{cfg.port}"])

        def load(self) -> Any:
            return create_app(cfg)

    click.echo(_banner(cfg, f"http://{cfg.host}:{cfg.port}", list(cfg.frontends), None))
    sys.stdout.flush()
    CloudgwApplication().run()


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=3002, show_default=True)
@click.option("--speed", type=float, default=1.0, show_default=True, help="Transition-time speed factor.")
@click.option("--vms", type=int, default=0, show_default=True, help="Seed this many extra VMs (scale tests).")
@click.option("--seed", type=click.Path(exists=True, dir_okay=False), default=None, help="Seed data file.")
@click.option("--control", is_flag=True, help="Enable the fault-injection/clock control API.")
@click.option("--list-cost-ms", type=float, default=0.0, show_default=True,
              help="Real milliseconds a VM listing costs per VM it answers (a real engine's pace; benchmarks).")
def simulator(host: str, port: int, speed: float, vms: int, seed: str | None, control: bool,
              list_cost_ms: float) -> None:
    """Run the oVirt Engine API v4 simulator alone."""
    importlib.import_module(SIMULATOR_MODULE).run(host=host, port=port, speed=speed, vms=vms, seed_path=seed,
                                                  control_api=control, list_cost_ms=list_cost_ms)


@main.group()
def credentials() -> None:
    """Manage EC2 access keys (each acts as an oVirt user)."""


@credentials.command("create")
@common_options
@click.option("--user", "username", required=True, help="oVirt user, e.g. admin@internal.")
@click.option("--password", prompt=True, hide_input=True, help="That user's oVirt password.")
@click.option("--access-key", default=None, help="Access key id (generated if omitted).")
@click.option("--secret-key", default=None, help="Secret key (generated if omitted).")
@click.option("--provider", default=None, help="Default provider for this key.")
@click.option("--description", default="")
def credentials_create(config_path: str | None, data_dir: str | None, username: str, password: str,
                       access_key: str | None, secret_key: str | None, provider: str | None,
                       description: str) -> None:
    """Create an access key; the secret is printed once."""
    cfg = _load(config_path, data_dir)
    if provider is not None and provider not in {p.name for p in cfg.providers} | {EMBEDDED_PROVIDER}:
        raise click.ClickException(f"--provider: no provider named '{provider}' in the configuration")
    try:
        with store_errors_in_one_line(cfg):
            store = Store.from_config(cfg)
            store.check_secrets(cfg.effective_secret_key_file)  # a key no other process could read: refuse
            created = store.create_credential(username, password, access_key=access_key, secret_key=secret_key,
                                              provider=provider, description=description)
    except AlreadyExists:
        raise click.ClickException(f"access key '{access_key}' exists already") from None
    click.echo(f"access key: {created.access_key}\nsecret key: {created.secret_key}\noVirt user: {username}")


@credentials.command("list")
@common_options
def credentials_list(config_path: str | None, data_dir: str | None) -> None:
    """List access keys (never their secrets)."""
    cfg = _load(config_path, data_dir)
    with store_errors_in_one_line(cfg):
        found = existing_store(cfg).credentials()
    for c in found:
        click.echo(f"{c.access_key}\t{c.username}\t{c.provider or '-'}\t{c.description}")


@credentials.command("delete")
@common_options
@click.argument("access_key")
def credentials_delete(config_path: str | None, data_dir: str | None, access_key: str) -> None:
    """Delete an access key."""
    cfg = _load(config_path, data_dir)
    with store_errors_in_one_line(cfg):
        deleted = existing_store(cfg).delete_credential(access_key)
    if not deleted:
        raise click.ClickException(f"no access key '{access_key}'")
    click.echo(f"deleted {access_key}")


@main.group()
def operations() -> None:
    """See and act on durable operations (multi-step work such as starting a new instance).

    They live in the store, so these commands work on a running gateway's operations from any host
    that shares its store and secret key.
    """


def _runner(cfg: Config) -> tuple[OperationRunner, dict[str, OperationKind]]:
    """A runner on the configured store (never started here) and the operation kinds of the drivers."""
    from .driver import driver_class

    store = existing_store(cfg)
    runner = OperationRunner(store, lease_seconds=cfg.operation_lease_seconds)
    kinds: dict[str, OperationKind] = {}
    for name in sorted({p.driver for p in cfg.providers} or {"ovirt"}):
        kinds.update({k.name: k for k in driver_class(name)(cfg, store, runner).operation_kinds()})
    return runner, kinds


def _act_on_operation(config_path: str | None, data_dir: str | None,
                      act: Callable[[OperationRunner], Operation]) -> Operation:
    """`act` on the configured store's runner; an unknown operation or a state that forbids it is one line."""
    cfg = _load(config_path, data_dir)
    with store_errors_in_one_line(cfg):
        runner, _ = _runner(cfg)
        try:
            return act(runner)
        except (NotFound, InvalidState) as exc:
            raise click.ClickException(exc.message) from None


def _when(stamp: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(stamp))


def _age(seconds: float) -> str:
    """`45s`, `12m3s`, `5h20m`, `2d4h`."""
    seconds = max(0, int(seconds))
    if seconds >= 86400:
        return f"{seconds // 86400}d{seconds % 86400 // 3600}h"
    if seconds >= 3600:
        return f"{seconds // 3600}h{seconds % 3600 // 60}m"
    return f"{seconds // 60}m{seconds % 60}s" if seconds >= 60 else f"{seconds}s"


@operations.command("list")
@common_options
@click.option("--state", type=click.Choice(STATES), default=None, help="Only operations in this state.")
@click.option("--kind", default=None, help="Only operations of this kind (e.g. ovirt.run, ovirt.terminate).")
@click.option("--limit", type=click.IntRange(1, 100000), default=100, show_default=True,
              help="Show at most this many (the newest).")
def operations_list(config_path: str | None, data_dir: str | None, state: str | None, kind: str | None,
                    limit: int) -> None:
    """List operations, oldest first: id, kind, state, step, attempts, age, target, last error."""
    cfg = _load(config_path, data_dir)
    with store_errors_in_one_line(cfg):
        runner, _ = _runner(cfg)
        found = runner.find(state=state, kind=kind, limit=limit)
    if not found:
        click.echo("no operations" + (f" in state {state}" if state else "") + (f" of kind {kind}" if kind else ""))
        return
    now = time.time()
    click.echo("ID\tKIND\tSTATE\tSTEP\tATTEMPTS\tAGE\tTARGET\tLAST ERROR")
    for op in found:
        error = (op.last_error or "-").splitlines()[0][:80]
        click.echo(f"{op.id}\t{op.kind}\t{op.state}\t{op.step}\t{op.attempts}\t{_age(now - op.created)}\t"
                   f"{op.target or '-'}\t{error}")


@operations.command("show")
@common_options
@click.argument("operation_id")
def operations_show(config_path: str | None, data_dir: str | None, operation_id: str) -> None:
    """Show one operation: its steps, data, attempts, last error and lease (never its credentials)."""
    cfg = _load(config_path, data_dir)
    with store_errors_in_one_line(cfg):
        runner, kinds = _runner(cfg)
        op = runner.get(operation_id)
    if op is None:
        raise click.ClickException(f"no operation '{operation_id}'")
    click.echo(_describe(op, kinds.get(op.kind)))


def _describe(op: Operation, kind: OperationKind | None) -> str:
    steps = list(kind.steps) if kind is not None else []
    if op.step in steps:
        marks = [f"[{s}]" if s == op.step else s for s in steps]
        position = f"{op.step} (step {steps.index(op.step) + 1} of {len(steps)}: {' -> '.join(marks)})"
    else:
        position = op.step
    lease = (f"held by {op.lease_owner} until {_when(op.lease_until)}"
             if op.lease_owner and op.lease_until is not None else "free")
    lines = [f"id:          {op.id}", f"kind:        {op.kind}", f"state:       {op.state}",
             f"step:        {position}", f"target:      {op.target or '-'}", f"owner:       {op.owner or '-'}",
             f"attempts:    {op.attempts}", f"last error:  {op.last_error or '-'}",
             f"created:     {_when(op.created)}", f"updated:     {_when(op.updated)}",
             f"due:         {_when(op.due_at)}" if not op.finished else "due:         - (ended)",
             f"lease:       {lease}",
             f"credentials: {'kept (encrypted)' if op.secret is not None else 'none'}",
             "data:        " + json.dumps(op.data, indent=2, sort_keys=True).replace("\n", "\n             ")]
    return "\n".join(lines)


@operations.command("retry")
@common_options
@click.argument("operation_id")
def operations_retry(config_path: str | None, data_dir: str | None, operation_id: str) -> None:
    """Run a failed operation again from the step that failed (attempts reset; a gateway's worker picks it
    up within its poll interval). Fix what made it fail first: `show` tells the last error."""
    op = _act_on_operation(config_path, data_dir, lambda runner: runner.retry(operation_id))
    click.echo(f"operation {op.id} is pending again at step {op.step}")


@operations.command("cancel")
@common_options
@click.argument("operation_id")
def operations_cancel(config_path: str | None, data_dir: str | None, operation_id: str) -> None:
    """Cancel a pending or running operation: it fails at once as "cancelled by an operator".

    No further step runs. A step a worker is running right now finishes in the engine (it cannot be
    interrupted safely), but its outcome is not recorded: check the target (`show` names it), e.g. a
    new VM that was created but will not be started. `retry` resumes a cancelled operation.
    """
    op = _act_on_operation(config_path, data_dir, lambda runner: runner.cancel(operation_id))
    click.echo(f"operation {op.id} cancelled at step {op.step} (target {op.target or '-'})")


@main.command()
@click.option("--config", "config_path", type=click.Path(dir_okay=False), default=None,
              help="The cloudgw.toml file to check (the gateway's own).")
@click.option("--data-dir", type=click.Path(file_okay=False), default=None,
              help="Where the store and secret key live (default ./data).")
@click.option("--user", default=None, help="Also log in to each engine as this oVirt user (e.g. admin@internal).")
@click.option("--password", default=None, help="That user's password (prompted for when --user is given "
                                                "without it).")
def doctor(config_path: str | None, data_dir: str | None, user: str | None, password: str | None) -> None:
    """Check each configured engine and the store, and say in plain words what is wrong.

    Per engine: reachable, TLS certificate valid, credentials accepted (--user, and the oVirt user behind
    every EC2 key bound to it), API version. The store: opens, schema version, secret key reads its
    secrets. Reads only. Exit status 0 when all is well, 1 when something is wrong.
    """
    from . import doctor as checks

    cfg = _load(config_path, data_dir)
    if user is not None and password is None:
        password = click.prompt(f"password of {user}", hide_input=True)
    problems = 0
    store_findings, identities = checks.check_store(cfg)
    if not cfg.providers:
        click.echo("engines: none configured (`cloudgw serve` would run the embedded oVirt simulator)")
    for provider, findings in checks.check_engines(cfg, Credentials(user, password or "") if user else None,
                                                   identities):
        click.echo(f"engine {provider.name} ({provider.url})")
        for finding in findings:
            click.echo(finding.line())
        problems += sum(not f.ok for f in findings)
    click.echo("store")
    for finding in store_findings:
        click.echo(finding.line())
    problems += sum(not f.ok for f in store_findings)
    if problems:
        click.echo(f"{problems} problem{'s' if problems > 1 else ''} found")
        sys.exit(1)
    click.echo("no problems found")


@main.group("config")
def config_group() -> None:
    """Inspect the configuration."""


@config_group.command("check")
@common_options
def config_check(config_path: str | None, data_dir: str | None) -> None:
    """Validate a configuration file and say what is wrong."""
    cfg = _load(config_path, data_dir)
    providers = ", ".join(f"{p.name} ({p.url})" for p in cfg.providers) or "none (embedded simulator)"
    click.echo(f"configuration OK\n  providers: {providers}\n  default provider: {cfg.default_provider or '-'}"
               f"\n  store: {hide_password(cfg.effective_store_url)}\n  frontends: {', '.join(cfg.frontends)}"
               f"\n  data dir: {Path(cfg.data_dir).expanduser()}")


if __name__ == "__main__":
    main()
