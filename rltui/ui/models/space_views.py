"""Two views of the search space, computed from a snapshot: a contour of the value over two
chosen parameters, and a slice of the value along every parameter (small multiples), as
optuna-dashboard has them, but live and sized for a quarter of a terminal.

Pure functions of the snapshot (and the search space), without Textual, in the manner of
:mod:`rltui.ui.models.views`: one pass over the rows, results cut down to the chart's size,
frozen and comparable so that the chart rebuilds only when they change.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rltui.search.lifecycle import TrialStatus
from rltui.search.reader import Snapshot, TrialRow
from rltui.ui.models.views import BANDS, Axis, _finite, _stride, axes_of

if TYPE_CHECKING:
    from rltui.spec import SearchSpace

# What the contour's axes take of the chart (characters): the y labels (``LABEL`` wide) and
# the frame beside the map; the title, the frame and the x labels above and below it. The map
# gets the rest, one grid cell per character, so that no cell is drawn twice or left out.
LABEL = 5
CONTOUR_MARGIN = (LABEL + 2, 4)
Ticks = tuple[tuple[float, str], ...]  # (where along the axis, label)
# What each view's marks mean, for the notification that announces it (the marks themselves:
# rltui.ui.widgets.space_charts).
DESCRIPTIONS = {
    "contour": "contour: ·░▒▓█ worst to best value, o trial, * best, x pruned",
    "slices": "slices: o complete, * best, x pruned, > running",
}


def fmt(value: float, room: int = LABEL) -> str:
    """``value`` in at most ``room`` characters where it can be (``1e-4``, ``0.999``, ``150``)."""
    if value == 0:
        return "0"
    text = ""
    for spec in (".3g", ".2g", ".1g", ".0e"):
        text = format(value, spec).replace("e+0", "e").replace("e+", "e").replace("e-0", "e-")
        if len(text) <= room:
            return text
    return text


def _ticks(axis: Axis, room: int) -> Ticks:
    """Labels along ``axis`` (positions 0 to 1): every choice of a categorical axis, the ends
    of a numeric one; each label at most ``room`` characters."""
    if axis.choices is not None:
        n = len(axis.choices)
        return tuple(
            (i / max(1, n - 1), label if len(label) <= room else label[: max(1, room - 1)] + "…")
            for i, label in enumerate(axis.choices)
        )
    return ((0.0, fmt(axis.low, room)), (1.0, fmt(axis.high, room)))


def placer(axis: Axis) -> Callable[[Any], float | None]:
    """``axis.position`` made fast for a pass over every trial: the log of the range and
    the index of each choice worked out once, not per call."""
    if axis.choices is not None:
        spread = max(1, len(axis.choices) - 1)
        at = {choice: i / spread for i, choice in enumerate(axis.choices)}
        return lambda x: at.get(str(x))
    low, high = axis.low, axis.high
    if axis.log:
        if low <= 0 or high <= 0:
            return lambda x: None
        low, high = math.log10(low), math.log10(high)
    span, log = high - low, axis.log

    def position(x: Any) -> float | None:
        if x.__class__ not in (int, float):  # bool, None, text, or a numpy scalar: rare
            return axis.position(x)
        if x != x:  # NaN
            return None
        if log:
            if x <= 0:
                return None
            x = math.log10(x)
        if span <= 0:
            return 0.5
        at = (x - low) / span
        return 0.0 if at < 0.0 else 1.0 if at > 1.0 else at  # outside a space edited since

    return position


def label_of(axis: Axis) -> str:
    """An axis's name as titles show it: ``learning_rate (log)``."""
    return axis.name + (" (log)" if axis.log else "")


def _score(value: float, low: float, high: float, maximize: bool) -> float:
    """Where ``value`` sits between the worst (0) and the best (1) value."""
    if high <= low:
        return 1.0
    position = (value - low) / (high - low)
    return position if maximize else 1.0 - position


def band_of(score: float) -> int:
    """The value band (an index into ``BANDS``, worst first) of a score between 0 and 1."""
    return min(len(BANDS) - 1, max(0, int(score * len(BANDS))))


