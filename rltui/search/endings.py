"""How a trial ends: every way, in one place, with the words the user reads.

A trial ends COMPLETE with its value, PRUNED (by the study's pruner, or because the user
asked), or FAIL with a reason (the user killed it, its training raised, its worker was lost).
It may also stop without ending: PAUSED (it stays RUNNING in Optuna with a ``rltui:paused``
record, since Optuna has no such state) or requeued (WAITING again, with a ``rltui:resume``
record naming the checkpoint the next worker continues from).

Three kinds of process end trials: the worker that runs one, the controller for a trial no
process runs (a paused or waiting one), and any process that finds a worker lost. They all
call this module, so a new way to end (or a new word for one) is written once. A running
trial is told through Optuna's ``tell`` (its sampler sees the result); a waiting one, which
``tell`` refuses, gets its state written directly. Each of them also mirrors the state as
rltui sees it, with the reason, into user attributes (:mod:`rltui.search.mirror`).
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rltui.search import attrs, mirror
from rltui.search.lifecycle import StopCause, TrialStatus, last_value
from rltui.search.optuna_internals import storage_of, study_id_of

if TYPE_CHECKING:
    import optuna
    from optuna.storages import BaseStorage
    from optuna.trial import FrozenTrial

STOPPED_BY_USER = "stopped by user"
DISK_FULL = "disk full"

# A check run right before each write by a process that may race another for the trial
# (a reaper): False stops the ending, with nothing more written.
Guard = Callable[[], bool]


def end(
    ostudy: optuna.Study,
    trial_id: int,
    cause: StopCause | None,
    *,
    value: float | Sequence[float] | None = None,
    reason: str | None = None,
    error: dict[str, Any] | None = None,
    guard: Guard | None = None,
    checkpoints: Path | None = None,
) -> bool:
    """Record how a trial ended. ``cause`` is None for a trial that ran its budget (COMPLETE
    with ``value``, a list of one per objective in a study with several); PRUNE and PRUNER
    end it PRUNED with its last reported value (none with several objectives; ``reason``
    replaces the usual why: a time limit); KILL ends it FAIL "stopped by user" (``reason``
    adds why). Any other failure is :func:`fail`.
    ``checkpoints`` is this study's checkpoint folder: the trial's checkpoints under it go
    (see :func:`discard_checkpoints`). Returns False when ``guard`` found the trial was no
    longer the caller's to end."""
    from optuna.trial import TrialState

    if cause is StopCause.PAUSE:
        raise ValueError("a pause does not end a trial: use pause()")
    changes: dict[str, Any] = {attrs.CONTROL: None}
    why = mirror.stop_reason(cause)
    if cause is StopCause.KILL:
        why = changes[attrs.REASON] = f"{STOPPED_BY_USER} ({reason})" if reason else STOPPED_BY_USER
        state = TrialState.FAIL
    elif cause is None:
        state = TrialState.COMPLETE
    else:
        state = TrialState.PRUNED
        if reason:
            why = changes[attrs.REASON] = reason
    return _write(ostudy, trial_id, changes, (state, why), value, guard, checkpoints)


def fail(
    ostudy: optuna.Study,
    trial_id: int,
    message: str,
    *,
    traceback: str | None = None,
    guard: Guard | None = None,
    checkpoints: Path | None = None,
) -> bool:
    """End a trial FAIL because something went wrong (its training raised, its worker was
    lost); ``message`` is what the trial table and detail show. ``checkpoints`` as for
    :func:`end`."""
    from optuna.trial import TrialState

    error: dict[str, Any] = {"message": message, "at": time.time()}
    if traceback:
        error["traceback"] = traceback
    changes = {attrs.CONTROL: None, attrs.REASON: message, attrs.ERROR: error}
    return _write(ostudy, trial_id, changes, (TrialState.FAIL, message), None, guard, checkpoints)


def pause(storage: BaseStorage, trial_id: int, record: dict[str, Any]) -> None:
    """Stop a trial without ending it: it stays RUNNING in Optuna, PAUSED for rltui, with
    ``record`` (checkpoint, timesteps, reason, note) saying where it can resume from."""
    storage.set_trial_system_attr(trial_id, attrs.RESUME, None)
    storage.set_trial_system_attr(trial_id, attrs.CONTROL, None)
    storage.set_trial_system_attr(trial_id, attrs.PAUSED, {"at": time.time(), **record})
    mirror.state(storage, trial_id, TrialStatus.PAUSED, mirror.pause_reason(record))


def requeue(
    storage: BaseStorage,
    trial_id: int,
    resume: dict[str, Any] | None,
    *,
    changes: dict[str, Any] | None = None,
    guard: Guard | None = None,
) -> bool:
    """Put a trial back to WAITING for the next worker: from the checkpoint ``resume`` names,
    or from the start with its stored parameters when None."""
    from optuna.trial import TrialState

    # The pause record goes last: until the state changes, the trial must not look RUNNING.
    writes = {**(changes or {}), attrs.RESUME: resume, attrs.CONTROL: None, attrs.PAUSED: None}
    if not _guarded_writes(storage, trial_id, writes, guard):
        return False
    why = mirror.requeue_reason(resume, writes.get(attrs.REASON))
    if not mirror.state(storage, trial_id, TrialStatus.WAITING, why, guard=guard):
        return False
    storage.set_trial_state_values(trial_id, TrialState.WAITING)
    return True


