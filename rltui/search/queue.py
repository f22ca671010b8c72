"""The order in which workers take waiting trials, and the claim of one waiting trial.

Optuna hands out WAITING trials in the order they were created. rltui orders them itself:

1. **held-over trials** first: trials queued to resume from a pause, and trials retried after
   their worker was lost. They continue work already paid for (a checkpoint, a slot's worth of
   training), and a user who resumes a trial expects it back before anything new starts.
   Among themselves, the oldest trial first.
2. then **enqueued trials**, the highest queue priority first (see :data:`QUEUE_PRIORITY`),
   and among equal priorities the oldest first. Trials queued "at the end" have no priority
   (0), so without "run next" the order is Optuna's own.

The priority is a system attribute the trial is created with, so setting it is part of the
enqueue itself, and other Optuna tools opening the storage see a plain WAITING trial.

:func:`claim_next` takes the first trial in that order through the storage's atomic
WAITING→RUNNING change, exactly as ``optuna.Study.ask`` pops its waiting trial: when several
workers, on any number of hosts, race for the same trial, the storage lets one of them have
it, and the others go on to the next one.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from rltui.search import attrs
from rltui.search.optuna_internals import storage_of, study_id_of, trial_id_of

if TYPE_CHECKING:
    import optuna
    from optuna.storages import BaseStorage
    from optuna.trial import FrozenTrial

# A waiting trial's place among the enqueued ones: higher runs sooner. "Run next" gives one
# more than the highest priority waiting, so the latest "run next" goes before earlier ones.
QUEUE_PRIORITY = attrs.PREFIX + "queue_priority"


def held_over(trial: FrozenTrial) -> bool:
    """Whether a waiting trial continues earlier work: a resume, or a retry of a lost run."""
    system = trial.system_attrs
    # A resume's record may be empty (a trial paused with no record of where); its key is set.
    return system.get(attrs.RESUME) is not None or attrs.RETRIES in system


def priority(trial: FrozenTrial) -> int:
    """The trial's queue priority; 0 for trials queued at the end (and any other tool's)."""
    value = trial.system_attrs.get(QUEUE_PRIORITY)
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0


def queue_order(waiting: Iterable[FrozenTrial]) -> list[FrozenTrial]:
    """``waiting`` trials in the order workers take them (the module's docstring says why)."""
    return sorted(waiting, key=lambda t: (not held_over(t), -priority(t), t.number))


def waiting_trials(storage: BaseStorage, study_id: int) -> list[FrozenTrial]:
    """The study's WAITING trials, the next one to run first."""
    from optuna.trial import TrialState

    return queue_order(
        storage.get_all_trials(study_id, deepcopy=False, states=(TrialState.WAITING,))
    )


def front_priority(storage: BaseStorage, study_id: int) -> int:
    """The priority that puts a new trial ahead of every enqueued trial waiting now."""
    return max((priority(t) for t in waiting_trials(storage, study_id)), default=0) + 1


def place_of(storage: BaseStorage, study_id: int, trial_id: int) -> tuple[int, int] | None:
    """Where a waiting trial stands: ``(trials before it, trials waiting in all)``; None when
    it waits no longer (a worker took it meanwhile, or it ended)."""
    queue = waiting_trials(storage, study_id)
    for index, trial in enumerate(queue):
        if trial_id_of(trial) == trial_id:
            return index, len(queue)
    return None


def describe_place(ahead: int) -> str:
    """``runs next`` or ``18th in the queue (17 waiting before it)``."""
    if ahead == 0:
        return "runs next"
    return f"{_ordinal(ahead + 1)} in the queue ({ahead} waiting before it)"


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def claim_next(ostudy: optuna.Study) -> optuna.Trial | None:
    """Take the first waiting trial in queue order and return it RUNNING for this process;
    None when no trial waits (or every one was taken by another process meanwhile)."""
    import optuna
    from optuna.exceptions import UpdateFinishedTrialError
    from optuna.trial import TrialState

    storage = storage_of(ostudy)
    for trial in waiting_trials(storage, study_id_of(ostudy)):
        # As Study._pop_waiting_trial_id: False when another process set it RUNNING first;
        # UpdateFinishedTrialError when it was finished meanwhile (a kill of a queued trial).
        try:
            if not storage.set_trial_state_values(trial_id_of(trial), state=TrialState.RUNNING):
                continue
        except UpdateFinishedTrialError:
            continue
        # Study.ask drops the study's cached trial list before it hands out a trial, so that
        # the sampler sees the trials as they are now; do the same for the trial taken here.
        ostudy._thread_local.cached_all_trials = None
        return optuna.Trial(ostudy, trial_id_of(trial))
    return None
