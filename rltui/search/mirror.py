"""A few of rltui's facts about a trial, copied into Optuna user attributes.

rltui keeps its records as system attributes (:mod:`rltui.search.attrs`), which
optuna-dashboard does not show, and a PAUSED trial is RUNNING for Optuna. So that a dashboard
user, or ``study.trials_dataframe()``, sees a trial as rltui does, four facts are mirrored as
user attributes: its state as rltui sees it (``rltui_state``), why it is in it
(``rltui_reason``), the worker that last ran it (``rltui_worker``) and the timesteps it has
trained (``rltui_timesteps``).

Each fact has one writer here, called where the fact changes: the worker's claim, the end of
its training, and :mod:`rltui.search.endings` for every ending, pause and requeue. Writes are
few: a value already stored is not written again, and the timesteps of a running trial are
copied at most every :data:`TIMESTEPS_SECONDS` (the heartbeat's progress record, written every
beat, stays the exact one). Optuna refuses writes to a finished trial, so an ending writes its
state just before Optuna's state changes. The mirror is for reading: rltui itself never
reads it back.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from rltui.search import attrs
from rltui.search.lifecycle import StopCause, TrialStatus

if TYPE_CHECKING:
    from optuna.storages import BaseStorage

# Seconds between two copies of a running trial's timesteps (its end is always copied).
TIMESTEPS_SECONDS = 30.0

PAUSED_BY_USER = "paused by user"
PAUSED_WITH_WORKER = "paused: its worker was stopped"
PRUNED_BY_USER = "pruned by user"
PRUNED_BY_PRUNER = "pruned by the study's pruner"


def state(
    storage: BaseStorage,
    trial_id: int,
    status: TrialStatus,
    reason: str | None,
    *,
    known: Mapping[str, Any] | None = None,
    guard: Callable[[], bool] | None = None,
) -> bool:
    """Mirror the trial's ``status`` and the ``reason`` for it. ``known`` is the trial's
    user attributes as last read (values there are not written again); ``guard``, as in
    :mod:`rltui.search.endings`, is asked before each write and once after the last (the
    state change comes next). False, with nothing more written, when it said no."""
    return _set(
        storage,
        trial_id,
        {attrs.USER_STATE: status.value, attrs.USER_REASON: reason},
        known,
        guard,
    )


def worker(
    storage: BaseStorage, trial_id: int, worker_id: str, *, known: Mapping[str, Any] | None = None
) -> None:
    """Mirror the worker that claimed the trial."""
    _set(storage, trial_id, {attrs.USER_WORKER: worker_id}, known, None)


def timesteps(storage: BaseStorage, trial_id: int, done: int) -> None:
    """Mirror the timesteps the trial has trained."""
    storage.set_trial_user_attr(trial_id, attrs.USER_TIMESTEPS, int(done))


def claimed(storage: BaseStorage, trial_id: int, worker_id: str, known: Mapping[str, Any]) -> None:
    """A worker claimed the trial: RUNNING there, no reason any more."""
    state(storage, trial_id, TrialStatus.RUNNING, None, known=known)
    worker(storage, trial_id, worker_id, known=known)


def pause_reason(record: Mapping[str, Any]) -> str:
    """Why a trial is PAUSED, from its ``rltui:paused`` record: the note of a trial that
    could not resume, else who paused it."""
    if record.get("note"):
        return str(record["note"])
    return PAUSED_WITH_WORKER if record.get("reason") == "interrupted" else PAUSED_BY_USER


def requeue_reason(resume: Mapping[str, Any] | None, reason: str | None) -> str | None:
    """Why a trial is WAITING again: ``reason`` when its requeue gave one, else what it
    resumes from."""
    if reason:
        return reason
    if not resume:
        return None
    at = f"{int(resume.get('timesteps') or 0):,} timesteps"
    if resume.get("retry"):
        return f"retry {resume['retry']}: queued to resume from {at}"
    return f"queued to resume from {at}"


def stop_reason(cause: StopCause | None) -> str | None:
    """Why a trial that stopped for ``cause`` ended PRUNED (None for the other endings,
    whose reason the caller has)."""
    if cause is StopCause.PRUNE:
        return PRUNED_BY_USER
    if cause is StopCause.PRUNER:
        return PRUNED_BY_PRUNER
    return None


def _set(
    storage: BaseStorage,
    trial_id: int,
    values: Mapping[str, Any],
    known: Mapping[str, Any] | None,
    guard: Callable[[], bool] | None,
) -> bool:
    for key, value in values.items():
        if known is not None and key in known and known[key] == value:
            continue
        if known is not None and key not in known and value is None:
            continue  # nothing to clear
        if guard is not None and not guard():
            return False
        storage.set_trial_user_attr(trial_id, key, value)
    return guard is None or guard()
