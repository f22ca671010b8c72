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

import os
import time
from dataclasses import replace
from pathlib import Path

import optuna
from optuna.storages import BaseStorage
from optuna.trial import FrozenTrial

from rltui.search import attrs, endings
from rltui.search.lifecycle import TrialStatus, status_of
from rltui.search.optuna_internals import storage_of, study_id_of, trial_id_of
from rltui.search.workers import (
    HOST,
    RETRIED,
    Process,
    StallGuard,
    WorkerRecord,
    find_lost_workers,
    process_of,
    stored_record,
    write_record,
)


def reap_lost_workers(
    ostudy: optuna.Study,
    grace: float,
    retries: int,
    declared_by: str | None = None,
    stall: StallGuard | None = None,
    checkpoints: Path | None = None,
) -> list[str]:
    """Handle every lost worker's trial; returns one line per action taken.

    ``declared_by`` names the caller in the lost worker's record (``worker 1f2e3d4c``); by
    default its process and host. ``stall`` is the caller's own :class:`StallGuard`, ticked
    by the loop that calls this: while it has seen the caller stalled within the last grace
    time, no heartbeat is old enough to count. Without one, heartbeats are judged by their age
    alone. ``checkpoints`` is the study's checkpoint folder, where a trial marked FAIL has its
    checkpoints removed (:func:`rltui.search.endings.discard_checkpoints`).
    """
    storage, study_id = storage_of(ostudy), study_id_of(ostudy)
    by = declared_by or f"process {os.getpid()} on host {HOST}"
    # Taken before the read, so that a stall during the read cannot age a record.
    now = time.time()
    system = storage.get_study_system_attrs(study_id)
    # Ticked after the read: a stall anywhere since the last tick, the read included, moves
    # awake_since past ``now`` and spares every heartbeat this round.
    awake_since = stall.tick(grace) if stall is not None else 0.0
    done = []
    for record in find_lost_workers(system, grace, now, awake_since):
        stored = stored_record(storage, study_id, record.id)
        if stored is None or stored.heartbeat != record.heartbeat:
            continue  # it has beaten since the read (this caller was slow): not lost
        why = why_lost(record, now)
        lost = replace(record, state="lost", reason=f"lost: {why} (declared by {by})")
        if not _declare_lost(storage, study_id, lost):
            continue  # another process declared it lost first, and handles its trial
        if record.trial_id is None:
            continue
        try:
            result = _recover(ostudy, record, why, retries, checkpoints)
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
    """Why ``record``'s worker counts as lost: its process is gone (or its pid reused) on this
    host, or its heartbeat has been silent: a stopped process, a process whose heartbeat has
    died, or another host that is gone."""
    process = process_of(record)
    where = f"its process {record.pid} on host {record.host}"
    if process in (Process.GONE, Process.REUSED):
        return f"{where} is {process.value}"
    silent = f"no heartbeat for {(time.time() if now is None else now) - record.heartbeat:.0f} s"
    if process is Process.STOPPED:
        return f"{silent}: {where} is stopped"
    if process is Process.RUNNING:
        return f"{silent}, though {where} still runs: its heartbeat has stopped"
    return silent


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
    ostudy: optuna.Study,
    record: WorkerRecord,
    why: str,
    retries: int,
    checkpoints: Path | None,
) -> tuple[str, str] | None:
    """Retry or fail the lost worker's trial. Returns the line to print and the trial's
    outcome for the worker's record, or None when the trial was not the lost worker's any
    more."""
    storage = storage_of(ostudy)
    trial = _still_lost(storage, record)
    if trial is None:
        return None
    lost = f"worker {record.id} lost ({why})"
    used = int(trial.system_attrs.get(attrs.RETRIES) or 0)
    if used < retries:
        return _retry(storage, record, trial, lost, used + 1, retries)
    guard = _guard(storage, record)
    if not endings.fail(ostudy, trial_id_of(trial), lost, guard=guard, checkpoints=checkpoints):
        return None
    spent = (
        f"its {retries} {'retry' if retries == 1 else 'retries'} used up"
        if retries
        else "the study allows no retries"
    )
    return f"trial {trial.number}: {lost}; marked FAIL", f"marked FAIL, {spent}"


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
    resume = {**saved, "retry": attempt} if saved else None
    changes = {attrs.RETRIES: attempt}
    if not endings.requeue(
        storage, trial_id_of(trial), resume, changes=changes, guard=_guard(storage, record)
    ):
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


def _guard(storage: BaseStorage, record: WorkerRecord) -> endings.Guard:
    """Re-read the trial before each write: the change goes on only while it is still the
    lost worker's running trial (another reaper, or a claim, may have got there first)."""
    return lambda: _still_lost(storage, record) is not None
