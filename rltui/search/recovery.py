"""What happens to the trial of a worker that died (kill -9, lost machine).

Any live worker checks the others' heartbeats, and so does ``rltui run`` while it watches, so
a dead worker is noticed even when no other worker is left. A lost worker's trial is retried
from its last checkpoint while the study file allows retries, and otherwise ends FAIL with the
reason.
"""

from __future__ import annotations

import time
from dataclasses import replace

import optuna
from optuna.trial import TrialState

from rltui.search import attrs
from rltui.search.lifecycle import TrialStatus, status_of
from rltui.search.workers import find_lost_workers, write_record


def reap_lost_workers(ostudy: optuna.Study, grace: float, retries: int) -> list[str]:
    """Handle every lost worker's trial; returns one line per action taken."""
    storage, study_id = ostudy._storage, ostudy._study_id
    done = []
    for record in find_lost_workers(storage.get_study_system_attrs(study_id), grace):
        write_record(storage, study_id, replace(record, state="lost"))
        if record.trial_id is None:
            continue
        try:
            trial = storage.get_trial(record.trial_id)
            if (
                status_of(trial) != TrialStatus.RUNNING
                or trial.system_attrs.get(attrs.TRIAL_WORKER) != record.id
            ):
                continue
            done.append(_recover(storage, trial, record.id, grace, retries))
        except (optuna.exceptions.UpdateFinishedTrialError, KeyError, RuntimeError):
            continue  # another worker handled it first
    return done


def _recover(
    storage: optuna.storages.BaseStorage,
    trial: optuna.trial.FrozenTrial,
    worker: str,
    grace: float,
    retries: int,
) -> str:
    used = int(trial.system_attrs.get(attrs.RETRIES) or 0)
    saved = trial.system_attrs.get(attrs.CHECKPOINT)
    if used < retries and saved:
        storage.set_trial_system_attr(trial._trial_id, attrs.RETRIES, used + 1)
        storage.set_trial_system_attr(trial._trial_id, attrs.RESUME, {**saved, "retry": used + 1})
        storage.set_trial_system_attr(trial._trial_id, attrs.CONTROL, None)
        storage.set_trial_state_values(trial._trial_id, TrialState.WAITING)
        done = saved.get("timesteps", 0)
        return f"trial {trial.number}: worker {worker} lost; retrying from {done:,} timesteps"
    reason = f"worker {worker} lost (no heartbeat for {grace:.0f} s)"
    storage.set_trial_system_attr(trial._trial_id, attrs.REASON, reason)
    storage.set_trial_system_attr(
        trial._trial_id, attrs.ERROR, {"message": reason, "at": time.time()}
    )
    storage.set_trial_state_values(trial._trial_id, TrialState.FAIL)
    return f"trial {trial.number}: {reason}; marked FAIL"
