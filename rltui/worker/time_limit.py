"""``train.time_limit`` as a running trial keeps it: seconds, or a multiple of what the study's
complete trials took for the whole budget (``3x``), which follows the study as trials complete.

A trial is past its limit when it has run that long, every stint added up and time paused
left out; :class:`rltui.worker.heartbeat.RunningTrial` then prunes it within one environment
or gradient step.

Time the worker's process did not run (a SIGSTOP, a frozen host) is left out too: the heartbeat
thread calls :meth:`TimeLimit.beat` each round, and a round that comes long after the last one
while the process used next to no CPU meanwhile was frozen for that gap. A limit passes only
while the heartbeat's last round is recent, so the training thread, which wakes first, does not
prune a trial for the time it was frozen before the heartbeat has counted it. The worker writes
the stint's frozen seconds in the trial's progress record, so that the run times read back
(a relative limit's paces, the trial table, ``wall_time``) leave them out as well.

A relative limit compares paces, not run times: a complete trial's seconds per timestep it
trained, times the trial's budget. A trial that reached ``train.target`` ended early and took
little time, but its pace says what the whole budget would have cost; comparing run times
would have limited the others to a few times the solved trials' short runs. It applies once
:data:`LEAST_COMPLETE` trials have completed (before that, nothing says what a trial should
cost); the heartbeat thread reads the study's complete trials again every
:data:`REFRESH_SECONDS`.
"""

from __future__ import annotations

import statistics
import time
from datetime import datetime

import optuna
from optuna.trial import TrialState

from rltui.search import attrs
from rltui.search.reader import frozen_seconds
from rltui.spec.durations import multiple, said

LEAST_COMPLETE = 3
REFRESH_SECONDS = 10.0
FROZEN_GAP = 2.0  # seconds between two heartbeat rounds (0.5 s apart) that may be a freeze
FRESH = 2.0  # seconds a heartbeat round is recent for


def seconds_run(trial: optuna.trial.FrozenTrial, frozen: float | None = None) -> float:
    """Seconds ``trial`` has run, every stint, time paused and time its worker was frozen left
    out (until it finished, or until now). ``frozen``: the current stint's frozen seconds, as
    the worker running it counts them; by default, as its progress record says."""
    earlier = float(trial.system_attrs.get(attrs.ELAPSED) or 0.0)
    if trial.datetime_start is None:
        return earlier
    end = trial.datetime_complete or datetime.now()
    stint = (end - trial.datetime_start).total_seconds()
    return earlier + max(0.0, stint - (frozen_seconds(trial) if frozen is None else frozen))


def trained(trial: optuna.trial.FrozenTrial) -> int:
    """The timesteps ``trial`` trained (its progress, else its last report's step)."""
    progress = trial.system_attrs.get(attrs.PROGRESS) or {}
    steps = progress.get("timesteps") or max(trial.intermediate_values, default=0)
    return int(steps or 0)


def median_pace(storage: optuna.storages.BaseStorage, study_id: int) -> float | None:
    """The median seconds per timestep of the study's complete trials that ran (a trial
    added with its result, as an import does, took no time); None while fewer than
    :data:`LEAST_COMPLETE` have."""
    complete = storage.get_all_trials(study_id, deepcopy=False, states=(TrialState.COMPLETE,))
    paces = [
        run / steps
        for trial in complete
        if (steps := trained(trial)) > 0 and (run := seconds_run(trial)) > 0
    ]
    if len(paces) < LEAST_COMPLETE:
        return None
    return statistics.median(paces)


class TimeLimit:
    """The limit of one trial's stint, which ``used`` seconds of earlier stints count to."""

    def __init__(self, written: float | str | None, used: float = 0.0, total: int = 0) -> None:
        self.written = written
        self.total = total  # the trial's budget in timesteps, which a relative limit scales
        self._multiple = multiple(written)
        self._started = time.monotonic() - used
        self.seconds = float(written) if isinstance(written, int | float) else None
        self._read_at: float | None = None
        self._beat: tuple[float, float] | None = None  # the last round: monotonic, CPU time
        self.frozen = 0.0  # seconds left out: the process did not run

    @property
    def deadline(self) -> float | None:
        """When the stint is past the limit (monotonic); None: no limit (yet)."""
        return None if self.seconds is None else self._started + self.seconds

    def refresh(self, storage: optuna.storages.BaseStorage, study_id: int) -> None:
        """Follow the study's complete trials (a relative limit, every REFRESH_SECONDS)."""
        if self._multiple is None:
            return
        now = time.monotonic()
        if self._read_at is not None and now - self._read_at < REFRESH_SECONDS:
            return
        self._read_at = now
        pace = median_pace(storage, study_id)
        if pace is not None:
            self.seconds = self._multiple * pace * self.total

    def beat(self) -> None:
        """A round of the heartbeat thread. A gap of over FROZEN_GAP since the last round in
        which the process used under a tenth of the time in CPU was a freeze: left out."""
        now, cpu = time.monotonic(), time.process_time()
        if self._beat is not None:
            gap, used = now - self._beat[0], cpu - self._beat[1]
            if gap > FROZEN_GAP and used < gap / 10:
                self._started += gap
                self.frozen += gap
        self._beat = (now, cpu)

    def passed(self) -> bool:
        now = time.monotonic()
        if self.deadline is None or now < self.deadline:
            return False
        # Without a recent round the process may just have woken from a freeze.
        return self._beat is None or now - self._beat[0] < FRESH

    def said(self) -> str:
        """The limit as a trial's reason tells it."""
        if self._multiple is None:
            return f"train.time_limit: {said(float(self.written or 0))}"
        return (
            f"train.time_limit: {self.written} the median complete trial's time for "
            f"{self.total:,} timesteps, {said(round(self.seconds or 0.0, 1))}"
        )
