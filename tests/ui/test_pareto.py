"""Studies with several objectives in the window: the Pareto front and domination ranks, the
Pareto chart, and the trial table's columns and sort."""

from __future__ import annotations

import random
import shutil
from pathlib import Path
from typing import Any

import optuna
import pytest
from optuna.trial import TrialState
from textual.app import App, ComposeResult
from textual_plotext.plot import Plot

from rltui.search.lifecycle import TrialStatus
from rltui.search.reader import Snapshot, StudyReader, summarize
from rltui.search.study import open_study
from rltui.spec import load_study
from rltui.ui.models import pareto
from rltui.ui.models.trial_query import parse
from rltui.ui.textual import internals
from rltui.ui.widgets.pareto_chart import ParetoChart
from rltui.ui.widgets.trial_table import TrialTable
from rltui.ui.widgets.trials_pane import TrialsPane

from .conftest import SMOKE, fixed_clock, two_objective_study, wait_for

# Ranks on hand data ------------------------------------------------------------------------


def test_two_objectives_both_maximised() -> None:
    points = [(1, 5), (2, 4), (3, 3), (1, 1), (2, 2), (0, 0), (3, 5)]
    # (3, 5) dominates everything else; then (1,5) (2,4) (3,3) are not dominated by each other.
    assert pareto.domination_ranks(points, [True, True]) == [2, 2, 2, 4, 3, 5, 1]


def test_mixed_directions_reward_up_time_down() -> None:
    # (reward, seconds): more reward and less time are better.
    points = [(100, 10), (200, 20), (150, 30), (200, 10), (50, 5)]
    ranks = pareto.domination_ranks(points, [True, False])
    assert ranks == [2, 2, 3, 1, 1]


def test_ties_share_a_rank_and_equal_points_do_not_dominate_each_other() -> None:
    points = [(1, 1), (1, 1), (1, 2), (2, 1), (0, 3)]
    ranks = pareto.domination_ranks(points, [False, False])
    assert ranks == [1, 1, 2, 2, 1]
    # Equal in one objective, better in the other: dominated.
    assert pareto.domination_ranks([(1, 1), (1, 0)], [False, False]) == [2, 1]


def test_three_objectives_match_a_brute_force_ranking() -> None:
    rng = random.Random(3)
    points = [tuple(rng.randint(0, 4) for _ in range(3)) for _ in range(120)]
    maximize = [True, False, True]
    ranks = pareto.domination_ranks(points, maximize)
    signs = [-1 if m else 1 for m in maximize]
    costs = [tuple(s * v for s, v in zip(signs, p, strict=True)) for p in points]
    left, rank, expected = set(range(len(points))), 1, [0] * len(points)
    while left:
        front = {i for i in left if not any(_beats(costs[j], costs[i]) for j in left)}
        for i in front:
            expected[i] = rank
        left -= front
        rank += 1
    assert ranks == expected


def test_two_objectives_sweep_matches_the_general_sort_with_ties() -> None:
    rng = random.Random(7)
    for _ in range(30):
        points = [(rng.randint(0, 5), rng.randint(0, 5)) for _ in range(60)]
        maximize = [rng.random() < 0.5, rng.random() < 0.5]
        three = [(*p, 0) for p in points]  # a constant third objective changes nothing
        assert pareto.domination_ranks(points, maximize) == pareto.domination_ranks(
            three, [*maximize, True]
        )


def _beats(a: tuple[int, ...], b: tuple[int, ...]) -> bool:
    return all(x <= y for x, y in zip(a, b, strict=True)) and a != b


# 10,000 trials ---------------------------------------------------------------------------


def _snapshot(values: list[tuple[float, ...]], directions: list[str]) -> Snapshot:
    from tests.ui.test_trials_pane import trial

    rows = {}
    for number, vals in enumerate(values):
        row = trial(number, TrialStatus.COMPLETE, vals[0])
        rows[number] = row.__class__(**{**row.__dict__, "values": vals})
    dirs = tuple(optuna.study.StudyDirection[d] for d in directions)
    return Snapshot(
        "pareto", dirs[0], rows, frozenset(rows), [], 1, False, directions=dirs,
        objective_names=("reward", "wall_time")[: len(dirs)] if len(dirs) == 2 else (),
    )  # fmt: skip


