"""The one place rltui reaches into Optuna's private parts.

Optuna's public API has no way to get from a study to its storage and id, or from a trial to
its storage id, yet rltui's control requests, heartbeats and recovery all write to the storage
directly (a paused trial stays RUNNING with a record; Optuna has no PAUSED). Every such reach-in
lives here, and ``tests/search/test_optuna_internals.py`` checks each one against the installed
Optuna, so an Optuna release that moves one fails one named test instead of a worker at night.
The journal backend's reach-ins (the storage's backend, the snapshot base class, the replay's
distribution parser, the no-op operation a repaired line becomes) are here too.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:  # Optuna is imported lazily: the UI paints before it has loaded
    import optuna
    from optuna.storages import BaseStorage
    from optuna.trial import FrozenTrial

T = TypeVar("T", bound=type)


def storage_of(study: optuna.Study) -> BaseStorage:
    """The storage an Optuna study reads and writes."""
    return study._storage


def study_id_of(study: optuna.Study) -> int:
    """The study's id in its storage."""
    return study._study_id


def trial_id_of(trial: optuna.Trial | FrozenTrial) -> int:
    """The trial's id in its storage (not its number, which counts within the study)."""
    return trial._trial_id


def fresh_trial(study: optuna.Study) -> optuna.Trial:
    """A new RUNNING trial for this process, as ``Study.ask`` makes one, except that it never
    takes a WAITING trial instead (``ask`` pops one first when any waits): a PBT study starts
    a new member while other members' next segments wait."""
    import optuna

    study._thread_local.cached_all_trials = None  # as ask(): the sampler sees the study now
    return optuna.Trial(study, study._storage.create_new_trial(study._study_id))


def metric_names_in(system_attrs: dict[str, Any]) -> list[str] | None:
    """The study's metric names (``Study.set_metric_names``) from its system attributes,
    already read; ``Study.metric_names`` would read them from the storage again."""
    from optuna.study.study import _SYSTEM_ATTR_METRIC_NAMES

    names = system_attrs.get(_SYSTEM_ATTR_METRIC_NAMES)
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        return None
    return names


def journal_replay_module() -> Any:
    """Optuna's journal replay module, whose distribution parser a journal open shares."""
    from optuna.storages.journal import _storage

    return _storage


def journal_noop_operation() -> int:
    """An operation code a journal replay skips (``DISCARD_TRIALS``: only Rustuna acts on it):
    a line that cannot be read is rewritten as this, so plain Optuna opens the file too."""
    from optuna.storages.journal._storage import JournalOperation

    return int(JournalOperation.DISCARD_TRIALS)


def journal_backend_of(storage: BaseStorage) -> Any:
    """The backend a ``JournalStorage`` reads and appends its log through; None for any other
    storage."""
    from optuna.storages import JournalStorage

    return storage._backend if isinstance(storage, JournalStorage) else None


def declare_journal_snapshot(cls: T) -> T:
    """Class decorator: journal backends of ``cls`` keep snapshots (``save_snapshot`` and
    ``load_snapshot``), which ``JournalStorage`` recognises by its private base class
    ``BaseJournalSnapshot``; registered as a virtual subclass, so no private class is inherited."""
    from optuna.storages.journal._base import BaseJournalSnapshot

    BaseJournalSnapshot.register(cls)
    return cls


def share_parsed_distributions() -> None:
    """Make a journal replay parse each distinct distribution once.

    Optuna's journal replay parses every trial's distributions from their JSON strings: five
    parameters make 50,000 parses for 10,000 trials, of a handful of distinct strings, which
    was 40 % of opening such a journal. Distributions are immutable values, so trials can
    share one object per string. Where Optuna's internals differ, nothing is changed.
    """
    replay = journal_replay_module()
    parse = getattr(replay, "json_to_distribution", None)
    if callable(parse) and not hasattr(parse, "cache_info"):
        replay.json_to_distribution = functools.lru_cache(maxsize=4096)(parse)
