"""Study and trial notes: stored as optuna-dashboard stores them (each reads the other's),
refused when someone saved since they were read, whole across chunk boundaries, in every
storage rltui opens (memory, rltui's journal, PostgreSQL when a server is given)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import optuna
import pytest

from rltui.search import notes
from rltui.search.journal import open_journal
from rltui.search.notes import CHUNK, Note, NoteConflict
from rltui.search.optuna_internals import storage_of, study_id_of, trial_id_of
from tests.conftest import needs_extra

POSTGRES = os.environ.get("RLTUI_TEST_POSTGRES_URL")
KINDS = [
    "memory",
    "journal",
    pytest.param(
        "postgres",
        marks=[
            pytest.mark.postgres,
            pytest.mark.skipif(
                not POSTGRES, reason="RLTUI_TEST_POSTGRES_URL is not set (.ci/postgres.sh)"
            ),
        ],
    ),
]

Opener = Callable[[], optuna.Study]


@pytest.fixture(params=KINDS)
def opener(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Opener]:
    """Opens the same study anew each call, as another process would (one storage object per
    call), in the storage kind of the test."""
    name = f"notes-{uuid.uuid4().hex[:8]}"
    kind = request.param
    if kind == "memory":
        storage = optuna.storages.InMemoryStorage()
        optuna.create_study(storage=storage, study_name=name)
        yield lambda: optuna.load_study(study_name=name, storage=storage)
        return
    if kind == "journal":
        path = tmp_path / "study.journal"
        optuna.create_study(storage=open_journal(path), study_name=name)
        yield lambda: optuna.load_study(study_name=name, storage=open_journal(path))
        return
    assert POSTGRES
    optuna.create_study(storage=POSTGRES, study_name=name)
    yield lambda: optuna.load_study(study_name=name, storage=POSTGRES)
    optuna.delete_study(study_name=name, storage=POSTGRES)


def with_trials(ostudy: optuna.Study, count: int = 2) -> None:
    for _ in range(count):
        ostudy.tell(ostudy.ask(), 1.0)


def test_round_trip_of_study_and_trial_notes(opener: Opener) -> None:
    ostudy = opener()
    with_trials(ostudy)
    assert notes.read_study_note(ostudy) == Note("", 0)
    assert notes.read_trial_note(ostudy, 1) == Note("", 0)

    assert notes.save_study_note(ostudy, "# study\nlr above 1e-3 diverges", 0) == Note(
        "# study\nlr above 1e-3 diverges", 1
    )
    assert notes.save_trial_note(ostudy, 1, "[bold]not markup[/]", 0).version == 1
    again = opener()  # another process's view
    assert notes.read_study_note(again) == Note("# study\nlr above 1e-3 diverges", 1)
    assert notes.read_trial_note(again, 1) == Note("[bold]not markup[/]", 1)
    assert notes.read_trial_note(again, again.trials[1]) == Note("[bold]not markup[/]", 1)
    assert notes.read_trial_note(again, 0) == Note("", 0), "each trial has its own note"

    assert notes.save_study_note(again, "", 1) == Note("", 2)
    assert notes.read_study_note(opener()) == Note("", 2)


def test_a_save_is_refused_when_the_note_moved_since_it_was_read(opener: Opener) -> None:
    mine, theirs = opener(), opener()
    with_trials(mine)
    read = notes.read_trial_note(mine, 0)
    notes.save_trial_note(theirs, 0, "their text", read.version)

    with pytest.raises(NoteConflict) as raised:
        notes.save_trial_note(mine, 0, "my text", read.version)
    assert raised.value.current == Note("their text", 1)
    assert "trial 0's note was saved elsewhere (version 1)" in str(raised.value)
    assert notes.read_trial_note(opener(), 0) == Note("their text", 1), "nothing written"

    # Told, the user saves again over the version now known.
    assert notes.save_trial_note(mine, 0, "my text", raised.value.current.version).version == 2
    assert notes.read_trial_note(opener(), 0) == Note("my text", 2)


def test_long_notes_span_chunks_and_a_shorter_one_blanks_what_is_left(opener: Opener) -> None:
    ostudy = opener()
    long = "".join(chr(ord("a") + i % 26) for i in range(2 * CHUNK + 7)) + "\né"
    notes.save_study_note(ostudy, long, 0)
    assert notes.read_study_note(opener()).text == long
    exact = "x" * CHUNK  # on the boundary: one chunk, no empty one after it
    notes.save_study_note(ostudy, exact, 1)
    assert notes.read_study_note(opener()) == Note(exact, 2)
    system = storage_of(ostudy).get_study_system_attrs(study_id_of(ostudy))
    assert [system[f"dashboard:note_str:{i}"] for i in range(3)] == [exact, "", ""]


@needs_extra("optuna_dashboard", "dashboard")
def test_optuna_dashboard_reads_rltui_notes_and_rltui_reads_its(opener: Opener) -> None:
    import optuna_dashboard
    from optuna_dashboard import _note

    ostudy = opener()
    with_trials(ostudy, 3)
    long = "line\n" * (CHUNK // 2)  # over one chunk
    notes.save_study_note(ostudy, long, 0)
    notes.save_trial_note(ostudy, 2, "**rltui** wrote this", 0)
    assert optuna_dashboard.get_note(ostudy) == long
    system = storage_of(ostudy).get_study_system_attrs(study_id_of(ostudy))
    trial_id = trial_id_of(ostudy.trials[2])
    assert _note.get_note_from_system_attrs(system, trial_id) == {
        "version": 1,
        "body": "**rltui** wrote this",
    }
    # The dashboard's own save checks versions as rltui counts them.
    assert _note.version_is_incremented(system, trial_id, 2)

    # What the dashboard writes (its Python API, and its web app's versioned save).
    optuna_dashboard.save_note(ostudy, "short now")
    _note.save_note_with_version(
        storage_of(ostudy), study_id_of(ostudy), trial_id, 2, "dashboard edit"
    )
    again = opener()
    assert notes.read_study_note(again) == Note("short now", 2)
    assert notes.read_trial_note(again, 2) == Note("dashboard edit", 2)
    with pytest.raises(NoteConflict):
        notes.save_trial_note(again, 2, "stale", 1)


def test_an_unreadable_version_attribute_reads_as_no_version() -> None:
    assert notes.note_in({"dashboard:note_ver": "x", "dashboard:note_str:0": "t"}, None) == Note(
        "t", 0
    )
    assert notes.note_in({"dashboard:7:note_ver": 3}, 7) == Note("", 3)
