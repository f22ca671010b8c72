"""Study and trial notes, stored where optuna-dashboard stores them, so each tool shows the
other's.

optuna-dashboard keeps every note in the *study's* system attributes (a trial's too: a
finished trial's attributes can no longer be written): a version number under
``dashboard:note_ver`` (``dashboard:<trial id>:note_ver`` for a trial) and the text cut in
chunks of :data:`CHUNK` characters under ``dashboard:note_str:<i>`` (``dashboard:<trial
id>:note_str:<i>``), a shorter text blanking the chunks it no longer needs. The keys name the
trial's storage id, not its number, as the dashboard does.

Saving is optimistic: the caller says which version it read, and the save is refused with
:class:`NoteConflict` when the stored version has moved since (someone saved in the meantime);
the caller keeps its text. The check and the writes are separate storage calls (Optuna's
storage has no compare-and-set), as in the dashboard: two saves in the same instant can both
pass. The text is written before the version, so a reader that sees a version sees its whole
text. A save that fails midway (a full disk) raises; a note over one chunk may then read as a
mix of both texts until the next save, which the editor offers at once (it keeps the text).

These are plain storage calls, safe on any thread; the UI calls them off its event loop.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rltui.search.optuna_internals import storage_of, study_id_of, trial_id_of

if TYPE_CHECKING:  # Optuna is imported lazily: the UI paints before it has loaded
    import optuna
    from optuna.storages import BaseStorage
    from optuna.trial import FrozenTrial

CHUNK = 2045  # optuna-dashboard's SYSTEM_ATTR_MAX_LENGTH: older RDB schemas hold 2048 bytes


@dataclass(frozen=True)
class Note:
    """A note's text and the version it was stored as (0: never written)."""

    text: str
    version: int


class NoteConflict(Exception):
    """A save refused: the note was saved elsewhere since ``expected`` was read. ``current``
    is the note as it is stored now."""

    def __init__(self, what: str, expected: int, current: Note) -> None:
        self.what = what
        self.expected = expected
        self.current = current
        super().__init__(
            f"{what} was saved elsewhere (version {current.version}) since it was read "
            f"(version {expected}): nothing was written; save again to replace that text"
        )


def version_key(trial_id: int | None) -> str:
    """The system attribute holding a note's version (the study's note for None)."""
    return "dashboard:note_ver" if trial_id is None else f"dashboard:{trial_id}:note_ver"


def chunk_prefix(trial_id: int | None) -> str:
    """The prefix of the system attributes holding a note's text, chunk by chunk."""
    return "dashboard:note_str:" if trial_id is None else f"dashboard:{trial_id}:note_str:"


def note_in(system: dict[str, Any], trial_id: int | None) -> Note:
    """The note kept in a study's system attributes ``system``."""
    raw = system.get(version_key(trial_id))
    if raw is None:
        return Note("", 0)
    try:
        version = int(raw)
    except (TypeError, ValueError):
        version = 0  # a hand-written attribute: any save replaces it
    prefix = chunk_prefix(trial_id)
    parts: list[str] = []
    # Chunks are read in order up to the first missing one, as the dashboard joins them.
    while isinstance(part := system.get(f"{prefix}{len(parts)}"), str):
        parts.append(part)
    return Note("".join(parts), version)


def _chunks(text: str) -> list[str]:
    return [text[i : i + CHUNK] for i in range(0, len(text), CHUNK)]


def _trial_id(ostudy: optuna.Study, trial: int | optuna.Trial | FrozenTrial) -> int:
    """The storage id of ``trial``: a trial object, or a trial number."""
    if isinstance(trial, int):
        storage = storage_of(ostudy)
        return storage.get_trial_id_from_study_id_trial_number(study_id_of(ostudy), trial)
    return trial_id_of(trial)


def _read(ostudy: optuna.Study, trial_id: int | None) -> Note:
    system = storage_of(ostudy).get_study_system_attrs(study_id_of(ostudy))
    return note_in(dict(system), trial_id)


def _save(ostudy: optuna.Study, trial_id: int | None, text: str, expected: int, what: str) -> Note:
    storage: BaseStorage = storage_of(ostudy)
    study_id = study_id_of(ostudy)
    system = dict(storage.get_study_system_attrs(study_id))
    current = note_in(system, trial_id)
    if current.version != expected:
        raise NoteConflict(what, expected, current)
    prefix = chunk_prefix(trial_id)
    chunks = _chunks(text)
    for index, chunk in enumerate(chunks):
        if system.get(f"{prefix}{index}") != chunk:
            storage.set_study_system_attr(study_id, f"{prefix}{index}", chunk)
    # A shorter text blanks the chunks left over (no storage can delete an attribute).
    stale = sum(1 for key in system if key.startswith(prefix))
    for index in range(len(chunks), stale):
        if system.get(f"{prefix}{index}") != "":
            storage.set_study_system_attr(study_id, f"{prefix}{index}", "")
    storage.set_study_system_attr(study_id, version_key(trial_id), expected + 1)
    return Note(text, expected + 1)


def read_study_note(ostudy: optuna.Study) -> Note:
    """The study's note."""
    return _read(ostudy, None)


def read_trial_note(ostudy: optuna.Study, trial: int | optuna.Trial | FrozenTrial) -> Note:
    """The note of ``trial`` (a trial object, or a trial number of ``ostudy``)."""
    return _read(ostudy, _trial_id(ostudy, trial))


def save_study_note(ostudy: optuna.Study, text: str, expected_version: int) -> Note:
    """Store ``text`` as the study's note; ``expected_version`` is the version read before
    editing. Returns the note as stored; raises :class:`NoteConflict` when the stored version
    is not ``expected_version``."""
    return _save(ostudy, None, text, expected_version, "the study's note")


def save_trial_note(
    ostudy: optuna.Study,
    trial: int | optuna.Trial | FrozenTrial,
    text: str,
    expected_version: int,
) -> Note:
    """Store ``text`` as the note of ``trial`` (an object, or a trial number); as
    :func:`save_study_note` otherwise."""
    trial_id = _trial_id(ostudy, trial)
    number = trial if isinstance(trial, int) else trial.number
    return _save(ostudy, trial_id, text, expected_version, f"trial {number}'s note")
