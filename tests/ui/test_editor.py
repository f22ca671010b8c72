"""The study-file editor: live validation, marks, save-and-apply, refused edits."""

from __future__ import annotations

from typing import Any

import pytest

from rltui.search import attrs
from rltui.search.optuna_internals import study_id_of
from rltui.ui.app import RltuiApp
from rltui.ui.screens.apply_preview import ApplyPreviewScreen
from rltui.ui.textual.internals import notifications
from rltui.ui.widgets.problems import ProblemsView

pytestmark = pytest.mark.slow  # each test drives the app for seconds

SIZE = (120, 40)


async def open_editor(app: RltuiApp, pilot: Any, wait: Any) -> Any:
    await wait(pilot, lambda: app.main_screen is not None and app.main_screen.snapshot is not None)
    await pilot.press("2")
    pane = app.main_screen.study_pane
    await wait(pilot, lambda: pane.last_check is not None)
    return pane


def edit(editor: Any, old: str, new: str) -> None:
    """Replace the first ``old`` in the buffer, as typing would (an undoable edit)."""
    text = editor.text
    offset = text.index(old)
    row = text[:offset].count("\n")
    col = offset - (text.rfind("\n", 0, offset) + 1)
    editor.replace(new, (row, col), (row, col + len(old)))


def version(scripted: Any) -> int:
    return scripted.storage.get_study_system_attrs(study_id_of(scripted.ostudy))[attrs.SPEC_VERSION]


def notes(app: RltuiApp) -> str:
    return "\n".join(str(n.message) for n in notifications(app))


async def test_invalid_text_shows_problems_is_saved_but_not_applied(make_app, wait, scripted):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_editor(app, pilot, wait)
        problems = app.main_screen.query_one(ProblemsView)
        assert pane.editor.has_focus and not problems.problems
        edit(pane.editor, "n_trials: 8", "n_trials: -3")
        await wait(pilot, lambda: problems.problems)
        line = problems.problems[0].line
        assert line == 5 and "n_trials" in str(problems.problems[0].path)
        assert 4 in pane.editor._problem_lines  # 0-based: marked in the editor
        problems.highlighted = 0
        problems.action_select()
        await pilot.pause()
        assert pane.editor.cursor_location[0] == 4
        await pilot.press("ctrl+s")
        await wait(pilot, lambda: "not applied" in notes(app))
        assert "n_trials: -3" in scripted.path.read_text()  # never lost
        assert version(scripted) == 1


async def test_valid_compatible_edit_publishes_version_2(make_app, wait, scripted):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_editor(app, pilot, wait)
        edit(pane.editor, "n_trials: 8", "n_trials: 9")
        await pilot.press("ctrl+s")
        # The study has trials: nothing is applied before the user has seen the preview.
        await wait(pilot, lambda: isinstance(app.screen, ApplyPreviewScreen))
        assert version(scripted) == 1
        await pilot.press("a")
        await wait(pilot, lambda: "applied" in notes(app))
        assert "applied: study file version 2" in notes(app)
        assert version(scripted) == 2
        assert "n_trials: 9" in scripted.path.read_text()


async def test_incompatible_edit_is_explained_before_saving_and_refused(make_app, wait, scripted):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_editor(app, pilot, wait)
        problems = app.main_screen.query_one(ProblemsView)
        edit(pane.editor, "choice(0.0, 0.01)", "choice(0.0, 0.02)")
        await wait(pilot, lambda: problems.problems)
        problem = problems.problems[0]
        assert "Optuna cannot change this parameter" in problem.message
        assert "set 'name' to 'smoke-2'" in (problem.hint or "")  # the way out
        assert problem.line == 38 and 37 in pane.editor._problem_lines
        await pilot.press("ctrl+s")
        await wait(pilot, lambda: isinstance(app.screen, ApplyPreviewScreen))
        assert not app.screen.preview.applicable
        await pilot.press("escape")
        await wait(pilot, lambda: "not applied" in notes(app))
        assert "Optuna refuses this edit" in notes(app)
        assert version(scripted) == 1
        assert "choice(0.0, 0.02)" in scripted.path.read_text()


async def test_attaching_the_study_keeps_what_was_typed_while_it_opened(make_app, wait, scripted):
    # The file shows at once and the study opens on a thread: typing in between is kept.
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_editor(app, pilot, wait)
        edit(pane.editor, "n_trials: 8", "n_trials: 9")
        screen = app.main_screen
        screen.attach(screen.session)
        await pilot.pause()
        assert "n_trials: 9" in pane.editor.text
        assert "n_trials: 8" in scripted.path.read_text()  # not saved either
