"""The Charts tab's bottom-right views (``v``): each view's data from hand-built snapshots,
every view drawn on a scripted study, and a snapshot of the parallel coordinates."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from optuna.study import StudyDirection

from rltui.search.lifecycle import TrialStatus
from rltui.search.reader import Snapshot, TrialRow
from rltui.spec import load_study
from rltui.ui.models import views
from rltui.ui.models.chart_data import PALETTE
from rltui.ui.models.space_views import DESCRIPTIONS
from rltui.ui.textual import internals
from rltui.ui.widgets.charts_pane import ChartsPane

from .conftest import NOW, SMOKE, T0, trial_row
from .test_snapshots import BIG, SMALL, before, snap_app  # noqa: F401  (snap_app: a fixture)

S = TrialStatus
PARAMS = {"learning_rate": 1e-3, "gamma": 0.95, "ent_coef": 0.0}


def row(
    number: int,
    status: TrialStatus,
    value: float | None = None,
    *,
    start: float = 0.0,
    minutes: float = 5.0,
    worker: str | None = "w1",
    earlier: float = 0.0,
    **params: Any,
) -> TrialRow:
    """A trial started ``start`` minutes after T0, finished ``minutes`` later if finished."""
    started = T0 + timedelta(minutes=start)
    return trial_row(
        number,
        status,
        value,
        params={**PARAMS, **params},
        started=started,
        completed=started + timedelta(minutes=minutes) if status.is_finished else None,
        worker=worker,
        earlier=earlier,
    )


def snapshot(*rows: TrialRow, maximize: bool = True) -> Snapshot:
    direction = StudyDirection.MAXIMIZE if maximize else StudyDirection.MINIMIZE
    return Snapshot("s", direction, {r.number: r for r in rows}, frozenset(), [], 1, False)


def many(n: int) -> Snapshot:
    """``n`` COMPLETE trials on 3 workers, values zigzagging, the best one in the middle."""
    rows = [
        row(
            i,
            S.COMPLETE,
            float((i * 7919) % 1000) if i != n // 2 else 5000.0,
            start=i * 0.5,
            minutes=1.0,
            worker=f"w{i % 3}",
            learning_rate=10 ** (-4 + 2 * (i % 100) / 99),
        )
        for i in range(n)
    ]
    return snapshot(*rows)


SPACE = load_study(SMOKE, check_env=False).space


# Parallel coordinates ------------------------------------------------------------------------


def test_axes_place_log_numeric_and_categorical_values_between_0_and_1() -> None:
    axes = {axis.name: axis for axis in views.axes_of(snapshot(), SPACE)}
    lr, gamma, ent = axes["learning_rate"], axes["gamma"], axes["ent_coef"]
    assert lr.log and not gamma.log and ent.choices == ("0.0", "0.01")
    assert lr.position(1e-4) == 0.0 and lr.position(1e-2) == 1.0
    assert lr.position(1e-3) == pytest.approx(0.5)  # the middle of a log axis
    assert gamma.position(0.9) == 0.0 and gamma.position(0.999) == pytest.approx(1.0)
    assert gamma.position(2.0) == 1.0  # outside a space edited since: at the edge
    assert (ent.position(0.0), ent.position(0.01), ent.position("other")) == (0.0, 1.0, None)


def test_axes_without_a_space_span_the_trials_values() -> None:
    rows = (row(0, S.COMPLETE, 1.0, gamma=0.9), row(1, S.COMPLETE, 2.0, gamma=0.99, arch="big"))
    axes = {axis.name: axis for axis in views.axes_of(snapshot(*rows), None)}
    assert (axes["gamma"].low, axes["gamma"].high) == (0.9, 0.99)
    assert axes["arch"].choices == ("big",)  # categorical: by the values' text


def test_parallel_draws_complete_trials_in_bands_best_last_and_pruned_dim() -> None:
    rows = [
        row(i, S.COMPLETE, float(v), learning_rate=lr)
        for i, (v, lr) in enumerate([(0, 1e-4), (25, 1e-3), (50, 1e-3), (75, 1e-2), (100, 1e-2)])
    ]
    rows += [row(5, S.PRUNED, 10.0), row(6, S.FAIL), row(7, S.RUNNING)]
    data = views.parallel(snapshot(*rows), SPACE, 60)
    assert data.axes == ("value", "learning_rate (log)", "gamma", "ent_coef")
    assert [line.number for line in data.lines if line.pruned] == [5]
    assert data.lines[0].pruned  # drawn first, under the others
    complete = [line for line in data.lines if not line.pruned]
    assert sorted(line.number for line in complete) == [0, 1, 2, 3, 4]
    assert complete[-1].number == 4 and complete[-1].best  # on top, highlighted
    assert complete[-1].colour == views.BEST_COLOUR
    by_number = {line.number: line for line in complete}
    assert by_number[0].ys[:2] == (0.0, 0.0) and by_number[3].ys[:2] == (0.75, 1.0)
    bands = {line.colour for line in complete if not line.best}
    assert len(bands) == 4 and bands <= set(views.BANDS)  # 0, 25, 50, 75: a band each
    assert len(views.BANDS) <= 5 and set(views.BANDS) <= set(PALETTE)
    # The best in the text's colour, the pruned grey: both read on dark and light themes.
    assert views.BEST_COLOUR == "default" and data.lines[0].colour == "gray"
    assert by_number[0].colour == views.BANDS[0]  # the worst band for the lowest value


def test_parallel_bands_follow_the_direction() -> None:
    rows = [row(i, S.COMPLETE, float(v)) for i, v in enumerate([0, 100, 50])]
    data = views.parallel(snapshot(*rows, maximize=False), SPACE, 60)
    by_number = {line.number: line for line in data.lines}
    assert by_number[0].best and by_number[1].colour == views.BANDS[0]


def test_parallel_on_10000_trials_draws_about_the_width_and_keeps_the_best() -> None:
    data = views.parallel(many(10_000), SPACE, 60)
    assert 10 <= len(data.lines) <= 62
    assert data.lines[-1].best and data.lines[-1].number == 5000
    assert data.title.endswith(f"({len(data.lines)}/10000)")


def test_a_brush_keeps_the_trials_inside_its_range_on_its_axis() -> None:
    from rltui.ui.models.brush import Brush

    rows = [
        row(i, S.COMPLETE, float(v), learning_rate=lr)
        for i, (v, lr) in enumerate([(0, 1e-4), (25, 1e-3), (50, 1e-3), (75, 1e-2), (100, 1e-2)])
    ]
    rows.append(row(5, S.PRUNED, 90.0, learning_rate=1e-2))
    snap = snapshot(*rows)
    top = views.parallel(snap, SPACE, 60, Brush(axis=0, band=1))  # value, top half
    assert sorted(line.number for line in top.lines) == [2, 3, 4, 5]
    assert top.title == "value top half: 3/5"  # complete trials kept, of all
    small_lr = views.parallel(snap, SPACE, 60, Brush(axis=1, band=2))  # lr, bottom half
    assert sorted(line.number for line in small_lr.lines) == [0, 1, 2]
    assert not any(line.best for line in small_lr.lines)  # the best (#4) is not in it
    assert views.parallel(snap, SPACE, 60, Brush(axis=1, band=0)) == views.parallel(
        snap, SPACE, 60
    )  # the range "all": no brush


@pytest.mark.slow
async def test_a_and_b_brush_the_parallel_coordinates(make_app, wait) -> None:
    app = make_app()
    async with app.run_test(size=BIG) as pilot:
        await wait(pilot, lambda: app.main_screen and app.main_screen.snapshot is not None)
        await pilot.press("3", "a", "b")
        pane = app.main_screen.query_one(ChartsPane)
        said = [n.message for n in internals.notifications(app)][-1]
        name = views.axes_of(pane.snapshot, pane.space)[0].name
        assert said == f"parallel: only trials with {name} in its top half (b: next range)"
        chart = pane.view_chart
        assert pane.view == "parallel coordinates"
        await wait(pilot, lambda: built(chart) and chart.data.title.startswith(f"{name} top"))


def test_parallel_without_complete_trials_is_empty() -> None:
    data = views.parallel(snapshot(row(0, S.RUNNING), row(1, S.PRUNED, 3.0)), SPACE, 60)
    assert data.lines == ()


# EDF -----------------------------------------------------------------------------------------


def test_edf_is_the_fraction_of_values_at_most_x_at_evenly_spread_points() -> None:
    values = [3.0, 1.0, 2.0, 2.0, 10.0]
    rows = [row(i, S.COMPLETE, v) for i, v in enumerate(values)]
    rows += [row(9, S.PRUNED, 0.0), row(10, S.COMPLETE, math.nan)]
    data = views.edf(snapshot(*rows), 10)
    assert data.title == "EDF of 5 values"
    xs = [1.0 + i * 1.0 for i in range(10)]  # Optuna: linspace(min, max, points)
    for x in xs:  # the step line's last point at or before x: Optuna's fraction at x
        y = [p[1] for p in data.points if p[0] <= x + 1e-9][-1]
        assert y == sum(v <= x for v in values) / len(values)
    assert data.points[0] == (1.0, 0.2) and data.points[-1] == (10.0, 1.0)
    ys = [p[1] for p in data.points]
    assert ys == sorted(ys)  # a distribution never falls
    steps = list(zip(data.points, data.points[1:], strict=False))
    assert all(a[0] == b[0] or a[1] == b[1] for a, b in steps)  # a step line: no slopes


def test_edf_of_one_value_and_of_none() -> None:
    assert views.edf(snapshot(row(0, S.COMPLETE, 4.0)), 40).points == ((4.0, 0.0), (4.0, 1.0))
    assert views.edf(snapshot(row(0, S.RUNNING)), 40).points == ()


# Rank ----------------------------------------------------------------------------------------


def test_rank_is_1_for_the_best_and_ties_share_a_rank() -> None:
    rows = [row(i, S.COMPLETE, v) for i, v in enumerate([5.0, 9.0, 5.0, 1.0])]
    rows.append(row(4, S.PRUNED, 100.0))
    assert views.rank(snapshot(*rows), 60).points == ((0, 2), (1, 1), (2, 2), (3, 4))
    minimize = views.rank(snapshot(*rows, maximize=False), 60)
    assert minimize.points == ((0, 2), (1, 4), (2, 2), (3, 1))
    assert minimize.total == 4


def test_rank_on_10000_trials_keeps_about_twice_the_width_and_the_best() -> None:
    data = views.rank(many(10_000), 60)
    assert len(data.points) <= 122 and (5000, 1) in data.points
    assert data.total == 10_000


# Timeline ------------------------------------------------------------------------------------


def test_timeline_puts_each_worker_on_a_row_and_marks_each_state() -> None:
    rows = (
        row(0, S.COMPLETE, 1.0, start=0, minutes=10, worker="w1"),
        row(1, S.PRUNED, 1.0, start=10, minutes=10, worker="w1"),
        row(2, S.FAIL, start=0, minutes=10, worker="w2"),
        row(3, S.RUNNING, start=20, worker="w2"),
        row(4, S.PAUSED, start=30, worker=None, earlier=600.0),
        replace(row(5, S.WAITING, worker=None), started=None),  # not started yet
    )
    data = views.timeline(snapshot(*rows), T0 + timedelta(minutes=40), 50)
    assert data.workers == (views.NO_WORKER, "w1", "w2") and data.unit == "min"
    cells = {status: points for status, points in data.cells}
    assert set(cells) == {S.COMPLETE, S.PRUNED, S.FAIL, S.RUNNING, S.PAUSED}
    row_of = {status: {y for _, y in points} for status, points in cells.items()}
    assert row_of[S.COMPLETE] == row_of[S.PRUNED] == {1}
    assert row_of[S.FAIL] == row_of[S.RUNNING] == {2} and row_of[S.PAUSED] == {0}
    span = {status: (min(x for x, _ in p), max(x for x, _ in p)) for status, p in cells.items()}
    assert span[S.COMPLETE][1] < 10.5 and span[S.PRUNED][0] > 9.5
    assert span[S.RUNNING][0] > 19 and span[S.RUNNING][1] > 39  # runs until now
    assert span[S.PAUSED][0] > 29 and span[S.PAUSED][1] < 41  # its 10 minutes of training
    assert all(len(points) <= 50 for points in cells.values())  # about the width per row


def test_timeline_keeps_the_latest_workers_and_says_how_many() -> None:
    rows = [row(i, S.COMPLETE, 1.0, start=i, worker=f"host-{i:02}") for i in range(12)]
    data = views.timeline(snapshot(*rows), NOW, 40)
    assert data.workers == tuple(f"host-{i:02}" for i in range(4, 12))
    assert data.title == "timeline (min, 8/12 workers)"


def test_timeline_on_10000_trials_fills_at_most_the_bins() -> None:
    data = views.timeline(many(10_000), NOW, 60)
    assert sum(len(points) for _, points in data.cells) <= 3 * 50
    assert data.unit == "h" and data.workers == ("w0", "w1", "w2")


# The pane ------------------------------------------------------------------------------------


def built(chart: Any) -> bool:
    return chart.data is not None and not chart._dirty and chart._text.plain != chart.empty_message


@pytest.mark.slow
async def test_v_cycles_the_views_each_drawn_and_announced(make_app, wait) -> None:
    app = make_app()
    async with app.run_test(size=BIG) as pilot:
        await wait(pilot, lambda: app.main_screen and app.main_screen.snapshot is not None)
        await pilot.press("3")
        pane = app.main_screen.query_one(ChartsPane)
        await wait(pilot, lambda: pane.has_focus)
        assert pane.view == "importance"
        await wait(pilot, lambda: pane.view_chart.data is not None)
        assert "rough: 2 trials" in pane.view_chart.data.title
        # The title each view's chart shows (the slices' is the parameters' names).
        titles = {
            "parallel coordinates": "parallel coords",
            "contour": "learning_rate (log) × gamma",
            "slices": "gamma",
            "EDF": "EDF of 2 values",
            "rank": "rank (1 = best)",
            "timeline": "timeline (min)",
        }
        for name, title in titles.items():
            await pilot.press("v")
            chart = pane.view_chart
            assert pane.view == name and chart.display
            await wait(pilot, lambda chart=chart: built(chart))
            assert title in chart._text.plain
            said = [n.message for n in internals.notifications(app)][-1]
            assert said == f"view: {DESCRIPTIONS.get(name) or views.describe(name)}"
        # One objective: the Pareto front is left out of the round.
        await pilot.press("v")
        assert pane.view == "importance" and pane.view_chart.display
        timeline = dict(pane.query_one("#view-timeline").data.cells)
        assert TrialStatus.RUNNING in timeline and TrialStatus.FAIL in timeline


# Each bottom-right view but importance (the Charts tab's own snapshot shows it), by the
# presses of v that bring it, at 120x40 in the dark theme and 80x24 in 16 colours.
VIEW_PRESSES = {name: index for index, name in enumerate(views.VIEWS) if index}
del VIEW_PRESSES["Pareto front"]  # one objective here: tests/ui/test_pareto.py has it


@pytest.mark.slow
@pytest.mark.parametrize("view", list(VIEW_PRESSES))
@pytest.mark.parametrize(
    ("size", "theme"), [(BIG, "rltui-dark"), (SMALL, "rltui-ansi")], ids=["120x40", "80x24"]
)
def test_view_snapshot(snap_compare, snap_app, view, size, theme) -> None:  # noqa: F811
    presses = ("v",) * VIEW_PRESSES[view]
    assert snap_compare(
        snap_app(theme), terminal_size=size, run_before=before("3", *presses, charts=True)
    )


def test_empty_reward_curves_say_which_trials_they_wait_for():
    # Running trials report while the top trials by value (complete ones) have no curve yet.
    from rltui.ui.models.chart_data import CurveSet
    from rltui.ui.widgets.charts import RewardCurves

    text = RewardCurves().empty_for(CurveSet("reward: top 5", ()))
    assert text == "reward: top 5: none has evaluations yet (c: other trials)"


@pytest.mark.slow
async def test_n_and_y_pick_the_contours_parameters(make_app, wait) -> None:
    app = make_app()
    async with app.run_test(size=BIG) as pilot:
        await wait(pilot, lambda: app.main_screen and app.main_screen.snapshot is not None)
        await pilot.press("3", "v", "v")
        pane = app.main_screen.query_one(ChartsPane)
        await wait(pilot, lambda: pane.view == "contour" and built(pane.view_chart))
        names = [a.name for a in views.axes_of(pane.snapshot, pane.space)]
        await pilot.press("y")
        said = [n.message for n in internals.notifications(app)][-1]
        assert said == f"contour: x {names[0]}, y {names[2 % len(names)]}"
        chart = pane.view_chart
        await wait(pilot, lambda: chart.data.y_name == names[2 % len(names)] and built(chart))
        await pilot.press("n")
        said = [n.message for n in internals.notifications(app)][-1]
        assert said.startswith(f"contour: x {names[1]}, ")