# Contour -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ContourData:
    """A ``cols`` × ``rows`` map of two parameters (cell (0, 0) at the bottom left; x and y in
    cell units), filled by value band, with trials on top. ``empty`` says what is missing when
    there is nothing to draw."""

    title: str
    cols: int = 0
    rows: int = 0
    # Per band (index into BANDS, worst first): the cells it fills.
    cells: tuple[tuple[int, tuple[tuple[int, int], ...]], ...] = ()
    points: tuple[tuple[float, float, int], ...] = ()  # COMPLETE trials: (x, y, band)
    pruned: tuple[tuple[float, float], ...] = ()
    best: tuple[float, float] | None = None
    x_ticks: Ticks = ()
    y_ticks: Ticks = ()
    x_name: str = ""
    y_name: str = ""
    complete: int = 0  # the COMPLETE trials the map rests on
    empty: str = "contour: needs two parameters and finished trials"


def contour_grid(width: int, height: int) -> tuple[int, int]:
    """The map's columns and rows in a chart of ``width`` × ``height`` characters."""
    return max(2, width - CONTOUR_MARGIN[0]), max(2, height - CONTOUR_MARGIN[1])


def pick_pair(count: int, x_index: int, y_index: int) -> tuple[int, int] | None:
    """The two axes a contour shows: the indices modulo ``count``; y moves to the next axis
    when both name the same one. None with fewer than two axes."""
    if count < 2:
        return None
    x, y = x_index % count, y_index % count
    return (x, (y + 1) % count) if y == x else (x, y)


