"""What the Charts tab's bottom-right views show, computed from a snapshot: parallel
coordinates, the empirical distribution of values (EDF), rank by trial and a timeline of the
workers' trials (parameter importance: :mod:`rltui.ui.models.importance`).

Pure functions of the snapshot (and the search space), without Textual. Each returns small,
comparable data already cut down to about the chart's width, so that a study of 10,000 trials
costs one pass over its rows (the rank view sorts the values once; the pane reuses a view's
data while the snapshot's rows stay the same object).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from rltui.search.lifecycle import TrialStatus
from rltui.search.reader import Snapshot, TrialRow
from rltui.ui.models.brush import Brush
from rltui.ui.models.chart_data import BEST_COLOUR, GREY, PALETTE

if TYPE_CHECKING:
    from rltui.spec import SearchSpace

VIEWS = (
    "importance",
    "parallel coordinates",
    "contour",
    "slices",
    "EDF",
    "rank",
    "timeline",
    "Pareto front",  # shown for studies with several objectives only
)
# Value bands of the parallel coordinates, worst to best, and the best trial's colour: all
# from the 16-colour palette, so that they read in any theme.
BANDS = tuple(c for c in PALETTE if c != "white")[:5]
TIMELINE_ROWS = 8  # workers shown at most: the chart is a quarter of the tab


def _finite(value: float | None) -> bool:
    return value is not None and not math.isnan(value)


def _complete(snapshot: Snapshot) -> list[TrialRow]:
    return [
        r for r in snapshot.rows.values() if r.status == TrialStatus.COMPLETE and _finite(r.value)
    ]


def _maximize(snapshot: Snapshot) -> bool:
    return snapshot.direction.name == "MAXIMIZE"


def _stride(items: list[Any], limit: int) -> list[Any]:
    """At most about ``limit`` of ``items``, evenly spread, the last one kept."""
    if limit <= 0 or len(items) <= limit:
        return items
    step = math.ceil(len(items) / limit)
    picked = items[::step]
    if picked[-1] is not items[-1]:
        picked.append(items[-1])
    return picked


# Importance (:mod:`rltui.ui.models.importance`) -----------------------------------------


# Parallel coordinates --------------------------------------------------------------------


@dataclass(frozen=True)
class Axis:
    """One parameter's axis: numbers between ``low`` and ``high`` (on a log scale when
    ``log``), or categorical ``choices`` placed by index."""

    name: str
    low: float = 0.0
    high: float = 1.0
    log: bool = False
    choices: tuple[str, ...] | None = None

    def position(self, x: Any) -> float | None:
        """Where ``x`` sits on the axis, 0 to 1; None when it cannot be placed."""
        if self.choices is not None:
            if str(x) not in self.choices:
                return None
            return self.choices.index(str(x)) / max(1, len(self.choices) - 1)
        if not isinstance(x, (int, float)) or isinstance(x, bool) or math.isnan(x):
            return None
        value, low, high = float(x), self.low, self.high
        if self.log:
            if value <= 0 or low <= 0 or high <= 0:
                return None
            value, low, high = math.log10(value), math.log10(low), math.log10(high)
        if high <= low:
            return 0.5
        return min(1.0, max(0.0, (value - low) / (high - low)))


@dataclass(frozen=True)
class ParallelLine:
    """One trial across the axes (value first), in its band's colour."""

    number: int
    ys: tuple[float, ...]
    colour: str
    pruned: bool = False
    best: bool = False


@dataclass(frozen=True)
class ParallelData:
    """Axis labels and the lines to draw, in drawing order (pruned, worst band … best)."""

    title: str
    axes: tuple[str, ...]
    lines: tuple[ParallelLine, ...]


def axes_of(snapshot: Snapshot, space: SearchSpace | None) -> list[Axis]:
    """An axis per searched parameter: the space's ranges and choices, or without a space
    the ranges the trials' values span."""
    if space is not None:
        out = []
        for name, dist in space.distributions.items():
            choices = getattr(dist, "choices", None)
            if choices is not None:
                out.append(Axis(name, choices=tuple(str(c) for c in choices)))
            else:
                low, high = float(dist.low), float(dist.high)  # type: ignore[attr-defined]
                out.append(Axis(name, low, high, bool(getattr(dist, "log", False))))
        return out
    seen: dict[str, list[Any]] = {name: [] for name in snapshot.summary.param_names}
    for row in snapshot.rows.values():
        for name, x in row.params.items():
            if name in seen:
                seen[name].append(x)
    out = []
    for name, xs in seen.items():
        numbers = [x for x in xs if isinstance(x, (int, float)) and not isinstance(x, bool)]
        if numbers and len(numbers) == len(xs):
            out.append(Axis(name, float(min(numbers)), float(max(numbers))))
        else:
            out.append(Axis(name, choices=tuple(sorted({str(x) for x in xs}))))
    return out


