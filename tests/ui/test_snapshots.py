"""Snapshot tests of the main screens at 120x40 and 80x24, in the dark and the ANSI theme,
and of the comparison view at 80x24.

Deterministic: trials have fixed times, the app a fixed clock, the explorer an empty
temporary folder, and notifications are cleared before the screenshot.
"""

from __future__ import annotations

from typing import Any

import pytest

from rltui.ui.widgets.charts import ChartView

from .test_compare import trials_dir, write_log

pytestmark = pytest.mark.slow  # each snapshot drives the app for seconds

BIG, SMALL = (120, 40), (80, 24)


def before(*keys: str, charts: bool = False):
    async def run_before(pilot: Any) -> None:
        app = pilot.app
        while not (app.main_screen is not None and app.main_screen.snapshot is not None):
            await pilot.pause(0.05)
        table = app.main_screen.table
        table.move_cursor(row=table.get_row_index("4"), animate=False)
        await pilot.pause(0.1)
        if keys:
            await pilot.press(*keys)
        await pilot.pause(0.1)
        for _ in range(300):  # charts are built on threads: wait for the visible ones
            visible = [c for c in app.screen.query(ChartView) if c.region.area]
            if (
                all(
                    not c._dirty and c._text.plain != c.empty_message
                    for c in visible
                    if c.data is not None
                )
                or not charts
            ):
                break
            await pilot.pause(0.1)
        await pilot.pause(0.3)
        app.clear_notifications()
        await pilot.pause()

    return run_before


@pytest.fixture
def snap_app(make_app, monkeypatch, tmp_path, no_gpu):
    empty = tmp_path / "cwd"
    empty.mkdir()
    monkeypatch.chdir(empty)
    monkeypatch.setenv("HOME", str(empty))
    return make_app


@pytest.mark.parametrize("theme", ["rltui-dark", "rltui-ansi"])
@pytest.mark.parametrize("size", [BIG, SMALL], ids=["120x40", "80x24"])
def test_trials(snap_compare, snap_app, theme, size):
    assert snap_compare(snap_app(theme), terminal_size=size, run_before=before(charts=True))


@pytest.mark.parametrize("theme", ["rltui-dark", "rltui-ansi"])
def test_editor_with_a_problem(snap_compare, snap_app, theme):
    async def run_before(pilot: Any) -> None:
        await before()(pilot)
        await pilot.press("2")
        pane = pilot.app.main_screen.study_pane
        pane.editor.cursor_blink = False
        pane.editor.replace("-3", (4, 10), (4, 11))
        while not (pane.last_check and pane.last_check.text == pane.editor.text):
            await pilot.pause(0.05)
        await pilot.pause(0.2)

    assert snap_compare(snap_app(theme), terminal_size=BIG, run_before=run_before)


@pytest.mark.parametrize("size", [BIG, SMALL], ids=["120x40", "80x24"])
def test_charts(snap_compare, snap_app, size):
    assert snap_compare(
        snap_app("rltui-dark"), terminal_size=size, run_before=before("3", charts=True)
    )


def test_trial_detail(snap_compare, snap_app):
    assert snap_compare(snap_app("rltui-ansi"), terminal_size=SMALL, run_before=before("enter"))


def test_compare(snap_compare, snap_app, scripted):
    for number, scale in ((4, 1.0), (6, 3.0)):  # the selected trial and the best
        write_log(trials_dir(scripted), number, scale)
    assert snap_compare(
        snap_app("rltui-dark"), terminal_size=SMALL, run_before=before("4", charts=True)
    )


@pytest.mark.parametrize("theme", ["rltui-dark", "rltui-ansi"])
@pytest.mark.parametrize("size", [BIG, SMALL], ids=["120x40", "80x24"])
def test_study_file_pane_modified(snap_compare, snap_app, theme, size):
    """The editor with an unsaved edit: ● on its tab, the editor's keys in the footer."""

    async def run_before(pilot: Any) -> None:
        await before(charts=True)(pilot)  # the bottom panel's curves drawn first
        await pilot.press("2")
        pane = pilot.app.main_screen.study_pane
        pane.editor.cursor_blink = False
        pane.editor.replace("9", (4, 10), (4, 11))  # n_trials: 9
        while not (pane.last_check and pane.last_check.text == pane.editor.text):
            await pilot.pause(0.05)
        await pilot.pause(0.2)

    assert snap_compare(snap_app(theme), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("theme", ["rltui-dark", "rltui-ansi"])
def test_apply_preview(snap_compare, snap_app, theme):
    """The preview a save shows on a study with trials. At 120x40: at 80 columns the editor
    behind the dialog has a horizontal scrollbar whose thumb is drawn a frame late now and
    then, which no screenshot can hold still (the editor itself is shot at 80x24 above)."""
    from rltui.ui.screens.apply_preview import ApplyPreviewScreen

    async def run_before(pilot: Any) -> None:
        await before(charts=True)(pilot)  # the bottom panel's curves drawn first
        await pilot.press("2")
        pane = pilot.app.main_screen.study_pane
        pane.editor.cursor_blink = False
        text = pane.editor.text.replace("n_trials: 8", "n_trials: 12").replace(
            "gamma: {type: float, low: 0.9, high: 0.999}",
            "gamma: {type: float, low: 0.9, high: 0.99}",
        )
        pane.editor.replace(text, pane.editor.document.start, pane.editor.document.end)
        pane.editor.move_cursor((0, 0))
        pane.editor.scroll_home(animate=False)
        editor = pane.editor
        while editor.scroll_offset != (0, 0) or editor.cursor_location != (0, 0):
            await pilot.pause(0.05)  # the scroll to the end of the new text is undone
        await pilot.pause(0.2)
        await pilot.press("ctrl+s")
        while not isinstance(pilot.app.screen, ApplyPreviewScreen):
            await pilot.pause(0.05)
        await pilot.pause(0.3)
        pilot.app.clear_notifications()
        await pilot.pause()

    assert snap_compare(snap_app(theme), terminal_size=BIG, run_before=run_before)


@pytest.mark.parametrize("theme", ["rltui-dark", "rltui-ansi"])
def test_filter_and_events_panes(snap_compare, snap_app, theme):
    """A filter expression with its state line, and the bottom panel's Events tab shown by
    its key at 80x24 (where the panel is folded away until asked for)."""

    async def run_before(pilot: Any) -> None:
        await before(charts=True)(pilot)  # the bottom panel's curves drawn first
        await pilot.press("slash", *"value>20", "enter")
        await pilot.press("8")
        await pilot.pause(0.3)
        await pilot.press("1")
        await pilot.pause(0.3)
        pilot.app.clear_notifications()
        await pilot.pause()

    assert snap_compare(snap_app(theme), terminal_size=SMALL, run_before=run_before)
