"""Who does a periodic job, when several gateway processes share a store: a lease per job, and its period.

Turns fall on a grid (`floor(now / period) * period`), so a turn is taken once per slot whatever the jitter of
the processes' polling, and a slot is never skipped for a late poll. The job's row (in the store's entities
table) records its holder, until when the holder's lease runs and the slot it last took. A process takes a turn
with one compare-and-swap UPDATE (its WHERE names the row's data as the process read it), so of two processes
reading the same row only one writes it.

Taking a turn holds the lease only for `claim_seconds` (the job's time budget); `done(ok=True)` extends it to
`lease_seconds`, so the holder keeps the job while it succeeds and another process takes over once the lease
has run out (the holder died). `done(ok=False)` gives the lease and the slot back at once, and the failing
process leaves the next turns to others for `retry_seconds`: a live holder that cannot do the job (its engine
unreachable, its password file gone) never keeps it from one that can. `release()` (a process closing) gives the
lease back, so a restart leaves no slot unsampled.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import IntegrityError

from .schema import entities_table

if TYPE_CHECKING:
    from .store import Store

KIND = "periodic.lease"  # entity kind; owner = the job's name (e.g. "metric-sampler|<provider>")


@dataclass
class PeriodicLease:
    """`turn(now)` is the start of the slot this holder is to run the job for now (None: not its turn); the
    holder then says how it went with `done(now, ok)`."""

    store: "Store"
    job: str
    holder: str
    period: float
    lease_seconds: float
    claim_seconds: float | None = None  # default: the period
    retry_seconds: float | None = None  # default: the period
    _taken: tuple[str, float] | None = field(default=None, init=False, repr=False)  # the data written, the slot before

    def slot(self, now: float) -> float:
        return math.floor(now / self.period) * self.period

    def read(self) -> str | None:
        """The lease row's data as stored (None: nobody took a turn yet)."""
        with self.store.engine.connect() as conn:
            row = conn.execute(entities_table.select().where(self._where())).first()
        return None if row is None else str(row.data)

    def turn(self, now: float) -> float | None:
        return self.take(now, self.read())

    def take(self, now: float, seen: str | None) -> float | None:
        """Take the current slot if it is this holder's turn, `seen` being the row's data as read."""
        slot = self.slot(now)
        mine = {"holder": self.holder, "until": now + (self.claim_seconds or self.period), "ran": slot}
        if seen is None:
            try:
                with self.store.begin() as conn:
                    conn.execute(entities_table.insert().values(kind=KIND, owner=self.job, id="lease",
                                                                data=json.dumps(mine), created=now, updated=now))
            except IntegrityError:  # another process inserted it first: its turn
                return None
            self._taken = (json.dumps(mine), 0.0)
            return slot
        current: dict[str, Any] = json.loads(seen)
        ran, until, holder = float(current.get("ran", 0)), float(current.get("until", 0)), current.get("holder")
        if ran >= slot:
            return None  # this slot is taken (or done) already
        if holder not in (None, self.holder) and until > now:
            return None  # another process holds the job
        if current.get("failed") == self.holder and now < until + (self.retry_seconds or self.period):
            return None  # this process failed last: others first
        if not self._swap(seen, mine, now):
            return None
        self._taken = (json.dumps(mine), ran)
        return slot

    def done(self, now: float, ok: bool) -> None:
        """After the turn: keep the lease (ok), else give it and the slot back and step aside for a while."""
        if self._taken is None:
            return
        written, ran_before = self._taken
        self._taken = None
        mine = json.loads(written)
        if ok:
            after = {**mine, "until": now + self.lease_seconds}
        else:
            after = {"holder": self.holder, "until": now, "ran": ran_before, "failed": self.holder}
        self._swap(written, after, now)

    def release(self, now: float) -> None:
        """Give the lease back if this holder has it (the slot it last took stays taken)."""
        seen = self.read()
        if seen is None:
            return
        current = json.loads(seen)
        if current.get("holder") == self.holder:
            self._swap(seen, {**current, "holder": None, "until": now}, now)

    def holder_now(self) -> str | None:
        """Who holds the job's lease (None: nobody)."""
        row = self.store.entity(KIND, self.job, "lease")
        return None if row is None else row.get("holder")

    def _where(self) -> Any:
        table = entities_table
        return (table.c.kind == KIND) & (table.c.owner == self.job) & (table.c.id == "lease")

    def _swap(self, seen: str, data: dict[str, Any], now: float) -> bool:
        """Write `data` if the row still holds `seen` (compare and swap); whether it did."""
        with self.store.begin() as conn:
            written = conn.execute(entities_table.update().where(self._where() & (entities_table.c.data == seen))
                                   .values(data=json.dumps(data), updated=now))
        return written.rowcount == 1
