"""Charts through plotext: reward curves, optimisation history, parameter vs value and
training-log columns vs timesteps (the Charts tab's other views: :mod:`.view_charts`).

textual-plotext's own widget rebuilds the whole chart on every render; a redraw of a few
hundred points costs tens of milliseconds. Here each chart keeps its data in plain Python
objects, marks itself dirty when they change, and a timer (at most ``MAX_FPS`` a second)
rebuilds only dirty charts that are on screen, on a thread, downsampled to the widget's
width. ``render`` only hands out the finished text. Only ChartViews draw with plotext (this
module's, :mod:`.view_charts`' and the population view's); the one private part of it that
drawing needs is reached through :mod:`rltui.ui.textual.internals`.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import work
from textual.message import Message
from textual.widget import Widget

from rltui.search.lifecycle import TrialStatus
from rltui.search.reader import TrialRow
from rltui.ui.models import curves
from rltui.ui.models.chart_data import PALETTE as PALETTE  # the charts' colours, for their users
from rltui.ui.models.chart_data import CurveSet, MetricSet, ParamData, downsample
from rltui.ui.models.curves import CurveChart, CurveData
from rltui.ui.textual import internals

if TYPE_CHECKING:
    from textual_plotext.plot import Plot

MAX_FPS = 2.0
# plotext calls ANSI colour 3 "orange", and draws a name it does not know (Rich's "yellow")
# without any colour: every colour handed to plotext goes through plot_colour.
PLOTEXT_NAMES = {"yellow": "orange"}
TITLE_MARGIN = 10  # the y axis's labels and frame: plotext centres a title over the rest
# plotext keeps some state in module globals: one build at a time.
_BUILD_LOCK = threading.Lock()


def new_plot() -> Plot:
    """A fresh plotext figure; textual-plotext is imported here, when a chart is first built."""
    from textual_plotext.plot import Plot

    return Plot()


def plot_colour(name: str) -> str:
    """``name`` (an ANSI colour as Rich names it) as plotext names it."""
    return PLOTEXT_NAMES.get(name, name)


# Below this many characters a chart is not drawn (see ChartView.redraw_if_dirty).
MIN_WIDTH, MIN_HEIGHT = 10, 7  # a title, a frame and two rows of axis take 5


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
        self._last_build = -math.inf
        # The height draw() draws at, in characters: set by whoever builds (the pane's
        # thread, or a picture), for charts whose layout depends on it.
        self.draw_height = 0
        self._generation = 0
        # Made at the first build, on the building thread: plotext (and its import) stays
        # off the path to the window's first frame.
        self._plot: Plot | None = None

    def on_mount(self) -> None:
        self.set_interval(1 / MAX_FPS, self.redraw_if_dirty)

    def set_data(self, data: Any) -> None:
        if data == self.data and self.data is not None:
            return  # the same chart: no rebuild (the screen hands data over on every poll)
        self.data = data
        self._dirty = True
        self._soon()

    def on_resize(self) -> None:
        self._dirty = True
        self._soon()  # a view just switched to is resized from nothing: draw it at once

    def _soon(self) -> None:
        """Build at the next refresh when the last build is older than the rate limit (new
        data after a quiet spell, a view just shown); otherwise the timer builds it."""
        if self.is_mounted and time.monotonic() - self._last_build >= 1 / MAX_FPS:
            self.call_after_refresh(self.redraw_if_dirty)

    def redraw_if_dirty(self) -> None:
        width, height = self.content_size
        if not self._dirty or not self.region.area:
            return
        if width < MIN_WIDTH or height < MIN_HEIGHT:
            # Too small to read: plotext would print its axis labels over each other (the
            # larger value below the smaller), and an older, larger chart would show cut.
            self._generation += 1  # a build under way for the old size is not shown
            self._dirty = False  # until a resize or new data: no message built at every tick
            self._text = Text(
                "too small for a chart: ctrl+b / ctrl+j fold the side panels", style="dim"
            )
            self.refresh()
            return
        self._dirty = False
        self._last_build = time.monotonic()
        self._generation += 1
        self._build(self.data, width, height, self._generation)

    @work(thread=True, exclusive=True, exit_on_error=False, group="chart")
    def _build(self, data: Any, width: int, height: int, generation: int) -> None:
        with _BUILD_LOCK:
            if self._plot is None:
                self._plot = new_plot()
            plt = self._plot
            plt.clear_figure()
            plt.theme("clear")
            internals.size_plot(plt, width, height)
            self.draw_height = height
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
    """Reward (or a training-log column) vs timesteps or wall time per trial, as
    :mod:`rltui.ui.models.curves` says: smoothed, log or linear, zoomed; the study's best
    trial drawn last in the text's colour; pruned trials end in an ``x``. Takes a
    :class:`CurveData`, or a bare :class:`CurveSet` (drawn as is)."""

    empty_message = "reward curves appear here once trials report evaluations"

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        # The last chart built (on the build thread), and the data it was built from.
        self.chart: tuple[CurveData, CurveChart] | None = None

    @staticmethod
    def _data(data: CurveData | CurveSet) -> CurveData:
        return data if isinstance(data, CurveData) else CurveData(data)

    def empty_for(self, data: CurveData | CurveSet | None) -> str:
        # Running trials may be reporting while the chosen curves (top k complete) have none.
        if data is None:
            return self.empty_message
        built = self.chart
        if built is not None and built[0] == self._data(data):
            return built[1].empty
        return curves.chart(self._data(data), 80).empty

    def draw(self, plt: Plot, data: CurveData | CurveSet, width: int) -> bool:
        given = self._data(data)
        chart = curves.chart(given, width)
        self.chart = (given, chart)
        if not chart.lines:
            return False
        labelled = len(chart.lines) <= 4
        for line in chart.lines:
            if line.raw:  # behind every smoothed line
                plt.plot(*_xy(line.raw), color=plot_colour(curves.RAW_COLOUR), marker="braille")
        for line in chart.lines:
            xs, ys = _xy(line.points)
            label = f"#{line.number} best" if line.best else f"#{line.number}"
            plt.plot(
                xs,
                ys,
                color=plot_colour(line.colour),
                marker="braille",
                label=label if labelled or line.best else None,
            )
            if line.pruned:
                plt.scatter([xs[-1]], [ys[-1]], color="red", marker="x")
        if chart.log_y:
            plt.yscale("log")
        if chart.x_range is not None and chart.x_range[0] < chart.x_range[1]:
            plt.xlim(*chart.x_range)
        plt.title(_fit(chart.title, width - TITLE_MARGIN))
        plt.xlabel(chart.x_label)
        return True


def _fit(title: str, width: int) -> str:
    """``title`` cut to ``width`` with an ellipsis: plotext leaves out a title too wide for
    the plot, and the curves' options make long ones."""
    return title if len(title) <= width else title[: max(1, width - 1)] + "…"


