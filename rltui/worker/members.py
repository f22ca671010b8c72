"""A worker's part in Population-Based Training: start members, start a segment from the
checkpoint it continues, and decide, when a segment ends, what its member does next.

The decisions are :mod:`rltui.search.pbt`'s; this module does what they need done on a
worker's host: the checkpoint copies (through :func:`rltui.train.checkpoint.copy`, which checks
what it copies as a load would), the segment's records, and removing the end checkpoints that
no member needs any more.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import optuna

from rltui.search import attrs, endings, pbt, segments
from rltui.search.folders import trial_folder
from rltui.search.optuna_internals import fresh_trial, trial_id_of
from rltui.search.segments import Segment
from rltui.spec import StudyFile
from rltui.spec.pbt import MUTABLE, is_pbt, options_of
from rltui.train import checkpoint

if TYPE_CHECKING:
    from rltui.worker.loop import Worker
    from rltui.worker.trial import TrialRun


def is_population(study: StudyFile) -> bool:
    return is_pbt(study.spec)


def settings_now(worker: Worker, study: StudyFile) -> segments.Settings:
    system = worker.storage.get_study_system_attrs(worker.study_id)
    return segments.settings(options_of(study.spec), system)


def start_member(worker: Worker, trials: list[optuna.trial.FrozenTrial]) -> optuna.Trial | None:
    """A new member's first segment, while the population has room; None when it is full.
    Called under the worker's study lock, so local workers never start the same member."""
    study = worker.current_spec()
    settings = settings_now(worker, study)
    member = pbt.next_member(segments.members(trials), settings)
    if member is None:
        return None
    trial = fresh_trial(worker.study)
    first = Segment(member=member, index=0, start=0, end=_end(0, settings, study))
    segments.write(worker.storage, trial_id_of(trial), first)
    return trial


def _end(start: int, settings: segments.Settings, study: StudyFile) -> int:
    return min(start + settings.interval, study.spec.train.timesteps)


def start_from_source(run: TrialRun, segment: Segment) -> dict[str, Any]:
    """Copy the checkpoint the segment continues into the trial's own folder; the resume
    record to train from. Raises ``CheckpointRefused`` or ``OSError`` with the reason."""
    assert segment.source is not None
    root = run.worker.home.checkpoints
    copied = checkpoint.copy(Path(segment.source), run.folder, root)
    resume: dict[str, Any] = {"checkpoint": str(copied), "timesteps": segment.start}
    # From here on it is a trial with a checkpoint of its own: a retry resumes from it.
    run.storage.set_trial_system_attr(run.id, attrs.CHECKPOINT, resume)
    return resume


def segment_value(
    evaluations: list[tuple[int, float]], segment: Segment
) -> list[tuple[int, float]]:
    """The evaluations a segment made itself (a checkpoint brings its parent's with it)."""
    return [(step, value) for step, value in evaluations if step > segment.start]


def end_segment(
    run: TrialRun, study: StudyFile, segment: Segment, value: float, ended_at: Path | None
) -> None:
    """Plan the member's next segment, enqueue it, and end this one COMPLETE with ``value``,
    in one step under the study lock.

    Another worker's segment may end at the same moment: unlocked, its plan could read the
    population before this ending was recorded and pick a checkpoint that this worker's
    :func:`collect`, reading after it, finds nobody needs and removes; the segment that
    copies it then fails. Under the lock each plan sees every ending before it, and each
    collection every segment enqueued before it."""
    with run.worker.study_lock():
        keep = after_segment(run, study, segment, value, ended_at)
        checkpoints = None if keep else run.worker.home.checkpoints
        endings.end(run.worker.study, run.id, None, value=value, checkpoints=checkpoints)


def after_segment(
    run: TrialRun,
    study: StudyFile,
    segment: Segment,
    value: float | None,
    ended_at: Path | None,
) -> bool:
    """Decide what the member does after its segment ended with ``value`` and the checkpoint
    ``ended_at``, and enqueue its next segment; True when the checkpoint must stay (a next
    segment, or another member, may start from it)."""
    worker = run.worker
    if ended_at is None or value is None:
        return False
    segment = segment.ended_with(str(ended_at))
    segments.write(run.storage, run.id, segment)
    trials = worker.storage.get_all_trials(worker.study_id, deepcopy=False)
    frozen = run.storage.get_trial(run.id)
    if pbt.successor(trials, frozen) is not None:
        return True  # an earlier run of this segment enqueued it already (a retry)
    settings = settings_now(worker, study)
    algorithm = study.spec.train.algorithm or ""
    plan = pbt.plan_next(
        frozen,
        segment,
        value,
        trials,
        settings,
        total=study.spec.train.timesteps,
        maximize=study.spec.maximize_reward,
        mutable=MUTABLE.get(algorithm, frozenset()),
    )
    if plan is None:
        return False
    if plan.retire is not None:
        segments.retire(worker.storage, worker.study_id, segment.member, plan.retire)
        run.say(f"member {segment.member} {plan.retire}")
        return False
    if plan.donor is not None and settings.force.get(segment.member) == plan.donor:
        segments.force_exploit(worker.storage, worker.study_id, segment.member, None)
    version = int(worker.storage.get_study_system_attrs(worker.study_id).get(attrs.SPEC_VERSION, 1))
    pbt.enqueue(
        worker.storage,
        worker.study_id,
        plan,
        segment,
        run.trial.number,
        interval=settings.interval,
        total=study.spec.train.timesteps,
        version=version,
    )
    if plan.donor is not None:
        changes = ", ".join(f"{k} {v}" for k, v in plan.explore.items()) or "no change"
        assert plan.source is not None and plan.ended is not None  # enqueue needed both
        run.say(
            f"next segment: member {segment.member} copies member {plan.donor} at "
            f"{plan.ended.end:,} timesteps (trial {plan.source.number}) and explores: {changes}"
        )
    return True


def collect(worker: Worker, study: StudyFile) -> None:
    """Remove the end checkpoints of segments no member will start from any more (under the
    study lock: see :func:`end_segment`)."""
    root = worker.home.checkpoints
    with worker.study_lock():
        trials = worker.storage.get_all_trials(worker.study_id, deepcopy=False)
        for trial in pbt.collectable(trials, study.spec.train.timesteps):
            if trial_folder(root, trial.number).exists():
                endings.discard_checkpoints(worker.storage, worker.study_id, trial, root)
