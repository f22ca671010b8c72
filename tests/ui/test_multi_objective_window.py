"""The window on a real study with several objectives, at 80x24: the status bar counts the
Pareto front, the state line says how each objective sorts, the filter line takes an
objective's name, and a trial's detail gives each objective's value and its rank."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from optuna.trial import FrozenTrial, TrialState
from rich.console import Console

from rltui.search.optuna_internals import storage_of, study_id_of
from rltui.search.study import open_study
from rltui.spec import load_study
from rltui.ui.app import RltuiApp
from rltui.ui.screens.trial_detail import TrialDetailScreen
from rltui.ui.widgets.status_bar import StatusBar
from rltui.ui.widgets.trial_table import TrialTable

from .conftest import T0, fixed_clock, wait_for

PRUNER = "pruner:\n  type: median\n  n_startup_trials: 2\n  n_warmup_steps: 0\n"
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
    text = study_file.read_text(encoding="utf-8").replace(PRUNER, "")
    text = text.replace("direction: maximize\n", "objectives: [reward, wall_time]\n")
    study_file.write_text(text, encoding="utf-8")
    ostudy, _url = open_study(load_study(study_file, check_env=False))
    storage, study_id = storage_of(ostudy), study_id_of(ostudy)
    space = load_study(study_file, check_env=False).space.distributions
    params = {"learning_rate": 3e-3, "gamma": 0.98, "ent_coef": 0.0}
    for minute, (state, reward, seconds) in enumerate(SCRIPT, start=1):
        start = T0 + timedelta(minutes=minute)
        template = FrozenTrial(
            number=-1,
            state=state,
            value=None,
            values=[reward, seconds] if reward is not None else None,
            datetime_start=start,
            datetime_complete=start + timedelta(minutes=5) if state.is_finished() else None,
            params=params,
            distributions={k: space[k] for k in params},
            user_attrs={},
            system_attrs={},
            intermediate_values={256: reward or 0.0},
            trial_id=-1,
        )
        storage.create_new_trial(study_id, template_trial=template)
    return study_file


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
