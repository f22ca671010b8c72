"""Reading a study for display: incremental, cheap to repeat, safe off the UI thread.

Optuna's Journal storage replays only the new lines of its log, and its RDB storage caches
finished trials, so ``get_all_trials`` is cheap after the first read. On top of that the reader
keeps one :class:`TrialRow` per trial and rebuilds only rows whose trial object changed.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from rltui.search import attrs, segments
from rltui.search.lifecycle import ControlAction, TrialStatus, pending_control, status_of
from rltui.search.optuna_internals import metric_names_in, storage_of, study_id_of, trial_id_of
from rltui.search.pareto import domination_ranks, rankable
from rltui.search.segments import SEGMENT, Segment, population_attrs, segment_of
from rltui.search.workers import WorkerRecord, read_records

if TYPE_CHECKING:  # Optuna is imported lazily: the UI paints before it has loaded
    import optuna
    from optuna.study import StudyDirection
    from optuna.trial import FrozenTrial


@dataclass(frozen=True)
class TrialRow:
    """One trial as the UI shows it."""

    number: int
    trial_id: int
    status: TrialStatus
    value: float | None
    params: dict[str, Any]
    curve: tuple[tuple[int, float], ...]
    timesteps: int
    total: int | None
    started: datetime | None
    completed: datetime | None
    worker: str | None
    error: str | None
    traceback: str | None
    pending: ControlAction | None
    spec_version: int | None
    earlier: float = 0.0  # seconds trained in stints before a pause
    frozen: float = 0.0  # seconds of the current stint its worker did not run (frozen_seconds)
    note: str | None = None  # why a resume did not happen (a checkpoint out of reach)
    # Every objective's value, in the study's order (``value`` is the first); empty when the
    # trial has none.
    values: tuple[float, ...] = ()
    # Its place in a PBT member's training (rltui.search.segments); None in other studies.
    segment: Segment | None = None
    target: int | None = None  # the timestep it reached train.target at, if it did

    @property
    def last_eval(self) -> float | None:
        return self.curve[-1][1] if self.curve else None

    @property
    def duration(self) -> float | None:
        return self.duration_at(datetime.now())

    def duration_at(self, now: datetime) -> float | None:
        """Seconds of training: every stint of a paused and resumed trial, no time paused."""
        if self.status in (TrialStatus.PAUSED, TrialStatus.WAITING) or self.started is None:
            return self.earlier or None
        end = self.completed or now
        return self.earlier + max(0.0, (end - self.started).total_seconds() - self.frozen)


def row_of(trial: FrozenTrial) -> TrialRow:
    system = trial.system_attrs
    progress = system.get(attrs.PROGRESS) or {}
    paused = system.get(attrs.PAUSED) or system.get(attrs.RESUME) or {}
    curve = tuple(sorted(trial.intermediate_values.items()))
    error = system.get(attrs.ERROR) or {}
    status = status_of(trial)
    values = trial.values
    # Called for every trial of a study as it opens: what most trials lack is not looked for.
    return TrialRow(
        number=trial.number,
        trial_id=trial_id_of(trial),
        status=status,
        value=values[0] if values else None,
        params=params_of(trial, status),
        curve=curve,
        timesteps=int(
            progress.get("timesteps") or paused.get("timesteps") or (curve[-1][0] if curve else 0)
        ),
        total=progress.get("total"),
        started=trial.datetime_start,
        completed=trial.datetime_complete,
        worker=system.get(attrs.TRIAL_WORKER),
        error=error.get("message") or system.get(attrs.REASON),
        traceback=error.get("traceback"),
        pending=pending_control(trial) if attrs.CONTROL in system else None,
        spec_version=system.get(attrs.TRIAL_SPEC_VERSION),
        earlier=_earlier(trial, status),
        frozen=frozen_seconds(trial) if "frozen" in progress else 0.0,
        note=(system.get(attrs.PAUSED) or {}).get("note") if status == TrialStatus.PAUSED else None,
        values=tuple(values) if values else (),
        segment=segment_of(trial) if SEGMENT in system else None,
        target=_whole(system.get(attrs.TARGET)),
    )


def _whole(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def params_of(trial: FrozenTrial, status: TrialStatus) -> dict[str, Any]:
    """The trial's parameters. An enqueued trial has none in Optuna's sense until a worker
    takes it: the ones it will run with wait in its ``fixed_params`` (Optuna's own name, set
    by ``enqueue_trial``); parameters left to the sampler are not known yet."""
    if status == TrialStatus.WAITING and not trial.params:
        fixed = trial.system_attrs.get("fixed_params")
        return dict(fixed) if isinstance(fixed, dict) else {}
    return dict(trial.params)


def frozen_seconds(trial: FrozenTrial) -> float:
    """Seconds of the trial's current (or last) stint in which its worker's process did not run
    (a SIGSTOP, a frozen host), as its worker counted them in the progress record; none for a
    record written before this stint began."""
    progress = trial.system_attrs.get(attrs.PROGRESS) or {}
    frozen, updated = progress.get("frozen"), progress.get("updated")
    if not isinstance(frozen, int | float) or not isinstance(updated, int | float):
        return 0.0
    if trial.datetime_start is None or updated < trial.datetime_start.timestamp():
        return 0.0
    return float(frozen)


def _earlier(trial: FrozenTrial, status: TrialStatus) -> float:
    """Seconds trained before the current stint (see ``attrs.ELAPSED``)."""
    paused = trial.system_attrs.get(attrs.PAUSED) or {}
    in_record = paused.get("elapsed") if isinstance(paused, dict) else None
    if status == TrialStatus.PAUSED and isinstance(in_record, int | float):
        return float(in_record)  # written with the pause itself: never a stint behind
    elapsed = trial.system_attrs.get(attrs.ELAPSED)
    if elapsed is not None:
        return float(elapsed)
    paused_at = (trial.system_attrs.get(attrs.PAUSED) or {}).get("at")
    if status == TrialStatus.PAUSED and paused_at and trial.datetime_start is not None:
        # Paused by a worker that kept no elapsed time: its one stint ended at the pause.
        return max(0.0, float(paused_at) - trial.datetime_start.timestamp())
    return 0.0


@dataclass(frozen=True)
class Summary:
    """What every view needs from all the rows: computed once per change, off the UI thread."""

    counts: Counter[TrialStatus]
    best: TrialRow | None
    running: frozenset[int]  # numbers of RUNNING trials (their durations tick)
    param_names: tuple[str, ...]  # every parameter any trial has, sorted
    # With several objectives: each COMPLETE trial's domination rank (1 = the Pareto front),
    # by number; empty with one objective.
    ranks: dict[int, int] = field(default_factory=dict)


def summarize(
    rows: dict[int, TrialRow], maximize: bool, directions: tuple[bool, ...] = ()
) -> Summary:
    """What every view needs from ``rows``; ``directions`` (True: maximise) ranks the trials
    of a study with several objectives."""
    done = [
        r
        for r in rows.values()
        if r.status == TrialStatus.COMPLETE and r.value is not None and not math.isnan(r.value)
    ]
    pick = max if maximize else min
    return Summary(
        counts=Counter(row.status for row in rows.values()),
        best=pick(done, key=lambda r: r.value) if done else None,  # type: ignore[arg-type,return-value]
        running=frozenset(n for n, r in rows.items() if r.status == TrialStatus.RUNNING),
        param_names=tuple(sorted({name for row in rows.values() for name in row.params})),
        ranks=_ranks(rows, directions) if len(directions) > 1 else {},
    )


def _ranks(rows: dict[int, TrialRow], maximize: tuple[bool, ...]) -> dict[int, int]:
    done = [
        r
        for r in rows.values()
        if r.status == TrialStatus.COMPLETE and rankable(r.values, len(maximize))
    ]
    ranks = domination_ranks([r.values for r in done], maximize)
    return {row.number: rank for row, rank in zip(done, ranks, strict=True)}


@dataclass(frozen=True)
class Snapshot:
    """What the study looks like now, and which trial numbers changed since the last read.

    ``direction`` is the first objective's; ``directions`` has one per objective, and
    ``objective_names`` their names (Optuna's metric names; empty when the study has none).
    In a study with several objectives, ``best`` is the best trial by the first objective.
    """

    study_name: str
    direction: StudyDirection
    rows: dict[int, TrialRow]
    changed: frozenset[int]
    workers: list[WorkerRecord]
    spec_version: int
    draining: bool
    read_at: float = field(default_factory=time.time)
    directions: tuple[StudyDirection, ...] = ()
    objective_names: tuple[str, ...] = ()
    # A PBT study's settings changed from the window (rltui.search.segments.settings reads them)
    population: dict[str, Any] = field(default_factory=dict)
    # Set by the reader (reused while nothing changes) or computed on first use; never
    # copied by dataclasses.replace, whose rows may differ.
    _summary: Summary | None = field(default=None, init=False, compare=False, repr=False)

    @property
    def summary(self) -> Summary:
        if self._summary is None:
            object.__setattr__(
                self,
                "_summary",
                summarize(
                    self.rows,
                    self.direction.name == "MAXIMIZE",
                    tuple(d.name == "MAXIMIZE" for d in self.directions),
                ),
            )
        assert self._summary is not None
        return self._summary

    def __post_init__(self) -> None:
        if not self.directions:  # built by hand with one direction
            object.__setattr__(self, "directions", (self.direction,))

    @property
    def multi_objective(self) -> bool:
        """Whether the study has several objectives (a Pareto front rather than one best)."""
        return len(self.directions) > 1

    def objective_label(self, index: int) -> str:
        """The name of objective ``index``: its metric name, else ``value`` alone or
        ``value N`` (1-based) among several."""
        if index < len(self.objective_names) and self.objective_names[index]:
            return self.objective_names[index]
        return f"value {index + 1}" if self.multi_objective else "value"

    @property
    def ranks(self) -> dict[int, int]:
        """Each COMPLETE trial's domination rank by number (1 = the Pareto front); empty
        with one objective."""
        return self.summary.ranks

    @property
    def front(self) -> list[TrialRow]:
        """The trials on the Pareto front (rank 1), by number; empty with one objective."""
        return sorted((self.rows[n] for n, r in self.ranks.items() if r == 1), key=_number)

    def leads(self, number: int) -> bool:
        """Whether trial ``number`` is the best one, or with several objectives on the front."""
        if self.multi_objective:
            return self.ranks.get(number) == 1
        return self.best is not None and self.best.number == number

    def named_values(self, row: TrialRow) -> dict[str, float]:
        """``row``'s values by objective name, in the study's order."""
        names = [self.objective_label(i) for i in range(len(self.directions))]
        return dict(zip(names, row.values, strict=False))

    @property
    def counts(self) -> Counter[TrialStatus]:
        return self.summary.counts

    @property
    def best(self) -> TrialRow | None:
        """The best COMPLETE trial; with several objectives, the trial of the Pareto front
        best by the first objective (a tie on it that another trial dominates is not)."""
        if not self.multi_objective:
            return self.summary.best
        front = [r for r in self.front if r.values]
        if not front:
            return None
        sign = 1.0 if self.direction.name == "MAXIMIZE" else -1.0
        return max(front, key=lambda r: (sign * r.values[0], -r.number))

    def best_member(self, budget: int, maximize: bool) -> TrialRow | None:
        """In a PBT study, the last segment of the best member that trained its whole
        ``budget`` (:func:`segments.best_final`); None before any has."""
        done = TrialStatus.COMPLETE
        rows = [(r, r.segment, r.status == done) for r in self.rows.values() if r.segment]
        return segments.best_final(rows, budget, maximize)


def _number(row: TrialRow) -> int:
    return row.number


class StudyReader:
    """Reads one study repeatedly; each :meth:`poll` costs about what changed."""

    def __init__(self, ostudy: optuna.Study):
        self.study = ostudy
        self._seen: dict[int, FrozenTrial] = {}
        self._rows: dict[int, TrialRow] = {}
        self._last: Snapshot | None = None

    def poll(self) -> Snapshot:
        storage, study_id = storage_of(self.study), study_id_of(self.study)
        trials = storage.get_all_trials(study_id, deepcopy=False)
        changed = set()
        for trial in trials:
            # Storages hand out a new FrozenTrial object when a trial changes, so identity is a
            # cheap change test; the comparison guards storages that copy on every read.
            previous = self._seen.get(trial.number)
            if previous is trial or (previous is not None and _same(previous, trial)):
                continue
            self._seen[trial.number] = trial
            self._rows[trial.number] = row_of(trial)
            changed.add(trial.number)
        system = storage.get_study_system_attrs(study_id)
        last = self._last
        # Optuna's Study.direction raises for a study with several objectives.
        directions = tuple(self.study.directions)
        snapshot = Snapshot(
            study_name=self.study.study_name,
            direction=directions[0],
            directions=directions,
            objective_names=tuple(metric_names_in(system) or ()),
            # Nothing changed: the same rows and summary, with no walk over every trial.
            rows=dict(self._rows) if changed or last is None else last.rows,
            changed=frozenset(changed),
            workers=read_records(system),
            population=population_attrs(system),
            spec_version=int(system.get(attrs.SPEC_VERSION, 0)),
            draining=bool(system.get(attrs.DRAIN)),
        )
        if not changed and last is not None:
            object.__setattr__(snapshot, "_summary", last.summary)
        snapshot.summary  # noqa: B018  # computed here, on the reader's thread
        self._last = snapshot
        return snapshot


def _same(a: FrozenTrial, b: FrozenTrial) -> bool:
    return (
        a.state == b.state
        and a.values == b.values
        and len(a.intermediate_values) == len(b.intermediate_values)
        and a.system_attrs == b.system_attrs
        and a.params == b.params
    )