def parallel(
    snapshot: Snapshot, space: SearchSpace | None, width: int, brush: Brush = Brush()
) -> ParallelData:
    """A line per COMPLETE trial (about ``width`` at most, the best always), pruned trials
    dim, coloured by value in up to 5 bands; only those inside ``brush`` when it is set."""
    axes = axes_of(snapshot, space)
    complete = _complete(snapshot)
    everything = len(complete)
    maximize = _maximize(snapshot)
    if not axes or not complete:
        return ParallelData("parallel coordinates", (), ())
    values = [r.value for r in complete]
    low, high = min(values), max(values)  # type: ignore[type-var]
    best = snapshot.best
    value_axis = Axis("value", low, high)  # type: ignore[arg-type]
    brushed = [value_axis, *axes][brush.axis % (len(axes) + 1)]

    def inside(row: TrialRow) -> bool:
        x = row.value if brushed is value_axis else row.params.get(brushed.name)
        return brush.keeps(brushed.position(x))

    if brush.active:
        complete = [r for r in complete if inside(r)]
        if best is not None and not inside(best):
            best = None

    def line(row: TrialRow, value: float | None, pruned: bool) -> ParallelLine | None:
        ys = [value_axis.position(value)]
        ys += [axis.position(row.params.get(axis.name)) for axis in axes]
        if any(y is None for y in ys):
            return None  # a parameter the trial did not sample (conditional) or out of place
        score = value_axis.position(value) or 0.0
        band = min(len(BANDS) - 1, int((score if maximize else 1 - score) * len(BANDS)))
        is_best = best is not None and row.number == best.number
        colour = GREY if pruned else BEST_COLOUR if is_best else BANDS[band]
        return ParallelLine(row.number, tuple(ys), colour, pruned, is_best)  # type: ignore[arg-type]

    limit = max(10, width)
    picked = _stride(complete, limit)
    if best is not None and all(r.number != best.number for r in picked):
        picked.append(best)
    pruned = [
        r
        for r in snapshot.rows.values()
        if r.status == TrialStatus.PRUNED and _finite(r.value) and (not brush.active or inside(r))
    ]
    drawn = [ln for r in _stride(pruned, limit // 2) if (ln := line(r, r.value, True))]
    lines = [ln for r in picked if (ln := line(r, r.value, False))]
    rank = {colour: i for i, colour in enumerate(BANDS)}
    lines.sort(key=lambda ln: (ln.best, rank.get(ln.colour, 0)))  # best drawn last, on top
    title = "parallel coords"
    if brush.active:
        title = f"{brushed.name} {brush.name}: {len(complete)}/{everything}"
    elif len(picked) < len(complete):
        title += f" ({len(lines)}/{len(complete)})"
    names = ("value", *(axis.name + (" (log)" if axis.log else "") for axis in axes))
    return ParallelData(title, names, (*drawn, *lines))


# EDF -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EdfData:
    """The empirical distribution of the values as a step line: (value, fraction ≤ value)."""

    title: str
    points: tuple[tuple[float, float], ...]


def edf(snapshot: Snapshot, width: int) -> EdfData:
    """Optuna's EDF: at each of about ``width`` values evenly spread from the lowest to the
    highest value of the COMPLETE trials, the fraction of them whose value is at most that.
    Counted into bins (one pass, no sort)."""
    values = [r.value for r in _complete(snapshot)]
    if not values:
        return EdfData("EDF", ())
    n = len(values)
    low, high = min(values), max(values)  # type: ignore[type-var]
    title = f"EDF of {n} value{'s' if n != 1 else ''}"
    if high <= low:  # type: ignore[operator]
        return EdfData(title, ((low, 0.0), (low, 1.0)))  # type: ignore[arg-type]
    steps = max(2, min(width, 200))
    step = (high - low) / (steps - 1)  # type: ignore[operator]
    counts = [0] * steps
    for v in values:
        # The first grid point at or above v (a hair of slack for rounding).
        counts[min(steps - 1, max(0, math.ceil((v - low) / step - 1e-9)))] += 1  # type: ignore[operator]
    points: list[tuple[float, float]] = []
    seen = 0
    for i, count in enumerate(counts):
        x = low + i * step  # type: ignore[operator]
        if count:
            if points:
                points.append((x, seen / n))
            seen += count
            points.append((x, seen / n))
    return EdfData(title, tuple(points))


# Rank ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RankData:
    """(trial number, rank of its value: 1 = best) for COMPLETE trials, by number."""

    title: str
    points: tuple[tuple[int, int], ...]
    total: int


def ranks(snapshot: Snapshot) -> dict[int, int]:
    """Each COMPLETE trial's rank by value, 1 = best; ties share the better rank."""
    done = _complete(snapshot)
    done.sort(key=lambda r: r.value, reverse=_maximize(snapshot))  # type: ignore[arg-type,return-value]
    out: dict[int, int] = {}
    previous: float | None = None
    rank = 0
    for position, row in enumerate(done, start=1):
        if row.value != previous:
            rank, previous = position, row.value
        out[row.number] = rank
    return out


def rank(snapshot: Snapshot, width: int) -> RankData:
    """Trials by number with their value's rank, about ``2 × width`` of them at most (the best
    always)."""
    ranked = ranks(snapshot)
    points = [(number, ranked[number]) for number in snapshot.rows if number in ranked]
    points.sort()  # numbers arrive in order; this only guards a storage that lists otherwise
    picked = _stride(points, 2 * max(10, width))
    best = [p for p in points if p[1] == 1][:1]
    if best and best[0] not in picked:
        picked.append(best[0])
    return RankData("rank (1 = best)", tuple(picked), len(points))


# Timeline --------------------------------------------------------------------------------


@dataclass(frozen=True)
class TimelineData:
    """A row per worker (bottom to top), and per state the cells its trials fill: (time since
    the first start, in ``unit``, row)."""

    title: str
    workers: tuple[str, ...]
    cells: tuple[tuple[TrialStatus, tuple[tuple[float, int], ...]], ...]
    unit: str


# Which state a cell shows when as many of its trials ended in one state as in another.
_PRIORITY = {
    TrialStatus.COMPLETE: 1,
    TrialStatus.PRUNED: 2,
    TrialStatus.PAUSED: 3,
    TrialStatus.FAIL: 4,
    TrialStatus.RUNNING: 5,
}
NO_WORKER = "-"


def _span(row: TrialRow, now: datetime) -> tuple[float, float] | None:
    """The trial's bar, in seconds relative to ``now`` (naive local time, as Optuna's)."""
    if row.started is None or row.status not in _PRIORITY:
        return None
    start = (row.started - now).total_seconds()
    if row.status == TrialStatus.RUNNING:
        end = 0.0
    elif row.status == TrialStatus.PAUSED:
        # The storage keeps a trial's first start and the seconds it trained, not when each
        # stint began and ended: a paused (or resumed) trial's bar is its training time laid
        # from its first start, which hides the pauses between stints.
        end = start + row.earlier
    else:
        end = (row.completed - now).total_seconds() if row.completed is not None else start
    return start, max(start, end)


def timeline(snapshot: Snapshot, now: datetime, width: int) -> TimelineData:
    """Each started trial as a bar from its start to its end (or ``now``) on its worker's row,
    cut into about ``width`` time bins."""
    bars = [(row, span) for row in snapshot.rows.values() if (span := _span(row, now))]
    if not bars:
        return TimelineData("timeline", (), (), "min")
    t0 = min(span[0] for _, span in bars)
    t1 = max(span[1] for _, span in bars)
    latest: dict[str, float] = {}
    for row, (_, end) in bars:
        name = row.worker or NO_WORKER
        latest[name] = max(end, latest.get(name, end))
    shown = sorted(sorted(latest, key=lambda w: -latest[w])[:TIMELINE_ROWS])
    index = {name: i for i, name in enumerate(shown)}
    bins = max(10, width - 10)
    seconds = max(1.0, t1 - t0) / bins
    # Trials per cell and state: a cell shows a running trial if it has one, else the state
    # most of its trials ended in (a rare failure does not paint every cell it touches).
    tally: dict[tuple[int, int], dict[TrialStatus, int]] = {}
    for row, (start, end) in bars:
        y = index.get(row.worker or NO_WORKER)
        if y is None:
            continue
        first = min(bins - 1, int((start - t0) / seconds))
        last = min(bins - 1, max(first, int((end - t0) / seconds)))
        for b in range(first, last + 1):
            counts = tally.setdefault((b, y), {})
            counts[row.status] = counts.get(row.status, 0) + 1
    grid = {
        cell: TrialStatus.RUNNING
        if TrialStatus.RUNNING in counts
        else max(counts, key=lambda s: (counts[s], _PRIORITY[s]))
        for cell, counts in tally.items()
    }
    total = t1 - t0
    unit, per = ("s", 1.0) if total < 120 else ("min", 60.0) if total < 7200 else ("h", 3600.0)
    by_state: dict[TrialStatus, list[tuple[float, int]]] = {}
    for (b, y), status in sorted(grid.items()):
        by_state.setdefault(status, []).append(((b + 0.5) * seconds / per, y))
    title = f"timeline ({unit})"
    if len(shown) < len(latest):
        title = f"timeline ({unit}, {len(shown)}/{len(latest)} workers)"
    cells = tuple((s, tuple(by_state[s])) for s in _PRIORITY if s in by_state)
    return TimelineData(title, tuple(shown), cells, unit)


def describe(view: str) -> str:
    """What a view's marks mean, for the notification that announces it."""
    if view == "timeline":
        return "timeline: █ complete ▒ pruned x fail > running · paused"
    if view == "parallel coordinates":
        return "parallel coordinates: bold in the text's colour = best, grey = pruned"
    if view == "Pareto front":
        return "Pareto front: * on the front (joined), · dominated; axes say which way is better"
    if view == "importance":
        return "importance: ↑ higher is better, ↓ lower is better, ~ unclear, x: c = best choice"
    return view
