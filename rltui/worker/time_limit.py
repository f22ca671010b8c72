"""``train.time_limit`` as a running trial keeps it: seconds, or a multiple of the median run
time of the study's complete trials (``3x``), which follows the study as trials complete.

A trial is past its limit when it has run that long, every stint added up and time paused
left out; :class:`rltui.worker.heartbeat.RunningTrial` then prunes it within one environment
or gradient step. A relative limit applies once :data:`LEAST_COMPLETE` trials have completed
(before that, nothing says what a trial's time should be); the heartbeat thread reads the
study's complete trials again every :data:`REFRESH_SECONDS`.
"""

from __future__ import annotations

import statistics
import time
from datetime import datetime

import optuna
from optuna.trial import TrialState

from rltui.search import attrs
from rltui.spec.durations import multiple, said

LEAST_COMPLETE = 3
REFRESH_SECONDS = 10.0


def seconds_run(trial: optuna.trial.FrozenTrial) -> float:
    """Seconds ``trial`` has run, every stint, time paused left out (until it finished, or
    until now)."""
    earlier = float(trial.system_attrs.get(attrs.ELAPSED) or 0.0)
    if trial.datetime_start is None:
        return earlier
    end = trial.datetime_complete or datetime.now()
    return earlier + max(0.0, (end - trial.datetime_start).total_seconds())


def median_run_time(storage: optuna.storages.BaseStorage, study_id: int) -> float | None:
    """The median run time of the study's complete trials that ran (a trial added with its
    result, as an import does, took no time); None while fewer than :data:`LEAST_COMPLETE`
    have."""
    complete = storage.get_all_trials(study_id, deepcopy=False, states=(TrialState.COMPLETE,))
    times = [run for run in map(seconds_run, complete) if run > 0]
    if len(times) < LEAST_COMPLETE:
        return None
    return statistics.median(times)


class TimeLimit:
    """The limit of one trial's stint, which ``used`` seconds of earlier stints count to."""

    def __init__(self, written: float | str | None, used: float = 0.0) -> None:
        self.written = written
        self._multiple = multiple(written)
        self._started = time.monotonic() - used
        self.seconds = float(written) if isinstance(written, int | float) else None
        self.deadline: float | None = None  # monotonic; None: no limit (yet)
        self._read_at: float | None = None
        self._place()

    def _place(self) -> None:
        self.deadline = None if self.seconds is None else self._started + self.seconds

    def refresh(self, storage: optuna.storages.BaseStorage, study_id: int) -> None:
        """Follow the study's complete trials (a relative limit, every REFRESH_SECONDS)."""
        if self._multiple is None:
            return
        now = time.monotonic()
        if self._read_at is not None and now - self._read_at < REFRESH_SECONDS:
            return
        self._read_at = now
        median = median_run_time(storage, study_id)
        if median is not None:
            self.seconds = self._multiple * median
            self._place()

    def passed(self) -> bool:
        return self.deadline is not None and time.monotonic() >= self.deadline

    def said(self) -> str:
        """The limit as a trial's reason tells it."""
        if self._multiple is None:
            return f"train.time_limit: {said(float(self.written or 0))}"
        return (
            f"train.time_limit: {self.written} the median complete trial, "
            f"{said(round(self.seconds or 0.0, 1))}"
        )
