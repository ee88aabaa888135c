"""Durable multi-step operations: work that oVirt does in several steps, kept in the store.

An operation has a kind (registered by a driver), a target, a current step and a JSON `data` dict that
steps use to pass facts along. A worker loop in every gateway process claims due operations with a
lease (a conditional UPDATE, so two processes sharing a database never run the same operation at
once), runs one step, and records the outcome before releasing the lease. A process killed mid-step
leaves its lease to expire; another (or the restarted) process then runs that step again, so a step
must be safe to repeat: check the backend's state before acting.

`lease_seconds` is how long a dead holder keeps an operation, not how long a step may take: while a step
runs (or a request holds an operation), a heartbeat thread renews the lease every quarter of
`lease_seconds` for three quarters of it, so a step longer than the lease is not taken over and run twice,
and the operations of a process that died are free to take over within 3/4 of `lease_seconds` of its
death (a host killed mid-request does not keep its launches for the engine's whole read timeout). A
lease that has already lapsed is not revived by the heartbeat: another process may be taking it over.

A request that does work itself (creating a VM) can submit the operation already `held` by its process
and run that first step in the request, renewing the lease before each side effect and recording the
step's outcome with `finish`; if the process dies meanwhile, the lease expires and a worker takes the
step over like any other. This is how an idempotency token's in-flight state always has an owner.

A lease belongs to one holder, not to a process: each hold and each claim by the worker gets its own
owner id (the process's `worker_id` plus a suffix), so when a held operation's lease runs out mid-step
and this same process's worker takes it over, the request's late `renew` or `finish` fails as another
process's would, and the worker's record wins.

An operator may `retry` a failed operation (it resumes at the step that failed, with the credentials it
kept) or `cancel` one not yet ended: it fails at once with "cancelled by an operator". A step already
running finishes in the backend (it cannot be interrupted safely), but its outcome is discarded, since
cancelling takes the lease its worker needs to record it, and no further step runs.
"""
from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Protocol

import sqlalchemy as sa

from .errors import GatewayError, InvalidState, NotFound, SecretsUnreadable
from .schema import operations_table as ops
from .store import Store

log = logging.getLogger("cloudgw.operations")

PENDING, RUNNING, DONE, FAILED = "pending", "running", "done", "failed"
ACTIVE_STATES = (PENDING, RUNNING)
STATES = (PENDING, RUNNING, DONE, FAILED)
CANCELLED = "cancelled by an operator"
UNREADABLE_DELAY = 60.0  # seconds an operation whose credentials this process cannot read is left to others
MAX_STEP_SECONDS = 600.0  # the heartbeat keeps a worker's step alive at most this long (a hung step is let go)
HELD_SECONDS = 120.0  # ... and a request's hold, from submission or from a renew without a longer budget


@dataclass
class Operation:
    id: str
    kind: str
    owner: str
    target: str
    step: str
    state: str
    data: dict[str, Any]
    secret: dict[str, Any] | None
    attempts: int
    last_error: str | None
    created: float
    updated: float
    due_at: float
    lease_owner: str | None = None
    lease_until: float | None = None

    @property
    def finished(self) -> bool:
        return self.state in (DONE, FAILED)


# --- what a step answers -----------------------------------------------------------------------
@dataclass
class Next:
    """Go on to `step` (after `delay` seconds), merging `data` into the operation's data."""

    step: str
    data: dict[str, Any] = field(default_factory=dict)
    delay: float = 0.0
    target: str | None = None  # set the operation's target (e.g. the VM a create step made)


@dataclass
class Wait:
    """Run the same step again after `delay` seconds (polling the backend); not a failure."""

    delay: float
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class Done:
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class Fail:
    """Give up for good with a message clients may see."""

    message: str


Outcome = Next | Wait | Done | Fail


class OperationKind(Protocol):
    """A kind of operation: its name, its steps in order (for progress) and how to run one step."""

    name: str
    steps: tuple[str, ...]

    def run_step(self, operation: Operation) -> Outcome: ...


