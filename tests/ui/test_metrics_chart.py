"""The metric chart: a training-log column vs timesteps for the trials in the reward chart."""

from __future__ import annotations

import json
from pathlib import Path

from rltui.search.storage import StudyHome
from rltui.ui import metrics
from rltui.ui.widgets.charts import HistoryChart, MetricChart


def write_log(folder: Path, number: int, scale: float) -> None:
    path = folder / f"trial-{number}" / "progress.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [
        {
            "timesteps": step,
            "train/loss": scale / step,
            "train/policy_gradient_loss": -scale / (2 * step),
            "train/value_loss": scale * 2 / step,
        }
        for step in (256, 512, 768)
    ]
    lines.append({"timesteps": 768, "eval/mean_reward": 100.0 * scale})
    path.write_text("\n".join(json.dumps(x) for x in lines) + '\n{"torn', encoding="utf-8")


def test_columns_put_familiar_ones_first_and_cache_by_stat(tmp_path):
    write_log(tmp_path, 1, 1.0)
    cache = metrics.LogCache()
    logs = metrics.load(tmp_path, [1, 2], cache)
    assert list(logs) == [1]
    assert metrics.columns(logs) == ["eval_mean_reward", "total_loss", "policy_loss", "value_loss"]
    assert cache.rows(metrics.log_path(tmp_path, 1)) is logs[1]  # unchanged file: cached
    assert metrics.pick(tmp_path, [1], 4, cache) is None  # past the last column
    empty = metrics.pick(tmp_path, [7], 0, cache)
    assert empty is not None and empty.column is None


async def test_metric_key_cycles_columns_for_the_compared_trials(make_app, wait, scripted):
    trials = StudyHome.beside(scripted.path).trials
    for number, scale in ((1, 1.0), (6, 3.0)):  # the top-k reward chart shows #6 and #1
        write_log(trials, number, scale)
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await wait(pilot, lambda: app.main_screen and app.main_screen.snapshot is not None)
        screen = app.main_screen
        await pilot.press("3")
        chart = screen.query_one("#metric-chart", MetricChart)
        assert not chart.display

        def shows(column: str) -> bool:
            text = chart._text.plain
            return column in text and "#1" in text and "#6" in text and not chart._dirty

        await pilot.press("m")
        await wait(pilot, lambda: shows("eval_mean_reward"))
        assert chart.display and not screen.query_one("#history", HistoryChart).display
        assert {n for n, _ in chart.data.series} == {1, 6}
        await pilot.press("m")
        await wait(pilot, lambda: shows("total_loss"))
        await pilot.press("m", "m", "m")  # policy_loss, value_loss, then off
        await wait(pilot, lambda: screen.metric_index == -1 and not chart.display)
        assert screen.query_one("#history", HistoryChart).display


async def test_metric_chart_without_logs_shows_a_hint(make_app, wait):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await wait(pilot, lambda: app.main_screen and app.main_screen.snapshot is not None)
        await pilot.press("3", "m")
        chart = app.main_screen.query_one("#metric-chart", MetricChart)
        await wait(pilot, lambda: chart.display and chart.data is not None)
        await pilot.pause(0.8)
        assert chart._text.plain == MetricChart.empty_message
