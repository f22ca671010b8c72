"""The window as a user drives it from the keyboard: key bursts in typing order, one focus
model (every pane reachable and leavable without a mouse), edits never lost, a preview before
anything is applied, the file on disk watched."""

from __future__ import annotations

import os
from typing import Any

import pytest
from textual import events
from textual.widgets import TabbedContent, Tabs

from rltui.search import attrs
from rltui.search.optuna_internals import study_id_of
from rltui.ui.app import RltuiApp
from rltui.ui.screens.apply_preview import ApplyPreviewScreen
from rltui.ui.screens.dialogs import QuitScreen, UnsavedScreen
from rltui.ui.screens.versions import VersionsScreen
from rltui.ui.textual.internals import notifications
from rltui.ui.widgets.editor import next_indent

pytestmark = pytest.mark.slow  # each test drives the app for seconds

SIZE = (120, 40)


def burst(app: RltuiApp, *keys: str) -> None:
    """Post ``keys`` to the app at once, as SSH typeahead delivers them: nothing runs between
    two keys (Pilot.press would let the app settle after each one)."""
    for key in keys:
        character = key if len(key) == 1 else {"space": " ", "trade_mark_sign": "™"}.get(key)
        character = {"pound_sign": "£"}.get(key, character)
        if key.startswith("alt+") and len(key) == 5:
            character = key[-1]
        app.post_message(events.Key(key, character))


async def ready(app: RltuiApp, pilot: Any, wait: Any) -> Any:
    await wait(pilot, lambda: app.main_screen is not None and app.main_screen.snapshot is not None)
    return app.main_screen


async def open_editor(app: RltuiApp, pilot: Any, wait: Any) -> Any:
    screen = await ready(app, pilot, wait)
    await pilot.press("2")
    pane = screen.study_pane
    await wait(pilot, lambda: pane.last_check is not None and pane.editor.has_focus)
    return pane


def set_buffer(pane: Any, text: str) -> None:
    """Replace the whole buffer, as a paste would (an undoable edit)."""
    pane.editor.replace(text, pane.editor.document.start, pane.editor.document.end)


def edit_elsewhere(path: Any, old: str, new: str) -> None:
    """Change the file as another program would, with a modification time of its own
    (whatever the clock's resolution)."""
    path.write_text(path.read_text().replace(old, new))
    os.utime(path, ns=(1, 10**18))


def version(scripted: Any) -> int:
    return scripted.storage.get_study_system_attrs(study_id_of(scripted.ostudy))[attrs.SPEC_VERSION]


def notes(app: RltuiApp) -> str:
    return "\n".join(str(n.message) for n in notifications(app))


async def test_a_burst_of_moves_and_typing_lands_in_typing_order(make_app, wait):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_editor(app, pilot, wait)
        editor = pane.editor
        editor.move_cursor((0, 0))
        before = editor.text.splitlines()
        burst(app, "down", "down", "down", "end", "Z", "Z", "home", "down", "X")
        await wait(pilot, lambda: editor.text.count("Z") + editor.text.count("X") >= 3)
        await pilot.pause()
        after = editor.text.splitlines()
        assert after[3] == before[3] + "ZZ"
        assert after[4] == "X" + before[4]
        assert after[0] == before[0]


async def test_a_burst_that_ends_by_leaving_the_editor_keeps_every_move_before_it(make_app, wait):
    # Seen in tmux: `Down Down Down End Enter TEXT Escape 3` sent at once lost the End. The
    # fused Esc-3 is the app's priority binding: it moved the focus to the charts while the
    # editor's queue still held End, which then resolved against the charts' bindings.
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_editor(app, pilot, wait)
        screen = app.main_screen
        editor = pane.editor
        editor.move_cursor((0, 0))
        before = editor.text.splitlines()
        burst(app, "down", "down", "down", "end", "enter", "Z", "Z", "pound_sign")
        await wait(pilot, lambda: screen.query_one("#tabs", TabbedContent).active == "charts")
        await wait(pilot, lambda: editor.text.count("Z") >= 2)
        await pilot.pause()
        after = editor.text.splitlines()
        assert after[3] == before[3] and after[4] == "ZZ", after[:6]