def progress(kind: OperationKind | None, operation: Operation) -> int:
    """Percent done, from the position of the current step among the kind's steps."""
    if operation.state == DONE:
        return 100
    if kind is None or operation.step not in kind.steps:
        return 0
    return int(100 * kind.steps.index(operation.step) / len(kind.steps))


class OperationRunner:
    """Submits, claims and runs durable operations against one store."""

    def __init__(self, store: Store, *, lease_seconds: float = 30.0, poll_seconds: float = 1.0,
                 max_attempts: int = 20, clock: Callable[[], float] = time.time, worker_id: str | None = None) -> None:
        self.store = store
        self.kinds: dict[str, OperationKind] = {}
        self.lease_seconds = lease_seconds
        # Each claim, hold and renewal lasts three quarters of the lease, renewed every quarter while its holder
        # lives: a dead holder's last grant runs out within 3/4 of lease_seconds after it died, leaving the
        # last quarter for another process's poll and claim.
        self.lease_grant = lease_seconds * 0.75
        self.poll_seconds = poll_seconds
        self.max_attempts = max_attempts
        self.clock = clock
        self.worker_id = worker_id or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._holds: dict[str, str] = {}  # held operation id -> the owner id of its hold
        self._holds_lock = threading.Lock()
        self._alive: dict[str, tuple[str, float]] = {}  # id -> (lease owner, monotonic time to stop renewing)
        self._heartbeat: threading.Thread | None = None  # running while _alive is not empty (under _holds_lock)
        # Called on every turn of the worker loop (the gateway's Housekeeping.maybe_run, which paces itself).
        self.periodic: Callable[[], Any] | None = None

    def register(self, kind: OperationKind) -> None:
        self.kinds[kind.name] = kind

    # --- submitting and reading ---------------------------------------------------------------------
    def submit(self, kind: str, *, target: str = "", data: dict[str, Any] | None = None,
               secret: dict[str, Any] | None = None, owner: str = "", step: str | None = None,
               delay: float = 0.0, operation_id: str | None = None, held: bool = False,
               held_seconds: float = HELD_SECONDS) -> Operation:
        """Record a new operation (committed before returning) and wake the local worker.

        `secret` (e.g. the credentials the steps act with) is stored encrypted. A `held` operation starts
        leased to this process, which runs its first step itself and records it with `finish`; the heartbeat
        keeps its lease for `held_seconds` (as `renew` would: the time its first side effect may take).
        """
        return self.submit_many(kind, 1, target=target, data=data, secret=secret, owner=owner, step=step,
                                delay=delay, held=held, operation_ids=[operation_id] if operation_id else None,
                                held_seconds=held_seconds)[0]

    def submit_many(self, kind: str, count: int, *, target: str = "", data: dict[str, Any] | None = None,
                    secret: dict[str, Any] | None = None, owner: str = "", step: str | None = None,
                    delay: float = 0.0, held: bool = False, operation_ids: list[str] | None = None,
                    held_seconds: float = HELD_SECONDS) -> list[Operation]:
        """`count` alike operations recorded in one transaction (see `submit`)."""
        if kind not in self.kinds:
            raise ValueError(f"unknown operation kind {kind!r}")
        now = self.clock()
        secret_enc = self.store.encrypt(json.dumps(secret)) if secret is not None else None
        rows = [dict(id=operation_ids[n] if operation_ids else uuid.uuid4().hex, kind=kind, owner=owner,
                     target=target, step=step or self.kinds[kind].steps[0], state=RUNNING if held else PENDING,
                     data=json.dumps(data or {}), secret_enc=secret_enc, attempts=0, last_error=None,
                     lease_owner=self._new_lease_owner() if held else None,
                     lease_until=now + self.lease_grant if held else None, due_at=now + delay,
                     created=now, updated=now) for n in range(count)]
        if rows:
            with self.store.begin() as conn:
                conn.execute(ops.insert(), rows)
            if held:
                with self._holds_lock:
                    self._holds.update((row["id"], row["lease_owner"]) for row in rows)
                for row in rows:
                    self._keep_alive(row["id"], row["lease_owner"], held_seconds)
        if not held:
            self._wake.set()
        return [self._operation(row) for row in rows]

    def _new_lease_owner(self) -> str:
        """A lease owner id of its own for one hold or one claim (see the module's docstring)."""
        return f"{self.worker_id}/{uuid.uuid4().hex[:8]}"

    def _hold(self, operation_id: str, *, release: bool = False) -> str | None:
        """The owner id of this process's hold on the operation (None if it holds none); `release` forgets it."""
        with self._holds_lock:
            return self._holds.pop(operation_id, None) if release else self._holds.get(operation_id)

    def renew(self, operation_id: str, seconds: float | None = None,
              data: dict[str, Any] | None = None) -> Operation | None:
        """Renew the lease of an operation this process holds (merging `data` into its data) before a side
        effect, and have the heartbeat keep renewing it for `seconds` (the time the side effect may take; by
        default HELD_SECONDS) unless it is finished sooner; None if the lease was lost (expired and taken
        over, even by this process's own worker, or the operation is finished)."""
        holder = self._hold(operation_id)
        if holder is None:
            return None
        now = self.clock()
        mine = (ops.c.id == operation_id) & (ops.c.lease_owner == holder) & (ops.c.state == RUNNING)
        with self.store.begin() as conn:
            row = conn.execute(ops.select().where(mine)).first()
            if row is not None:
                values: dict[str, Any] = dict(
                    lease_until=now + min(self.lease_grant, HELD_SECONDS if seconds is None else seconds),
                    updated=now)
                if data:
                    values["data"] = json.dumps({**json.loads(row.data), **data})
                # the row as updated is the row read with these values: no second read
                renewed = conn.execute(ops.update().where(mine).values(**values)).rowcount == 1
                row = {**row._mapping, **values} if renewed else None
        if row is None:
            self._hold(operation_id, release=True)
            self._let_go(operation_id)
            return None
        self._keep_alive(operation_id, holder, HELD_SECONDS if seconds is None else seconds)
        return self._operation(row)

    def finish(self, operation: Operation, outcome: Outcome) -> bool:
        """Record the outcome of a step run under this process's hold and release the lease; False if the
        lease was lost meanwhile (then nothing is recorded: the worker that took it over decides)."""
        holder = self._hold(operation.id, release=True)
        if holder is None:
            return False
        return self._record(replace(operation, lease_owner=holder), outcome)

    def withdraw(self, operation_ids: list[str]) -> None:
        """Delete held operations this process will not run after all (launches not needed, or refused before
        any side effect), leaving no trace; those already finished or taken over are left alone."""
        if not operation_ids:
            return
        holders = [holder for holder in (self._hold(i, release=True) for i in operation_ids) if holder]
        for operation_id in operation_ids:
            self._let_go(operation_id)
        if not holders:
            return
        first_steps = [kind.steps[0] for kind in self.kinds.values() if kind.steps]
        with self.store.begin() as conn:
            conn.execute(ops.delete().where(
                ops.c.id.in_(operation_ids) & ops.c.lease_owner.in_(holders) & (ops.c.state == RUNNING)
                & ops.c.step.in_(first_steps)))

    def get(self, operation_id: str) -> Operation | None:
        with self.store.engine.connect() as conn:
            row = conn.execute(ops.select().where(ops.c.id == operation_id)).first()
        return None if row is None else self._operation(row._mapping)

    def find(self, *, owner: str | None = None, kind: str | None = None, target: str | None = None,
             active_only: bool = False, state: str | None = None, limit: int | None = None,
             owner_prefix: str | None = None) -> list[Operation]:
        """Operations oldest first, narrowed by any of the filters (in SQL, so `limit` counts only matches);
        at most `limit` (the newest ones). `owner_prefix` ("provider|") keeps one provider's."""
        query = ops.select().order_by(ops.c.created.desc())
        if state is not None:
            query = query.where(ops.c.state == state)
        if limit is not None:
            query = query.limit(limit)
        if owner is not None:
            query = query.where(ops.c.owner == owner)
        if owner_prefix is not None:
            query = query.where(ops.c.owner.startswith(owner_prefix, autoescape=True))
        if kind is not None:
            query = query.where(ops.c.kind == kind)
        if target is not None:
            query = query.where(ops.c.target == target)
        if active_only:
            query = query.where(ops.c.state.in_(ACTIVE_STATES))
        with self.store.engine.connect() as conn:
            return [self._operation(r._mapping) for r in conn.execute(query)][::-1]

    def summary(self) -> tuple[dict[tuple[str, str], int], float | None]:
        """(kind, state) -> how many, and when the oldest operation not yet ended was created (for metrics)."""
        with self.store.engine.connect() as conn:
            counts = {(kind, state): number for kind, state, number in conn.execute(
                sa.select(ops.c.kind, ops.c.state, sa.func.count()).group_by(ops.c.kind, ops.c.state))}
            oldest = conn.execute(sa.select(sa.func.min(ops.c.created)).where(
                ops.c.state.in_(ACTIVE_STATES))).scalar_one()
        return counts, oldest

    # --- an operator's actions ----------------------------------------------------------------------
    def retry(self, operation_id: str) -> Operation:
        """Run a failed operation again from the step that failed, at once, with its attempts reset.

        NotFound if there is no such operation, InvalidState unless it failed.
        """
        now = self.clock()
        with self.store.begin() as conn:
            changed = conn.execute(ops.update().where((ops.c.id == operation_id) & (ops.c.state == FAILED)).values(
                state=PENDING, attempts=0, last_error=None, lease_owner=None, lease_until=None, due_at=now,
                updated=now))
        if changed.rowcount == 0:
            self._refuse(operation_id, "only a failed operation can be retried")
        self._wake.set()
        return self._existing(operation_id)

    def cancel(self, operation_id: str) -> Operation:
        """End a pending or running operation as failed ("cancelled by an operator"); `retry` may resume it.

        Safe against a worker holding its lease: a worker records a step's outcome only under its own
        lease, which this takes away, so a step in flight completes in the backend but nothing follows it.
        NotFound if there is no such operation, InvalidState if it has ended.
        """
        with self.store.begin() as conn:
            changed = conn.execute(ops.update().where(
                (ops.c.id == operation_id) & ops.c.state.in_(ACTIVE_STATES)).values(
                state=FAILED, last_error=CANCELLED, lease_owner=None, lease_until=None,
                updated=self.clock()))
        if changed.rowcount == 0:
            self._refuse(operation_id, "only a pending or running operation can be cancelled")
        return self._existing(operation_id)

    def _existing(self, operation_id: str) -> Operation:
        operation = self.get(operation_id)
        if operation is None:
            raise NotFound("operation", operation_id)
        return operation

    def _refuse(self, operation_id: str, why: str) -> None:
        operation = self._existing(operation_id)
        raise InvalidState(f"operation {operation_id} is {operation.state}: {why}", resource_id=operation_id,
                           state=operation.state)

    def purge_finished(self, max_age: float) -> int:
        """Remove operations done or failed more than max_age seconds ago (housekeeping); returns how many.

        Nothing reads them afterwards but CIMI Jobs, which are purged on a similar age and read a missing
        operation as "no operation".
        """
        with self.store.begin() as conn:
            result = conn.execute(ops.delete().where(
                ops.c.state.in_((DONE, FAILED)) & (ops.c.updated < self.clock() - max_age)))
        return result.rowcount

    def _operation(self, row: Any) -> Operation:
        secret = row["secret_enc"]
        return Operation(
            id=row["id"], kind=row["kind"], owner=row["owner"], target=row["target"], step=row["step"],
            state=row["state"], data=json.loads(row["data"]),
            secret=json.loads(self.store.decrypt(secret)) if secret else None, attempts=row["attempts"],
            last_error=row["last_error"], created=row["created"], updated=row["updated"], due_at=row["due_at"],
            lease_owner=row.get("lease_owner"), lease_until=row.get("lease_until"))

    # --- claiming and running -----------------------------------------------------------------------
    def claim(self) -> Operation | None:
        """Take the lease of one due operation, or None. Safe against other processes doing the same."""
        now = self.clock()
        claimable = (ops.c.state.in_(ACTIVE_STATES) & (ops.c.due_at <= now)
                     & (ops.c.kind.in_(list(self.kinds)))
                     & (ops.c.lease_until.is_(None) | (ops.c.lease_until < now)))
        with self.store.engine.connect() as conn:
            # lapsed leases first: a process died mid-step there, and a client may be waiting on it (a launch
            # retried with its ClientToken), while the other due operations are a backlog that can wait
            candidates = list(conn.execute(sa.select(ops.c.id, ops.c.lease_owner, ops.c.lease_until).where(
                claimable).order_by(ops.c.lease_owner.is_(None), ops.c.due_at).limit(8)))
        for operation_id, previous_owner, previous_until in candidates:
            # the same holder as when it was seen: the takeover logged below names the lease this claim ended
            same_holder = ops.c.lease_owner.is_(None) if previous_owner is None else ops.c.lease_owner == previous_owner
            with self.store.begin() as conn:
                taken = conn.execute(ops.update().where((ops.c.id == operation_id) & claimable & same_holder).values(
                    lease_owner=self._new_lease_owner(), lease_until=now + self.lease_grant, state=RUNNING))
                if taken.rowcount == 1:
                    if previous_owner is not None:
                        log.warning("operation %s: took it over from %s, whose lease expired %.1f s ago (that "
                                    "process stopped mid-step); running its step again", operation_id,
                                    previous_owner, now - previous_until)
                    row = conn.execute(ops.select().where(ops.c.id == operation_id)).first()
                    try:
                        return self._operation(row._mapping)
                    except SecretsUnreadable:  # another key wrote it: leave it to a process that can read it
                        conn.execute(ops.update().where(ops.c.id == operation_id).values(
                            lease_owner=None, lease_until=None, state=PENDING, due_at=now + UNREADABLE_DELAY))
                        log.warning("operation %s: this process's secret key cannot read its credentials; "
                                    "left for %g s to a process that can (store.secret_key_file)",
                                    operation_id, UNREADABLE_DELAY)
        return None

    def run_once(self) -> bool:
        """Claim and run one step of one due operation; False when nothing was due."""
        operation = self.claim()
        if operation is None:
            return False
        kind = self.kinds[operation.kind]
        self._keep_alive(operation.id, operation.lease_owner or "", MAX_STEP_SECONDS)
        try:
            outcome = kind.run_step(operation)
        except GatewayError as exc:
            outcome = self._retry_or_fail(operation, exc, retryable=exc.retryable)
        except Exception as exc:  # a bug or an unexpected backend answer: retry a few times, then fail
            log.exception("operation %s (%s) step %s raised", operation.id, operation.kind, operation.step)
            outcome = self._retry_or_fail(operation, exc, retryable=True)
        self._record(operation, outcome)
        return True

    def _retry_or_fail(self, operation: Operation, exc: Exception, *, retryable: bool) -> Outcome:
        message = str(exc) or type(exc).__name__
        if not retryable or operation.attempts + 1 >= self.max_attempts:
            return Fail(message)
        operation.attempts += 1
        operation.last_error = message
        return Wait(delay=min(60.0, self.poll_seconds * 2 ** min(operation.attempts, 6)))

    def _record(self, operation: Operation, outcome: Outcome) -> bool:
        self._let_go(operation.id)
        now = self.clock()
        data = dict(operation.data)
        values: dict[str, Any] = dict(lease_owner=None, lease_until=None, updated=now,
                                      attempts=operation.attempts, last_error=operation.last_error)
        if isinstance(outcome, Next):
            data.update(outcome.data)
            values.update(step=outcome.step, state=PENDING, due_at=now + outcome.delay, attempts=0)
            if outcome.target is not None:
                values["target"] = outcome.target
        elif isinstance(outcome, Wait):
            data.update(outcome.data)
            values.update(state=PENDING, due_at=now + outcome.delay)
        elif isinstance(outcome, Done):
            data.update(outcome.data)
            values.update(state=DONE, secret_enc=None)
        else:
            values.update(state=FAILED, last_error=outcome.message)  # credentials kept for `retry` until purged
        values["data"] = json.dumps(data)
        with self.store.begin() as conn:
            saved = conn.execute(ops.update().where(
                (ops.c.id == operation.id) & (ops.c.lease_owner == operation.lease_owner)).values(**values))
        if saved.rowcount == 0:
            log.warning("operation %s: lease lost (expired, or the operation was cancelled) before its step "
                        "was recorded; its outcome is not kept", operation.id)
            return False
        if values["state"] == PENDING and values["due_at"] <= now:
            self._wake.set()
        return True

    def run_until_idle(self, limit: int = 1000) -> int:
        """Run due steps until none is due (tests and the CLI use it); returns how many ran."""
        count = 0
        while count < limit and self.run_once():
            count += 1
        return count

    # --- the heartbeat: leases renewed while their holder lives -------------------------------------------
    def _keep_alive(self, operation_id: str, owner: str, seconds: float) -> None:
        """Have the heartbeat renew this lease for `seconds` (real time), or until the operation is let go."""
        with self._holds_lock:
            self._alive[operation_id] = (owner, time.monotonic() + seconds)
            if self._heartbeat is None:
                self._heartbeat = threading.Thread(target=self._beat, name="cloudgw-lease-heartbeat", daemon=True)
                self._heartbeat.start()

    def _let_go(self, operation_id: str) -> None:
        with self._holds_lock:
            self._alive.pop(operation_id, None)

    def _beat(self) -> None:
        """Every quarter of the lease: renew each kept lease that is still this holder's and not yet lapsed, in
        one transaction; drop the others. Ends when nothing is kept (the next `_keep_alive` starts another)."""
        while True:
            time.sleep(max(0.05, self.lease_seconds / 4))
            now, real_now = self.clock(), time.monotonic()
            with self._holds_lock:
                if self._stop.is_set():
                    self._alive.clear()
                for operation_id in [i for i, (_, until) in self._alive.items() if until <= real_now]:
                    del self._alive[operation_id]
                kept = dict(self._alive)
                if not kept:
                    self._heartbeat = None
                    return
            lost = []
            try:
                with self.store.begin() as conn:
                    for operation_id, (owner, _) in kept.items():
                        renewed = conn.execute(ops.update().where(
                            (ops.c.id == operation_id) & (ops.c.lease_owner == owner) & (ops.c.state == RUNNING)
                            & (ops.c.lease_until >= now)).values(lease_until=now + self.lease_grant))
                        if renewed.rowcount != 1:
                            lost.append(operation_id)
            except Exception:  # the store is unreachable: the leases may lapse; their late records then fail
                log.exception("could not renew the leases of %d operations", len(kept))
                continue
            with self._holds_lock:
                for operation_id in lost:
                    if self._alive.get(operation_id, (None,))[0] == kept[operation_id][0]:
                        del self._alive[operation_id]

    # --- the background worker ------------------------------------------------------------------------
    def start(self) -> None:
        """Start the worker loop in a daemon thread (once per process)."""
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="cloudgw-operations", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the worker loop and the heartbeat: the leases this process holds run out as if it had died."""
        self._stop.set()
        self._wake.set()
        with self._holds_lock:
            self._alive.clear()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                if self.periodic is not None:
                    self.periodic()
                ran = self.run_until_idle(limit=50)
            except Exception:  # the store is unreachable: keep the loop alive and try again
                log.exception("operation worker could not run")
                ran = 0
            if not ran:
                self._wake.wait(self.poll_seconds)
                self._wake.clear()
