"""How the reward curves are drawn, as TensorBoard draws scalars: smoothing, a log or linear y,
timesteps or wall time on x, a zoom to part of the x range, and the reward or any column of
the trials' training logs. Pure Python: :func:`chart` runs on the chart's build thread.

Time of an evaluation: Optuna keeps an intermediate value's step only, so times come from
the trial's ``progress.jsonl``, where the trainer gives every row (SB3's log dumps and each
evaluation) a ``wall_time`` (seconds since the epoch). SB3's own ``time/time_elapsed`` starts
again at every resume, so it is not used. Wall time on x is the time since the trial's first
logged row, as TensorBoard's "relative" axis.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from rltui.search.lifecycle import TrialStatus
from rltui.ui.models import metrics
from rltui.ui.models.chart_data import BEST_COLOUR, GREY, PALETTE, CurveSet, downsample
from rltui.ui.models.metrics import Rows

SMOOTHING = (0.0, 0.6, 0.9, 0.99)
ZOOMS = ("all", "last half", "last quarter", "selected")
ZOOM_SHORT = {"last half": "½", "last quarter": "¼", "selected": "#"}
REWARD = "reward"
RAW_COLOUR = GREY
_COLOURS = tuple(c for c in PALETTE if c != "white")  # the others: none looks like the best
RAW_BEHIND_AT_MOST = 3  # more curves with their raw values behind them do not read
# Log columns that are not worth a curve of their own: the x axes, the reward again (the
# intermediate values are the same evaluations), per-seed columns named by their index.
_NOT_METRICS = ("wall_time", "time_time_elapsed", "time_total_timesteps", "eval_mean_reward")
_NOT_METRIC_PREFIXES = ("eval_seed_", "eval_reported_step")

Point = tuple[float, float]


@dataclass(frozen=True)
class CurveOptions:
    """How the curves are drawn; each ``next_*`` gives the options after a key press."""

    smoothing: float = 0.0  # TensorBoard's EMA weight, one of SMOOTHING
    log_y: bool = False
    wall_time: bool = False  # x: wall time since each trial's first log row, else timesteps
    zoom: str = "all"  # one of ZOOMS
    metric: str | None = None  # a training-log column; None: the reward

    @property
    def needs_logs(self) -> bool:
        """Whether drawing reads the trials' training logs."""
        return self.metric is not None or self.wall_time

    def next_smoothing(self) -> CurveOptions:
        at = SMOOTHING.index(self.smoothing) if self.smoothing in SMOOTHING else -1
        return replace(self, smoothing=SMOOTHING[(at + 1) % len(SMOOTHING)])

    def next_zoom(self) -> CurveOptions:
        at = ZOOMS.index(self.zoom) if self.zoom in ZOOMS else -1
        return replace(self, zoom=ZOOMS[(at + 1) % len(ZOOMS)])

    def next_metric(self, available: Sequence[str]) -> CurveOptions:
        """The next of the reward and then ``available`` columns, back to the reward."""
        cycle: list[str | None] = [None, *available]
        at = cycle.index(self.metric) if self.metric in cycle else 0
        return replace(self, metric=cycle[(at + 1) % len(cycle)])

    @property
    def metric_name(self) -> str:
        return self.metric or REWARD

    def describe_zoom(self) -> str:
        return "around the selected trial" if self.zoom == "selected" else self.zoom


def metric_columns(logs: Mapping[int, Rows]) -> list[str]:
    """The log columns worth a curve, the familiar ones first (``total_loss``, ``approx_kl``,
    ``entropy_loss``, ``episode_reward_mean``, ..., ``time_fps``)."""
    return [
        c
        for c in metrics.columns(dict(logs))
        if c not in _NOT_METRICS and not c.startswith(_NOT_METRIC_PREFIXES)
    ]


def ema(values: Sequence[float], weight: float) -> list[float]:
    """TensorBoard's smoothing: an exponential moving average, divided by ``1 - weight**n``
    so that the first values are not dragged towards 0; a constant series stays as it is,
    and values that are not finite pass through without entering the average."""
    if weight <= 0 or not values or all(v == values[0] for v in values):
        return list(values)
    out, last, count = [], 0.0, 0
    for value in values:
        if not math.isfinite(value):
            out.append(value)
            continue
        last = last * weight + (1 - weight) * value
        count += 1
        out.append(last / (1 - weight**count))
    return out


def zoom_range(
    span: tuple[float, float], zoom: str, selected: tuple[float, float] | None = None
) -> tuple[float, float] | None:
    """The x range ``zoom`` shows of the curves' ``span``; None: all of it. ``selected``: the
    selected trial's span (None when it is not drawn: then all)."""
    lo, hi = span
    if zoom == "last half":
        return lo + (hi - lo) / 2, hi
    if zoom == "last quarter":
        return lo + 3 * (hi - lo) / 4, hi
    if zoom == "selected" and selected is not None:
        a, b = selected
        pad = (b - a) * 0.05 or (hi - lo) * 0.05 or 1.0
        return a - pad, b + pad
    return None