async def test_save_in_a_burst_holds_every_key_typed_before_it(make_app, wait, scripted):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_editor(app, pilot, wait)
        editor = pane.editor
        editor.move_cursor((0, 0))
        burst(app, "end", "space", "#", "space", "k", "e", "p", "t", "ctrl+s")
        await wait(pilot, lambda: "# kept" in scripted.path.read_text())
        assert scripted.path.read_text().splitlines()[0].endswith(" # kept")


async def test_digits_are_text_in_the_editor_and_alt_digits_leave_it(make_app, wait):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_editor(app, pilot, wait)
        screen = app.main_screen
        editor = pane.editor
        editor.move_cursor((0, 0))
        burst(app, "1", "2", "3")
        await wait(pilot, lambda: editor.text.startswith("123"))
        assert screen.query_one("#tabs", TabbedContent).active == "study"
        burst(app, "alt+1")
        await wait(pilot, lambda: screen.table.has_focus)
        assert screen.query_one("#tabs", TabbedContent).active == "trials"
        assert editor.text.startswith("123")  # nothing typed by the alt key


async def test_escape_then_digit_typed_at_once_switches_tabs_and_types_nothing(make_app, wait):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_editor(app, pilot, wait)
        screen = app.main_screen
        text = pane.editor.text
        burst(app, "escape", "3")  # two keys
        await wait(pilot, lambda: screen.query_one("#tabs", TabbedContent).active == "charts")
        assert pane.editor.text == text
        await pilot.press("2")
        await wait(pilot, lambda: pane.editor.has_focus)
        burst(app, "alt+4")  # what a terminal makes of Esc and 4 typed together
        await wait(pilot, lambda: screen.query_one("#tabs", TabbedContent).active == "compare")
        assert pane.editor.text == text
        # ... or, in tmux and most xterms, Textual's name for the bytes ESC 1.
        await pilot.press("2")
        await wait(pilot, lambda: pane.editor.has_focus)
        app.post_message(events.Key("inverted_exclamation_mark", "¡"))
        await wait(pilot, lambda: screen.table.has_focus)
        assert pane.editor.text == text


async def test_escape_leaves_the_editor_for_the_tab_bar(make_app, wait):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_editor(app, pilot, wait)
        await pilot.press("escape")
        assert isinstance(app.focused, Tabs)
        assert not pane.editor.has_focus
        await pilot.press("1")
        assert app.main_screen.table.has_focus


async def test_every_pane_is_reached_and_left_by_keyboard_alone(make_app, wait):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await ready(app, pilot, wait)
        expected = {
            "1": "table",
            "2": "editor",
            "3": "charts-pane",
            "4": "compare-pane",
            "5": "curves",
            "6": "problems",
            "7": "log",
            "8": "events",
            "9": "workers",
            "0": "explorer",
        }
        for digit, widget_id in expected.items():
            if app.focused is not None and app.focused.id == "editor":
                await pilot.press("escape")
            await pilot.press(digit)
            await wait(pilot, lambda wid=widget_id: getattr(app.focused, "id", None) == wid)
        # From the editor, alt+digits reach every place too.
        await pilot.press("2")
        for digit, widget_id in expected.items():
            await pilot.press("2")
            await wait(pilot, lambda: app.focused is not None and app.focused.id == "editor")
            await pilot.press(f"alt+{digit}")
            await wait(pilot, lambda wid=widget_id: getattr(app.focused, "id", None) == wid)
        assert screen.query_one("#panel").display  # shown by the panel keys


async def test_panes_fold_away_at_80x24_and_their_keys_bring_them_back(make_app, wait):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await ready(app, pilot, wait)
        assert not screen.query_one("#sidebar").display
        assert not screen.query_one("#panel").display
        await pilot.press("7")
        await wait(pilot, lambda: app.focused is not None and app.focused.id == "log")
        await pilot.press("9")
        await wait(pilot, lambda: app.focused is not None and app.focused.id == "workers")


