"""The running trial of a study with several objectives: its curve is kept, nothing prunes it.

Optuna refuses ``Trial.report`` and ``Trial.should_prune`` in a multi-objective study (a
pruner compares one value per step). The reward curve is still what the user watches, so each
evaluation is written as an intermediate value straight to the storage, where the UI, the
exports and optuna-dashboard read curves; the trainer is never told to stop.
"""

from __future__ import annotations

from rltui.search.optuna_internals import trial_id_of
from rltui.worker.heartbeat import RunningTrial


class UnprunedTrial(RunningTrial):
    """A :class:`RunningTrial` whose reports keep the curve and never ask for a prune."""

    _reported: set[int] | None = None

    def report(self, step: int, value: float) -> bool:
        if self.abandoned:
            return True
        storage, trial_id = self.trial.storage, trial_id_of(self.trial)
        if self._reported is None:
            # A resumed trial keeps the steps its earlier stints reported, and as Optuna's
            # own report does, the first value of a step stays.
            self._reported = set(storage.get_trial(trial_id).intermediate_values)
        if step not in self._reported:
            storage.set_trial_intermediate_value(trial_id, int(step), float(value))
            self._reported.add(step)
        return False
