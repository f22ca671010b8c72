"""What each trial did between two snapshots: started, evaluated, paused, resumed, ended.

:mod:`rltui.search.events` tells the news nobody asked for (a worker lost, a full disk), once
each, as a notification. These are the ordinary steps of every trial instead, which the
window shows in its table and charts: ``rltui run`` prints them one a line when its output
goes to a pipe or a file, so that a log of the run says what happened and when.

Derived as events are: :func:`steps_between` compares the previous snapshot with the current
one, so each step is told exactly when it is first seen. A trial that starts and ends between
two reads is still told in order (started, its evaluations, how it ended); a step that left
no trace in either snapshot (a pause already resumed) cannot be.
"""

from __future__ import annotations

from collections.abc import Iterator

from rltui.search.events import TRIAL_FAILED, StudyEvent
from rltui.search.lifecycle import TrialStatus
from rltui.search.reader import Snapshot, TrialRow

# Kinds of steps, as :attr:`StudyEvent.kind` (a failure is the events' own TRIAL_FAILED).
TRIAL_STARTED = "trial started"
TRIAL_RESUMED = "trial resumed"
EVALUATION = "evaluation"
TRIAL_PAUSED = "trial paused"
TRIAL_QUEUED = "trial queued"
TRIAL_COMPLETED = "trial completed"
TRIAL_PRUNED = "trial pruned"

_IDLE = (TrialStatus.WAITING, TrialStatus.PAUSED)


def steps_between(previous: Snapshot | None, current: Snapshot) -> list[StudyEvent]:
    """The trials' steps between ``previous`` and ``current``, trial by trial in number
    order, each trial's in the order they happened. None when ``previous`` is None (the study
    was just opened: what it holds is its state, not news)."""
    if previous is None or current.rows is previous.rows:
        return []
    steps: list[StudyEvent] = []
    for number in sorted(current.rows):
        row = current.rows[number]
        was = previous.rows.get(number)
        if was is not row:  # the reader keeps the row object of an unchanged trial
            steps.extend(_steps(was, row, current))
    return steps


def _steps(was: TrialRow | None, row: TrialRow, current: Snapshot) -> Iterator[StudyEvent]:
    at = current.read_at
    before = was.status if was is not None else None
    status = row.status
    if status == TrialStatus.RUNNING and before != TrialStatus.RUNNING:
        yield _start(was, row, at)
    elif status.is_finished and _started_since(was, row):
        yield _start(was, row, at)  # it ran and ended between two reads
    last = was.curve[-1][0] if was is not None and was.curve else None
    for step, value in row.curve:
        if last is None or step > last:
            text = f"trial {row.number} evaluation at {step} timesteps = {_number(value)}"
            yield StudyEvent(at, EVALUATION, "information", text)
    if status == before:
        return
    if status == TrialStatus.PAUSED:
        text = f"trial {row.number} paused at {row.timesteps} timesteps"
        yield StudyEvent(at, TRIAL_PAUSED, "information", text)
    elif status == TrialStatus.WAITING and before is not None:
        text = f"trial {row.number} queued to resume at {row.timesteps} timesteps"
        yield StudyEvent(at, TRIAL_QUEUED, "information", text)
    elif status == TrialStatus.COMPLETE:
        text = f"trial {row.number} completed with {_values(current, row)}"
        yield StudyEvent(at, TRIAL_COMPLETED, "information", text)
    elif status == TrialStatus.PRUNED:
        said = f" with value {_number(row.value)}" if row.value is not None else ""
        why = f": {row.error}" if row.error else ""  # a time limit says so
        text = f"trial {row.number} pruned at {row.timesteps} timesteps{said}{why}"
        yield StudyEvent(at, TRIAL_PRUNED, "information", text)
    elif status == TrialStatus.FAIL:
        yield StudyEvent(at, TRIAL_FAILED, "error", f"trial {row.number} failed: {_reason(row)}")


def _started_since(was: TrialRow | None, row: TrialRow) -> bool:
    # Optuna stamps a trial's start when a worker claims it, and a trial ended while it
    # waited (killed in the queue) has none.
    if row.started is None:
        return False
    return was is None or (was.status in _IDLE and was.started != row.started)


def _start(was: TrialRow | None, row: TrialRow, at: float) -> StudyEvent:
    on = f" on worker {row.worker}" if row.worker else ""
    # Trained before: back from a pause, or retried from its checkpoint.
    if was is not None and (was.status == TrialStatus.PAUSED or was.timesteps or was.curve):
        text = f"trial {row.number} resumed{on} at {was.timesteps} timesteps"
        return StudyEvent(at, TRIAL_RESUMED, "information", text)
    return StudyEvent(at, TRIAL_STARTED, "information", f"trial {row.number} started{on}")


def _reason(row: TrialRow) -> str:
    """The failure's message on one line (an exception's message may hold several)."""
    lines = [line.strip() for line in (row.error or "").splitlines() if line.strip()]
    return " / ".join(lines) or "no reason recorded"


def _values(snapshot: Snapshot, row: TrialRow) -> str:
    """``value 150``, or with several objectives ``reward 150, wall_time 12.5``."""
    if snapshot.multi_objective and len(row.values) > 1:
        named = snapshot.named_values(row)
        return ", ".join(f"{name} {_number(value)}" for name, value in named.items())
    return f"value {_number(row.value)}"


def _number(value: float | None) -> str:
    return "none" if value is None else f"{value:.6g}"
