"""Who does a periodic job, when several gateway processes share a store: a lease per job, and its period.

The job's row (in the store's entities table) records its holder, until when the holder's lease runs and when
the job last ran. A process takes a turn with one compare-and-swap UPDATE (its WHERE names the row's data as the
process read it), so of two processes reading the same row only one writes it: the job runs once per period,
in one process. The holder keeps the lease while it takes its turns; another process takes over only once the
lease has run out (the holder died or stopped), as the durable operations' leases do.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy.exc import IntegrityError

from .schema import entities_table

if TYPE_CHECKING:
    from .store import Store

KIND = "periodic.lease"  # entity kind; owner = the job's name (e.g. "metric-sampler|<provider>")


@dataclass
class PeriodicLease:
    """`turn(now)` is True when this holder is to run the job now (and records that it does)."""

    store: "Store"
    job: str
    holder: str
    period: float
    lease_seconds: float

    def turn(self, now: float) -> bool:
        table = entities_table
        where = (table.c.kind == KIND) & (table.c.owner == self.job) & (table.c.id == "lease")
        with self.store.engine.connect() as conn:
            row = conn.execute(table.select().where(where)).first()
        mine = {"holder": self.holder, "until": now + self.lease_seconds, "ran": now}
        if row is None:
            try:
                with self.store.begin() as conn:
                    conn.execute(table.insert().values(kind=KIND, owner=self.job, id="lease", data=json.dumps(mine),
                                                       created=now, updated=now))
                return True
            except IntegrityError:  # another process inserted it first: its turn
                return False
        current = json.loads(row.data)
        held_by_other = current.get("holder") != self.holder and float(current.get("until", 0)) > now
        if held_by_other or now - float(current.get("ran", 0)) < self.period:
            return False
        with self.store.begin() as conn:
            taken = conn.execute(table.update().where(where & (table.c.data == row.data))
                                 .values(data=json.dumps(mine), updated=now))
        return taken.rowcount == 1

    def holder_now(self) -> str | None:
        """Who holds the job's lease (None: nobody has taken a turn yet)."""
        row = self.store.entity(KIND, self.job, "lease")
        return None if row is None else row.get("holder")
