"""Training-log columns for the comparison view: each trial's ``progress.jsonl`` vs timesteps.

Reading is plain file I/O (through :func:`rltui.search.trial_logs.progress_rows`), meant for
a thread worker; each file is parsed again only when its size or modification time changes.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from rltui.search.folders import progress_log
from rltui.search.trial_logs import FRIENDLY, progress_rows
from rltui.ui.models.chart_data import PALETTE, MetricSet

Rows = list[dict[str, Any]]

# What users compare first (the "reward, total loss, policy loss, value loss").
DEFAULT_COLUMNS = ("eval_mean_reward", "total_loss", "policy_loss", "value_loss")
MAX_CHARTS = 6
MAX_TRIALS = len(PALETTE)  # one colour per compared trial, the same in every chart
# First to fill the defaults' gaps: DQN's exploration schedule, the training episodes' reward.
_FALLBACK = ("rollout_exploration_rate", "episode_reward_mean")
# Bookkeeping columns: listed in the picker, never picked to fill the default charts.
_BOOKKEEPING = ("wall_time", "train_n_updates", "train_learning_rate", "train_clip_range")
_BOOKKEEPING_PREFIXES = ("time_", "eval_seed_")


class LogCache:
    """Parsed ``progress.jsonl`` files, keyed by path and kept while (size, mtime) hold."""

    def __init__(self) -> None:
        self._files: dict[Path, tuple[tuple[int, int, tuple[int, ...]], Rows]] = {}
        self._lock = threading.Lock()

    def rows(self, path: Path, seeds: Sequence[int] = ()) -> Rows:
        """The file's rows; per-seed evaluation columns named by ``seeds`` (the trial's
        ``train.seeds``) when given, see :func:`rltui.search.trial_logs.progress_rows`."""
        try:
            info = path.stat()
        except OSError:
            return []
        key = (info.st_size, info.st_mtime_ns, tuple(seeds))
        with self._lock:
            cached = self._files.get(path)
        if cached is not None and cached[0] == key:
            return cached[1]
        rows = progress_rows(path, seeds)
        with self._lock:
            self._files[path] = (key, rows)
        return rows


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    value = float(value)
    return None if math.isnan(value) or math.isinf(value) else value


def columns(logs: dict[int, Rows]) -> list[str]:
    """The numeric columns the logs hold, the familiar ones (trial_logs' FRIENDLY) first."""
    found = {
        key
        for rows in logs.values()
        for row in rows
        for key, value in row.items()
        if key != "timesteps" and _number(value) is not None
    }
    first = [c for c in FRIENDLY.values() if c in found]
    return first + sorted(found - set(first))


def default_columns(available: Sequence[str]) -> list[str]:
    """Reward and the three losses where the logs have them; otherwise (DQN logs one loss,
    SAC an actor and a critic loss) the first other columns that are not bookkeeping."""
    chosen = [c for c in DEFAULT_COLUMNS if c in available]
    spare = [c for c in _FALLBACK if c in available] + [
        c
        for c in available
        if c not in _FALLBACK and c not in _BOOKKEEPING and not c.startswith(_BOOKKEEPING_PREFIXES)
    ]
    return (chosen + [c for c in spare if c not in chosen])[: len(DEFAULT_COLUMNS)]


def metric_set(logs: dict[int, Rows], column: str | None, colours: dict[int, str]) -> MetricSet:
    """One series per trial: ``column`` against timesteps, in timestep order, in the trial's
    colour (so a trial has the same colour in every chart)."""
    if column is None:
        return MetricSet(None, ())
    series = []
    for number, rows in logs.items():
        points = []
        for row in rows:
            x, y = _number(row.get("timesteps")), _number(row.get(column))
            if x is not None and y is not None:
                points.append((x, y))
        if points:
            points.sort(key=lambda p: p[0])
            series.append((number, colours.get(number, PALETTE[0]), tuple(points)))
    return MetricSet(column, tuple(series))


def load(
    trials_dir: Path | None,
    numbers: Iterable[int],
    cache: LogCache,
    seeds: Mapping[int, Sequence[int]] | None = None,
) -> dict[int, Rows]:
    """Each trial's log rows (trials without a log are left out), with ``seeds[n]`` naming
    trial n's per-seed columns. Runs on a thread."""
    if trials_dir is None:
        return {}
    seeds = seeds or {}
    logs = {n: cache.rows(progress_log(trials_dir, n), seeds.get(n, ())) for n in numbers}
    return {n: rows for n, rows in logs.items() if rows}


@dataclass(frozen=True)
class Target:
    """Which trials to compare, and why: each trial's role (``marked``, ``selected``,
    ``best``), in legend order; ``left_out`` counts marked trials beyond the colours."""

    trials: tuple[tuple[int, str], ...]
    left_out: int = 0

    @property
    def numbers(self) -> tuple[int, ...]:
        return tuple(number for number, _ in self.trials)

    def colours(self) -> dict[int, str]:
        return {n: PALETTE[i % len(PALETTE)] for i, n in enumerate(self.numbers)}


def distinguishing(params: Mapping[int, Mapping[str, Any]]) -> dict[int, dict[str, Any]]:
    """For each trial, the parameters whose values differ among ``params``' trials (what a
    legend needs to tell them apart; a parameter only some trials have counts as differing).
    A lone trial keeps all of its parameters."""
    if len(params) <= 1:
        return {n: dict(p) for n, p in params.items()}
    names = sorted({name for p in params.values() for name in p})
    differing = [
        name for name in names if len({repr(p.get(name, _MISSING)) for p in params.values()}) > 1
    ]
    return {n: {name: p[name] for name in differing if name in p} for n, p in params.items()}


_MISSING = object()


def target(
    marked: Iterable[int], selected: int | None, best: int | None, best_label: str = "best"
) -> Target:
    """The marked trials (the first :data:`MAX_TRIALS` by number); with none marked, the
    selected trial and the study's best, called ``best_label`` (with several objectives the
    front's best by the first: say so)."""
    chosen = sorted(marked)
    if chosen:
        shown = chosen[:MAX_TRIALS]
        return Target(tuple((n, "marked") for n in shown), len(chosen) - len(shown))
    trials: list[tuple[int, str]] = []
    if selected is not None:
        trials.append((selected, best_label if selected == best else "selected"))
    if best is not None and best != selected:
        trials.append((best, best_label))
    return Target(tuple(trials))


@dataclass(frozen=True)
class Comparison:
    """What the comparison view shows: the trials, every column their logs hold, and one
    chart per shown column."""

    target: Target
    columns: tuple[str, ...]  # wanted by the user (empty: the defaults)
    available: tuple[str, ...]
    charts: tuple[MetricSet, ...]

    @property
    def shown(self) -> tuple[str, ...]:
        return tuple(chart.column for chart in self.charts if chart.column is not None)


def compare(
    trials_dir: Path | None,
    wanted: Target,
    chosen: Sequence[str],
    cache: LogCache,
    seeds: Mapping[int, Sequence[int]] | None = None,
) -> Comparison:
    """Read the logs of ``wanted``'s trials and chart ``chosen`` columns (those the logs
    hold; the defaults when none is chosen or none of them is there). Runs on a thread."""
    logs = load(trials_dir, wanted.numbers, cache, seeds)
    available = columns(logs)
    shown = [c for c in chosen if c in available][:MAX_CHARTS] or default_columns(available)
    colours = wanted.colours()
    charts = [metric_set(logs, column, colours) for column in shown]
    steps = [p[0] for chart in charts for _, _, points in chart.series for p in points]
    if steps:  # one x axis for all: a point of training lines up across the charts
        span = (min(steps), max(steps))
        charts = [replace(chart, x_range=span) for chart in charts]
    return Comparison(
        wanted, tuple(chosen), tuple(available), tuple(charts) or (MetricSet(None, ()),)
    )