def _guarded_writes(
    storage: BaseStorage, trial_id: int, changes: dict[str, Any], guard: Guard | None
) -> bool:
    """Write the trial's attributes, asking ``guard`` before each write; False, with nothing
    more written, when it says no. The mirror's writes follow, and its last check (see
    :func:`mirror.state`) comes right before the state change."""
    for key, value in changes.items():
        if guard is not None and not guard():
            return False
        storage.set_trial_system_attr(trial_id, key, value)
    return True


def _write(
    ostudy: optuna.Study,
    trial_id: int,
    changes: dict[str, Any],
    ending: tuple[Any, str | None],
    value: float | Sequence[float] | None,
    guard: Guard | None,
    checkpoints: Path | None,
) -> bool:
    """Write ``changes``, then the ``ending`` (Optuna's state and the reason for it)."""
    from optuna.trial import TrialState

    state, reason = ending
    storage = storage_of(ostudy)
    if not _guarded_writes(storage, trial_id, changes, guard):
        return False
    trial = storage.get_trial(trial_id)
    # Optuna refuses writes to a finished trial: the mirror goes first.
    status = TrialStatus(state.name)
    if not mirror.state(storage, trial_id, status, reason, known=trial.user_attrs, guard=guard):
        return False
    if trial.state == TrialState.RUNNING:
        # Optuna's tell: the sampler sees the result, and a PRUNED trial keeps its last value.
        if state == TrialState.COMPLETE:
            ostudy.tell(trial.number, value)
        else:
            ostudy.tell(trial.number, state=state)
    else:
        storage.set_trial_state_values(trial_id, state, _values(ostudy, trial, state, value))
    discard_checkpoints(storage, study_id_of(ostudy), storage.get_trial(trial_id), checkpoints)
    return True


def _values(
    ostudy: optuna.Study,
    trial: FrozenTrial,
    state: Any,
    value: float | Sequence[float] | None,
) -> list[float] | None:
    """The values a trial no process runs ends with: ``value`` as a list; a PRUNED one's
    last reported value, as ``tell`` gives it, which a study with several objectives has no
    place for."""
    from optuna.trial import TrialState

    if state == TrialState.PRUNED:
        last = last_value(trial)
        return None if last is None or len(ostudy.directions) > 1 else [last]
    if value is None:
        return None
    return [float(v) for v in value] if isinstance(value, Sequence) else [float(value)]


def checkpoint_folders(trial: FrozenTrial) -> list[Path]:
    """The trial's checkpoint folders (``.../checkpoints/trial-N``) its records name.

    Only folders with exactly that shape count, so a record that names something else (a
    hand-edited storage, another layout) can never make us delete it.
    """
    found: list[Path] = []
    for key in (attrs.PAUSED, attrs.RESUME, attrs.CHECKPOINT):
        record = trial.system_attrs.get(key)
        path = record.get("checkpoint") if isinstance(record, dict) else None
        if not path:
            continue
        folder = Path(path)
        if folder.name.startswith("step-"):  # a checkpoint names its step
            folder = folder.parent
        shaped = folder.name == f"trial-{trial.number}" and folder.parent.name == "checkpoints"
        if shaped and folder not in found:
            found.append(folder)
    return found


def keeps_checkpoints(storage: BaseStorage, study_id: int, trial: FrozenTrial) -> bool:
    """``control.keep_checkpoints`` of the study file version the trial ran with; True (keep)
    when that version cannot be read."""
    from rltui.search.storage import StorageError
    from rltui.search.study import stored_spec
    from rltui.spec import SpecError

    version = trial.system_attrs.get(attrs.TRIAL_SPEC_VERSION)
    try:
        spec = stored_spec(storage, study_id, int(version) if version else None)
    except (StorageError, SpecError, ValueError, KeyError):
        return True
    return spec.spec.control.keep_checkpoints


def discard_checkpoints(
    storage: BaseStorage, study_id: int, trial: FrozenTrial, checkpoints: Path | None
) -> None:
    """Remove a finished trial's checkpoints unless its study file keeps them.

    Only ``checkpoints/trial-N`` itself goes, where ``checkpoints`` is this study's checkpoint
    folder as the caller knows it (None: nothing goes). The records are only a hint: whoever
    can write to the storage must not be able to make a process delete another study's
    folder, or a folder a link leads out to. A folder on another host's disk may not be
    reachable from here: errors are ignored.
    """
    if checkpoints is None or keeps_checkpoints(storage, study_id, trial):
        return
    try:
        root = checkpoints.resolve(strict=True)
    except (OSError, RuntimeError):
        return
    for folder in checkpoint_folders(trial):
        try:
            real = folder.resolve(strict=True)
        except (OSError, RuntimeError):
            continue
        if real == root / f"trial-{trial.number}" and not folder.is_symlink():
            shutil.rmtree(real, ignore_errors=True)
