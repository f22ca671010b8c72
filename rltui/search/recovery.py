"""What happens to the trial of a worker that died (kill -9, lost machine).

Any live worker checks the others' heartbeats, and so does ``rltui run`` while it watches, so
a dead worker is noticed even when no other worker is left. A lost worker's trial is retried
while the study file allows retries (from its last checkpoint, or from the start when it has
none yet), and otherwise ends FAIL with the reason and loses its checkpoint (unless the study
file keeps checkpoints).

Several processes may notice the same lost worker at once. Optuna offers no compare-and-set
on a trial, so each re-reads the trial right before every change and goes on only while it is
still RUNNING for the lost worker: once one has requeued it and another worker claimed it, a
late reaper leaves it alone.

The lost worker's record keeps the story for the UI: ``reason`` says why it counts as lost and
who declared it, and ``trial_outcome`` what became of its trial (``retried from its checkpoint
at 12,288 timesteps, retry 1 of 2``). The trial itself keeps how many retries it has used
(``rltui:retries``).
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import replace
from typing import Any

import optuna
from optuna.storages import BaseStorage
from optuna.trial import FrozenTrial, TrialState

from rltui.search import attrs
from rltui.search.control import discard_checkpoints
from rltui.search.lifecycle import TrialStatus, status_of
from rltui.search.optuna_internals import storage_of, study_id_of, trial_id_of
from rltui.search.workers import (
    HOST,
    RETRIED,
    WorkerRecord,
    find_lost_workers,
    is_lost,
    stored_record,
    write_record,
)


def reap_lost_workers(
    ostudy: optuna.Study, grace: float, retries: int, declared_by: str | None = None
) -> list[str]:
    """Handle every lost worker's trial; returns one line per action taken.

    ``declared_by`` names the caller in the lost worker's record (``worker 1f2e3d4c``); by
    default its process and host.
    """
    storage, study_id = storage_of(ostudy), study_id_of(ostudy)
    by = declared_by or f"process {os.getpid()} on host {HOST}"
    done = []
    for record in find_lost_workers(storage.get_study_system_attrs(study_id), grace):
        why = why_lost(record)
        lost = replace(record, state="lost", reason=f"lost: {why} (declared by {by})")
        if not _declare_lost(storage, study_id, lost):
            continue  # another process declared it lost first, and handles its trial
        if record.trial_id is None:
            continue
        try:
            result = _recover(storage, study_id, record, why, retries)
        except (optuna.exceptions.UpdateFinishedTrialError, KeyError, RuntimeError):
            continue  # another process handled it first
        if result:
            line, outcome = result
            write_record(storage, study_id, replace(lost, trial_outcome=outcome))
            done.append(line)
    return done


def _declare_lost(storage: BaseStorage, study_id: int, lost: WorkerRecord) -> bool:
    """Mark the worker lost unless its stored record already says it ended: a second reaper
    must not overwrite the first one's reason and trial outcome with its own."""
    stored = stored_record(storage, study_id, lost.id)
    if stored is not None and not stored.alive:
        return False
    write_record(storage, study_id, lost)
    return True


def why_lost(record: WorkerRecord, now: float | None = None) -> str:
    """Why ``record``'s worker counts as lost: its process is gone on this host, or its
    heartbeat has been silent (a frozen process, or another host that is gone)."""
    # With an infinite grace, is_lost answers only the process check.
    if record.host == HOST and is_lost(record, math.inf):
        return f"its process {record.pid} on host {record.host} is gone"
    silent = (now or time.time()) - record.heartbeat
    return f"no heartbeat for {silent:.0f} s"


def trial_held_by(storage: BaseStorage, trial_id: int, worker_id: str) -> FrozenTrial | None:
    """The trial, read afresh, when it is still RUNNING on worker ``worker_id``: neither
    ended, paused, nor handed to another worker since that worker claimed it."""
    trial = storage.get_trial(trial_id)
    if status_of(trial) != TrialStatus.RUNNING:
        return None
    if trial.system_attrs.get(attrs.TRIAL_WORKER) != worker_id:
        return None
    return trial


def _still_lost(storage: BaseStorage, record: WorkerRecord) -> FrozenTrial | None:
    assert record.trial_id is not None
    return trial_held_by(storage, record.trial_id, record.id)


def _recover(
    storage: BaseStorage, study_id: int, record: WorkerRecord, why: str, retries: int
) -> tuple[str, str] | None:
    """Retry or fail the lost worker's trial. Returns the line to print and the trial's
    outcome for the worker's record, or None when the trial was not the lost worker's any
    more."""
    trial = _still_lost(storage, record)
    if trial is None:
        return None
    lost = f"worker {record.id} lost ({why})"
    used = int(trial.system_attrs.get(attrs.RETRIES) or 0)
    if used < retries:
        return _retry(storage, record, trial, lost, used + 1, retries)
    reason = lost
    changes: dict[str, Any] = {
        attrs.REASON: reason,
        attrs.ERROR: {"message": reason, "at": time.time()},
    }
    if not _change(storage, record, changes, TrialState.FAIL):
        return None
    discard_checkpoints(storage, study_id, trial)
    spent = (
        f"its {retries} {'retry' if retries == 1 else 'retries'} used up"
        if retries
        else "the study allows no retries"
    )
    return f"trial {trial.number}: {reason}; marked FAIL", f"marked FAIL, {spent}"


def _retry(
    storage: BaseStorage,
    record: WorkerRecord,
    trial: FrozenTrial,
    lost: str,
    attempt: int,
    retries: int,
) -> tuple[str, str] | None:
    """Requeue the trial: from its last checkpoint, or from the start without one (a worker
    that claims a trial with no resume record trains it anew with its stored parameters;
    evaluations the lost run reported stay, as Optuna keeps the first value of a step)."""
    saved = trial.system_attrs.get(attrs.CHECKPOINT)
    changes: dict[str, Any] = {
        attrs.RETRIES: attempt,
        attrs.CONTROL: None,
        attrs.RESUME: {**saved, "retry": attempt} if saved else None,
    }
    if not _change(storage, record, changes, TrialState.WAITING):
        return None
    where = (
        f"from its checkpoint at {int(saved.get('timesteps', 0)):,} timesteps"
        if saved
        else "from the start (it had no checkpoint yet)"
    )
    return (
        f"trial {trial.number}: {lost}; retry {attempt} of {retries} {where}",
        f"{RETRIED} {where}, retry {attempt} of {retries}",
    )


def _change(
    storage: BaseStorage, record: WorkerRecord, changes: dict[str, Any], state: TrialState
) -> bool:
    """Write ``changes`` and then ``state``, re-reading the trial before each: False (and
    nothing more written) as soon as it is no longer the lost worker's running trial."""
    trial = _still_lost(storage, record)
    if trial is None:
        return False
    for key, value in changes.items():
        storage.set_trial_system_attr(trial_id_of(trial), key, value)
    if _still_lost(storage, record) is None:
        return False
    storage.set_trial_state_values(trial_id_of(trial), state)
    return True
