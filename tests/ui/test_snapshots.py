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
