"""Control requests: how a user's pause / resume / prune / kill reaches the trial's worker.

Requests are written into the storage, so they reach a worker on any host. A running trial's
worker polls its ``rltui:control`` record about once a second and carries the request out.
Trials that no process is running (WAITING, PAUSED) are changed here directly.
"""

from __future__ import annotations

import time

import optuna
from optuna.trial import FrozenTrial, TrialState

from rltui.search import attrs
from rltui.search.lifecycle import (
    ALLOWED,
    ControlAction,
    TrialStatus,
    control_record,
    last_value,
    status_of,
)

STOPPED_BY_USER = "stopped by user"


class ControlError(Exception):
    """A request that does not apply, e.g. pausing a finished trial."""


class Controller:
    """Sends control requests for one study."""

    def __init__(self, ostudy: optuna.Study):
        self.study = ostudy
        self.storage = ostudy._storage
        self.study_id = ostudy._study_id

    def _trial(self, number: int) -> FrozenTrial:
        trial_id = self.storage.get_trial_id_from_study_id_trial_number(self.study_id, number)
        return self.storage.get_trial(trial_id)

    def request(self, number: int, action: ControlAction | str) -> str:
        """Carry out or forward ``action`` for trial ``number``; returns what happened."""
        action = ControlAction(action)
        trial = self._trial(number)
        status = status_of(trial)
        if action not in ALLOWED[status]:
            raise ControlError(f"trial {number} is {status.value}: it cannot be {_past(action)}")
        if status == TrialStatus.RUNNING:
            self.storage.set_trial_system_attr(
                trial._trial_id, attrs.CONTROL, control_record(action)
            )
            return f"trial {number}: {action.value} requested"
        if action == ControlAction.RESUME:
            return self._resume(trial)
        self.finish(trial, action)
        return f"trial {number} {_past(action)}"

    def _resume(self, trial: FrozenTrial) -> str:
        paused = trial.system_attrs.get(attrs.PAUSED) or {}
        self.storage.set_trial_system_attr(trial._trial_id, attrs.RESUME, paused)
        self.storage.set_trial_system_attr(trial._trial_id, attrs.PAUSED, None)
        self.storage.set_trial_system_attr(trial._trial_id, attrs.CONTROL, None)
        self.storage.set_trial_state_values(trial._trial_id, TrialState.WAITING)
        return f"trial {trial.number} queued to resume at {paused.get('timesteps', 0):,} timesteps"

    def finish(
        self, trial: FrozenTrial, action: ControlAction, reason: str = STOPPED_BY_USER
    ) -> None:
        """End a trial no process is running: PRUNED with its last value, or FAIL."""
        if action == ControlAction.PRUNE:
            value = last_value(trial)
            self.storage.set_trial_state_values(
                trial._trial_id, TrialState.PRUNED, None if value is None else [value]
            )
        else:
            self.storage.set_trial_system_attr(trial._trial_id, attrs.REASON, reason)
            self.storage.set_trial_state_values(trial._trial_id, TrialState.FAIL)

    def pause_all(self) -> int:
        return self._all(TrialStatus.RUNNING, ControlAction.PAUSE)

    def resume_all(self) -> int:
        return self._all(TrialStatus.PAUSED, ControlAction.RESUME)

    def _all(self, status: TrialStatus, action: ControlAction) -> int:
        count = 0
        for trial in self.study.get_trials(deepcopy=False):
            if status_of(trial) == status:
                self.request(trial.number, action)
                count += 1
        return count

    def resume_interrupted(self) -> int:
        """Resume trials paused because their run was interrupted (Ctrl-C), not by a user."""
        count = 0
        for trial in self.study.get_trials(deepcopy=False):
            paused = trial.system_attrs.get(attrs.PAUSED) or {}
            if status_of(trial) == TrialStatus.PAUSED and paused.get("reason") == "interrupted":
                self._resume(trial)
                count += 1
        return count

    def set_drain(self, on: bool = True) -> None:
        """Study-wide drain: workers finish their trials and take no new ones."""
        self.storage.set_study_system_attr(self.study_id, attrs.DRAIN, time.time() if on else None)


def _past(action: ControlAction) -> str:
    return {"pause": "paused", "resume": "resumed", "prune": "pruned", "kill": "killed"}[
        action.value
    ]
