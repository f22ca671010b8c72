"""The command palette holds every action and runs it like its key."""

from __future__ import annotations

from textual.binding import Binding
from textual.command import CommandPalette

from rltui.search import attrs
from rltui.ui.commands import _actions
from rltui.ui.screens.main import MainScreen
from rltui.ui.widgets.trial_table import TrialTable


def test_every_binding_has_an_id_and_a_palette_entry():
    listed = {action for action, *_ in _actions()}
    for binding in [*MainScreen.BINDINGS, *TrialTable.BINDINGS]:
        assert isinstance(binding, Binding) and binding.id, binding
        assert binding.action in listed, binding.action


async def test_palette_runs_pause_on_the_selected_trial(make_app, wait, scripted):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await wait(
            pilot, lambda: app.main_screen is not None and app.main_screen.snapshot is not None
        )
        table = app.main_screen.table
        table.move_cursor(row=table.get_row_index("4"), animate=False)
        await pilot.press("ctrl+p")
        await wait(pilot, lambda: isinstance(app.screen, CommandPalette))
        await pilot.press(*"Pause the selected")
        await pilot.pause(0.5)
        await pilot.press("down", "enter")
        await wait(
            pilot, lambda: (scripted.system(4).get(attrs.CONTROL) or {}).get("action") == "pause"
        )


async def test_palette_marks_trials_and_clears_the_marks(make_app, wait):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await wait(
            pilot, lambda: app.main_screen is not None and app.main_screen.snapshot is not None
        )
        table = app.main_screen.table
        table.move_cursor(row=table.get_row_index("1"), animate=False)
        for words in ("Mark or unmark the selected", "Clear marks"):
            await pilot.press("ctrl+p")
            await wait(pilot, lambda: isinstance(app.screen, CommandPalette))
            await pilot.press(*words)
            await pilot.pause(0.5)
            await pilot.press("down", "enter")
            await wait(pilot, lambda: not isinstance(app.screen, CommandPalette))
            await pilot.pause(0.1)
            assert table.marked == ({1} if words.startswith("Mark") else set())
