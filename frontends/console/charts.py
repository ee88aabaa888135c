"""Charts of an instance's metrics as inline SVG, drawn on the server.

Why not a JavaScript charting library: it would have to be vendored into static/ (the console fetches
nothing from the network) and reviewed against the console's CSP (`script-src 'self'`, no inline styles),
while a sparkline-class chart (a polyline per series, min/max labels, gaps where there is no data) is this
module's geometry plus a Jinja macro that escapes every text it writes. It also works without scripts, and
each chart has a <title>/<desc> and a table of its points for screen readers and keyboards.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone

from gateway.metric_periods import Bucket

WIDTH, HEIGHT = 600.0, 140.0  # the plot area in SVG user units; the labels sit in the margins
LEFT, TOP = 70.0, 10.0


@dataclass
class Line:
    """One metric's polylines: one per run of consecutive periods with data (a missing period is a gap)."""

    metric: str
    runs: list[str] = field(default_factory=list)  # each an SVG `points` attribute


@dataclass
class Chart:
    title: str
    unit: str
    lines: list[Line]
    low: float
    high: float
    rows: list[tuple[str, list[str]]]  # the table: time, then each metric's value ("" without data)

    @property
    def empty(self) -> bool:
        return not self.rows


def number(value: float) -> str:
    return f"{value:,.2f}".rstrip("0").rstrip(".") if value % 1 else f"{value:,.0f}"


def chart(title: str, unit: str | None, series: dict[str, list[Bucket]], start: float, period: int,
          slots: int) -> Chart:
    """The chart of `series` (metric -> its periods with data, Averages) over `slots` periods from `start`."""
    values = {metric: {int((b.start - start) // period): b.statistic("Average") for b in buckets}
              for metric, buckets in series.items()}
    every = [v for by_slot in values.values() for v in by_slot.values()]
    low, high = min([0.0, *every]), max([*every, 0.0])
    if high <= low:
        high = low + 1.0
    lines = []
    for metric, by_slot in values.items():
        line, run = Line(metric), []
        for slot in range(slots):
            if slot not in by_slot:
                if run:
                    line.runs.append(" ".join(run))
                run = []
                continue
            x = LEFT + WIDTH * slot / max(1, slots - 1)
            y = TOP + HEIGHT * (high - by_slot[slot]) / (high - low)
            run.append(f"{x:.1f},{y:.1f}")
        if run:
            line.runs.append(" ".join(run))
        lines.append(line)
    rows = []
    for slot in sorted({s for by_slot in values.values() for s in by_slot}):
        at = datetime.fromtimestamp(start + slot * period, timezone.utc).strftime("%Y-%m-%d %H:%M")
        rows.append((at, [number(values[m][slot]) if slot in values[m] else "" for m in values]))
    return Chart(title, unit or "None", lines, low, high, rows)