def contour(
    snapshot: Snapshot,
    space: SearchSpace | None,
    x_index: int,
    y_index: int,
    width: int,
    height: int,
) -> ContourData:
    """The value over parameters ``x_index`` and ``y_index`` (of :func:`axes_of`) in a chart
    of ``width`` × ``height`` characters.

    Each cell shows the band of the best value among the COMPLETE trials in it. An empty cell
    takes the band of the nearest trial within a small ellipse (radii: an eighth of each axis;
    half the gap between two choices on a categorical axis), the better one on a tie: without
    it a few dozen trials would dot a mostly blank map, while interpolating further (Optuna's
    ``griddata``) would paint values no trial measured. Cells farther from every trial stay
    blank. PRUNED trials mark where they stopped but fill nothing (their value is an early
    evaluation); RUNNING trials are not counted. Bands span the COMPLETE trials' values.
    """
    axes = axes_of(snapshot, space)
    pair = pick_pair(len(axes), x_index, y_index)
    if pair is None:
        return ContourData("contour")  # its default ``empty`` says what is missing
    xa, ya = axes[pair[0]], axes[pair[1]]
    title = f"{label_of(xa)} × {label_of(ya)}"
    cols, rows = contour_grid(width, height)
    place_x, place_y = placer(xa), placer(ya)
    placed: list[tuple[TrialRow, float, float]] = []
    pruned: list[tuple[float, float]] = []
    for row in snapshot.rows.values():
        if row.status not in (TrialStatus.COMPLETE, TrialStatus.PRUNED):
            continue
        px, py = place_x(row.params.get(xa.name)), place_y(row.params.get(ya.name))
        if px is None or py is None:
            continue  # a conditional parameter this trial did not sample
        x, y = px * (cols - 1), py * (rows - 1)
        if row.status == TrialStatus.PRUNED:
            pruned.append((x, y))
        elif _finite(row.value):
            placed.append((row, x, y))
    if not placed:
        return ContourData(
            title, empty=f"contour: no complete trial has both {xa.name} and {ya.name} yet"
        )
    values = [r.value for r, _, _ in placed]
    low, high = min(values), max(values)  # type: ignore[type-var]
    maximize = snapshot.direction.name == "MAXIMIZE"
    scores: dict[tuple[int, int], float] = {}  # the best score in each occupied cell
    for row, x, y in placed:
        score = _score(row.value, low, high, maximize)  # type: ignore[arg-type]
        cell = (round(x), round(y))
        if score > scores.get(cell, -1.0):
            scores[cell] = score
    best_row = snapshot.best
    best = next(((x, y) for r, x, y in placed if best_row and r.number == best_row.number), None)
    points = [
        (x, y, band_of(_score(r.value, low, high, maximize)))  # type: ignore[arg-type]
        for r, x, y in _stride(placed, max(10, cols))
        if best_row is None or r.number != best_row.number
    ]
    filled = _fill(scores, cols, rows, _radius(xa, cols), _radius(ya, rows))
    by_band: dict[int, list[tuple[int, int]]] = {}
    for cell, score in sorted(filled.items()):
        by_band.setdefault(band_of(score), []).append(cell)
    return ContourData(
        title=title,
        cols=cols,
        rows=rows,
        cells=tuple((band, tuple(cells)) for band, cells in sorted(by_band.items())),
        points=tuple(points),
        pruned=tuple(_stride(pruned, max(5, cols // 2))),
        best=best,
        x_ticks=_axis_ticks(xa, cols, max(2, cols // 4)),
        y_ticks=_axis_ticks(ya, rows, rows, LABEL),
        x_name=label_of(xa),
        y_name=label_of(ya),
        complete=len(placed),
    )


def _axis_ticks(axis: Axis, cells: int, most: int, room: int | None = None) -> Ticks:
    """Labels along an axis of ``cells`` cells, in cell units: the ends of a numeric axis,
    every choice of a categorical one, or its first and last when it has more than ``most``.
    Each label takes ``room`` characters at most (by default, the gap between two)."""
    many = axis.choices is not None and len(axis.choices) > most
    if room is None:
        room = max(1, cells // len(axis.choices) - 1) if axis.choices and not many else LABEL
    ticks = _ticks(axis, room)
    if many:
        ticks = (ticks[0], ticks[-1])
    return tuple((p * (cells - 1), t) for p, t in ticks)


def _radius(axis: Axis, cells: int) -> float:
    """How far (in cells) a trial's band spreads along ``axis`` into empty cells: an eighth
    of the axis, half the gap between two choices on a categorical one; at least a cell and
    a half, so that a trial's diagonal neighbours fill too."""
    if axis.choices is not None and len(axis.choices) > 1:
        return max(1.5, (cells - 1) / (2 * (len(axis.choices) - 1)))
    return max(1.5, cells / 8)


def _fill(
    scores: dict[tuple[int, int], float], cols: int, rows: int, rx: float, ry: float
) -> dict[tuple[int, int], float]:
    """Every cell within the ellipse of radii ``rx`` × ``ry`` around an occupied one, with
    the score of the nearest (the distance: √((dx/rx)² + (dy/ry)²); the better score on a
    tie).

    Two passes instead of a window around every cell: along each row, the nearest occupied
    cell on either side; then, for each cell, the nearest of those over the rows within
    ``ry`` (for a given dy, the smallest |dx| is the nearest, so this is exact).
    """
    reach_x, reach_y = int(rx), int(ry)
    # Per row: for each column, (|dx|, score) of the nearest occupied cell within rx.
    near: dict[int, list[tuple[int, float] | None]] = {}
    occupied_rows: dict[int, dict[int, float]] = {}
    for (i, j), score in scores.items():
        occupied_rows.setdefault(j, {})[i] = score
    for j, cells in occupied_rows.items():
        line: list[tuple[int, float] | None] = [None] * cols
        for sweep in (range(cols), range(cols - 1, -1, -1)):
            last: int | None = None
            for i in sweep:
                if i in cells:
                    last = i
                if last is None or abs(i - last) > reach_x:
                    continue
                candidate = (abs(i - last), cells[last])
                held = line[i]
                if held is None or (candidate[0], -candidate[1]) < (held[0], -held[1]):
                    line[i] = candidate
        near[j] = line
    out: dict[tuple[int, int], float] = {}
    for j in range(rows):
        lines = [
            ((dy / ry) ** 2, near[j + dy]) for dy in range(-reach_y, reach_y + 1) if j + dy in near
        ]
        if not lines:
            continue
        for i in range(cols):
            chosen: tuple[float, float] | None = None
            for dy2, line in lines:
                hit = line[i]
                if hit is not None:
                    key = (round((hit[0] / rx) ** 2 + dy2, 9), -hit[1])
                    if key[0] <= 1.0 and (chosen is None or key < chosen):
                        chosen = key
            if chosen is not None:
                out[(i, j)] = -chosen[1]
    return out


# Slices ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SliceParam:
    """One parameter's slice: trials at their place on its axis (0 to 1: log for a log
    parameter, by index for a categorical one) against their value."""

    name: str
    log: bool
    ticks: Ticks
    complete: tuple[tuple[float, float], ...]
    pruned: tuple[tuple[float, float], ...]  # at their last reported value
    running: tuple[tuple[float, float], ...]  # at their latest evaluation
    best: tuple[float, float] | None

    @property
    def label(self) -> str:
        return label_of(Axis(self.name, log=self.log))


@dataclass(frozen=True)
class SliceData:
    """A slice per searched parameter, sharing the value range ``low`` to ``high``."""

    title: str
    params: tuple[SliceParam, ...]
    low: float = 0.0
    high: float = 1.0

    @property
    def empty(self) -> bool:
        return not any(p.complete or p.pruned or p.running or p.best for p in self.params)


def _slice_value(row: TrialRow) -> tuple[str, float] | None:
    """Which mark a trial gets in the slices and at what value; None when it gets none."""
    if row.status == TrialStatus.COMPLETE and _finite(row.value):
        return "complete", row.value  # type: ignore[return-value]
    if row.status == TrialStatus.PRUNED:
        value = row.value if _finite(row.value) else row.last_eval
        return ("pruned", value) if _finite(value) else None  # type: ignore[return-value]
    if row.status == TrialStatus.RUNNING and _finite(row.last_eval):
        return "running", row.last_eval  # type: ignore[return-value]
    return None


def slices(snapshot: Snapshot, space: SearchSpace | None, width: int) -> SliceData:
    """For every searched parameter (of :func:`axes_of`), COMPLETE trials at their value,
    PRUNED ones at their last reported value and RUNNING ones at their latest evaluation; at
    most about ``width`` COMPLETE and half as many of each other kind per parameter, the best
    trial always kept. A trial
    without a parameter (a conditional one it did not sample) is left out of that slice.
    The value range, shared by the slices, spans every trial with a mark."""
    axes = axes_of(snapshot, space)
    best_row = snapshot.best
    kinds: dict[str, list[tuple[TrialRow, float]]] = {"complete": [], "pruned": [], "running": []}
    low, high = math.inf, -math.inf
    for row in snapshot.rows.values():  # the one pass over every trial
        mark = _slice_value(row)
        if mark is None:
            continue
        low, high = min(low, mark[1]), max(high, mark[1])
        if best_row is None or row.number != best_row.number:
            kinds[mark[0]].append((row, mark[1]))
    # Finished trials first: pruned and running ones get half as many marks each.
    limits = {"complete": max(10, width), "pruned": max(5, width // 2)}
    limits["running"] = limits["pruned"]
    params = []
    for axis in axes:
        place = placer(axis)
        found: dict[str, tuple[tuple[float, float], ...]] = {}
        for kind, marked in kinds.items():
            # Only the trials that sampled the parameter, cut down before they are placed.
            having = [(r, v) for r, v in marked if axis.name in r.params]
            placed = ((place(r.params[axis.name]), v) for r, v in _stride(having, limits[kind]))
            found[kind] = tuple((x, v) for x, v in placed if x is not None)
        best = None
        if best_row is not None and axis.name in best_row.params:
            x = place(best_row.params[axis.name])
            best = (x, best_row.value) if x is not None else None
        params.append(
            SliceParam(
                name=axis.name,
                log=axis.log,
                ticks=_ticks(axis, LABEL),
                complete=found["complete"],
                pruned=found["pruned"],
                running=found["running"],
                best=best,  # type: ignore[arg-type]
            )
        )
    if low > high:
        low, high = 0.0, 1.0
    return SliceData("slices", tuple(params), low, high)