def test_ten_thousand_trials_rank_and_chart_in_one_go() -> None:
    rng = random.Random(0)
    values = [(rng.uniform(0, 500), rng.uniform(1, 100)) for _ in range(10_000)]
    snap = _snapshot(values, ["MAXIMIZE", "MINIMIZE"])
    ranks = snap.ranks
    assert len(ranks) == 10_000
    front = [n for n, r in ranks.items() if r == 1]
    costs = [(-r, t) for r, t in values]
    # Nothing dominates a front trial; every other trial is dominated by a front trial.
    for n in front:
        assert not any(_beats(costs[m], costs[n]) for m in range(10_000))
    for n in range(10_000):
        if ranks[n] > 1:
            assert any(_beats(costs[m], costs[n]) for m in front)
    data = pareto.pareto(snap, 60)
    assert data is not None
    assert sorted(data.front_numbers) == sorted(front)
    assert [p[0] for p in data.front] == sorted(p[0] for p in data.front)  # joined in order
    assert len(data.dominated) <= 61 * 25  # one per cell of a 60-wide chart at most
    assert data.title == f"Pareto front: {len(front)} of 10000"
    assert (data.x_label, data.y_label) == ("reward (max)", "wall_time (min)")


def test_single_objective_studies_have_no_ranks_and_no_chart() -> None:
    snap = _snapshot([(1.0,), (2.0,)], ["MAXIMIZE"])
    assert snap.ranks == {} and not snap.multi_objective
    assert pareto.pareto(snap, 60) is None
    assert summarize(snap.rows, True).ranks == {}


def test_more_than_two_objectives_show_the_first_two_and_say_so() -> None:
    snap = _snapshot([(1.0, 2.0, 3.0), (2.0, 1.0, 0.0), (0.0, 0.0, 0.0)], ["MAXIMIZE"] * 3)
    data = pareto.pareto(snap, 60)
    assert data is not None and data.note == "3 objectives: showing first two"
    assert data.x_label == "value 1 (max)"
    assert sorted(data.front_numbers) == [0, 1]


def test_changed_ranks_names_the_trials_that_moved() -> None:
    assert pareto.changed_ranks({1: 1, 2: 1}, {1: 1, 2: 2, 3: 1}) == {2, 3}
    same = {1: 1}
    assert pareto.changed_ranks(same, same) == set()


def test_the_filter_line_knows_the_objectives_by_name() -> None:
    snap = _snapshot([(100.0, 10.0), (200.0, 50.0)], ["MAXIMIZE", "MINIMIZE"])
    query = parse("wall_time<20", ["learning_rate"], ["reward", "wall_time"])
    assert [n for n, row in snap.rows.items() if query.matches(row)] == [0]
    query = parse("reward>150", ["learning_rate"], ["reward", "wall_time"])
    assert [n for n, row in snap.rows.items() if query.matches(row)] == [1]


# The chart -------------------------------------------------------------------------------


def _drawn(data: pareto.ParetoData | None, width: int = 60, height: int = 12) -> str:
    plt = Plot()
    plt.clear_figure()
    plt.theme("clear")
    internals.size_plot(plt, width, height)
    assert ParetoChart().draw(plt, data, width)
    return str(plt.build())


def test_the_chart_marks_the_front_and_names_the_axes_with_their_directions() -> None:
    snap = _snapshot([(100.0, 10.0), (200.0, 50.0), (50.0, 60.0)], ["MAXIMIZE", "MINIMIZE"])
    data = pareto.pareto(snap, 60)
    text = _drawn(data)
    assert "Pareto front: 2 of 3" in text
    assert "reward (max)" in text and "wall_time (min)" in text
    assert "*" in text and "·" in text


