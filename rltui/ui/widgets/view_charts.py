"""The Charts tab's bottom-right views: parameter importance, parallel coordinates, EDF, rank
and timeline (their data: :mod:`rltui.ui.models.importance` and :mod:`rltui.ui.models.views`).

Each is a :class:`~rltui.ui.widgets.charts.ChartView`: built on a thread, only when dirty and
on screen. Small charts (a quarter of an 80×24 tab): short titles, no legends; the marks are
told in the notification that announces a view. Colours are ANSI names only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rltui.search.lifecycle import TrialStatus
from rltui.ui.models.importance import ImportanceData
from rltui.ui.models.views import EdfData, ParallelData, RankData, TimelineData
from rltui.ui.textual import internals
from rltui.ui.widgets.charts import ChartView, plot_colour

if TYPE_CHECKING:
    # plotext loads when a chart is first built, not with the window.
    from textual_plotext.plot import Plot

# How the timeline marks each state: a character that reads without colour, and a colour.
TIMELINE_MARKS = {
    TrialStatus.COMPLETE: ("█", "green"),
    TrialStatus.PRUNED: ("▒", "yellow"),
    TrialStatus.FAIL: ("x", "red"),
    TrialStatus.RUNNING: (">", "cyan"),
    TrialStatus.PAUSED: ("·", "magenta"),
}


def _short(name: str, room: int) -> str:
    return name if len(name) <= room else name[: max(1, room - 1)] + "…"


class ImportanceView(ChartView):
    """Parameter importances by the picked method, each name marked with the direction of its
    effect ("lr ↓", "act: relu"); computed on a thread by the pane."""

    empty_message = "parameter importance: needs a few finished trials"

    def empty_for(self, data: ImportanceData | None) -> str:
        # Why there are no bars (too few trials, a missing package) is the data's to say.
        if data is not None and data.message:
            return data.message
        return self.empty_message

    def draw(self, plt: Plot, data: ImportanceData, width: int) -> bool:
        if not data.values:
            return False
        # A bar a row: as many as the rows between the title and the x axis hold (plotext
        # would drop some of more), the most important on top (plotext lays the first bar at
        # the bottom).
        rows = self.draw_height - 4 if self.draw_height else 12
        picked = list(data.values[: max(1, rows)])[::-1]
        if self.draw_height and len(picked) < rows:
            # A bar a row exactly: with more rows than bars plotext spreads the bars over
            # them, and a bar falls between two labels. The chart is then shorter.
            internals.size_plot(plt, width, len(picked) + 4)
        room = max(8, width // 3)  # the labels' column at most: the rest for the bars
        labels = [_label(data, name, room) for name, _ in picked]
        plt.bar(
            labels,
            [value for _, value in picked],
            orientation="horizontal",
            color="magenta",
            width=0.3,
        )
        # plotext leaves out a title wider than the plot (the labels' column and two borders
        # off the width): the longest one that fits.
        plot_width = width - max(len(label) for label in labels) - 3
        fits = [t for t in data.titles if len(t) <= plot_width]
        plt.title(fits[0] if fits else data.titles[-1])
        return True


def _label(data: ImportanceData, name: str, room: int) -> str:
    """The parameter's name, shortened so that its mark always shows."""
    full = data.label(name)
    if len(full) <= room:
        return full
    mark = full[len(name) :]
    if len(mark) > room // 2:  # a long choice: cut the whole label
        return _short(full, room)
    return _short(name, room - len(mark)) + mark


class ParallelChart(ChartView):
    """A line per trial across the parameters' axes (0–1 each), value first."""

    empty_message = "parallel coordinates: no complete trials yet"

    def draw(self, plt: Plot, data: ParallelData, width: int) -> bool:
        if not data.lines or len(data.axes) < 2:
            return False
        xs = [float(i) for i in range(len(data.axes))]
        for line in data.lines:
            plt.plot(
                xs,
                list(line.ys),
                color=plot_colour(line.colour),
                marker="braille",
                style="dim" if line.pruned else "bold" if line.best else None,
            )
        room = max(3, (width - 8) // len(data.axes) - 1)
        plt.xticks(xs, [_short(name, room) for name in data.axes])
        plt.yticks([0, 1], ["lo", "hi"])
        plt.ylim(0, 1)
        plt.title(data.title)
        return True


class EdfChart(ChartView):
    """The fraction of complete trials whose value is at most x, as a step line."""

    empty_message = "EDF: no complete trials yet"

    def draw(self, plt: Plot, data: EdfData, width: int) -> bool:
        if not data.points:
            return False
        xs, ys = [p[0] for p in data.points], [p[1] for p in data.points]
        plt.plot(xs, ys, color="cyan", marker="braille")
        if min(xs) == max(xs):
            plt.xlim(xs[0] - 1, xs[0] + 1)
        plt.ylim(0, 1)
        plt.title(data.title)
        return True


class RankChart(ChartView):
    """Each complete trial's rank by value (1 = best) against its number."""

    empty_message = "rank: no complete trials yet"

    def draw(self, plt: Plot, data: RankData, width: int) -> bool:
        if not data.points:
            return False
        others = [p for p in data.points if p[1] != 1]
        best = [p for p in data.points if p[1] == 1]
        if others:
            plt.scatter([p[0] for p in others], [p[1] for p in others], color="cyan", marker="dot")
        plt.scatter(
            [p[0] for p in best], [p[1] for p in best], color=plot_colour("yellow"), marker="*"
        )
        plt.yticks(sorted({1.0, float(max(1, data.total // 2)), float(data.total)}))
        plt.title(data.title)
        plt.xlabel("trial")
        return True


class TimelineChart(ChartView):
    """A row per worker, a bar per trial from its start to its end (or now)."""

    empty_message = "timeline: no trial has started yet"

    def draw(self, plt: Plot, data: TimelineData, width: int) -> bool:
        if not data.cells:
            return False
        for status, cells in data.cells:
            mark, colour = TIMELINE_MARKS[status]
            plt.scatter(
                [c[0] for c in cells], [c[1] for c in cells], color=plot_colour(colour), marker=mark
            )
        rows = [float(i) for i in range(len(data.workers))]
        plt.yticks(rows, [_short(w, 8) for w in data.workers])
        plt.ylim(-0.5, len(rows) - 0.5)
        plt.title(data.title)
        return True
