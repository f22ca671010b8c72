"""A big study: its first rows show at once, the rest load in chunks, in order."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from optuna.trial import TrialState, create_trial

from rltui.search.study import open_study
from rltui.spec import load_study
from rltui.ui.widgets.trial_table import FIRST_ROWS


def _big_study(path: Path, n: int) -> None:
    study = load_study(path, check_env=False)
    ostudy, _ = open_study(study)
    space = study.space.distributions
    trials = [
        create_trial(
            state=TrialState.COMPLETE,
            value=float(i % 97),
            params={"learning_rate": 1e-3, "gamma": 0.95, "ent_coef": 0.0},
            distributions={k: space[k] for k in ("learning_rate", "gamma", "ent_coef")},
            intermediate_values={256: float(i % 13)},
        )
        for i in range(n)
    ]
    ostudy.add_trials(trials)


async def test_a_big_study_loads_in_chunks_in_order(study_file: Path, wait: Any) -> None:
    from rltui.ui.app import RltuiApp

    _big_study(study_file, 2500)
    expected = 2501  # and the study file's enqueued trial
    app = RltuiApp(study_file, poll_interval=0.1)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait(pilot, lambda: app.main_screen.table.row_count >= FIRST_ROWS)
        table = app.main_screen.table
        await wait(pilot, lambda: table.row_count == expected, timeout=60)
        numbers = [int(row.key.value) for row in table.ordered_rows]
        assert numbers == sorted(numbers) == list(range(expected))
        assert table.virtual_size.height == expected + 1  # rows and the header
        table.sort_by("value", reverse=True)
        await pilot.pause()
        values = [table.rows_by_number[int(r.key.value)].value for r in table.ordered_rows]
        present = [v for v in values if v is not None]
        assert present == sorted(present, reverse=True)


async def test_a_rebuild_during_loading_wins(study_file: Path, wait: Any) -> None:
    from rltui.search.lifecycle import TrialStatus
    from rltui.ui.app import RltuiApp

    _big_study(study_file, 2500)
    app = RltuiApp(study_file, poll_interval=0.1)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait(pilot, lambda: app.main_screen.table.row_count >= FIRST_ROWS)
        table = app.main_screen.table
        table.set_filter(state=TrialStatus.WAITING)  # while the first rebuild is loading
        await wait(pilot, lambda: not table._loading, timeout=60)
        await pilot.pause(0.3)
        assert [int(r.key.value) for r in table.ordered_rows] == [0]