def test_enter_keeps_yaml_indentation():
    assert next_indent("  n_epochs: 20") == "  "
    assert next_indent("train:") == "  "
    assert next_indent("  eval:") == "    "
    assert next_indent("  - {learning_rate: 1}") == "    "
    assert next_indent("  - algo:") == "      "
    assert next_indent("# a comment:") == ""


async def test_enter_in_the_editor_indents_like_the_line_above(make_app, wait):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_editor(app, pilot, wait)
        editor = pane.editor
        row = next(i for i, line in enumerate(editor.text.splitlines()) if line == "train:")
        editor.move_cursor((row, len("train:")))
        burst(app, "enter", "x", ":", " ", "1")
        await wait(pilot, lambda: "  x: 1" in editor.text)
        assert editor.text.splitlines()[row + 1] == "  x: 1"


async def test_a_modified_buffer_is_marked_on_its_tab(make_app, wait):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_editor(app, pilot, wait)
        tabs = app.main_screen.query_one("#tabs", TabbedContent)
        assert "●" not in str(tabs.get_tab("study").label)
        burst(app, "#")
        await wait(pilot, lambda: "●" in str(tabs.get_tab("study").label))
        await pilot.press("backspace")
        await wait(pilot, lambda: "●" not in str(tabs.get_tab("study").label))
        assert not pane.modified


async def test_quit_with_unsaved_edits_asks_and_cancel_keeps_them(make_app, wait, scripted):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_editor(app, pilot, wait)
        burst(app, "#")
        await wait(pilot, lambda: pane.modified)
        await pilot.press("escape", "q")
        await wait(pilot, lambda: isinstance(app.screen, UnsavedScreen))
        await pilot.press("c")
        await wait(pilot, lambda: not isinstance(app.screen, UnsavedScreen))
        assert app.is_running and pane.modified
        await pilot.press("q")
        await wait(pilot, lambda: isinstance(app.screen, UnsavedScreen))
        typed = pane.editor.text
        await pilot.press("s")  # saves the file, then asks about the study's workers
        await wait(pilot, lambda: isinstance(app.screen, QuitScreen))
        await pilot.press("y")
        await wait(pilot, lambda: not app.is_running)
    assert scripted.path.read_text() == typed


async def test_a_change_on_disk_reloads_an_unmodified_buffer(make_app, wait, scripted):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_editor(app, pilot, wait)
        edit_elsewhere(scripted.path, "n_trials: 8", "n_trials: 10")
        await wait(pilot, lambda: "n_trials: 10" in pane.editor.text, timeout=10)
        await wait(pilot, lambda: "reloaded" in notes(app))  # notifications arrive as messages
        assert not pane.modified


async def edited_on_both_sides(
    app: RltuiApp, pilot: Any, wait: Any, scripted: Any, old: str, new: str
) -> Any:
    """``#`` typed at the start of the buffer, then the file changed on disk from ``old`` to
    ``new`` by another program, and the window told of it; returns the study file's pane."""
    pane = await open_editor(app, pilot, wait)
    pane.editor.move_cursor((0, 0))
    burst(app, "#")
    await wait(pilot, lambda: pane.modified)
    edit_elsewhere(scripted.path, old, new)
    await wait(pilot, lambda: "changed on disk while you edit" in notes(app), timeout=10)
    return pane


async def test_a_change_on_disk_under_edits_is_a_conflict_never_overwritten(
    make_app, wait, scripted
):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        pane = await edited_on_both_sides(app, pilot, wait, scripted, "n_trials: 8", "n_trials: 10")
        assert pane.editor.text.startswith("#")  # the buffer is left alone
        await pilot.press("ctrl+s")
        await wait(pilot, lambda: app.screen.__class__.__name__ == "ConfirmScreen")
        shown = str(app.screen.detail)  # what the disk holds that would be lost
        assert "-n_trials: 10" in shown and "+n_trials: 8" in shown and "+#" in shown
        await pilot.press("n")
        await pilot.pause()
        assert "n_trials: 10" in scripted.path.read_text()  # not overwritten
        await pilot.press("ctrl+r")
        await wait(pilot, lambda: "n_trials: 10" in pane.editor.text)
        assert not pane.modified