@dataclass(frozen=True)
class CurveData:
    """What the reward-curves chart is handed: the trials, how to draw them, their logs
    (None: not read; a trial missing from them has no log) and the selected trial."""

    curves: CurveSet
    options: CurveOptions = CurveOptions()
    logs: Mapping[int, Rows] | None = None
    selected: int | None = None


@dataclass(frozen=True)
class Line:
    """One trial's curve as drawn: ``raw`` (dim, behind) only when smoothed and it reads."""

    number: int
    colour: str
    points: tuple[Point, ...]
    raw: tuple[Point, ...] = ()
    pruned: bool = False
    best: bool = False


@dataclass(frozen=True)
class CurveChart:
    """The lines to draw, the best last, with the title and axes; ``empty`` says why there
    is nothing when ``lines`` is empty."""

    title: str
    lines: tuple[Line, ...]
    x_label: str = "timesteps"
    x_range: tuple[float, float] | None = None
    log_y: bool = False
    empty: str = ""


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _clock(rows: Rows) -> tuple[dict[float, float], list[float], list[float]]:
    """Wall times of a trial's log, relative to its first row: at each evaluation's reported
    step exactly, and (timesteps, time) in step order to place the other steps between."""
    timed = [(row, t) for row in rows if (t := _number(row.get("wall_time"))) is not None]
    if not timed:
        return {}, [], []
    start = min(t for _, t in timed)
    exact: dict[float, float] = {}
    pairs: list[Point] = []
    for row, t in timed:
        step = _number(row.get("timesteps"))
        if step is None:
            continue
        pairs.append((step, t - start))
        if _number(row.get("eval_mean_reward")) is not None:
            reported = _number(row.get("eval_reported_step"))
            exact.setdefault(reported if reported is not None else step, t - start)
    pairs.sort()
    return exact, [p[0] for p in pairs], [p[1] for p in pairs]


def _time_at(
    clock: tuple[dict[float, float], list[float], list[float]], step: float
) -> float | None:
    exact, steps, times = clock
    if step in exact:
        return exact[step]
    at = bisect.bisect_left(steps, step)
    if at >= len(steps) or (at == 0 and steps[0] != step):
        return None  # outside what the log spans: no time to give it
    if steps[at] == step:
        return times[at]
    (s0, t0), (s1, t1) = (steps[at - 1], times[at - 1]), (steps[at], times[at])
    return t0 + (t1 - t0) * (step - s0) / (s1 - s0)


def _points(
    row: Any, options: CurveOptions, logs: Mapping[int, Rows] | None
) -> tuple[list[Point], bool]:
    """The trial's points (x in seconds for wall time), and whether it has values at all
    (a trial with values but no times is one that wall time leaves out)."""
    metric = options.metric
    log = (logs or {}).get(row.number, [])
    if metric is None:
        values = [(float(s), float(v)) for s, v in row.curve if math.isfinite(v)]
        if not options.wall_time or not values:
            return values, bool(values)
        clock = _clock(log)
        timed = [(t, v) for s, v in values if (t := _time_at(clock, s)) is not None]
        return sorted(timed, key=lambda p: p[0]), True
    x_key = "wall_time" if options.wall_time else "timesteps"
    # Wall time counts from the trial's first logged row, whichever column that row holds.
    start = min((t for e in log if (t := _number(e.get("wall_time"))) is not None), default=0.0)
    points, any_value = [], False
    for entry in log:
        y = _number(entry.get(metric))
        if y is None:
            continue
        any_value = True
        x = _number(entry.get(x_key))
        if x is not None:
            points.append((x - start if options.wall_time else x, y))
    points.sort(key=lambda p: p[0])
    return points, any_value


def _options_title(
    data: CurveData, log_refused: bool, timed: int, valued: int, zoom_note: str
) -> str:
    options = data.options
    parts = [options.metric_name]
    if options.smoothing:
        parts.append(f"EMA {options.smoothing:g}")
    if options.log_y:
        parts.append("log: values ≤ 0, linear" if log_refused else "log y")
    if options.wall_time:
        parts.append("wall time" + (f" ({timed}/{valued} timed)" if timed < valued else ""))
    if options.zoom != "all":
        parts.append(zoom_note or f"zoom {ZOOM_SHORT[options.zoom]}")
    # Which trials (CurveSet's "reward: top 5") goes last: the options are what a narrow
    # chart's cut title must keep.
    which = data.curves.title.removeprefix(REWARD).removeprefix(":").strip()
    if len(parts) == 1:
        return f"{parts[0]}: {which}" if which else parts[0]
    return " · ".join([*parts, which] if which else parts)


