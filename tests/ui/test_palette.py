"""The command palette holds every action of the window, rltui's first and Textual's system
commands that serve no rltui user left out, and runs what was typed, however fast."""

from __future__ import annotations

import pytest
from textual.command import Command, CommandInput, CommandList, CommandPalette

from rltui.search import attrs
from rltui.ui.screens.palette import RltuiPalette, declared_bindings, palette_entries
from rltui.ui.textual.internals import notifications

pytestmark = pytest.mark.slow  # each test drives the app for seconds

SIZE = (120, 40)
TEXTUAL_ONLY = {"Screenshot", "Maximize", "Minimize", "Keys", "Quit", "Theme"}


async def opened(app, pilot, wait) -> None:
    await wait(pilot, lambda: app.main_screen is not None and app.main_screen.snapshot is not None)


async def open_palette(app, pilot, wait) -> CommandPalette:
    await pilot.press("ctrl+p")
    await wait(pilot, lambda: isinstance(app.screen, CommandPalette))
    assert isinstance(app.screen, RltuiPalette), "the app opens rltui's palette"
    return app.screen


def shown(palette: CommandPalette) -> list[str]:
    options = palette.query_one(CommandList)
    found = []
    for index in range(options.option_count):
        option = options.get_option_at_index(index)
        if isinstance(option, Command):
            found.append(str(option.hit.text))
    return found


async def test_every_key_of_the_window_is_an_entry_with_an_id(make_app, wait):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await opened(app, pilot, wait)
        main = app.main_screen
        entries = {(e.title, e.key) for e in palette_entries(main)}
        for node in [main, *main.query("*")]:
            for binding in declared_bindings(node):
                assert binding.id, binding
        assert ("Mark or unmark the selected trial for comparison", "space") in entries
        assert ("Keys and help", "F1 / ?") in entries
        # ctrl+s is bound by the window and by the editor: one action, one entry.
        assert sum(key == "ctrl+s" for _, key in entries) == 1


async def test_rltui_commands_come_first_and_textuals_own_are_left_out(make_app, wait):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await opened(app, pilot, wait)
        first = palette_entries(app.main_screen)[0].title
        palette = await open_palette(app, pilot, wait)
        await wait(pilot, lambda: palette.has_class("-ready") and shown(palette))
        listed = shown(palette)
    assert listed[0] == first
    assert not TEXTUAL_ONLY & set(listed), listed
    assert "Theme: rltui-light" in listed


async def test_enter_right_after_typing_runs_the_command_typed(make_app, wait):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await opened(app, pilot, wait)
        table = app.main_screen.table
        table.move_cursor(row=table.get_row_index("4"), animate=False)
        palette = await open_palette(app, pilot, wait)
        # The unfiltered list is on show before the typing: Enter must not pick from it.
        await wait(pilot, lambda: palette.has_class("-ready") and shown(palette))
        wanted = "Mark or unmark the selected trial for comparison"
        assert shown(palette)[0] != wanted
        # The text and Enter arrive together, as keys do from a fast typist or a lagging
        # screen: the search for the text has not run when Enter is handled.
        typed = palette.query_one(CommandInput)
        typed.value = "Mark or unmark the selected"
        await typed.action_submit()
        await wait(pilot, lambda: not isinstance(app.screen, CommandPalette))
        await pilot.pause(0.1)
        assert table.marked == {4}


async def test_a_command_that_does_not_apply_says_why(make_app, wait, scripted):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await opened(app, pilot, wait)
        table = app.main_screen.table
        table.move_cursor(row=table.get_row_index("1"), animate=False)  # COMPLETE
        await open_palette(app, pilot, wait)
        await pilot.press(*"Resume the selected paused", "enter")
        await wait(pilot, lambda: not isinstance(app.screen, CommandPalette))
        await wait(pilot, lambda: any("trial 1 is" in n.message for n in notifications(app)))
        assert attrs.CONTROL not in scripted.system(1)


async def test_palette_marks_trials_clears_the_marks_and_picks_a_theme(make_app, wait):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await opened(app, pilot, wait)
        table = app.main_screen.table
        table.move_cursor(row=table.get_row_index("1"), animate=False)
        for words in ("Mark or unmark the selected", "Clear marks"):
            await open_palette(app, pilot, wait)
            await pilot.press(*words, "enter")
            await wait(pilot, lambda: not isinstance(app.screen, CommandPalette))
            await pilot.pause(0.1)
            assert table.marked == ({1} if words.startswith("Mark") else set())
        await open_palette(app, pilot, wait)
        await pilot.press(*"Theme: rltui-light", "enter")
        await wait(pilot, lambda: app.theme == "rltui-light")
