"""Comparing trials: marks in the table, logged columns side by side, the column picker."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from rltui.search.folders import progress_log
from rltui.search.storage import StudyHome
from rltui.ui.models import metrics
from rltui.ui.screens.column_picker import ColumnPicker
from rltui.ui.textual.internals import notifications
from rltui.ui.widgets.charts import PALETTE, MetricChart
from rltui.ui.widgets.compare_view import CompareView, grid_shape, legend

PPO_COLUMNS = ["eval_mean_reward", "total_loss", "policy_loss", "value_loss"]


def write_log(folder: Path, number: int, scale: float, dqn: bool = False) -> None:
    """A PPO-like training log (a DQN-like one: one loss and the exploration rate)."""
    path = folder / f"trial-{number}" / "progress.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    if dqn:
        losses = [
            {"timesteps": step, "train/loss": scale / step, "rollout/exploration_rate": 1 / step}
            for step in (256, 512, 768)
        ]
    else:
        losses = [
            {
                "timesteps": step,
                "train/loss": scale / step,
                "train/policy_gradient_loss": -scale / (2 * step),
                "train/value_loss": scale * 2 / step,
                "train/approx_kl": scale / 1000,
                "time/fps": 900,
            }
            for step in (256, 512, 768)
        ]
    evaluations = [
        {"timesteps": step, "eval/mean_reward": 100.0 * scale * step / 768}
        for step in (256, 512, 768)
    ]
    lines = [*losses, *evaluations]
    path.write_text("\n".join(json.dumps(x) for x in lines) + '\n{"torn', encoding="utf-8")


def trials_dir(scripted: Any) -> Path:
    return StudyHome.beside(scripted.path).trials


# Reading and choosing columns ----------------------------------------------------------


def test_columns_put_familiar_ones_first_and_cache_by_stat(tmp_path):
    write_log(tmp_path, 1, 1.0)
    cache = metrics.LogCache()
    logs = metrics.load(tmp_path, [1, 2], cache)
    assert list(logs) == [1]
    assert metrics.columns(logs) == [*PPO_COLUMNS, "approx_kl", "time_fps"]
    assert cache.rows(progress_log(tmp_path, 1)) is logs[1]  # unchanged file: cached


def test_default_columns_fall_back_to_what_the_logs_hold():
    ppo = [*PPO_COLUMNS, "episode_reward_mean", "approx_kl", "time_fps", "wall_time"]
    assert metrics.default_columns(ppo) == PPO_COLUMNS
    dqn = ["eval_mean_reward", "total_loss", "rollout_ep_len_mean", "time_fps"]
    dqn += ["rollout_exploration_rate", "train_n_updates", "wall_time"]
    assert metrics.default_columns(dqn) == [
        "eval_mean_reward",
        "total_loss",
        "rollout_exploration_rate",
        "rollout_ep_len_mean",
    ]
    assert metrics.default_columns(["time_fps", "wall_time"]) == []


def test_target_is_the_marked_trials_or_the_selected_one_and_the_best():
    assert metrics.target({6, 1}, 3, 6).trials == ((1, "marked"), (6, "marked"))
    many = metrics.target(range(10), None, None)
    assert many.numbers == tuple(range(metrics.MAX_TRIALS)) and many.left_out == 4
    assert metrics.target(set(), 4, 6).trials == ((4, "selected"), (6, "best"))
    assert metrics.target(set(), 6, 6).trials == ((6, "best"),)
    assert metrics.target(set(), None, None).trials == ()


def test_a_trial_keeps_its_colour_in_every_chart(tmp_path):
    write_log(tmp_path, 2, 1.0, dqn=True)
    write_log(tmp_path, 5, 2.0)
    wanted = metrics.target({2, 5}, None, None)
    found = metrics.compare(tmp_path, wanted, (), metrics.LogCache())
    assert found.shown == ("eval_mean_reward", "total_loss", "policy_loss", "value_loss")
    colours = {
        number: {colour for chart in found.charts for n, colour, _ in chart.series if n == number}
        for number in (2, 5)
    }
    assert colours == {2: {PALETTE[0]}, 5: {PALETTE[1]}}
    # Trial 2 (DQN-like) has no policy loss: that chart holds trial 5 alone.
    policy = found.charts[2]
    assert [n for n, _, _ in policy.series] == [5]
    chosen = metrics.compare(
        tmp_path, wanted, ("rollout_exploration_rate", "nothing"), metrics.LogCache()
    )
    assert chosen.shown == ("rollout_exploration_rate",)
    assert "rollout_exploration_rate" in chosen.available and "approx_kl" in chosen.available


def test_per_seed_columns_are_named_by_the_seed(tmp_path):
    path = progress_log(tmp_path, 0)
    path.parent.mkdir(parents=True)
    row = {"timesteps": 64, "eval/mean_reward": 2.0, "eval/seed_0": 1.0, "eval/seed_1": 3.0}
    path.write_text(json.dumps({**row, "eval/seed_std": 1.0}) + "\n", encoding="utf-8")
    cache = metrics.LogCache()
    assert set(cache.rows(path)[0]) >= {"eval_seed_0", "eval_seed_1"}
    named = cache.rows(path, (7, 0))[0]
    assert (named["eval_seed_7"], named["eval_seed_0"], named["eval_seed_std"]) == (1.0, 3.0, 1.0)


def test_the_legend_names_each_trial_by_the_parameters_that_set_it_apart():
    params = {
        2: {"learning_rate": 1e-4, "normalize_advantage": True, "gamma": 0.99},
        6: {"learning_rate": 1e-5, "normalize_advantage": True, "gamma": 0.99},
    }
    assert metrics.distinguishing(params) == {
        2: {"learning_rate": 1e-4},
        6: {"learning_rate": 1e-5},
    }
    assert metrics.distinguishing({2: params[2]}) == {2: params[2]}
    assert metrics.distinguishing({2: {"a": 1}, 6: {}}) == {2: {"a": 1}, 6: {}}
    comparison = metrics.Comparison(metrics.target([2, 6], None, None), (), (), ())
    text = legend(comparison, params).plain
    assert "#2 lr=0.0001  " in text and "#6 lr=1e-05  " in text  # the table's short names
    assert "gamma" not in text


def test_grid_shape_puts_charts_side_by_side_first():
    assert [grid_shape(n) for n in range(1, 7)] == [
        (1, 1),
        (2, 1),
        (2, 2),
        (2, 2),
        (3, 2),
        (3, 2),
    ]


# The UI ----------------------------------------------------------------------------------


async def opened(app: Any, pilot: Any, wait: Any) -> Any:
    await wait(pilot, lambda: app.main_screen and app.main_screen.snapshot is not None)
    return app.main_screen


def select(screen: Any, number: int) -> None:
    screen.table.move_cursor(row=screen.table.get_row_index(str(number)), animate=False)


def drawn(view: CompareView) -> dict[str, set[int]]:
    """Column -> trials of each chart on screen, once its text is built."""
    shown = {}
    for chart in view.query(MetricChart):
        data = chart.data
        built = data is not None and data.column and not chart._dirty
        if chart.display and built and data.column in chart._text.plain:
            shown[data.column] = {n for n, _, _ in data.series}
    return shown


@pytest.mark.slow
async def test_space_marks_trials_and_the_compare_tab_charts_them(make_app, wait, scripted):
    for number, scale in ((1, 1.0), (2, 2.0), (6, 3.0)):
        write_log(trials_dir(scripted), number, scale)
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await opened(app, pilot, wait)
        table = screen.table
        assert screen.check_action("clear_marks", ()) is None  # nothing marked: greyed
        select(screen, 1)
        await pilot.press("space")
        assert table.marked == {1}
        assert table.get_cell("1", "best").plain == " ●"
        await pilot.press("space")
        assert table.marked == set() and table.get_cell("1", "best") == ""
        for number in (2, 6):
            select(screen, number)
            await pilot.press("space")
        assert table.marked == {2, 6} and table.get_cell("6", "best").plain == "★●"
        assert screen.check_action("clear_marks", ())
        await pilot.press("4")
        view = screen.compare_pane.view
        await wait(pilot, lambda: len(drawn(view)) == 4)
        assert drawn(view) == {column: {2, 6} for column in PPO_COLUMNS}
        legend = str(view.query_one("#compare-legend").render())
        assert "#2" in legend and "#6" in legend
        # A third mark joins every chart.
        await pilot.press("1")
        select(screen, 1)
        await pilot.press("space", "4")
        await wait(pilot, lambda: drawn(view).get("total_loss") == {1, 2, 6})
        await pilot.press("u")
        assert table.marked == set() and table.get_cell("2", "best") == ""


@pytest.mark.slow
async def test_without_marks_the_selected_trial_is_compared_with_the_best(make_app, wait, scripted):
    for number, scale in ((4, 1.0), (6, 3.0)):
        write_log(trials_dir(scripted), number, scale)
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await opened(app, pilot, wait)
        select(screen, 4)
        await pilot.press("4")
        view = screen.compare_pane.view
        await wait(pilot, lambda: drawn(view).get("eval_mean_reward") == {4, 6})
        legend = str(view.query_one("#compare-legend").render())
        assert (
            "#4 gamma=0.98,lr=0.005 selected" in legend and "#6 gamma=0.99,lr=0.003 best" in legend
        )


@pytest.mark.slow
async def test_m_picks_the_columns_shown(make_app, wait, scripted):
    write_log(trials_dir(scripted), 6, 1.0)
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await opened(app, pilot, wait)
        select(screen, 6)
        await pilot.press("4", "m")  # the Compare tab, then its column picker
        await wait(pilot, lambda: isinstance(app.screen, ColumnPicker))
        picker = app.screen
        assert picker.available == (*PPO_COLUMNS, "approx_kl", "time_fps")
        assert picker.ticked == tuple(PPO_COLUMNS)
        # Untick the reward and the three losses but the value loss, tick approx_kl.
        await pilot.press("space", "down", "space", "down", "space", "down", "down", "space")
        assert picker.ticked == ("value_loss", "approx_kl")
        await pilot.press("escape")
        view = screen.compare_pane.view
        await wait(pilot, lambda: set(drawn(view)) == {"value_loss", "approx_kl"})
        assert screen.compare_pane.columns == ("value_loss", "approx_kl")
        assert [c.display for c in view.query(MetricChart)][:3] == [True, True, False]
        assert app.main_screen.query_one("#tabs").active == "compare"
        await pilot.press("m")
        await wait(pilot, lambda: isinstance(app.screen, ColumnPicker))
        await pilot.press("d")  # back to the defaults
        await wait(pilot, lambda: set(drawn(view)) == set(PPO_COLUMNS))
        assert screen.compare_pane.columns == ()


@pytest.mark.slow
async def test_compare_view_without_logs_says_so(make_app, wait):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await opened(app, pilot, wait)
        await pilot.press("4")
        view = screen.compare_pane.view
        chart = view.query_one("#compare-0", MetricChart)
        await wait(pilot, lambda: view.comparison is not None and not chart._dirty)
        await pilot.pause(0.8)
        assert chart._text.plain == MetricChart.empty_message
        await pilot.press("m")
        await wait(
            pilot, lambda: "no training logs" in "".join(str(n.message) for n in notifications(app))
        )
        assert not isinstance(app.screen, ColumnPicker)
