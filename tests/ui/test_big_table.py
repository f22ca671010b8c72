"""A big study: its first rows show at once, the rest load in chunks, in order."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from optuna.trial import TrialState, create_trial

from rltui.search.study import open_study
from rltui.spec import load_study
from rltui.ui.widgets.trial_table import FIRST_ROWS

pytestmark = pytest.mark.slow  # each test drives the app for seconds


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
    from rltui.ui.app import RltuiApp
    from rltui.ui.models.trial_query import parse

    _big_study(study_file, 2500)
    app = RltuiApp(study_file, poll_interval=0.1)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait(pilot, lambda: app.main_screen.table.row_count >= FIRST_ROWS)
        table = app.main_screen.table
        table.filter_by(parse("state:waiting", table.params))  # while the first rebuild loads
        await wait(pilot, lambda: not table._loading, timeout=60)
        await pilot.pause(0.3)
        assert [int(r.key.value) for r in table.ordered_rows] == [0]


async def test_a_changed_row_is_repainted_and_the_others_keep_their_rendering(
    study_file: Path, wait: Any
) -> None:
    from dataclasses import replace

    from textual.widgets.data_table import RowKey

    from rltui.ui.app import RltuiApp

    _big_study(study_file, 300)
    app = RltuiApp(study_file, poll_interval=30)  # the test applies the snapshot itself
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.main_screen
        table = screen.table
        await wait(pilot, lambda: table.row_count == 301 and not table._loading, timeout=60)
        table.scroll_x = table.max_scroll_x  # the fixed columns render apart: same caches
        await pilot.pause()
        assert table.fixed_columns == 2
        cached = lambda n: RowKey(str(n)) in table.cached_rows()  # noqa: E731
        assert cached(3) and cached(5), "the visible rows were rendered"
        before = table.render_generation
        snapshot = screen.snapshot
        rows = dict(snapshot.rows)
        rows[5] = replace(rows[5], value=55.5)
        screen.apply(replace(snapshot, rows=rows, changed=frozenset({5})))
        assert table.get_cell("5", "value") == "55.5"
        assert not cached(5) and cached(3), "only the changed row was forgotten"
        assert table.render_generation == before, "no global invalidation"
        await pilot.pause()
        line = lambda: "".join(seg.text for seg in table.render_line(5 + 1))  # noqa: E731  # row 5, below the header
        assert line().split()[:2] == ["5", "COMPLETE"], "scrolled right: number and state stay"
        table.scroll_x = 0
        await pilot.pause()
        assert "55.5" in line()


async def test_once_a_study_shows_its_objects_leave_the_collectors_full_passes(
    study_file: Path, wait: Any, monkeypatch: Any
) -> None:
    import gc

    from rltui.ui.app import RltuiApp
    from rltui.ui.screens import main

    monkeypatch.setattr(main, "SETTLE_AFTER", 0.2)
    gc.unfreeze()
    _big_study(study_file, 300)
    app = RltuiApp(study_file, poll_interval=0.1)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait(pilot, lambda: app.main_screen.table.row_count == 301, timeout=60)
        await wait(pilot, lambda: gc.get_freeze_count() > 0, timeout=10)
        frozen = gc.get_freeze_count()
        rows = app.main_screen.snapshot.rows
        assert frozen > 10 * len(rows), "the trials' objects are among the frozen"
        await pilot.pause(0.5)
        assert gc.get_freeze_count() <= frozen, "settled once, not at every poll"
