"""Control requests: how a user's pause / resume / prune / kill reaches the trial's worker.

Requests are written into the storage, so they reach a worker on any host. A running trial's
worker polls its ``rltui:control`` record about once a second and carries the request out.
Trials that no process is running (WAITING, PAUSED) are changed here directly; when such a
trial ends, its checkpoint is removed unless its study file keeps checkpoints.
"""

from __future__ import annotations

import time
from pathlib import Path

import optuna
from optuna.exceptions import UpdateFinishedTrialError
from optuna.trial import FrozenTrial

from rltui.search import attrs, endings
from rltui.search.errors import ControlError
from rltui.search.lifecycle import (
    ALLOWED,
    ControlAction,
    StopCause,
    TrialStatus,
    control_record,
    status_of,
)
from rltui.search.optuna_internals import storage_of, study_id_of, trial_id_of


class Controller:
    """Sends control requests for one study."""

    def __init__(self, ostudy: optuna.Study, checkpoints: Path | None = None):
        # The study's checkpoint folder: a trial ended here has its checkpoints removed from
        # it (none are removed without it).
        self.checkpoints = checkpoints
        self.study = ostudy
        self.storage = storage_of(ostudy)
        self.study_id = study_id_of(ostudy)

    def _trial(self, number: int) -> FrozenTrial:
        # Checked here because storages index their trial lists with the number: the journal
        # storage would read -1 as the last trial and act on a trial nobody named.
        if isinstance(number, bool) or not isinstance(number, int) or number < 0:
            raise ControlError(f"{number!r} is not a trial number {self._known()}")
        try:
            trial_id = self.storage.get_trial_id_from_study_id_trial_number(self.study_id, number)
            return self.storage.get_trial(trial_id)
        except KeyError:
            raise ControlError(
                f"no trial {number} in study '{self.study.study_name}' {self._known()}"
            ) from None

    def _known(self) -> str:
        count = self.storage.get_n_trials(self.study_id)
        if count == 0:
            return "(it has no trials yet)"
        return "(trial 0)" if count == 1 else f"(trials 0-{count - 1})"

    def request(self, number: int, action: ControlAction | str) -> str:
        """Carry out or forward ``action`` for trial ``number``; returns what happened.
        Raises :class:`ControlError` when the trial does not exist or the action does not
        apply to it."""
        action = ControlAction(action)
        trial = self._trial(number)
        status = status_of(trial)
        if action not in ALLOWED[status]:
            raise ControlError(f"trial {number} is {status.value}: it cannot be {_past(action)}")
        try:
            if status == TrialStatus.RUNNING:
                self.storage.set_trial_system_attr(
                    trial_id_of(trial), attrs.CONTROL, control_record(action)
                )
                return f"trial {number}: {action.value} requested"
            if action == ControlAction.RESUME:
                return self._resume(trial)
            self.finish(trial, action)
        except UpdateFinishedTrialError:
            now = status_of(self.storage.get_trial(trial_id_of(trial))).value
            raise ControlError(f"trial {number} ended meanwhile ({now})") from None
        return f"trial {number} {_past(action)}"

    def _resume(self, trial: FrozenTrial) -> str:
        paused = trial.system_attrs.get(attrs.PAUSED) or {}
        endings.requeue(self.storage, trial_id_of(trial), paused)
        return f"trial {trial.number} queued to resume at {paused.get('timesteps', 0):,} timesteps"

    def finish(self, trial: FrozenTrial, action: ControlAction) -> None:
        """End a trial no process is running (WAITING or PAUSED): PRUNED with its last value,
        or FAIL "stopped by user"; its checkpoint goes unless the study file keeps it."""
        endings.end(
            self.study, trial_id_of(trial), StopCause.asked(action), checkpoints=self.checkpoints
        )

    def pause_all(self) -> dict[int, str]:
        """Ask every running trial to pause; returns what was done, trial by trial."""
        return self._all(TrialStatus.RUNNING, ControlAction.PAUSE)

    def resume_all(self) -> dict[int, str]:
        """Queue every paused trial to resume; returns what was done, trial by trial."""
        return self._all(TrialStatus.PAUSED, ControlAction.RESUME)

    def _all(self, status: TrialStatus, action: ControlAction) -> dict[int, str]:
        done = {}
        for trial in self.study.get_trials(deepcopy=False):
            if status_of(trial) == status:
                try:
                    done[trial.number] = self.request(trial.number, action)
                except ControlError:  # it changed state since the list was read
                    continue
        return done

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
