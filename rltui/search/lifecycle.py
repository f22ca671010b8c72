"""Trial states as the user sees them, built on Optuna's states plus rltui's attributes.

Optuna has no PAUSED state. A paused trial stays RUNNING in Optuna (so no Optuna worker picks it
up by itself, and optuna-dashboard shows it as still open) and carries a ``rltui:paused``
record with its checkpoint. Resuming puts it back to WAITING with a ``rltui:resume`` record, so
that the next worker claims it through Optuna's own atomic WAITING -> RUNNING step.
"""

from __future__ import annotations

import enum
import time
from typing import TYPE_CHECKING, Any

from rltui.search import attrs

if TYPE_CHECKING:  # Optuna is imported lazily: the UI paints before it has loaded
    from optuna.trial import FrozenTrial


class TrialStatus(str, enum.Enum):
    """The six states the UI and CLI show."""

    WAITING = "WAITING"
    RUNNING = "RUNNING"
    PAUSED = "PAUSED"
    COMPLETE = "COMPLETE"
    PRUNED = "PRUNED"
    FAIL = "FAIL"

    @property
    def is_finished(self) -> bool:
        return self in (TrialStatus.COMPLETE, TrialStatus.PRUNED, TrialStatus.FAIL)


class ControlAction(str, enum.Enum):
    """What a user may ask of one trial."""

    PAUSE = "pause"
    RESUME = "resume"
    PRUNE = "prune"
    KILL = "kill"


class StopCause(str, enum.Enum):
    """Why a training run stopped before its budget (None where it ran the budget): what the
    trainer returns, and what :mod:`rltui.search.endings` records."""

    PAUSE = "pause"  # asked to pause (by the user, or a signal to its worker)
    PRUNE = "prune"  # the user asked to prune
    KILL = "kill"  # the user asked to kill
    PRUNER = "pruned"  # the study's pruner stopped it

    @classmethod
    def asked(cls, action: ControlAction | str | None) -> StopCause | None:
        """The stop a control request asks for (None for resume, or no request)."""
        if action is None or ControlAction(action) is ControlAction.RESUME:
            return None
        return cls(ControlAction(action).value)


# Which actions make sense in which state; the UI greys out the rest.
ALLOWED: dict[TrialStatus, frozenset[ControlAction]] = {
    TrialStatus.WAITING: frozenset({ControlAction.PRUNE, ControlAction.KILL}),
    TrialStatus.RUNNING: frozenset({ControlAction.PAUSE, ControlAction.PRUNE, ControlAction.KILL}),
    TrialStatus.PAUSED: frozenset({ControlAction.RESUME, ControlAction.PRUNE, ControlAction.KILL}),
    TrialStatus.COMPLETE: frozenset(),
    TrialStatus.PRUNED: frozenset(),
    TrialStatus.FAIL: frozenset(),
}

_FROM_OPTUNA = {
    name: TrialStatus[name] for name in ("WAITING", "RUNNING", "COMPLETE", "PRUNED", "FAIL")
}


def status_of(trial: FrozenTrial) -> TrialStatus:
    state = trial.state.name
    if state == "RUNNING" and trial.system_attrs.get(attrs.PAUSED):
        return TrialStatus.PAUSED
    return _FROM_OPTUNA[state]


def pending_control(trial: FrozenTrial) -> ControlAction | None:
    """The action requested of a running trial that its worker has not carried out yet."""
    record = trial.system_attrs.get(attrs.CONTROL)
    if not record or status_of(trial) != TrialStatus.RUNNING:
        return None
    try:
        return ControlAction(record.get("action"))
    except ValueError:  # a record this version does not know: nothing it can carry out
        return None


def last_value(trial: FrozenTrial) -> float | None:
    if not trial.intermediate_values:
        return None
    return trial.intermediate_values[max(trial.intermediate_values)]


def control_record(action: ControlAction | str, **extra: Any) -> dict[str, Any]:
    return {"action": ControlAction(action).value, "requested": time.time(), **extra}
