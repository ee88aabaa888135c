"""The simulator's notion of time.

Every timed behaviour (a VM booting, a disk copy, a snapshot) is scheduled against a `Clock` and
evaluated lazily when state is read, so the simulator needs no background threads and tests are
deterministic: they either run the clock fast (a large speed factor) or freeze it and advance it
explicitly.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime, timezone


class Clock:
    """Simulated seconds since the epoch.

    In the default mode the clock follows real time multiplied by `speed` (speed 60 turns one real
    second into one simulated minute). With `frozen=True` it only moves when `advance()` is called.
    """

    def __init__(self, speed: float = 1.0, frozen: bool = False, start: float | None = None) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        self._lock = threading.Lock()
        self._speed = float(speed)
        self._frozen = frozen
        self._base = time.time() if start is None else float(start)
        self._real0 = time.monotonic()

    @property
    def speed(self) -> float:
        return self._speed

    @property
    def frozen(self) -> bool:
        return self._frozen

    def now(self) -> float:
        """The current simulated time, in seconds since the epoch."""
        with self._lock:
            if self._frozen:
                return self._base
            return self._base + (time.monotonic() - self._real0) * self._speed

    def _rebase(self) -> None:
        # Fold the elapsed real time into the base so that a change of mode or speed keeps `now()` continuous.
        now = time.monotonic()
        if not self._frozen:
            self._base += (now - self._real0) * self._speed
        self._real0 = now

    def advance(self, seconds: float) -> float:
        """Move simulated time forward (never backwards) and return the new time."""
        if seconds < 0:
            raise ValueError("the clock never goes backwards")
        with self._lock:
            self._rebase()
            self._base += seconds
            return self._base

    def set_speed(self, speed: float) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        with self._lock:
            self._rebase()
            self._speed = float(speed)

    def freeze(self, frozen: bool = True) -> None:
        """Stop (or restart) following real time, keeping the current reading."""
        with self._lock:
            self._rebase()
            self._frozen = frozen

    def describe(self) -> dict[str, object]:
        now = self.now()
        return {"now": now, "iso": iso(now), "speed": self._speed, "frozen": self._frozen}


def iso(ts: float) -> str:
    """Format a timestamp the way the engine does: millisecond precision and an explicit offset."""
    dt = datetime.fromtimestamp(ts, tz=timezone.utc)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}+00:00"
