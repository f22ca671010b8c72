"""The contour and slice charts drawn in a small app, at the size each has in an 80x24 window
(38x9) and in a 120x40 one (58x17): titles, marks, what they say without data."""

from __future__ import annotations

from typing import Any

import pytest
from optuna.study import StudyDirection
from rich.style import Style
from textual.app import App, ComposeResult
from textual.worker import WorkerState

from rltui.search.lifecycle import TrialStatus
from rltui.search.reader import Snapshot, StudyReader
from rltui.spec import load_study
from rltui.ui.models import space_views as sv
from rltui.ui.widgets.charts import ChartView
from rltui.ui.widgets.space_charts import BAND_MARKS, ContourChart, SliceGrid, slice_layout

from .test_space_views import row, snapshot

SIZES = {(80, 24): (38, 9), (120, 40): (58, 17)}  # the window, and the chart in it


class ChartApp(App[None]):
    """One chart in a region of the given size."""

    def __init__(self, chart: ChartView, size: tuple[int, int]) -> None:
        super().__init__()
        self.chart = chart
        self.chart_size = size

    def compose(self) -> ComposeResult:
        yield self.chart

    def on_mount(self) -> None:
        self.chart.styles.width, self.chart.styles.height = self.chart_size


async def draw(chart: ChartView, data: Any, window: tuple[int, int], wait) -> str:
    """``chart``'s built text once it has drawn ``data`` in a window of ``window`` (the
    text with its colours stays in ``chart._text``)."""
    chart.set_data(data)  # before mounting: every build is of this data
    initial = chart._text
    app = ChartApp(chart, SIZES[window])
    async with app.run_test(size=window) as pilot:

        def done() -> bool:
            failed = any(w.state == WorkerState.ERROR for w in app.workers)
            return failed or (not chart._dirty and chart._text is not initial)

        await wait(pilot, done, timeout=60)
        assert not [w.error for w in app.workers if w.state == WorkerState.ERROR]
        assert tuple(chart.content_size) == SIZES[window]
        return chart._text.plain


def study(scripted) -> tuple[Snapshot, Any]:
    return StudyReader(scripted.ostudy).poll(), load_study(scripted.path, check_env=False).space


@pytest.mark.parametrize("window", list(SIZES))
async def test_contour_draws_bands_trials_and_the_best(scripted, wait, window) -> None:
    snap, space = study(scripted)
    data = sv.contour(snap, space, 0, 1, *SIZES[window])
    chart = ContourChart()
    text = await draw(chart, data, window, wait)
    lines = text.splitlines()
    assert len(lines) == SIZES[window][1]
    assert "learning_rate (log) × gamma" in lines[0]
    assert "*" in text and "x" in text  # the best trial (#6) and the pruned one (#2)
    assert BAND_MARKS[-1] in text and BAND_MARKS[0] in text  # the best band and the worst
    assert "0.999" in text and "1e-4" in text  # the axes' ends
    styles = [span.style for span in chart._text.spans if isinstance(span.style, Style)]
    colours = {style.color.number for style in styles if style.color is not None}
    assert colours <= set(range(16)) and 3 in colours  # 16 colours; the best band's yellow


@pytest.mark.parametrize("window", list(SIZES))
async def test_slices_draw_every_parameter_and_each_kind_of_trial(scripted, wait, window) -> None:
    snap, space = study(scripted)
    text = await draw(SliceGrid(), sv.slices(snap, space, SIZES[window][0]), window, wait)
    assert len(text.splitlines()) == SIZES[window][1]
    assert "gamma" in text and "ent_coef" in text and "learnin" in text
    assert "params" not in text  # all three fit: no "k/n params"
    for mark in ("o", "*", "x", ">"):  # complete, best, pruned, running (#4)
        assert mark in text, mark


@pytest.mark.parametrize(("window", "shown"), [((80, 24), 3), ((120, 40), 10)])
async def test_slices_say_how_many_parameters_fit(wait, window, shown) -> None:
    params = {f"p{k}": 0.1 * k for k in range(12)}
    snap = snapshot(*(row(i, TrialStatus.COMPLETE, float(i), **params) for i in range(5)))
    data = sv.slices(snap, None, SIZES[window][0])
    assert len(data.params) == 15 and slice_layout(15, *SIZES[window])[:2] in ((1, 3), (2, 5))
    text = await draw(SliceGrid(), data, window, wait)
    assert text.splitlines()[0].strip() == f"slices: {shown}/15 params"


@pytest.mark.parametrize("window", list(SIZES))
async def test_charts_say_what_is_missing(wait, window) -> None:
    empty = Snapshot("s", StudyDirection.MAXIMIZE, {}, frozenset(), [], 1, False)
    contour = sv.contour(empty, None, 0, 1, *SIZES[window])
    text = await draw(ContourChart(), contour, window, wait)
    assert text == "contour: needs two parameters and finished trials"
    text = await draw(SliceGrid(), sv.slices(empty, None, 38), window, wait)
    assert text == "slices: needs searched parameters"
    running = snapshot(row(0, TrialStatus.RUNNING))
    text = await draw(SliceGrid(), sv.slices(running, None, 38), window, wait)
    assert text == SliceGrid.empty_message


def test_slice_layout_fits_the_quarter_of_the_tab() -> None:
    assert slice_layout(3, 38, 9) == (1, 3, False)
    assert slice_layout(4, 38, 9) == (1, 3, True)
    assert slice_layout(3, 58, 17) == (1, 3, False)
    assert slice_layout(9, 58, 17) == (2, 5, False)
    assert slice_layout(11, 58, 17) == (2, 5, True)
    assert slice_layout(0, 58, 17) == (0, 0, False)


def test_the_descriptions_name_the_marks_the_charts_draw() -> None:
    from rltui.ui.widgets import space_charts as sc

    contour, slices = sv.DESCRIPTIONS["contour"], sv.DESCRIPTIONS["slices"]
    assert "".join(BAND_MARKS) in contour
    for mark in (sc.TRIAL_MARK, sc.BEST_MARK, sc.PRUNED_MARK):
        assert f"{mark} " in contour and f"{mark} " in slices
    assert f"{sc.RUNNING_MARK} running" in slices