def test_the_chart_draws_one_point_and_at_80_columns() -> None:
    snap = _snapshot([(100.0, 10.0)], ["MAXIMIZE", "MINIMIZE"])
    assert "Pareto front: 1 of 1" in _drawn(pareto.pareto(snap, 38), width=38, height=10)


def test_the_chart_says_why_it_is_empty() -> None:
    chart = ParetoChart()
    assert not chart.draw(Plot(), None, 60)
    assert chart.empty_for(None) == "Pareto front: the study has one objective"


# The trial table on a real multi-objective study -----------------------------------------


@pytest.fixture
def multi(multi_path: Path) -> Snapshot:
    """The snapshot of :func:`multi_path`'s study."""
    ostudy, _url = open_study(load_study(multi_path, check_env=False))
    return StudyReader(ostudy).poll()


@pytest.fixture
def multi_path(tmp_path: Path) -> Path:
    """A journal study with objectives [reward, wall_time] and trials in several states."""
    path = tmp_path / "smoke.yaml"
    shutil.copy(SMOKE, path)
    # number: (state, reward, seconds); #0 is the file's enqueued trial, WAITING.
    return two_objective_study(
        path,
        [
            (TrialState.COMPLETE, 150.0, 60.0),  # 1: front
            (TrialState.COMPLETE, 100.0, 90.0),  # 2: rank 2 (dominated by 1)
            (TrialState.COMPLETE, 190.0, 300.0),  # 3: front
            (TrialState.COMPLETE, 90.0, 30.0),  # 4: front
            (TrialState.RUNNING, None, None),  # 5
            (TrialState.COMPLETE, 80.0, 100.0),  # 6: rank 3 (behind 2)
        ],
    )


def test_the_reader_gives_every_value_the_directions_and_the_names(multi: Snapshot) -> None:
    assert [d.name for d in multi.directions] == ["MAXIMIZE", "MINIMIZE"]
    assert multi.objective_names == ("reward", "wall_time")
    assert multi.rows[3].values == (190.0, 300.0) and multi.rows[3].value == 190.0
    assert multi.ranks == {1: 1, 2: 2, 3: 1, 4: 1, 6: 3}
    assert [r.number for r in multi.front] == [1, 3, 4]
    assert multi.best is not None and multi.best.number == 3  # by the first objective
    assert multi.named_values(multi.rows[4]) == {"reward": 90.0, "wall_time": 30.0}


class TableApp(App[None]):
    def __init__(self, snap: Snapshot) -> None:
        super().__init__()
        self.snap = snap

    def compose(self) -> ComposeResult:
        yield TrialsPane(clock=fixed_clock, id="trials")
        yield ParetoChart(id="pareto")

    def on_mount(self) -> None:
        # As the screen would hand it over: the study file says "maximize" for a single
        # direction only, so the table reads the directions from the snapshot.
        self.query_one(TrialsPane).apply(self.snap, self.current_theme, False)
        self.query_one(ParetoChart).set_data(pareto.pareto(self.snap, 60))


def _header(table: TrialTable) -> str:
    return "".join(segment.text for segment in table.render_line(0))


async def _opened(app: TableApp, pilot: Any) -> TrialTable:
    table = app.query_one(TrialsPane).table
    while table.row_count < len(app.snap.rows):
        await pilot.pause(0.02)
    await pilot.pause()
    return table


@pytest.mark.slow
async def test_the_table_shows_each_objective_and_sorts_by_rank(multi: Snapshot) -> None:
    app = TableApp(multi)
    async with app.run_test(size=(120, 40)) as pilot:
        table = await _opened(app, pilot)
        header = _header(table)
        assert header.split()[:6] == ["#", "state", "reward", "wall_time", "rank", "★"]
        assert table.sort_column == "rank" and not table.sort_reverse
        numbers = [int(str(row.key.value)) for row in table.ordered_rows]
        # The front by number, then rank 2, rank 3, then the trials without a rank.
        assert numbers == [1, 3, 4, 2, 6, 0, 5]
        assert "★" in table.get_row("1")[5].plain and table.get_row("2")[5] == ""
        assert table.get_row("2")[4] == "2" and table.get_row("5")[4] == "–"
        assert table.column_label("value:1") == "wall_time"
        # An objective's column sorts best first by its own direction.
        table.sort_by("value:1")
        numbers = [int(str(row.key.value)) for row in table.ordered_rows]
        assert numbers[:5] == [4, 1, 2, 6, 3] and not table.sort_reverse
        table.sort_by("value")
        numbers = [int(str(row.key.value)) for row in table.ordered_rows]
        assert numbers[:5] == [3, 1, 2, 4, 6] and table.sort_reverse
        # The chart beside it draws on its thread.
        chart = app.query_one(ParetoChart)
        await wait_for(pilot, lambda: not chart._dirty and "front: 3" in chart._text.plain)
        assert "Pareto front: 3 of 5" in chart._text.plain


