"""The Pareto front of a study with several objectives, as the Pareto chart and the trial
table show it: each COMPLETE trial's domination rank (1 = the front) and the chart's points.

The ranks are computed once per change of the study, on the reader's thread
(:attr:`rltui.search.reader.Snapshot.ranks`, by :func:`rltui.search.pareto.domination_ranks`):
sorting on the first objective and sweeping the second, 10,000 trials cost a few hundredths
of a second. The chart's data is one more pass over the rows, its dominated trials cut down
to one per character cell of the chart.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from rltui.search.lifecycle import TrialStatus
from rltui.search.pareto import domination_ranks, rankable
from rltui.search.reader import Snapshot

__all__ = ["ParetoData", "axis_label", "changed_ranks", "domination_ranks", "pareto", "ranks"]

# Rows of the chart the dominated trials are spread over, per column of width: about the
# shape of a quarter of the Charts tab.
ROWS_PER_COLUMN = 0.4


@dataclass(frozen=True)
class ParetoData:
    """The first two objectives of every COMPLETE trial: the front's points (sorted along the
    first objective, to be joined) and the dominated ones (at most one per chart cell)."""

    title: str
    x_label: str
    y_label: str
    front: tuple[tuple[float, float], ...]
    front_numbers: tuple[int, ...]
    dominated: tuple[tuple[float, float], ...]
    note: str | None = None  # "3 objectives: showing first two"


def ranks(snapshot: Snapshot) -> dict[int, int]:
    """Each COMPLETE trial's domination rank by number (1 = the Pareto front); empty for a
    study with one objective."""
    return snapshot.ranks


def changed_ranks(before: dict[int, int], after: dict[int, int]) -> set[int]:
    """Trials whose domination rank differs between two snapshots: a new trial on the front
    pushes others back without any change of their own."""
    if after is before or after == before:
        return set()
    return {n for n in after.keys() | before.keys() if after.get(n) != before.get(n)}


def axis_label(snapshot: Snapshot, index: int) -> str:
    """An objective's name with the way it is better: ``reward (max)``."""
    way = "max" if snapshot.directions[index].name == "MAXIMIZE" else "min"
    return f"{snapshot.objective_label(index)} ({way})"


def pareto(snapshot: Snapshot, width: int) -> ParetoData | None:
    """The chart's data, or None for a study with one objective (it has no front)."""
    count = len(snapshot.directions)
    if count < 2:
        return None
    ranked = snapshot.ranks
    front: list[tuple[float, float, int]] = []
    others: list[tuple[float, float]] = []
    for row in snapshot.rows.values():
        if row.status != TrialStatus.COMPLETE or not rankable(row.values, count):
            continue
        x, y = row.values[0], row.values[1]
        if not (math.isfinite(x) and math.isfinite(y)):
            continue
        if ranked.get(row.number) == 1:
            front.append((x, y, row.number))
        else:
            others.append((x, y))
    front.sort()
    note = f"{count} objectives: showing first two" if count > 2 else None
    total = len(front) + len(others)
    return ParetoData(
        title=f"Pareto front: {len(front)} of {total}",
        x_label=axis_label(snapshot, 0),
        y_label=axis_label(snapshot, 1),
        front=tuple((x, y) for x, y, _ in front),
        front_numbers=tuple(n for _, _, n in front),
        dominated=_one_per_cell(others, [p[:2] for p in front], width),
        note=note,
    )


def _one_per_cell(
    points: list[tuple[float, float]], front: list[tuple[float, float]], width: int
) -> tuple[tuple[float, float], ...]:
    """``points`` with at most one in each character cell of a chart ``width`` wide (the
    axes span every point, the front's too): 10,000 trials draw as a few hundred dots."""
    if not points:
        return ()
    columns = max(10, width)
    rows = max(5, int(columns * ROWS_PER_COLUMN))
    every = points + front
    x_low, x_high = min(p[0] for p in every), max(p[0] for p in every)
    y_low, y_high = min(p[1] for p in every), max(p[1] for p in every)
    x_span, y_span = (x_high - x_low) or 1.0, (y_high - y_low) or 1.0
    kept: dict[tuple[int, int], tuple[float, float]] = {}
    for x, y in points:
        cell = (int((x - x_low) / x_span * columns), int((y - y_low) / y_span * rows))
        kept.setdefault(cell, (x, y))
    return tuple(kept.values())