def _xy(points: tuple[tuple[float, float], ...]) -> tuple[list[float], list[float]]:
    return [p[0] for p in points], [p[1] for p in points]


LEGEND_AT_LEAST = 15  # rows a history chart needs for its legend to leave the data in view
# What the marks are, in the x axis's label of a chart too short for the legend: the longest
# that fits.
MARKS = ("trial · • complete  ─ best so far  x pruned", "trial · ─ best  x pruned")


class HistoryChart(ChartView):
    """Objective per trial number, with the best value so far as a line."""

    empty_message = "optimisation history: no finished trials yet"

    def draw(self, plt: Plot, data: tuple[list[TrialRow], bool, str], width: int) -> bool:
        rows, maximize, title = data
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
        # plotext draws a legend over the data's top left corner: in a short chart (the
        # Charts tab at 80×24) it hides the points there, so the x axis's label tells the marks.
        legend = self.draw_height >= LEGEND_AT_LEAST
        fits = (m for m in MARKS if len(m) <= width - TITLE_MARGIN)
        xlabel = "trial" if legend else next(fits, "trial")
        if complete:
            plt.scatter(
                [r.number for r in complete],
                [r.value for r in complete],
                color="blue",
                marker="dot",
                label="complete" if legend else None,
            )
            best, xs, ys = None, [], []
            pick: Callable[[float, float], float] = max if maximize else min
            for r in complete:
                best = r.value if best is None else pick(best, r.value)  # type: ignore[arg-type]
                xs.append(r.number)
                ys.append(best)
            plt.plot(
                xs, ys, color="green", marker="braille", label="best so far" if legend else None
            )
        if pruned:
            plt.scatter(
                [r.number for r in pruned],
                [r.value for r in pruned],
                color="red",
                marker="x",
                label="pruned" if legend else None,
            )
        plt.title(title)
        plt.xlabel(xlabel)
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
            plt.plot(
                [p[0] for p in picked],
                [p[1] for p in picked],
                color=plot_colour(colour),
                marker="braille",
            )
        if data.x_range is not None and data.x_range[0] < data.x_range[1]:
            plt.xlim(*data.x_range)
        plt.title(data.column)
        return True

    def empty_for(self, data: Any) -> str:
        if isinstance(data, MetricSet) and data.column is not None:
            return f"{data.column}: not logged by these trials"
        return self.empty_message