def chart(data: CurveData, width: int) -> CurveChart:
    """The lines, title and axes of ``data`` for a chart ``width`` cells wide."""
    options, curve_set = data.options, data.curves
    if options.needs_logs and data.logs is None:
        name = options.metric_name + curve_set.title.removeprefix(REWARD)
        return CurveChart(name, (), empty=f"{name}: reading the training logs (progress.jsonl)")
    raw_lines: list[tuple[Any, list[Point]]] = []
    valued = 0
    for row in curve_set.rows:
        points, has_values = _points(row, options, data.logs)
        valued += has_values
        if points:
            raw_lines.append((row, points))
    timed = len(raw_lines)
    unit, scale = "", 1.0
    if options.wall_time and raw_lines:
        longest = max(p[-1][0] for _, p in raw_lines)
        unit, scale = ("min", 60.0) if longest <= 2 * 3600 else ("h", 3600.0)
        raw_lines = [(row, [(x / scale, y) for x, y in pts]) for row, pts in raw_lines]
    zoom_note = ""
    x_range = None
    if raw_lines:
        xs = [x for _, pts in raw_lines for x in (pts[0][0], pts[-1][0])]
        chosen = next((pts for row, pts in raw_lines if row.number == data.selected), None)
        if options.zoom == "selected":
            if chosen is not None:
                zoom_note = f"zoom #{data.selected}"
            elif data.selected is not None:
                zoom_note = f"zoom: #{data.selected} not shown"
            else:
                zoom_note = "zoom: none selected"
        span = (chosen[0][0], chosen[-1][0]) if chosen else None
        x_range = zoom_range((min(xs), max(xs)), options.zoom, span)
    lines = _lines(raw_lines, options, curve_set.best, x_range, max(8, width - 12))
    log_refused = options.log_y and any(
        y <= 0 for line in lines for _, y in (*line.points, *line.raw)
    )
    title = _options_title(data, log_refused, timed, valued, zoom_note)
    x_label = f"wall time ({unit})" if unit else "timesteps"
    if lines:
        return CurveChart(
            title, lines, x_label, x_range, options.log_y and not log_refused and bool(lines)
        )
    return CurveChart(title, (), x_label, empty=_empty(data, valued))


def _lines(
    raw_lines: list[tuple[Any, list[Point]]],
    options: CurveOptions,
    best: int | None,
    x_range: tuple[float, float] | None,
    width: int,
) -> tuple[Line, ...]:
    behind = options.smoothing > 0 and len(raw_lines) <= RAW_BEHIND_AT_MOST
    lines, colour_at = [], 0
    for row, points in raw_lines:
        # Smoothed over the whole curve, so that zooming does not change the values.
        xs = [p[0] for p in points]
        smooth = list(zip(xs, ema([p[1] for p in points], options.smoothing), strict=True))
        last_x = points[-1][0]
        if x_range is not None:
            smooth, points = _clip(smooth, x_range), _clip(points, x_range)
        if not smooth:
            continue
        is_best = row.number == best
        if is_best:
            colour = BEST_COLOUR
        else:
            colour = _COLOURS[colour_at % len(_COLOURS)]
            colour_at += 1
        lines.append(
            Line(
                row.number,
                colour,
                tuple(downsample(smooth, width)),
                tuple(downsample(points, width)) if behind else (),
                row.status == TrialStatus.PRUNED and (x_range is None or last_x <= x_range[1]),
                is_best,
            )
        )
    lines.sort(key=lambda line: line.best)  # the best drawn last, on top
    return tuple(lines)


def _clip(points: list[Point], x_range: tuple[float, float]) -> list[Point]:
    """The points in ``x_range`` and the nearest one on either side, so that a line runs to
    the chart's edges (the axis limits cut it there); none when no point is in the range."""
    a, b = x_range
    inside = [i for i, p in enumerate(points) if a <= p[0] <= b]
    if not inside:
        return []
    return points[max(0, inside[0] - 1) : inside[-1] + 2]


def _empty(data: CurveData, valued: int) -> str:
    options = data.options
    name = options.metric_name + data.curves.title.removeprefix(REWARD)
    if valued and options.wall_time:
        return (
            f"{name}: none of these trials logged times (wall_time in progress.jsonl) yet "
            "(x: back to timesteps)"
        )
    if options.metric is not None:
        return f"{options.metric}: not logged by these trials (m: next column, c: other trials)"
    return f"{data.curves.title}: none has evaluations yet (c: other trials)"
