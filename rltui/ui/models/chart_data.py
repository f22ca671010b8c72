"""What each chart shows, computed from a snapshot (pure and cheap: runs on the event loop),
and the plain data each chart widget draws (:mod:`rltui.ui.widgets.charts`)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rltui.search.lifecycle import TrialStatus
from rltui.search.reader import Snapshot, TrialRow

if TYPE_CHECKING:
    from rltui.spec import SearchSpace

# Standard ANSI colour names, so that charts stay within 16 colours in any theme.
PALETTE = ("blue", "green", "magenta", "cyan", "yellow", "white")
# The best trial is drawn in the theme's own text colour: it stands out from the palette's
# colours and reads on dark and light themes alike (plotext draws braille lines in no bold;
# ANSI white is invisible on a light background). What is behind the data (raw curves,
# pruned trials) is grey, which reads on both too.
BEST_COLOUR = "default"
GREY = "gray"
TOP_K = 5
MAX_CURVES = 20
CURVE_MODES = ("selected + running", f"top {TOP_K}", "running", f"last {MAX_CURVES}")


@dataclass(frozen=True)
class CurveSet:
    """Reward curves to draw: which trials, the title saying why these, and the study's best
    complete trial (drawn highlighted where it is among them)."""

    title: str
    rows: tuple[TrialRow, ...]
    best: int | None = None


@dataclass(frozen=True)
class ParamData:
    """One parameter's values against the objective."""

    name: str
    log: bool
    points: tuple[tuple[Any, float], ...]


@dataclass(frozen=True)
class MetricSet:
    """One training-log column against timesteps: a series per trial, each with the trial's
    colour, so that a trial looks the same in every chart (``column`` None: no logs)."""

    column: str | None
    series: tuple[tuple[int, str, tuple[tuple[float, float], ...]], ...]
    # The timesteps every chart of a comparison spans, so that their x axes line up.
    x_range: tuple[float, float] | None = None


def downsample(points: Sequence[tuple[float, float]], width: int) -> list[tuple[float, float]]:
    """At most about ``width`` points, always keeping the first and the last."""
    if width <= 0 or len(points) <= width:
        return list(points)
    stride = math.ceil(len(points) / width)
    picked = list(points[::stride])
    if picked[-1] != points[-1]:
        picked.append(points[-1])
    return picked


def _finite(value: float | None) -> bool:
    return value is not None and not math.isnan(value)


def curves(snapshot: Snapshot, mode: int, selected: int | None) -> CurveSet:
    """Mode 0: the selected trial and all running ones; 1: the best k; 2: running; 3: latest."""
    rows = snapshot.rows
    running = [r for r in rows.values() if r.status == TrialStatus.RUNNING]
    if mode == 1:
        done = [r for r in rows.values() if _finite(r.value) and r.status == TrialStatus.COMPLETE]
        done.sort(key=lambda r: r.value, reverse=snapshot.direction.name == "MAXIMIZE")  # type: ignore[arg-type,return-value]
        picked = done[:TOP_K]
    elif mode == 2:
        picked = running
    elif mode == 3:
        picked = [rows[n] for n in sorted(rows)[-MAX_CURVES:]]
    else:
        picked = [rows[selected]] if selected in rows else []
        picked += [r for r in running if r.number != selected]
    picked = picked[:MAX_CURVES]
    title = CURVE_MODES[mode]
    if mode == 0 and selected is not None:
        title = f"trial {selected}" + (" + running" if len(picked) > 1 else "")
    if snapshot.multi_objective:  # no single best: the first objective orders "top k" only
        if mode == 1:
            title += f" by {snapshot.objective_label(0)}"
        return CurveSet(f"reward: {title}", tuple(picked), None)
    best = snapshot.best
    return CurveSet(f"reward: {title}", tuple(picked), best.number if best is not None else None)


def history(snapshot: Snapshot) -> tuple[list[TrialRow], bool, str]:
    """The rows, whether higher is better, and the title: the first objective's history in a
    study with several (the Pareto front view shows them together)."""
    title = "optimisation history"
    if snapshot.multi_objective:
        count = len(snapshot.directions)
        title = f"history · {snapshot.objective_label(0)}, 1st of {count}"
    return list(snapshot.rows.values()), snapshot.direction.name == "MAXIMIZE", title


def param(snapshot: Snapshot, space: SearchSpace | None, index: int) -> ParamData | None:
    names = list(space.distributions) if space is not None else list(snapshot.summary.param_names)
    if not names:
        return None
    name = names[index % len(names)]
    log = bool(space and name in space.params and space.params[name].is_log)
    points = tuple(
        (r.params[name], r.value)
        for r in snapshot.rows.values()
        if r.status == TrialStatus.COMPLETE and name in r.params and _finite(r.value)
    )
    return ParamData(name, log, points)  # type: ignore[arg-type]