async def test_a_file_changed_on_disk_to_the_buffer_is_saved_without_a_question(
    make_app, wait, scripted
):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        # The same edit as the buffer's, made elsewhere.
        await edited_on_both_sides(app, pilot, wait, scripted, "# A seconds", "## A seconds")
        pane = app.main_screen.study_pane
        await pilot.press("ctrl+s")
        await wait(pilot, lambda: not pane.modified, timeout=10)
        assert app.screen is app.main_screen


async def test_saving_a_study_with_trials_previews_and_applies_only_on_confirm(
    make_app, wait, scripted
):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_editor(app, pilot, wait)
        text = pane.editor.text.replace("n_trials: 8", "n_trials: 12")
        set_buffer(pane, text)
        await pilot.press("ctrl+s")
        await wait(pilot, lambda: isinstance(app.screen, ApplyPreviewScreen))
        preview = app.screen.preview
        assert [c.describe() for c in preview.changes] == ["n_trials: 8 → 12"]
        assert "n_trials: 12" in scripted.path.read_text()  # saved: nothing typed is lost
        assert version(scripted) == 1  # nothing applied yet
        await pilot.press("escape")
        await wait(pilot, lambda: "not applied" in notes(app))
        assert version(scripted) == 1
        await pilot.press("ctrl+s")
        await wait(pilot, lambda: isinstance(app.screen, ApplyPreviewScreen))
        await pilot.press("a")
        await wait(pilot, lambda: "applied: study file version 2" in notes(app))
        assert version(scripted) == 2


async def test_a_grid_added_mid_study_says_how_many_trials_it_adds(make_app, wait, scripted):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_editor(app, pilot, wait)
        text = pane.editor.text
        assert "search_space:" in text
        grid = "search_space:\n  gae_lambda: grid_search([0.9, 0.95, 0.99])"
        text = text.replace("search_space:", grid)
        set_buffer(pane, text)
        await pilot.press("ctrl+s")
        await wait(pilot, lambda: isinstance(app.screen, ApplyPreviewScreen))
        preview = app.screen.preview
        assert preview.enqueued >= 3
        lines = "\n".join(preview.budget_lines())
        assert f"{preview.enqueued} trials enqueued now" in lines
        if preview.over_budget:
            assert "more than its budget" in lines


async def test_a_refused_edit_cannot_be_applied_and_its_way_out_validates(make_app, wait, scripted):
    from rltui.spec import check_text

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_editor(app, pilot, wait)
        text = pane.editor.text.replace("choice(0.0, 0.01)", "choice(0.0, 0.02)")
        set_buffer(pane, text)
        await pilot.press("ctrl+s")
        await wait(pilot, lambda: isinstance(app.screen, ApplyPreviewScreen))
        preview = app.screen.preview
        assert not preview.applicable and preview.refused
        await pilot.press("a")  # disabled: nothing happens
        await pilot.pause()
        assert isinstance(app.screen, ApplyPreviewScreen)
        hint = preview.refused[0].hint or ""
        await pilot.press("escape")
        assert version(scripted) == 1
    # The way out it offers (a new study name) makes a file that validates.
    assert "set 'name' to 'smoke-2'" in hint
    renamed = text.replace("name: smoke", "name: smoke-2", 1)
    study, problems = check_text(renamed, None, check_env=False)
    assert study is not None, problems


