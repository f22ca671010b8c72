"""The trials pane at 80x24 and 120x40: fixed columns, fitted parameter columns, the state
line, the filter line with its errors, text from the storage shown literally, and the time a
trial's worker was frozen in its detail."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from optuna.study import StudyDirection
from textual.app import App, ComposeResult

from rltui.search.lifecycle import TrialStatus
from rltui.search.reader import Snapshot, TrialRow
from rltui.ui.screens.tick_list import TickList
from rltui.ui.widgets.trial_table import TrialTable
from rltui.ui.widgets.trials_pane import TrialsPane

from .conftest import T0, fixed_clock

PARAMS = {"learning_rate": 3e-3, "gamma": 0.98, "ent_coef": 0.0, "net_arch": "small"}


def trial(number: int, status: TrialStatus, value: float | None, **params: Any) -> TrialRow:
    return TrialRow(
        number=number,
        trial_id=number,
        status=status,
        value=value,
        params={**PARAMS, **params},
        curve=((256, value),) if value is not None else (),
        timesteps=256,
        total=1024,
        started=T0,
        completed=None,
        worker="w1",
        error="stopped by user" if status == TrialStatus.FAIL else None,
        traceback=None,
        pending=None,
        spec_version=1,
    )


def snapshot(rows: list[TrialRow], maximize: bool = True) -> Snapshot:
    return Snapshot(
        study_name="pane",
        direction=StudyDirection.MAXIMIZE if maximize else StudyDirection.MINIMIZE,
        rows={row.number: row for row in rows},
        changed=frozenset(row.number for row in rows),
        workers=[],
        spec_version=1,
        draining=False,
    )


def study(n: int = 40) -> list[TrialRow]:
    """Trials 0..n-1: every fifth RUNNING (no value), trial 3 FAIL, the rest COMPLETE with
    value = number and learning rates from 1e-4 up."""
    rows = []
    for i in range(n):
        status = TrialStatus.RUNNING if i % 5 == 4 else TrialStatus.COMPLETE
        status = TrialStatus.FAIL if i == 3 else status
        value = float(i) if status == TrialStatus.COMPLETE else None
        rows.append(trial(i, status, value, learning_rate=1e-4 * (i + 1)))
    return rows


class PaneApp(App[None]):
    def __init__(self, rows: list[TrialRow], maximize: bool = True) -> None:
        super().__init__()
        self.rows = rows
        self.maximize = maximize

    def compose(self) -> ComposeResult:
        yield TrialsPane(clock=fixed_clock, id="trials")

    def on_mount(self) -> None:
        self.call_after_refresh(self.show, self.rows)

    def show(self, rows: list[TrialRow]) -> None:
        self.pane.apply(snapshot(rows, self.maximize), self.current_theme, self.maximize)

    @property
    def pane(self) -> TrialsPane:
        return self.query_one(TrialsPane)


def line(table: TrialTable, y: int) -> str:
    return "".join(segment.text for segment in table.render_line(y))


def state_line(app: PaneApp) -> str:
    return str(app.query_one("#table-state").render())


async def opened(app: PaneApp, pilot: Any) -> TrialTable:
    table = app.pane.table
    while table.row_count < len(app.rows):
        await pilot.pause(0.02)
    app.pane.focus_table()
    await pilot.pause()
    return table


async def test_number_and_state_stay_in_view_when_scrolled_right() -> None:
    app = PaneApp(study())
    async with app.run_test(size=(80, 24)) as pilot:
        table = await opened(app, pilot)
        assert table.max_scroll_x > 0, "the table is wider than the screen"
        await pilot.press(*["right"] * 60)
        await pilot.pause()
        assert table.scroll_x == table.max_scroll_x > 0
        header, first = line(table, 0), line(table, 1)
        assert header.split()[:2] == ["#", "state"]
        assert first.split()[:2] == ["0", "COMPLETE"]
        assert "worker" in header  # the last column, scrolled into view


async def test_parameter_columns_fit_at_80_and_at_120_columns() -> None:
    for width in (80, 120):
        app = PaneApp(study())
        async with app.run_test(size=(width, 24)) as pilot:
            table = await opened(app, pilot)
            header = line(table, 0)
            assert header.split()[:4] == ["#", "state", "value", "★"]
            for short in ("lr", "gamma", "ent", "net"):
                assert f" {short} " in header, (width, header)
            assert "0.0001" in line(table, 1)
            assert table.scroll_x == 0


async def test_a_narrow_table_moves_its_low_value_columns_to_the_right_end() -> None:
    app = PaneApp(study())
    async with app.run_test(size=(80, 24)) as pilot:
        table = await opened(app, pilot)
        keys = table.column_keys
        assert keys.index("worker") > keys.index("param:net_arch")
        await pilot.resize_terminal(200, 24)
        await pilot.pause()
        keys = table.column_keys
        assert keys.index("worker") < keys.index("param:learning_rate")
        assert "worker" in line(table, 0) and table.max_scroll_x == 0


@pytest.mark.slow
async def test_sorting_by_value_puts_the_best_first_for_the_studys_direction() -> None:
    for maximize, best in ((True, 38), (False, 0)):
        app = PaneApp(study(), maximize=maximize)
        async with app.run_test(size=(120, 24)) as pilot:
            table = await opened(app, pilot)
            assert state_line(app).startswith("sort: # · 40 of 40")
            await pilot.press("s", "s")  # number -> state -> value
            assert table.sort_column == "value"
            numbers = [int(str(row.key.value)) for row in table.ordered_rows]
            assert numbers[0] == best
            assert numbers[-9:] == [3, 4, 9, 14, 19, 24, 29, 34, 39]  # no value: last, in order
            assert state_line(app).startswith("sort: value, best first")
            await pilot.press("S")
            assert state_line(app).startswith("sort: value, worst first")


@pytest.mark.slow
async def test_the_filter_line_filters_and_the_state_line_says_so() -> None:
    app = PaneApp(study())
    async with app.run_test(size=(120, 24)) as pilot:
        table = await opened(app, pilot)
        await pilot.press("slash", *"value>30 lr<0.0035")
        await pilot.press("enter")
        assert table.has_focus
        numbers = sorted(int(str(row.key.value)) for row in table.ordered_rows)
        assert numbers == [31, 32, 33]  # 34 runs: no value
        assert state_line(app) == "sort: # · filter: value>30 lr<0.0035 · 3 of 40"
        # Keys the pane binds ("f", "C") are text while the filter line has the focus.
        await pilot.press("slash", *["backspace"] * 20, *"state:fail Comp")
        assert not isinstance(app.screen, TickList)
        assert app.pane.filter_line.value == "state:fail Comp" and table.row_count == 0


async def test_a_study_without_trials_says_how_to_run_some() -> None:
    app = PaneApp([])
    async with app.run_test(size=(120, 24)) as pilot:
        await pilot.pause(0.1)
        assert (
            state_line(app)
            == "sort: # · 0 of 0 · no trials yet: w starts a worker, which runs them"
        )


@pytest.mark.slow
async def test_a_bad_term_says_what_is_wrong_and_keeps_the_last_good_filter() -> None:
    app = PaneApp(study())
    async with app.run_test(size=(120, 24)) as pilot:
        table = await opened(app, pilot)
        await pilot.press("slash", *"value>30")
        assert table.row_count == 7  # 31-38 but 34: it runs, with no value
        app.pane.filter_line.value = "value>30 lr<fast"  # as pasted
        await pilot.pause()
        state = state_line(app)
        assert state.startswith("filter term 'lr<fast': < compares numbers")
        assert "filter: value>30 · 7 of 40" in state
        assert table.row_count == 7
        await pilot.press("escape")
        assert table.has_focus and app.pane.filter_line.display
        # Clearing the line clears the error and the filter, and Enter then hides the line.
        app.pane.filter_line.value = ""
        await pilot.pause()
        assert state_line(app) == "sort: # · 40 of 40"
        app.pane.filter_line.focus()
        await pilot.press("enter")
        assert not app.pane.filter_line.display


async def test_the_state_picker_sets_the_state_term() -> None:
    app = PaneApp(study())
    async with app.run_test(size=(120, 30)) as pilot:
        table = await opened(app, pilot)
        await pilot.press("f")
        assert isinstance(app.screen, TickList)
        await pilot.press("down", "space")  # RUNNING
        await pilot.press("escape")
        assert table.row_count == 8
        assert state_line(app) == "sort: # · filter: state:running · 8 of 40"
        await pilot.press("f", "a")
        assert table.row_count == 40 and state_line(app) == "sort: # · 40 of 40"


async def test_the_column_picker_leaves_parameters_out() -> None:
    app = PaneApp(study())
    async with app.run_test(size=(120, 30)) as pilot:
        table = await opened(app, pilot)
        await pilot.press("C")
        assert isinstance(app.screen, TickList)
        await pilot.press("space")  # ent_coef, first in name order: untick it
        await pilot.press("escape")
        await pilot.pause()
        assert "param:ent_coef" not in table.column_keys
        assert " gamma " in line(table, 0) and " ent " not in line(table, 0)


async def test_text_from_the_storage_is_shown_literally() -> None:
    rows = study(5)
    rows[1] = trial(1, TrialStatus.COMPLETE, 1.0, net_arch="[red]x")
    rows[2] = replace(rows[2], worker="[b]w")
    app = PaneApp(rows)
    async with app.run_test(size=(160, 24)) as pilot:
        table = await opened(app, pilot)
        assert "[red]x" in line(table, 2) and "[b]w" in line(table, 3)
        await pilot.press("slash", *"net=[red]x")
        assert table.row_count == 1
        assert "filter: net=[red]x · 1 of 5" in state_line(app)


async def test_a_failed_trial_shows_no_value() -> None:
    app = PaneApp(study(5))
    async with app.run_test(size=(120, 24)) as pilot:
        table = await opened(app, pilot)
        assert table.get_cell("3", "value") == "–"
        assert "stopped" not in line(table, 4)


async def test_home_and_end_go_to_the_first_and_last_trial() -> None:
    app = PaneApp(study())
    async with app.run_test(size=(80, 24)) as pilot:
        table = await opened(app, pilot)
        await pilot.press("end")
        await pilot.pause()
        assert table.cursor_row == table.row_count - 1 > 0 and table.scroll_x == 0
        await pilot.press("home")
        await pilot.pause()
        assert table.cursor_row == 0


def test_the_detail_tells_the_time_a_trials_worker_was_frozen() -> None:
    from rich.console import Console

    from rltui.ui.screens.trial_detail import summary

    row = trial(0, TrialStatus.COMPLETE, 1.0)
    row = replace(row, started=T0, completed=T0 + timedelta(seconds=95), frozen=60.0)
    console = Console(width=80, record=True)
    console.print(summary(row, fixed_clock))
    assert "35s (and 1m00s its worker was frozen)" in console.export_text()
    console.print(summary(replace(row, frozen=0.0), fixed_clock))
    assert "1m35s" in console.export_text()


async def test_enter_and_escape_in_the_filter_hand_the_keyboard_back_as_they_are_handled():
    # Not when the pane reads a message about them later: a key typed right behind them in
    # one read (SSH typeahead, "/ state:complete Enter p") went into the line in a terminal.
    app = PaneApp(study())
    async with app.run_test(size=(120, 24)) as pilot:
        table = await opened(app, pilot)
        line = app.pane.filter_line
        await pilot.press("slash", *"state:complete")
        assert line.has_focus
        await line.action_submit()
        assert app.focused is table  # before any message is handled
        await pilot.press("slash")
        assert line.has_focus
        line.action_leave()
        assert app.focused is table
        await pilot.pause()
        assert line.value == "state:complete"
        assert {r.status for r in table.rows_by_number.values() if str(r.number) in table.rows} == {
            TrialStatus.COMPLETE
        }
