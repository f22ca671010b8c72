"""Training-log columns for the metric chart: each trial's ``progress.jsonl`` vs timesteps.

Reading is plain file I/O (through :func:`rltui.export.progress_rows`), meant for a thread
worker; each file is parsed again only when its size or modification time changes.
``rltui.export`` (which imports Optuna) is loaded only then, not for the first paint.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from rltui.ui.widgets.charts import MetricSet

Rows = list[dict[str, Any]]


def log_path(trials_dir: Path, number: int) -> Path:
    return trials_dir / f"trial-{number}" / "progress.jsonl"


class LogCache:
    """Parsed ``progress.jsonl`` files, keyed by path and kept while (size, mtime) hold."""

    def __init__(self) -> None:
        self._files: dict[Path, tuple[tuple[int, int], Rows]] = {}
        self._lock = threading.Lock()

    def rows(self, path: Path) -> Rows:
        try:
            info = path.stat()
        except OSError:
            return []
        key = (info.st_size, info.st_mtime_ns)
        with self._lock:
            cached = self._files.get(path)
        if cached is not None and cached[0] == key:
            return cached[1]
        from rltui.export import progress_rows

        rows = progress_rows(path)
        with self._lock:
            self._files[path] = (key, rows)
        return rows


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    value = float(value)
    return None if math.isnan(value) or math.isinf(value) else value


def columns(logs: dict[int, Rows]) -> list[str]:
    """The numeric columns the logs hold, the familiar ones (export's FRIENDLY) first."""
    from rltui.export import FRIENDLY

    found = {
        key
        for rows in logs.values()
        for row in rows
        for key, value in row.items()
        if key != "timesteps" and _number(value) is not None
    }
    first = [c for c in FRIENDLY.values() if c in found]
    return first + sorted(found - set(first))


def metric_set(logs: dict[int, Rows], column: str | None) -> MetricSet:
    """One series per trial: ``column`` against timesteps, in timestep order."""
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
            series.append((number, tuple(points)))
    return MetricSet(column, tuple(series))


def load(trials_dir: Path | None, numbers: Iterable[int], cache: LogCache) -> dict[int, Rows]:
    """Each trial's log rows (trials without a log are left out). Runs on a thread."""
    if trials_dir is None:
        return {}
    logs = {n: cache.rows(log_path(trials_dir, n)) for n in numbers}
    return {n: rows for n, rows in logs.items() if rows}


def pick(
    trials_dir: Path | None, numbers: Iterable[int], index: int, cache: LogCache
) -> MetricSet | None:
    """The ``index``-th column of these trials' logs; None past the last one (the chart goes
    off). Without any log, index 0 gives an empty set, so the chart shows its hint."""
    logs = load(trials_dir, numbers, cache)
    names = columns(logs)
    if index >= max(1, len(names)):
        return None
    return metric_set(logs, names[index] if names else None)


def announcement(data: MetricSet | None) -> str:
    if data is None:
        return "metric chart off"
    return f"metric chart: {data.column}" if data.column else "metric chart: no training logs yet"
