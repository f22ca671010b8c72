"""Charts through plotext: reward curves, optimisation history, parameter vs value and
training-log columns vs timesteps (the Charts tab's other views: :mod:`.view_charts`).

textual-plotext's own widget rebuilds the whole chart on every render; a redraw of a few
hundred points costs tens of milliseconds. Here each chart keeps its data in plain Python
objects, marks itself dirty when they change, and a timer (at most ``MAX_FPS`` a second)
rebuilds only dirty charts that are on screen, on a thread, downsampled to the widget's
width. ``render`` only hands out the finished text. Only this module and :mod:`.view_charts`
(whose charts are ChartViews) draw with plotext; the one private part of it that drawing
needs is reached through :mod:`rltui.ui.textual.internals`.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from typing import Any, ClassVar

from rich.text import Text
from textual import work
from textual.message import Message
from textual.widget import Widget
from textual_plotext.plot import Plot

from rltui.search.lifecycle import TrialStatus
from rltui.search.reader import TrialRow
from rltui.ui.models.chart_data import PALETTE, CurveSet, MetricSet, ParamData, downsample
from rltui.ui.textual import internals

MAX_FPS = 2.0
# plotext keeps some state in module globals: one build at a time.
_BUILD_LOCK = threading.Lock()


class ChartView(Widget):
    """A plotext chart that rebuilds off the event loop, only when dirty and visible."""

    DEFAULT_CSS = """
    ChartView { width: 1fr; height: 1fr; min-height: 5; }
    """

    class Built(Message):
        def __init__(self, chart: ChartView, text: Text, generation: int) -> None:
            super().__init__()
            self.chart = chart
            self.text = text
            self.generation = generation

    empty_message: ClassVar[str] = "no data yet"

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.data: Any = None
        self._text = Text(self.empty_message, style="dim")
        self._dirty = True
        self._generation = 0
        self._plot = Plot()

    def on_mount(self) -> None:
        self.set_interval(1 / MAX_FPS, self.redraw_if_dirty)

    def set_data(self, data: Any) -> None:
        if data == self.data and self.data is not None:
            return  # the same chart: no rebuild (the screen hands data over on every poll)
        self.data = data
        self._dirty = True

    def on_resize(self) -> None:
        self._dirty = True

    def redraw_if_dirty(self) -> None:
        width, height = self.content_size
        if not self._dirty or width < 10 or height < 4 or not self.region.area:
            return
        self._dirty = False
        self._generation += 1
        self._build(self.data, width, height, self._generation)

    @work(thread=True, exclusive=True, exit_on_error=False, group="chart")
    def _build(self, data: Any, width: int, height: int, generation: int) -> None:
        with _BUILD_LOCK:
            plt = self._plot
            plt.clear_figure()
            plt.theme("clear")
            internals.size_plot(plt, width, height)
            drawn = self.draw(plt, data, width) if data is not None else False
            text = Text.from_ansi(plt.build()) if drawn else Text(self.empty_for(data), style="dim")
        self.post_message(self.Built(self, text, generation))

    def on_chart_view_built(self, event: ChartView.Built) -> None:
        event.stop()
        if event.generation == self._generation:
            self._text = event.text
            self.refresh()

    def draw(self, plt: Plot, data: Any, width: int) -> bool:
        """Draw ``data`` on ``plt``; False when there is nothing to draw. Runs on a thread."""
        raise NotImplementedError

    def empty_for(self, data: Any) -> str:
        """What to say when ``data`` gives nothing to draw."""
        return self.empty_message

    def render(self) -> Text:
        return self._text


class RewardCurves(ChartView):
    """Reward vs timesteps per trial; pruned trials end in an ``x``."""

    empty_message = "reward curves appear here once trials report evaluations"

    def empty_for(self, data: CurveSet | None) -> str:
        # Running trials may be reporting while the chosen curves (top k complete) have none.
        if data is None:
            return self.empty_message
        return f"{data.title}: none has evaluations yet (c: other trials)"

    def draw(self, plt: Plot, data: CurveSet, width: int) -> bool:
        rows = [r for r in data.rows if r.curve]
        if not rows:
            return False
        legend = len(rows) <= 4
        for index, row in enumerate(rows):
            points = downsample(row.curve, max(8, width - 12))
            xs, ys = [p[0] for p in points], [p[1] for p in points]
            colour = PALETTE[index % len(PALETTE)]
            plt.plot(
                xs, ys, color=colour, marker="braille", label=f"#{row.number}" if legend else None
            )
            if row.status == TrialStatus.PRUNED:
                plt.scatter([xs[-1]], [ys[-1]], color="red", marker="x")
        plt.title(data.title)
        plt.xlabel("timesteps")
        return True


class HistoryChart(ChartView):
    """Objective per trial number, with the best value so far as a line."""

    empty_message = "optimisation history: no finished trials yet"

    def draw(self, plt: Plot, data: tuple[list[TrialRow], bool], width: int) -> bool:
        rows, maximize = data
        done = [
            r
            for r in rows
            if r.value is not None
            and not math.isnan(r.value)
            and r.status in (TrialStatus.COMPLETE, TrialStatus.PRUNED)
        ]
        if not done:
            return False
        done.sort(key=lambda r: r.number)
        complete = [r for r in done if r.status == TrialStatus.COMPLETE]
        pruned = [r for r in done if r.status == TrialStatus.PRUNED]
        if complete:
            plt.scatter(
                [r.number for r in complete],
                [r.value for r in complete],
                color="blue",
                marker="dot",
                label="complete",
            )
            best, xs, ys = None, [], []
            pick: Callable[[float, float], float] = max if maximize else min
            for r in complete:
                best = r.value if best is None else pick(best, r.value)  # type: ignore[arg-type]
                xs.append(r.number)
                ys.append(best)
            plt.plot(xs, ys, color="green", marker="braille", label="best so far")
        if pruned:
            plt.scatter(
                [r.number for r in pruned],
                [r.value for r in pruned],
                color="red",
                marker="x",
                label="pruned",
            )
        plt.title("optimisation history")
        plt.xlabel("trial")
        return True


class ParamChart(ChartView):
    """A parameter against the objective; log axis for log-scaled parameters."""

    empty_message = "parameter vs value: no finished trials yet"

    def draw(self, plt: Plot, data: ParamData, width: int) -> bool:
        points = [(x, y) for x, y in data.points if y is not None and not math.isnan(y)]
        if not points:
            return False
        if all(isinstance(x, (int, float)) and not isinstance(x, bool) for x, _ in points):
            xs = [float(x) for x, _ in points]
            if data.log and all(x > 0 for x in xs):
                plt.xscale("log")
            plt.scatter(xs, [y for _, y in points], color="cyan", marker="dot")
        else:
            labels = sorted({str(x) for x, _ in points})
            plt.scatter(
                [labels.index(str(x)) for x, _ in points],
                [y for _, y in points],
                color="cyan",
                marker="dot",
            )
            plt.xticks(list(range(len(labels))), labels)
        plt.title(f"{data.name}{' (log)' if data.log else ''} vs value")
        return True


class MetricChart(ChartView):
    """A logged column (loss, reward, approx_kl, ...) vs timesteps for the compared trials.

    Small, several side by side: the column is the title, the trials' colours are in the
    comparison view's legend, and the x axis (timesteps) is named there too.
    """

    empty_message = "no training logs (progress.jsonl) for these trials yet"

    def draw(self, plt: Plot, data: MetricSet, width: int) -> bool:
        if data.column is None or not data.series:
            return False
        for _number, colour, points in data.series:
            picked = downsample(points, max(8, width - 8))
            plt.plot([p[0] for p in picked], [p[1] for p in picked], color=colour, marker="braille")
        if data.x_range is not None and data.x_range[0] < data.x_range[1]:
            plt.xlim(*data.x_range)
        plt.title(data.column)
        return True

    def empty_for(self, data: Any) -> str:
        if isinstance(data, MetricSet) and data.column is not None:
            return f"{data.column}: not logged by these trials"
        return self.empty_message
