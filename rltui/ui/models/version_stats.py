"""How each study-file version's trials did: how many ran, how many completed, their best and
median values, and which version produced the best trial. One pass over the rows."""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable
from dataclasses import dataclass

from rltui.search.lifecycle import TrialStatus
from rltui.search.reader import Snapshot, TrialRow


@dataclass(frozen=True)
class VersionStats:
    """The trials that ran with one study-file version (0: trials that recorded none)."""

    version: int
    run: int  # every trial a worker took: running, paused and finished ones
    complete: int
    pruned: int
    failed: int
    best: float | None  # over COMPLETE trials with a value
    best_trial: int | None
    median: float | None

    def describe(self) -> str:
        """One line: ``12 run · 9 complete · best 190 (#6) · median 150``."""
        line = f"{self.run} run · {self.complete} complete"
        if self.best is not None:
            line += f" · best {_number(self.best)} (#{self.best_trial})"
        if self.median is not None:
            line += f" · median {_number(self.median)}"
        return line


def _number(value: float) -> str:
    return f"{value:.4g}"


def version_stats(rows: Iterable[TrialRow], maximize: bool) -> dict[int, VersionStats]:
    """Each version's :class:`VersionStats`, keyed by version (0 for trials with no recorded
    version). Enqueued trials that no worker took yet have run nothing and are left out."""
    run: dict[int, int] = {}
    counts: dict[tuple[int, TrialStatus], int] = {}
    values: dict[int, list[float]] = {}
    best: dict[int, tuple[float, int]] = {}
    for row in rows:
        if row.status == TrialStatus.WAITING:
            continue
        version = row.spec_version or 0
        run[version] = run.get(version, 0) + 1
        counts[version, row.status] = counts.get((version, row.status), 0) + 1
        value = row.value
        if row.status != TrialStatus.COMPLETE or value is None or math.isnan(value):
            continue
        values.setdefault(version, []).append(value)
        held = best.get(version)
        if held is None or (value > held[0] if maximize else value < held[0]):
            best[version] = (value, row.number)
    return {
        version: VersionStats(
            version=version,
            run=total,
            complete=counts.get((version, TrialStatus.COMPLETE), 0),
            pruned=counts.get((version, TrialStatus.PRUNED), 0),
            failed=counts.get((version, TrialStatus.FAIL), 0),
            best=best[version][0] if version in best else None,
            best_trial=best[version][1] if version in best else None,
            median=statistics.median(values[version]) if version in values else None,
        )
        for version, total in sorted(run.items())
    }


def best_version(stats: dict[int, VersionStats], maximize: bool) -> int | None:
    """The version whose trials reached the best value (on a tie, the better median, then the
    newer version); None when no version has a complete trial."""
    sign = 1.0 if maximize else -1.0
    scored = [
        (sign * s.best, sign * s.median if s.median is not None else -math.inf, s.version)
        for s in stats.values()
        if s.best is not None
    ]
    return max(scored)[2] if scored else None


def stats_of(snapshot: Snapshot | None) -> tuple[dict[int, VersionStats] | None, bool]:
    """Each version's stats from ``snapshot`` (None without one), and whether higher values
    are better: what the versions screen takes."""
    if snapshot is None:
        return None, True
    maximize = snapshot.direction.name == "MAXIMIZE"
    return version_stats(snapshot.rows.values(), maximize), maximize
