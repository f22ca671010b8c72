"""Notes in the window: ``N`` on a trial opens its note, ctrl+s stores it where
optuna-dashboard reads it, escape asks before dropping unsaved text, a save over a note changed
elsewhere keeps the user's text, the palette opens the study's note, and notes show as typed."""

from __future__ import annotations

from typing import Any

import pytest
from textual.command import CommandPalette
from textual.widgets import Static, TextArea

from rltui.search import notes
from rltui.search.notes import Note
from rltui.ui.screens.dialogs import ConfirmScreen
from rltui.ui.screens.note_editor import NoteEditorScreen
from rltui.ui.screens.palette import palette_entries
from rltui.ui.screens.trial_detail import TrialDetailScreen

from .test_actions import opened, select

pytestmark = pytest.mark.slow  # each test drives the app for seconds

SIZE = (120, 40)
TYPED = "lr [bold]too high[/bold] here"


async def open_editor(app: Any, pilot: Any, wait: Any, key: str = "N") -> NoteEditorScreen:
    await pilot.press(key)
    await wait(pilot, lambda: isinstance(app.screen, NoteEditorScreen))
    editor = app.screen
    assert isinstance(editor, NoteEditorScreen)
    await wait(pilot, lambda: editor.base is not None and not editor.area.read_only)
    return editor


def status(editor: NoteEditorScreen) -> str:
    return str(editor.query_one("#note-status", Static).render())


async def test_n_edits_the_selected_trials_note_and_the_detail_shows_it_as_typed(
    make_app, wait, scripted
):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await opened(app, pilot, wait)
        select(app, 6)
        editor = await open_editor(app, pilot, wait)
        assert editor.number == 6 and editor.area.text == ""
        await pilot.press(*TYPED)  # a burst, as typed
        assert editor.area.text == TYPED and editor.modified
        await pilot.press("ctrl+s")
        await wait(pilot, lambda: editor.saved is not None)
        assert notes.read_trial_note(scripted.ostudy, 6) == Note(TYPED, 1)
        assert "saved as version 1" in status(editor)
        await pilot.press("escape")  # saved: closes without asking
        await wait(pilot, lambda: app.screen is app.main_screen)

        await pilot.press("enter")
        await wait(pilot, lambda: isinstance(app.screen, TrialDetailScreen))
        detail = app.screen
        shown = lambda: str(detail.query_one("#trial-note", Static).render())  # noqa: E731
        await wait(pilot, lambda: TYPED in shown())  # the brackets as typed, not styles
        assert "N edits it" in shown()

        # N in the detail edits the same note; the detail shows the saved text.
        editor = await open_editor(app, pilot, wait)
        assert editor.area.text == TYPED
        editor.area.insert("\nsecond line")
        await pilot.press("ctrl+s")
        await wait(pilot, lambda: editor.saved is not None)
        await pilot.press("escape")
        await wait(pilot, lambda: app.screen is detail)
        await wait(pilot, lambda: "second line" in shown())
    assert notes.read_trial_note(scripted.ostudy, 6) == Note(TYPED + "\nsecond line", 2)


async def test_escape_with_unsaved_text_asks_first(make_app, wait, scripted):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await opened(app, pilot, wait)
        select(app, 1)
        editor = await open_editor(app, pilot, wait)
        await pilot.press(*"draft")
        await pilot.press("escape")
        await wait(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("n")  # keep editing
        await wait(pilot, lambda: app.screen is editor)
        assert editor.area.text == "draft"
        await pilot.press("escape")
        await wait(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")  # drop it
        await wait(pilot, lambda: app.screen is app.main_screen)
    assert notes.read_trial_note(scripted.ostudy, 1) == Note("", 0)


async def test_a_note_saved_elsewhere_meanwhile_keeps_the_users_text(make_app, wait, scripted):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await opened(app, pilot, wait)
        select(app, 2)
        editor = await open_editor(app, pilot, wait)
        # optuna-dashboard, or another rltui, saves while this editor is open.
        notes.save_trial_note(scripted.ostudy, 2, "[red]theirs[/red]\nsecond", 0)
        await pilot.press(*"mine")
        await pilot.press("ctrl+s")
        await wait(pilot, lambda: "Not saved" in status(editor))
        assert editor.area.text == "mine" and app.screen is editor
        assert "[red]theirs[/red]" in status(editor)
        assert notes.read_trial_note(scripted.ostudy, 2).text.startswith("[red]theirs")
        await pilot.press("ctrl+s")  # told: this save replaces theirs
        await wait(pilot, lambda: editor.saved is not None)
    assert notes.read_trial_note(scripted.ostudy, 2) == Note("mine", 2)


async def test_the_palette_edits_the_study_note(make_app, wait, scripted):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await opened(app, pilot, wait)
        entries = {(e.title, e.key) for e in palette_entries(app.main_screen)}
        assert ("Edit trial note", "N") in entries  # from its key on the trials pane
        await pilot.press("ctrl+p")
        await wait(pilot, lambda: isinstance(app.screen, CommandPalette))
        await pilot.press(*"Edit study note", "enter")
        await wait(pilot, lambda: isinstance(app.screen, NoteEditorScreen))
        editor = app.screen
        assert isinstance(editor, NoteEditorScreen) and editor.number is None
        await wait(pilot, lambda: editor.base is not None and not editor.area.read_only)
        assert isinstance(editor.area, TextArea)
        await pilot.press(*"study-wide")
        await pilot.press("ctrl+s")
        await wait(pilot, lambda: editor.saved is not None)
    assert notes.read_study_note(scripted.ostudy) == Note("study-wide", 1)