async def test_versions_are_listed_diffed_and_restored_into_the_buffer(make_app, wait, scripted):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_editor(app, pilot, wait)
        original = pane.editor.text
        text = original.replace("n_trials: 8", "n_trials: 12")
        set_buffer(pane, text)
        await pilot.press("ctrl+s")
        await wait(pilot, lambda: isinstance(app.screen, ApplyPreviewScreen))
        await pilot.press("a")
        await wait(pilot, lambda: version(scripted) == 2)
        await pilot.press("ctrl+o")
        await wait(pilot, lambda: isinstance(app.screen, VersionsScreen))
        screen = app.screen
        assert [v[0] for v in screen.versions] == [2, 1]
        # How each version's trials did, read from the window's snapshot (the scripted
        # trials record no version: they count under 0).
        assert screen.stats is not None and screen.stats[0].complete == 2
        await pilot.press("down")  # version 1
        diff = str(screen.query_one("#versions-diff").render())
        assert "-n_trials: 8" in diff.replace(" ", "") or "n_trials: 8" in diff
        await pilot.press("r")
        await wait(pilot, lambda: not isinstance(app.screen, VersionsScreen))
        assert "n_trials: 8" in pane.editor.text and pane.modified
        assert version(scripted) == 2  # restoring applies nothing by itself


async def test_a_burst_of_place_keys_ends_on_the_last_one(make_app, wait):
    # Each key moves the focus before the last one's events have arrived: the tab shown must
    # still be the one the last key asked for (Textual's own tabs followed a stale focus).
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(app, pilot, wait)
        tabs = screen.query_one("#tabs", TabbedContent)
        for keys, tab, focused in (
            (("3", "4"), "compare", "compare-pane"),
            (("trade_mark_sign", "pound_sign"), "charts", "charts-pane"),  # Esc 2 Esc 3
            (("alt+2", "alt+1"), "trials", "table"),
            (("2", "escape", "4"), "compare", "compare-pane"),
        ):
            burst(app, *keys)
            await pilot.pause(0.3)
            await wait(pilot, lambda f=focused: getattr(app.focused, "id", None) == f)
            assert tabs.active == tab, keys


async def test_opening_another_study_with_unsaved_edits_asks_first_the_same_goes_there(
    make_app, wait, scripted
):
    from rltui.ui.widgets.explorer import Explorer

    other = scripted.path.with_name("other.yaml")
    other.write_text(scripted.path.read_text().replace("name: smoke", "name: other"))
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_editor(app, pilot, wait)
        pane.editor.move_cursor((0, 0))
        burst(app, "#")
        await wait(pilot, lambda: pane.modified)
        explorer = app.main_screen.query_one(Explorer)
        # What is open already: no question, the window goes there.
        explorer.post_message(Explorer.StudyFileChosen(scripted.path))
        await wait(pilot, lambda: "smoke.yaml is open" in notes(app))
        explorer.post_message(Explorer.StoredStudyChosen("smoke"))
        await wait(pilot, lambda: "study 'smoke' is open" in notes(app))
        assert app.focused is app.main_screen.table and app.screen is app.main_screen
        assert pane.modified and pane.path == scripted.path
        explorer.post_message(Explorer.StudyFileChosen(other))
        await wait(pilot, lambda: isinstance(app.screen, UnsavedScreen))
        await pilot.press("c")
        await wait(pilot, lambda: not isinstance(app.screen, UnsavedScreen))
        assert pane.modified and pane.path == scripted.path  # still the edited buffer
        explorer.post_message(Explorer.StudyFileChosen(other))
        await wait(pilot, lambda: isinstance(app.screen, UnsavedScreen))
        await pilot.press("s")  # saved to its file, then the other study opens
        await wait(pilot, lambda: pane.path == other)
        assert scripted.path.read_text().startswith("#")
        assert "name: other" in pane.editor.text


async def test_notifications_show_text_from_data_literally(make_app, wait):
    from rltui.ui.textual.internals import Toast

    app = make_app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await ready(app, pilot, wait)
        app.clear_notifications()
        app.main_screen.notify("pip install 'rltui[postgres]' and [red]x[/red]")

        def shown() -> str:
            return " ".join(str(toast.render()) for toast in app.screen.query(Toast))

        await wait(pilot, lambda: "pip install" in shown())
        assert "'rltui[postgres]'" in shown() and "[red]x[/red]" in shown()