@pytest.mark.slow
async def test_the_window_opens_a_multi_objective_study_in_every_tab(multi_path: Path) -> None:
    from rltui.ui.app import RltuiApp
    from rltui.ui.widgets.charts_pane import ChartsPane

    app = RltuiApp(multi_path, clock=fixed_clock, poll_interval=0.1)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: app.main_screen and app.main_screen.snapshot is not None)
        table = app.main_screen.query_one(TrialTable)
        await wait_for(pilot, lambda: table.row_count == 7)
        assert table.column_keys[:5] == ["number", "state", "value", "value:1", "rank"]
        assert table.sort_column == "rank"
        await pilot.press("3")
        pane = app.main_screen.query_one(ChartsPane)
        await wait_for(pilot, lambda: pane.has_focus)
        from rltui.ui.models import views

        seen = []
        for _ in range(len(views.VIEWS)):
            await pilot.press("v")
            await pilot.pause(0.2)
            seen.append(pane.view)
        # Several objectives: the Pareto front is in the round, and draws its front.
        assert "Pareto front" in seen
        while pane.view != "Pareto front":
            await pilot.press("v")
        chart = pane.view_chart
        await wait_for(pilot, lambda: not chart._dirty and "*" in chart._text.plain)
        await pilot.press("1")
        await pilot.pause(0.2)


def test_the_history_and_the_curves_name_no_single_best_with_several_objectives(
    multi_path: Path,
) -> None:
    from rltui.search.reader import StudyReader
    from rltui.search.study import open_study
    from rltui.spec import load_study
    from rltui.ui.models.chart_data import curves, history

    ostudy, _ = open_study(load_study(multi_path, check_env=False))
    snapshot = StudyReader(ostudy).poll()
    assert history(snapshot)[2] == "history · reward, 1st of 2"
    top = curves(snapshot, 1, None)
    assert top.best is None and top.title == "reward: top 5 by reward"


@pytest.mark.slow
def test_pareto_front_snapshot(snap_compare, multi_path, monkeypatch, tmp_path, no_gpu) -> None:
    from rltui.ui.app import RltuiApp
    from rltui.ui.models import views

    from .test_snapshots import BIG, before

    empty = tmp_path / "cwd"  # the explorer lists the working folder: an empty one
    empty.mkdir()
    monkeypatch.chdir(empty)
    monkeypatch.setenv("HOME", str(empty))
    app = RltuiApp(multi_path, theme="rltui-dark", clock=fixed_clock, poll_interval=0.1)
    presses = ("v",) * views.VIEWS.index("Pareto front")
    assert snap_compare(app, terminal_size=BIG, run_before=before("3", *presses, charts=True))


@pytest.mark.slow
async def test_the_comparison_names_the_fronts_best_not_a_single_best(multi_path: Path) -> None:
    from rltui.ui.app import RltuiApp

    app = RltuiApp(multi_path, clock=fixed_clock, poll_interval=0.1)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: app.main_screen and app.main_screen.snapshot is not None)
        await pilot.press("4")
        screen = app.main_screen
        best = screen.snapshot.best
        assert best is not None and best.number == 3  # the front's highest reward
        roles = dict(screen.compare_pane.target().trials)
        assert roles[3] == "front, best reward" and "best" not in roles.values()
