"""The window on a real study with several objectives, at 80x24: the status bar counts the
Pareto front, the state line says how each objective sorts, the filter line takes an
objective's name, and a trial's detail gives each objective's value and its rank."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from optuna.trial import TrialState
from rich.console import Console

from rltui.ui.app import RltuiApp
from rltui.ui.screens.trial_detail import TrialDetailScreen
from rltui.ui.widgets.status_bar import StatusBar
from rltui.ui.widgets.trial_table import TrialTable

from .conftest import fixed_clock, two_objective_study, wait_for

# number: (state, reward, seconds); #0 is the file's hand-picked trial, WAITING.
SCRIPT = [
    (TrialState.COMPLETE, 150.0, 60.0),  # 1: front
    (TrialState.COMPLETE, 100.0, 90.0),  # 2: rank 2, behind 1
    (TrialState.COMPLETE, 90.0, 8.0),  # 3: front
    (TrialState.RUNNING, None, None),  # 4
    (TrialState.COMPLETE, 190.0, 300.0),  # 5: front
]


@pytest.fixture
def two_objectives(study_file: Path) -> Path:
    """The smoke study with objectives [reward, wall_time] and the trials of SCRIPT."""
    return two_objective_study(study_file, SCRIPT)


def _state(app: RltuiApp) -> str:
    return str(app.main_screen.query_one("#table-state").render())


def _numbers(table: TrialTable) -> list[int]:
    return [int(str(row.key.value)) for row in table.ordered_rows]


def _plain(renderable: Any) -> str:
    console = Console(file=io.StringIO(), width=100, color_system=None)
    console.print(renderable)
    return console.file.getvalue()


@pytest.mark.slow
async def test_the_window_sorts_filters_and_details_by_objective(two_objectives: Path) -> None:
    app = RltuiApp(two_objectives, clock=fixed_clock, poll_interval=0.1)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: app.main_screen and app.main_screen.snapshot is not None)
        table = app.main_screen.query_one(TrialTable)
        await wait_for(pilot, lambda: table.row_count == 6)
        bar = app.main_screen.query_one(StatusBar)
        await wait_for(pilot, lambda: "front 3" in str(bar.render()))
        assert "best" not in str(bar.render())

        await wait_for(pilot, lambda: _state(app).startswith("sort: rank (Pareto front first)"))
        assert _numbers(table)[:3] == [1, 3, 5]
        table.focus()
        for _ in range(len(table.column_keys)):  # s moves the sort one column right
            if table.sort_column == "value:1":
                break
            await pilot.press("s")
        assert table.sort_column == "value:1"
        assert _state(app).startswith("sort: wall_time, best first")
        assert _numbers(table)[:4] == [3, 1, 2, 5]  # the fewest seconds first
        await pilot.press("S")
        assert _state(app).startswith("sort: wall_time, worst first")
        await pilot.press("s")  # to rank, then back to the first objective
        assert _state(app).startswith("sort: rank (Pareto front first)")
        await pilot.press("S")
        assert _state(app).startswith("sort: rank, front last")
        table.sort_by("value")
        await pilot.pause()
        assert _state(app).startswith("sort: reward, best first")

        await pilot.press("slash", *"wall_time<70", "enter")
        await wait_for(pilot, lambda: table.row_count == 2)
        assert sorted(_numbers(table)) == [1, 3]
        assert "filter: wall_time<70 · 2 of 6" in _state(app)

        table.focus()
        table.move_cursor(row=0)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, TrialDetailScreen))
        text = _plain(app.screen.query_one("#summary").content)
        assert app.screen.row.number == 1
        assert "reward     150 (maximize)" in text
        assert "wall_time  60 (minimize)" in text
        assert "rank       1 ★ on the Pareto front" in text
        assert "value" not in text
        await pilot.press("escape")
