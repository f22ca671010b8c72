"""The reward curves as TensorBoard draws scalars: smoothing, log y, wall time on x, zoom, any
training-log column, the best trial highlighted; and the Charts tab's keys that set them."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from textual_plotext.plot import Plot

from rltui.search.lifecycle import TrialStatus
from rltui.ui.models import chart_data, metrics
from rltui.ui.models.chart_data import CurveSet
from rltui.ui.models.curves import (
    BEST_COLOUR,
    CurveData,
    CurveOptions,
    chart,
    ema,
    metric_columns,
    zoom_range,
)
from rltui.ui.textual import internals
from rltui.ui.widgets.charts import RewardCurves
from rltui.ui.widgets.charts_pane import ChartsPane

from .test_compare import trials_dir, write_log
from .test_views import row, snapshot

S = TrialStatus
START = 1_700_000_000.0  # a trial's first logged row, seconds since the epoch


def trial(number: int, status: TrialStatus, curve: dict[int, float], value: float | None = None):
    return replace(row(number, status, value), curve=tuple(curve.items()))


def flat(points: tuple[tuple[float, float], ...]) -> list[float]:
    return [v for point in points for v in point]


def write_timed_log(
    folder: Path, number: int, steps: list[int], seconds_per_step: float, scale: float = 1.0
) -> None:
    """A training log as the trainer writes it: an SB3 dump and an evaluation at each step,
    every row with its ``wall_time``, the first row at ``START``."""
    lines = []
    for step in steps:
        at = START + (step - steps[0]) * seconds_per_step
        lines.append({"timesteps": step, "wall_time": at, "train/loss": scale / step})
        lines.append({"timesteps": step, "wall_time": at + 1, "eval/mean_reward": float(step)})
    path = folder / f"trial-{number}" / "progress.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")


# Smoothing -----------------------------------------------------------------------------------


def test_ema_is_tensorboards_debiased_average() -> None:
    # By hand, weight 0.5: 5/0.5 = 10; (2.5 + 10)/0.75 = 16.67; (6.25 + 15)/0.875 = 24.29.
    assert ema([10.0, 20.0, 30.0], 0.5) == pytest.approx([10.0, 50 / 3, 170 / 7])
    # Debiased: the first point is the first value at any weight, not dragged towards 0.
    assert ema([100.0, 0.0], 0.99)[0] == pytest.approx(100.0)
    assert ema([100.0, 0.0], 0.99)[1] == pytest.approx(0.99 * 1.0 / (1 - 0.99**2))  # 49.7
    assert ema([1.0, 2.0], 0.0) == [1.0, 2.0]
    assert ema([7.0, 7.0, 7.0], 0.9) == [7.0, 7.0, 7.0]  # a constant stays exactly constant
    smoothed = ema([10.0, math.nan, 30.0], 0.5)  # NaN passes through, outside the average
    assert smoothed[0] == 10.0 and math.isnan(smoothed[1])
    assert smoothed[2] == pytest.approx((2.5 + 15) / 0.75)


def test_options_cycle_and_the_title_says_them() -> None:
    options = CurveOptions()
    weights = []
    for _ in range(4):
        options = options.next_smoothing()
        weights.append(options.smoothing)
    assert weights == [0.6, 0.9, 0.99, 0.0]
    zooms = [(options := options.next_zoom()).zoom for _ in range(4)]
    assert zooms == ["last half", "last quarter", "selected", "all"]
    curves = CurveSet("reward: top 5", (trial(1, S.COMPLETE, {1: 1.0, 2: 3.0}, 3.0),), 1)
    built = chart(CurveData(curves, CurveOptions(smoothing=0.9)), 60)
    assert built.title == "reward · EMA 0.9 · top 5"
    assert built.lines[0].raw == ((1.0, 1.0), (2.0, 3.0))  # the raw curve, dim behind
    assert built.lines[0].points[1][1] == pytest.approx(ema([1.0, 3.0], 0.9)[1])
    assert chart(CurveData(curves), 60).title == "reward: top 5"  # as before: no options


# Log y ---------------------------------------------------------------------------------------


def test_log_y_only_when_every_shown_value_is_positive() -> None:
    positive = trial(1, S.COMPLETE, {256: 5.0, 512: 50.0}, 50.0)
    built = chart(CurveData(CurveSet("reward: top 5", (positive,)), CurveOptions(log_y=True)), 60)
    assert built.log_y and built.title == "reward · log y · top 5"
    negative = trial(2, S.COMPLETE, {256: -20.0, 512: 10.0}, 10.0)
    curves = CurveSet("reward: top 5", (positive, negative))
    built = chart(CurveData(curves, CurveOptions(log_y=True)), 60)
    assert not built.log_y and built.title == "reward · log: values ≤ 0, linear · top 5"
    # Zoomed past the negative value (the nearest point outside stays, as the line's edge):
    zoomed = CurveData(curves, CurveOptions(log_y=True, zoom="last quarter"))
    assert not chart(zoomed, 60).log_y


# Wall time -----------------------------------------------------------------------------------


def test_wall_time_comes_from_the_logged_rows_and_says_which_trials_have_none(tmp_path) -> None:
    # Trial 1 logged an evaluation every 256 steps, a minute apart (plus one second to the
    # evaluation's own row); trial 2 has no log; trial 3 logged a step between two of its
    # evaluations' steps, which falls between their times.
    write_timed_log(tmp_path, 1, [256, 512, 768], 60 / 256)
    write_timed_log(tmp_path, 3, [100, 300], 0.5)
    logs = metrics.load(tmp_path, [1, 2, 3], metrics.LogCache())
    assert sorted(logs) == [1, 3] and logs[1][0]["wall_time"] == START
    one = trial(1, S.COMPLETE, {256: 10.0, 512: 20.0, 768: 30.0, 1024: 40.0}, 40.0)
    two = trial(2, S.COMPLETE, {256: 5.0}, 5.0)
    three = trial(3, S.RUNNING, {200: 7.0})
    curves = CurveSet("reward: top 5", (one, two, three), 1)
    built = chart(CurveData(curves, CurveOptions(wall_time=True), logs), 60)
    assert built.x_label == "wall time (min)"
    assert built.title == "reward · wall time (2/3 timed) · top 5"
    lines = {line.number: line for line in built.lines}
    # Each evaluation at its own row's time; 1024 steps lies past the log: no time, left out.
    assert flat(lines[1].points) == pytest.approx([1 / 60, 10, 61 / 60, 20, 121 / 60, 30])
    assert flat(lines[3].points) == pytest.approx([50.5 / 60, 7.0])  # halfway from 1 s to 100 s
    assert set(lines) == {1, 3}

    untimed = CurveData(CurveSet("reward: top 5", (two,)), CurveOptions(wall_time=True), logs)
    built = chart(untimed, 60)
    assert built.lines == ()
    assert built.empty.startswith("reward: top 5: none of these trials logged times")
    # Before the logs are read, the chart says so rather than "no times".
    assert "reading the training logs" in chart(replace(untimed, logs=None), 60).empty


def test_wall_time_of_a_long_trial_is_in_hours_and_of_a_log_column_too(tmp_path) -> None:
    write_timed_log(tmp_path, 1, [1000, 2000, 3000], 5.0)  # 10000 s
    logs = metrics.load(tmp_path, [1], metrics.LogCache())
    one = trial(1, S.COMPLETE, {1000: 1.0, 3000: 2.0}, 2.0)
    options = CurveOptions(wall_time=True, metric="total_loss")
    built = chart(CurveData(CurveSet("reward: top 5", (one,)), options, logs), 60)
    assert built.x_label == "wall time (h)" and built.title == "total_loss · wall time · top 5"
    assert flat(built.lines[0].points) == pytest.approx(
        [0.0, 1 / 1000, 5000 / 3600, 1 / 2000, 10000 / 3600, 1 / 3000]
    )


# Zoom ----------------------------------------------------------------------------------------


def test_zoom_ranges() -> None:
    assert zoom_range((0, 100), "all") is None
    assert zoom_range((0, 100), "last half") == (50, 100)
    assert zoom_range((0, 100), "last quarter") == (75, 100)
    assert zoom_range((0, 100), "selected", (20, 40)) == (19, 41)
    assert zoom_range((0, 100), "selected", (30, 30)) == (25, 35)  # one point: 5% of all
    assert zoom_range((0, 100), "selected", None) is None


def test_zoom_keeps_the_points_in_range_and_their_neighbours() -> None:
    long = trial(1, S.COMPLETE, {s: float(s) for s in range(100, 1100, 100)}, 1000.0)
    short = trial(2, S.PRUNED, {100: 1.0, 200: 2.0}, 2.0)
    curves = CurveSet("reward: top 5", (long, short), 1)
    built = chart(CurveData(curves, CurveOptions(zoom="last quarter")), 60)
    assert built.x_range == (775, 1000)
    assert [x for x, _ in built.lines[-1].points] == [700, 800, 900, 1000]
    assert [line.number for line in built.lines] == [1]  # #2 ends before the range
    built = chart(CurveData(curves, CurveOptions(zoom="selected"), selected=2), 60)
    assert built.x_range == (95, 205) and built.title == "reward · zoom #2 · top 5"
    assert next(line for line in built.lines if line.number == 2).pruned
    built = chart(CurveData(curves, CurveOptions(zoom="selected"), selected=9), 60)
    assert built.x_range is None and built.title.endswith("zoom: #9 not shown · top 5")


# Metrics from the training logs --------------------------------------------------------------


def test_metric_cycles_over_the_columns_the_shown_trials_logged(tmp_path) -> None:
    write_log(tmp_path, 1, 1.0)  # PPO-like
    write_log(tmp_path, 2, 2.0, dqn=True)
    logs = metrics.load(tmp_path, [1, 2], metrics.LogCache())
    available = metric_columns(logs)
    assert available == [
        "total_loss",
        "policy_loss",
        "value_loss",
        "approx_kl",
        "rollout_exploration_rate",
        "time_fps",
    ]
    options, seen = CurveOptions(), []
    for _ in range(len(available) + 1):
        options = options.next_metric(available)
        seen.append(options.metric)
    assert seen == [*available, None]  # and back to the reward
    curves = CurveSet("reward: top 5", (trial(1, S.COMPLETE, {}, 1.0), trial(2, S.COMPLETE, {})))
    built = chart(CurveData(curves, CurveOptions(metric="total_loss"), logs), 60)
    assert built.title == "total_loss: top 5" and built.x_label == "timesteps"
    assert [line.points for line in built.lines] == [
        ((256, 1 / 256), (512, 1 / 512), (768, 1 / 768)),
        ((256, 2 / 256), (512, 2 / 512), (768, 2 / 768)),
    ]
    kl = chart(CurveData(curves, CurveOptions(metric="approx_kl"), logs), 60)
    assert [line.number for line in kl.lines] == [1]  # the DQN-like trial has no approx_kl
    absent = chart(CurveData(curves, CurveOptions(metric="train_entropy"), logs), 60)
    assert absent.empty.startswith("train_entropy: not logged by these trials")


# The best trial ------------------------------------------------------------------------------


def test_the_best_complete_trial_is_drawn_last_in_its_own_colour_in_every_mode() -> None:
    rows = [
        trial(1, S.COMPLETE, {256: 20.0, 512: 150.0}, 150.0),
        trial(2, S.PRUNED, {256: 10.0}, 300.0),  # pruned: never the best, whatever its value
        trial(4, S.RUNNING, {256: 30.0}),
        trial(6, S.COMPLETE, {256: 50.0, 512: 190.0}, 190.0),
    ]
    snap = snapshot(*rows)
    for mode, selected in ((0, 6), (1, None), (3, None)):
        curves = chart_data.curves(snap, mode, selected)
        assert curves.best == 6
        built = chart(CurveData(curves), 60)
        assert built.lines[-1].number == 6 and built.lines[-1].best
        assert built.lines[-1].colour == BEST_COLOUR
        assert all(line.colour != BEST_COLOUR for line in built.lines[:-1])
    running = chart(CurveData(chart_data.curves(snap, 2, None)), 60)  # #6 is not shown
    assert [line.best for line in running.lines] == [False]


def test_the_chart_draws_the_options() -> None:
    rows = (
        trial(6, S.COMPLETE, {256: 50.0, 512: 190.0}, 190.0),
        trial(1, S.PRUNED, {256: 20.0, 512: 150.0}, 150.0),
    )
    data = CurveData(CurveSet("reward: top 5", rows, 6), CurveOptions(smoothing=0.6, log_y=True))
    widget, plt = RewardCurves(), Plot()
    plt.clear_figure()
    plt.theme("clear")
    internals.size_plot(plt, 60, 16)
    assert widget.draw(plt, data, 60)
    text = plt.build()
    assert "reward · EMA 0.6 · log y · top 5" in text and "#6 best" in text
    assert widget.chart is not None and widget.chart[0] == data
    assert widget.empty_for(CurveSet("reward: top 5", ())) == (
        "reward: top 5: none has evaluations yet (c: other trials)"
    )


# The keys ------------------------------------------------------------------------------------


def built_title(curves: RewardCurves) -> str | None:
    held = curves.chart
    return held[1].title if held is not None and held[0] == curves.data else None


@pytest.mark.slow
async def test_the_keys_set_the_options_and_the_chart_shows_them(
    make_app, wait, scripted: Any
) -> None:
    # Logs of the two complete trials (top 5), as the trainer writes them.
    write_timed_log(trials_dir(scripted), 1, [256, 512, 768, 1024], 0.5)
    write_timed_log(trials_dir(scripted), 6, [256, 512], 0.5, scale=2.0)
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await wait(pilot, lambda: app.main_screen and app.main_screen.snapshot is not None)
        await pilot.press("3")
        pane = app.main_screen.query_one(ChartsPane)
        await wait(pilot, lambda: pane.has_focus)
        await pilot.press("s", "s", "l", "x", "m", "z")
        # m steps once the logs are read (on a thread).
        await wait(pilot, lambda: pane.curve_options.metric is not None)
        assert pane.curve_options == CurveOptions(0.9, True, True, "last half", "total_loss")
        curves = pane.query_one("#top-curves", RewardCurves)
        expected = "total_loss · EMA 0.9 · log y · wall time · zoom ½ · top 5"
        await wait(pilot, lambda: built_title(curves) == expected and not curves._dirty)
        # Cut to the chart's width, the title starts as built.
        await wait(pilot, lambda: "total_loss · EMA 0.9" in curves.render().plain, 30)
        said = [n.message for n in internals.notifications(app)]
        assert {
            "curves: smoothing EMA 0.9",
            "curves: log y axis",
            "curves: x axis wall time since each trial's start",
            "curves: total_loss",  # before or after the zoom's: once the logs were read
            "curves: zoom to last half",
        } <= set(said)
        # Polls (every 0.1 s here) parse no unchanged log again: the chart keeps the same rows.
        read = curves.data.logs[1]
        await pilot.pause(0.5)
        assert curves.data.logs[1] is read
        # Z: all of x again; x: timesteps; m: back to the reward (the only column was passed).
        await pilot.press("Z", "x", "m")
        assert pane.curve_options == CurveOptions(0.9, True, False, "all", None)
        await wait(pilot, lambda: built_title(curves) == "reward · EMA 0.9 · log y · top 5")


@pytest.mark.parametrize(("height", "drawn"), [(5, False), (12, True)])
async def test_a_chart_too_small_to_read_says_so_instead(height: int, drawn: bool) -> None:
    # At 5 rows plotext has no row left for data and prints its labels out of order.
    from textual.app import App, ComposeResult

    rows = (trial(6, S.COMPLETE, {256: 50.0, 512: 190.0}, 190.0),)
    curves = RewardCurves()

    class Small(App[None]):
        CSS = f"RewardCurves {{ height: {height}; min-height: {height}; }}"

        def compose(self) -> ComposeResult:
            yield curves

    app = Small()
    async with app.run_test(size=(60, 20)) as pilot:
        curves.data = CurveData(CurveSet("reward: top 5", rows, 6), CurveOptions())
        for _ in range(100):
            await pilot.pause(0.05)
            if curves.render().plain.strip():
                break
        said = curves.render().plain
        assert ("too small for a chart" in said) is not drawn, said
        assert ("#6" in said) is drawn, said
